"""Scorecards as data (issue 16): the centre's cards load, their canonical JSON
round-trips, and the digest changes with the content and only with it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bailanys.analytics.morph import terms
from bailanys.qa import scorecard
from bailanys.qa.model import Kind, Measure, Scale, Scorecard, Window
from bailanys.qa.scorecard import ScorecardError
from tests.qa.cards import CARD_DIR, DEFAULT_CARD, SMALL, write

PHRASE_KINDS = (Kind.SAID, Kind.NOT_SAID, Kind.HOLD_ETIQUETTE)


def _unplaced(card: Scorecard) -> Scorecard:
    """``card`` without where it was read from (what a stored body cannot hold)."""
    sections = tuple(replace(s, criteria=tuple(replace(c, line=0) for c in s.criteria))
                     for s in card.sections)
    return replace(card, sections=sections, path="")


def test_the_default_card() -> None:
    card = scorecard.load(DEFAULT_CARD)
    assert (card.id, card.queues, card.topics) == ("default", (), ())
    assert [s.id for s in card.sections] == [
        "greeting", "identification", "information", "closing", "etiquette"]
    by_id = {c.id: c for c in card.criteria}
    assert by_id["greeting"].window == Window(0.0, 10.0)
    assert by_id["closing_phrase"].window == Window(last=20.0)
    assert by_id["no_personal_data"].critical and "[IIN]" in by_id["no_personal_data"].masks
    assert {c.id for c in card.criteria if c.critical} == {
        "no_personal_data", "information_accurate", "procedure_followed"}
    assert {c.id: c.scale for c in card.criteria if c.kind is Kind.MANUAL} == {
        "information_accurate": Scale.YES_NO, "procedure_followed": Scale.YES_NO,
        "politeness": Scale.ONE_TO_FIVE}
    assert {c.measure for c in card.criteria if c.measure} >= {
        Measure.TALK_RATIO, Measure.LONGEST_SILENCE_S, Measure.OVERTALK_RATIO,
        Measure.ANSWER_S, Measure.DISPOSITION_SET}
    assert {c.kind for c in card.criteria} == set(Kind)
    assert len(card.digest) == 64 and card.digest == scorecard.digest(card)


@pytest.mark.parametrize("path", sorted(CARD_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_phrase_has_several_short_variants_in_both_languages(path: Path) -> None:
    card = scorecard.load(path)
    for c in card.criteria:
        if c.kind not in PHRASE_KINDS:
            continue
        for lang in ("kk", "ru"):
            assert len(c.variants[lang]) >= 3, (c.id, lang)
            assert all(len(terms(v)) <= 7 for v in c.variants[lang]), (c.id, lang)
        for names in (card.names, *(s.names for s in card.sections), c.names):
            assert all(names.to_json().values())


def test_the_canonical_json_round_trips() -> None:
    card = scorecard.load(DEFAULT_CARD)
    body = json.loads(scorecard.canonical(card))  # what qa_scorecards.body holds
    again = scorecard.from_json(body)
    assert again == replace(_unplaced(card), digest=card.digest)
    assert scorecard.to_json(again) == scorecard.to_json(card) == body
    assert scorecard.canonical(again) == scorecard.canonical(card)


def test_the_small_card_round_trips_every_kind(tmp_path: Path) -> None:
    card = scorecard.load(write(tmp_path, "s.yaml", SMALL.replace(
        "sections:\n", "applies_to: {queues: [egov], topics: [pension, tax]}\nsections:\n")))
    data = scorecard.to_json(card)
    assert data["applies_to"] == {"queues": ["egov"], "topics": ["pension", "tax"]}
    criteria = data["sections"][0]["criteria"]
    assert criteria[0]["window"] == {"start": 0.0, "end": 10.0}
    assert criteria[1]["masks"] == ["[IIN]"] and "variants" not in criteria[1]
    assert (criteria[2]["min_silence_s"], criteria[2]["lookback_s"]) == (20.0, 15.0)
    assert "window" not in criteria[2] and "channel" not in criteria[3]
    assert criteria[4] == {"id": "answered", "kind": "outcome", "measure": "answer_s",
                           "max": 60.0, "weight": 1.0, "critical": False,
                           "names": {"kk": "Жауап", "ru": "Ответ", "en": "Answer"}}
    assert scorecard.from_json(data) == replace(_unplaced(card), digest=card.digest)


def test_the_digest_ignores_layout_and_follows_content(tmp_path: Path) -> None:
    base = scorecard.load(write(tmp_path, "a.yaml", SMALL)).digest
    relaid = ("# a comment\n" + SMALL.replace("window: {end: 10}", "window:\n          end: 10.0")
              .replace("  - id: greeting\n    names", "  - names").replace(
                  "    criteria:\n", "    id: greeting\n    criteria:\n", 1))
    assert scorecard.load(write(tmp_path, "b.yaml", relaid)).digest == base
    assert scorecard.load(write(tmp_path, "b.yaml", SMALL.replace(
        "masks: [IIN]", 'masks: ["[IIN]"]'))).digest == base
    for old, new in (("weight: 5", "weight: 4"), ("end: 10", "end: 12"),
                     ("[сәлеметсіз бе]", "[сәлеметсіз бе, қайырлы күн]"),
                     ("Small card", "Small scorecard"), ("version: 1", "version: 2"),
                     ("critical: true\n        scale", "critical: false\n        scale")):
        changed = scorecard.load(write(tmp_path, "c.yaml", SMALL.replace(old, new, 1)))
        assert changed.digest != base, (old, new)


def test_from_json_checks_the_body_like_a_file() -> None:
    data = scorecard.to_json(scorecard.load(DEFAULT_CARD))
    data["sections"][0]["criteria"][0]["weight"] = -1.0
    data["surprise"] = True
    with pytest.raises(ScorecardError) as caught:
        scorecard.from_json(data)
    assert str(caught.value).splitlines() == [
        "<scorecard default>: surprise: unknown key (known: id, version, names, applies_to, "
        "sections)",
        "<scorecard default>: sections[0].criteria[0].weight: must be above 0, got -1.0"]
    with pytest.raises(ScorecardError, match="a scorecard is a mapping"):
        scorecard.from_json([])  # type: ignore[arg-type]
