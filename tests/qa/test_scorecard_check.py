"""Scorecard validation (issue 16: "Scorecard validation table of broken files
with exact lines"): each row breaks the small valid card of ``cards.py`` in
one way and names the one problem expected, by line, field and message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.errors import ConfigError
from bailanys.qa import scorecard
from bailanys.qa.scorecard import ScorecardError
from tests.qa.cards import SMALL, write

C0 = "sections[0].criteria[0]"  # greeting (said)
C1 = "sections[0].criteria[1]"  # pii (no_personal_data)
C2 = "sections[0].criteria[2]"  # hold (hold_etiquette)
C3 = "sections[0].criteria[3]"  # ratio (acoustic)
C4 = "sections[0].criteria[4]"  # answered (outcome)
C5 = "sections[0].criteria[5]"  # accurate (manual)
SECTION_2 = """\
  - id: greeting
    names: {kk: Соңы, ru: Конец, en: End}
    criteria:
      - id: polite
        kind: manual
        names: {kk: Сыпайы, ru: Вежливо, en: Polite}
        scale: 1-5
"""

# (what is replaced, by what, line, field, a fragment of the message)
TABLE: list[tuple[str, str, int, str, str]] = [
    # the card itself
    ("version: 1", "version: 0", 2, "version", "a whole number from 1 to 9999, got 0"),
    ("version: 1", "version: 1.5", 2, "version", "a whole number from 1 to 9999"),
    ("version: 1", "version: true", 2, "version", "a whole number from 1 to 9999, got True"),
    ("version: 1", "version: 10000", 2, "version", "a whole number from 1 to 9999"),
    ("version: 1\n", "", 1, "version", "missing"),
    ("id: small\n", "", 1, "id", "missing"),
    ("id: small", "id: Small-Card", 1, "id", "an id is lower-case latin letters"),
    ("version: 1\n", "version: 1\nowner: qa\n", 3, "owner", "unknown key (known: id, version"),
    ("en: Small card}", "}", 3, "names.en", "missing: every name is written in kk, ru, en"),
    ("en: Small card}", "en: Small card, de: Kleine}", 3, "names.de", "unknown language"),
    ("en: Small card}", 'en: " "}', 3, "names.en", "expected a text"),
    ("names: {kk: Шағын парақ, ru: Малый лист, en: Small card}", "names: Small", 3,
     "names", "expected a mapping of kk, ru and en names"),
    ("sections:\n", "applies_to: {}\nsections:\n", 4, "applies_to",
     "leave applies_to out for the default card"),
    ("sections:\n", "applies_to: {queues: complaints}\nsections:\n", 4, "applies_to.queues",
     "expected a list of queue names"),
    ("sections:\n", "applies_to: {topics: [a, b, a]}\nsections:\n", 4, "applies_to.topics[2]",
     "'a' is listed twice"),
    ("sections:\n", "applies_to: {queue: [egov]}\nsections:\n", 4, "applies_to.queue",
     "unknown key (known: queues, topics)"),
    # sections
    ("    names: {kk: Сәлемдесу, ru: Приветствие, en: Greeting}\n", "", 5, "sections[0].names",
     "missing"),
    ("  - id: greeting\n", "  - id: greeting\n    title: x\n", 6, "sections[0].title",
     "unknown key (known: id, names, criteria)"),
    (SMALL, SMALL + SECTION_2, 43, "sections[1].id",
     "section id 'greeting' is used twice (also on line 5)"),
    # every criterion
    ("      - id: pii\n", "      - id: greeting\n", 15, f"{C1}.id",
     "criterion id 'greeting' is used twice (also on line 8)"),
    ("      - id: pii\n", "      - id: 2pii\n", 15, f"{C1}.id", "an id is"),
    ("      - id: pii\n", "      -\n", 16, f"{C1}.id", "missing"),
    ("kind: said", "kind: spoken", 9, f"{C0}.kind", "unknown kind 'spoken' (kinds: said,"),
    ("        kind: said\n", "", 8, f"{C0}.kind", "missing"),
    ("names: {kk: Амандасты, ru: Поздоровался, en: Greeted}",
     "names: {kk: Амандасты, en: Greeted}", 10, f"{C0}.names.ru", "missing"),
    ("weight: 5", "weight: 0", 40, f"{C5}.weight", "must be above 0, got 0"),
    ("weight: 5", "weight: -2", 40, f"{C5}.weight", "must be above 0"),
    ("weight: 5", "weight: heavy", 40, f"{C5}.weight", "expected a number, got 'heavy'"),
    ("weight: 5", "weight: .nan", 40, f"{C5}.weight", "expected a number"),
    ("weight: 5", f"weight: {10**400}", 40, f"{C5}.weight", "expected a number, got 1000"),
    ("max: 60", "max: 1.0e+10", 36, f"{C4}.max", "expected a number, got 10000000000.0"),
    ("max: 60", f"max: {'9' * 5000}", 36, f"{C4}.max", "expected a number, got '9999"),
    ("critical: true\n        masks", "critical: 1\n        masks", 18, f"{C1}.critical",
     "expected true or false, got 1"),
    ("        window: {end: 10}\n", "        windo: {end: 10}\n", 11, f"{C0}.windo",
     "unknown key (known: id, kind, names"),
    ("        window: {end: 10}\n", "        scale: yes_no\n", 11, f"{C0}.scale",
     "not used by kind said (it takes: variants, channel, window)"),
    ("        measure: answer_s\n", "        measure: answer_s\n        window: {end: 5}\n",
     36, f"{C4}.window", "not used by kind outcome (it takes: measure, min, max)"),
    # phrases
    ("          kk: [сәлеметсіз бе]\n          ru: [здравствуйте]\n", "", 12,
     f"{C0}.variants", "expected a mapping of language -> list of phrases"),
    ("        variants:\n          kk: [сәлеметсіз бе]\n          ru: [здравствуйте]\n", "",
     8, f"{C0}.variants", "missing (kind said needs it)"),
    ("          ru: [здравствуйте]\n", "", 12, f"{C0}.variants.ru",
     "missing: phrases are given in kk and ru at least"),
    ("ru: [здравствуйте]", "ru: []", 14, f"{C0}.variants.ru",
     "expected a list of phrases (at least one)"),
    ("ru: [здравствуйте]", "ru: здравствуйте", 14, f"{C0}.variants.ru",
     "expected a list of phrases"),
    ("ru: [здравствуйте]", 'ru: ["  "]', 14, f"{C0}.variants.ru[0]", "expected a text"),
    ("ru: [здравствуйте]", 'ru: ["..."]', 14, f"{C0}.variants.ru[0]", "has no word to look for"),
    ("ru: [здравствуйте]", "ru: [здравствуйте, Здравствуйте!]", 14, f"{C0}.variants.ru[1]",
     "is the same as variant 0 once normalised"),
    ("ru: [здравствуйте]", f"ru: [{'очень ' * 40}]", 14, f"{C0}.variants.ru[0]",
     "longer than 200 characters"),
    ("          ru: [здравствуйте]\n", "          ru: [здравствуйте]\n          Russian: [x]\n",
     15, f"{C0}.variants.Russian", "a language is a two- or three-letter code"),
    ("        kind: said\n", "        kind: said\n        channel: operator\n", 10,
     f"{C0}.channel", "unknown channel 'operator' (channels: caller, agent)"),
    # windows
    ("window: {end: 10}", "window: {start: 10, end: 5}", 11, f"{C0}.window.end",
     "must be above 10, got 5"),
    ("window: {end: 10}", "window: {start: -1}", 11, f"{C0}.window.start",
     "must be at least 0, got -1"),
    ("window: {end: 10}", "window: {end: 10, last: 20}", 11, f"{C0}.window.last",
     "not with start or end"),
    ("window: {end: 10}", "window: {last: 0}", 11, f"{C0}.window.last", "must be above 0"),
    ("window: {end: 10}", "window: {until: 10}", 11, f"{C0}.window.until",
     "unknown key (known: start, end, last)"),
    ("window: {end: 10}", "window: 10", 11, f"{C0}.window", "expected start and end, or last"),
    # personal data
    ("masks: [IIN]", "masks: [PASSPORT]", 19, f"{C1}.masks[0]",
     "unknown mask 'PASSPORT' (masks: CARD, EMAIL, IIN, NUMBER, PHONE)"),
    ("masks: [IIN]", "masks: [iin]", 19, f"{C1}.masks[0]", "unknown mask 'iin'"),
    ("masks: [IIN]", 'masks: [IIN, "[IIN]"]', 19, f"{C1}.masks[1]", "is listed twice"),
    ("masks: [IIN]", "masks: [[IIN]]", 19, f"{C1}.masks[0]", "expected a text"),
    ("        masks: [IIN]\n", "", 15, f"{C1}.masks", "missing (kind no_personal_data needs it)"),
    # hold etiquette
    ("        lookback_s: 15\n", "", 20, f"{C2}.lookback_s",
     "missing (kind hold_etiquette needs it)"),
    ("min_silence_s: 20", "min_silence_s: 0", 23, f"{C2}.min_silence_s", "must be above 0"),
    ("lookback_s: 15", "lookback_s: soon", 24, f"{C2}.lookback_s", "expected a number"),
    # acoustic and outcome
    ("measure: talk_ratio", "measure: answer_s", 29, f"{C3}.measure",
     "answer_s is not an acoustic measure (acoustic: longest_silence_s, overtalk_ratio,"),
    ("measure: answer_s", "measure: talk_ratio", 35, f"{C4}.measure",
     "talk_ratio is not an outcome measure (outcome: answer_s, disposition_set, survey_score)"),
    ("measure: talk_ratio", "measure: loudness", 29, f"{C3}.measure", "unknown measure"),
    ("        measure: talk_ratio\n", "", 26, f"{C3}.measure",
     "missing (kind acoustic needs it)"),
    ("max: 0.8", "max: 80", 31, f"{C3}.max", "talk_ratio is between 0 and 1, got 80"),
    ("min: 0.25", "min: 0.9", 31, f"{C3}.max", "max 0.8 is below min 0.9"),
    ("min: 0.25", "min: low", 30, f"{C3}.min", "expected a number, got 'low'"),
    ("        max: 60\n", "", 32, f"{C4}.min", "missing: give min, max or both"),
    ("        min: 0.25\n", "        min: 0.25\n        min: 0.3\n", 31, f"{C3}.min",
     "duplicate key (also on line 30"),
    # manual
    ("scale: yes_no", "scale: 1-10", 42, f"{C5}.scale",
     "unknown scale '1-10' (scales: yes_no, 1-5)"),
    ("        scale: yes_no\n", "", 37, f"{C5}.scale", "missing (kind manual needs it)"),
    # the file
    ("sections:\n", "sections: []\nold:\n", 4, "sections", "expected a list of sections"),
    ("    criteria:\n", "    criteria: {}\n    old:\n", 7, "sections[0].criteria",
     "expected a list of criteria (at least one)"),
    ("names: {kk: Шағын парақ,", "names: {kk: [Шағын парақ,", 3, "", "YAML syntax"),
    (SMALL, "", 1, "", "the file is empty"),
    (SMALL, "- id: small\n", 1, "", "a scorecard is a mapping"),
]


def _problems(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, "card.yaml", text)
    with pytest.raises(ScorecardError) as caught:
        scorecard.load(path)
    return str(caught.value).splitlines()


def test_the_small_card_is_valid(tmp_path: Path) -> None:
    card = scorecard.load(write(tmp_path, "card.yaml", SMALL))
    assert [c.kind.value for c in card.criteria] == [
        "said", "no_personal_data", "hold_etiquette", "acoustic", "outcome", "manual"]
    assert [c.line for c in card.criteria] == [8, 15, 20, 26, 32, 37]


@pytest.mark.parametrize(("old", "new", "line", "field", "message"), TABLE,
                         ids=[f"{r[3] or 'file'}:{r[4][:30]}" for r in TABLE])
def test_a_broken_card_names_the_line_and_field(
        tmp_path: Path, old: str, new: str, line: int, field: str, message: str) -> None:
    assert old in SMALL
    text = SMALL.replace(old, new, 1)
    # The second "old:" key of a few rows is how they drop what follows; the
    # rest of the file then belongs to it (a dropped key is then unknown).
    lines = _problems(tmp_path, text)
    where = f"{tmp_path / 'card.yaml'}:{line}: " + (f"{field}: " if field else "")
    assert [p for p in lines if "old: unknown key" not in p] == [
        p for p in lines if p.startswith(where) and message in p], lines
    assert len([p for p in lines if "old: unknown key" not in p]) == 1, lines


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (SMALL.replace("version: 1", "version: 0").replace("kind: said", "kind: spoken")
            .replace("masks: [IIN]", "masks: [PASSPORT]").replace("scale: yes_no", "scale: 9"))
    lines = _problems(tmp_path, text)
    assert [line.split(": ")[0].rsplit(":", 1)[1] for line in lines] == ["2", "9", "19", "42"]


def test_the_error_is_a_config_error_with_its_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "card.yaml", SMALL.replace("weight: 5", "weight: 0"))
    with pytest.raises(ConfigError) as caught:
        scorecard.load(path)
    assert isinstance(caught.value, ScorecardError)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 40, f"{C5}.weight")
    assert str(caught.value) == f"{path}:40: {C5}.weight: must be above 0, got 0"


def test_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "card.yaml"
    path.write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(ScorecardError, match="cannot read"):
        scorecard.load(path)
    with pytest.raises(ScorecardError, match="cannot read"):
        scorecard.load(tmp_path / "missing.yaml")


def test_hostile_yaml(tmp_path: Path) -> None:
    nested = write(tmp_path, "deep.yaml", SMALL.replace("version: 1", "version: " + "[" * 1000))
    with pytest.raises(ScorecardError) as caught:
        scorecard.load(nested)
    assert str(caught.value) == f"{nested}: YAML: nested too deeply"
