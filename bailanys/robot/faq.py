"""The FAQ knowledge base of the voice robot: load, validate, CSV round trip.

A knowledge file (``knowledge/faq.yaml``) is a mapping with one key,
``entries``, a list of entries::

    - id: id_card_get
      topic: id_card
      title: {kk: жеке куәлік алу, ru: получение удостоверения личности}
      about: {kk: жеке куәлік алу туралы, ru: о получении удостоверения личности}
      questions: {kk: [...3+ variants...], ru: [...3+ variants...]}
      answer: {kk: "...", ru: "..."}          # spoken by espeak-ng
      sms: {kk: "...", ru: "..."}             # optional, sent as text

It is read like an IVR flow (:mod:`bailanys.yamlsrc`): parsing never
raises, and every mistake is a :class:`~bailanys.yamlsrc.Problem` naming
file, line and field.  Spoken answers must not contain digits: espeak-ng
reads "1414" digit by digit or as a number depending on the voice, so the
content writes numbers as words (the SMS may carry digits).

``title`` is the entry's short name (a nominative noun phrase) for the
console, reports and analytics; ``about`` is "about <title>" as the clarify
prompt says it ("Если вопрос об утере удостоверения, нажмите один; …",
"Сұрағыңыз жеке куәлікті жоғалту туралы болса, бірді, …": issue 18,
language review 2026-12 item 19). Russian needs the title in the
prepositional case after о/об/обо, which no rule derives reliably from the
nominative, so the file states it; :func:`about_problem` checks the
preposition agrees (об before a vowel) and the Kazakh postposition.

The CSV form (one row per entry, variants joined by ``" | "``) is for the
content editors who prefer a spreadsheet; :func:`import_csv` validates the
same way and names the CSV row as the line.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bailanys.errors import ConfigError
from bailanys.yamlsrc import Path_, Problem, Source, load_file

LANGS = ("kk", "ru")
# Fewer than three phrasings leave the matcher one or two ways to recognise an
# entry; three is the floor the content brief sets.
MIN_VARIANTS = 3
VARIANT_SEP = " | "
CSV_COLUMNS = (
    "id", "topic", "questions_kk", "questions_ru",
    "answer_kk", "answer_ru", "sms_kk", "sms_ru",
    "title_kk", "title_ru", "about_kk", "about_ru",
    "not_about_kk", "not_about_ru",  # optional: a CSV without them is read too
)
_CSV_OPTIONAL = 2
_FIELDS = frozenset({"id", "topic", "title", "about", "questions", "answer", "sms",
                     "not_about"})
#: Russian "о" becomes "об" before a word starting with these vowel letters
#: ("об утере", "об оформлении"; "о едином": е, ё, ю, я begin with [j]).
_OB_VOWELS = frozenset("аиоуыэ")
#: What a Kazakh "about" phrase ends with: "туралы", or "жөнінде" after a
#: title that already has "туралы" ("еңбек өтілі туралы анықтама жөнінде").
_KK_ABOUT_ENDINGS = (" туралы", " жөнінде")
_DIGIT = re.compile(r"\d")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class FaqError(ConfigError):
    """A knowledge file has problems; ``problems`` lists them (file:line: field: message)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Entry:
    """One question the robot can answer, in both languages."""

    id: str
    topic: str
    questions: Mapping[str, tuple[str, ...]]  # lang -> variants
    answer: Mapping[str, str]  # lang -> spoken answer (no digits)
    sms: Mapping[str, str] | None = None  # lang -> text message, optional
    line: int = 0  # where the entry starts in its file (0: built in code)
    title: Mapping[str, str] = field(default_factory=dict)  # lang -> short name
    about: Mapping[str, str] = field(default_factory=dict)  # lang -> "about <title>"
    #: lang -> words the entry is NOT about though a caller may use them near its
    #: topic ("пин код" for an eGov password): the matcher's negative evidence
    not_about: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def title_or_id(self, lang: str) -> str:
        """The short name in ``lang`` for a console or report; the id if it has none."""
        return self.title.get(lang) or self.id


@dataclass(frozen=True)
class KnowledgeBase:
    entries: tuple[Entry, ...]
    file: str = ""

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        for e in self.entries:
            if e.id == entry_id:
                return e
        return None

    def topic_uses(self) -> list[tuple[str, int, str, str]]:
        """(file, line, field, topic) of every entry's ``topic``, for a check
        against the topic classifier (issue 17)."""
        return [(self.file, e.line, f"entries[{i}].topic", e.topic)
                for i, e in enumerate(self.entries)]

    def content_hash(self) -> str:
        """SHA-256 over what the matcher reads (ids, topics, variants), for caches."""
        h = hashlib.sha256()
        for e in self.entries:
            h.update(f"{e.id}\x1f{e.topic}\x1e".encode())
            for lang in LANGS:
                for q in e.questions.get(lang, ()):
                    h.update(f"{lang}\x1f{q}\x1e".encode())
        return h.hexdigest()


# -- validation --------------------------------------------------------------


def _text(src: Source, value: Any, path: Path_) -> str | None:
    if not isinstance(value, str) or not value.strip():
        src.problem(path, "must be a non-empty text")
        return None
    return value.strip()


def _bilingual(src: Source, value: Any, path: Path_, spoken: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    if not isinstance(value, dict):
        src.problem(path, "must be a mapping with kk and ru")
        return out
    for lang in LANGS:
        if lang not in value:
            src.problem(path, f"missing language {lang!r}")
            continue
        text = _text(src, value[lang], path + (lang,))
        if text is None:
            continue
        if spoken and _DIGIT.search(text):
            src.problem(path + (lang,), "digits in a spoken answer: write numbers as words "
                        "(espeak-ng reads digits unpredictably)")
        out[lang] = text
    for extra in sorted(set(value) - set(LANGS)):
        src.problem(path + (extra,), f"unknown language (expected one of {', '.join(LANGS)})")
    return out


def about_problem(lang: str, about: str) -> str | None:
    """What is wrong with an "about <title>" phrase, or None: ru must start with
    о/об/обо agreeing with the next word (об before а, и, о, у, ы, э), kk must
    end with "туралы" or "жөнінде"."""
    if lang == "kk":
        if about.endswith(_KK_ABOUT_ENDINGS):
            return None
        return 'must end with "туралы" (or "жөнінде"): "жеке куәлікті жоғалту туралы"'
    prep, _, rest = about.partition(" ")
    if prep not in ("о", "об", "обо") or not rest:
        return 'must start with "о", "об" or "обо": "об утере удостоверения"'
    vowel = rest[0].lower() in _OB_VOWELS
    if prep == "о" and vowel:
        return f'"об", not "о", before "{rest.split()[0]}"'
    if prep == "об" and not vowel:
        return f'"о", not "об", before "{rest.split()[0]}"'
    return None


def _about(src: Source, value: Any, path: Path_) -> dict[str, str]:
    about = _bilingual(src, value, path, spoken=True)
    for lang, text in about.items():
        problem = about_problem(lang, text)
        if problem is not None:
            src.problem(path + (lang,), problem)
    return about


def _entry(src: Source, raw: Any, path: Path_) -> Entry | None:
    if not isinstance(raw, dict):
        src.problem(path, "an entry must be a mapping")
        return None
    n = len(src.problems)
    for key in sorted(set(raw) - _FIELDS):
        src.problem(path + (key,), "unknown field")
    eid = _text(src, raw.get("id"), path + ("id",))
    if eid is not None and not _ID.match(eid):
        src.problem(path + ("id",), "must be lower-case latin letters, digits and _")
    topic = _text(src, raw.get("topic"), path + ("topic",))
    questions: dict[str, tuple[str, ...]] = {}
    qs = raw.get("questions")
    if not isinstance(qs, dict):
        src.problem(path + ("questions",), "must be a mapping with kk and ru")
    else:
        for lang in LANGS:
            qp = path + ("questions", lang)
            if lang not in qs:
                src.problem(path + ("questions",), f"missing language {lang!r}")
                continue
            variants = qs[lang]
            if not isinstance(variants, list) or not variants:
                src.problem(qp, "empty variants: give a list of question phrasings")
                continue
            texts = [_text(src, v, qp + (i,)) for i, v in enumerate(variants)]
            kept = tuple(t for t in texts if t is not None)
            if len(variants) < MIN_VARIANTS:
                src.problem(qp, f"{len(variants)} variants; give at least {MIN_VARIANTS}")
            questions[lang] = kept
        for extra in sorted(set(qs) - set(LANGS)):
            src.problem(path + ("questions", extra), "unknown language")
    answer = _bilingual(src, raw.get("answer"), path + ("answer",), spoken=True)
    title = _bilingual(src, raw.get("title"), path + ("title",), spoken=True)
    about = _about(src, raw.get("about"), path + ("about",))
    sms = None
    if raw.get("sms") is not None:
        sms = _bilingual(src, raw["sms"], path + ("sms",), spoken=False)
    not_about = _words(src, raw.get("not_about"), path + ("not_about",))
    if len(src.problems) > n or eid is None or topic is None:
        return None
    return Entry(eid, topic, questions, answer, sms, src.line(path), title, about, not_about)


def _words(src: Source, value: Any, path: Path_) -> dict[str, tuple[str, ...]]:
    """Optional ``not_about``: a mapping lang -> list of words or short phrases."""
    out: dict[str, tuple[str, ...]] = {}
    if value is None:
        return out
    if not isinstance(value, dict):
        src.problem(path, "must be a mapping with kk and/or ru, each a list of words")
        return out
    for lang, words in value.items():
        if lang not in LANGS:
            src.problem(path + (str(lang),), "unknown language")
        elif not isinstance(words, list) or not all(isinstance(w, str) and w.strip()
                                                     for w in words):
            src.problem(path + (lang,), "must be a list of words or short phrases")
        else:
            out[lang] = tuple(w.strip() for w in words)
    return out


def _build(src: Source, raws: Iterable[tuple[Path_, Any]]) -> KnowledgeBase:
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for path, raw in raws:
        entry = _entry(src, raw, path)
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            eid = raw["id"].strip()
            if eid in seen:
                src.problem(path + ("id",), f"duplicate id {eid!r} (also on line {seen[eid]})")
                continue
            seen[eid] = src.line(path + ("id",))
        if entry is not None:
            entries.append(entry)
    return KnowledgeBase(tuple(entries), src.file)


def parse_source(src: Source) -> tuple[KnowledgeBase, list[Problem]]:
    """Validate a parsed YAML source into a knowledge base plus its problems."""
    if src.data is None:
        return KnowledgeBase((), src.file), list(src.problems)
    if not isinstance(src.data, dict) or not isinstance(src.data.get("entries"), list):
        src.problem((), "the file must be a mapping with a list under 'entries'")
        return KnowledgeBase((), src.file), list(src.problems)
    raws = [(("entries", i), raw) for i, raw in enumerate(src.data["entries"])]
    kb = _build(src, raws)
    if not kb.entries and not src.problems:
        src.problem(("entries",), "no entries")
    return kb, list(src.problems)


def load(path: str | Path) -> tuple[KnowledgeBase, list[Problem]]:
    """Read and validate ``path``; never raises: problems come back as a list."""
    return parse_source(load_file(Path(path)))


def load_kb(path: str | Path) -> KnowledgeBase:
    """Read ``path``, raising :class:`FaqError` if anything is wrong."""
    kb, problems = load(path)
    if problems:
        raise FaqError(problems)
    return kb


def dump_yaml(kb: KnowledgeBase) -> str:
    """The knowledge base as a FAQ YAML file that :func:`load` reads back unchanged."""
    entries: list[dict[str, Any]] = []
    for e in kb.entries:
        raw: dict[str, Any] = {
            "id": e.id,
            "topic": e.topic,
            "title": {lang: e.title.get(lang, "") for lang in LANGS},
            "about": {lang: e.about.get(lang, "") for lang in LANGS},
            "questions": {lang: list(e.questions.get(lang, ())) for lang in LANGS},
            "answer": {lang: e.answer.get(lang, "") for lang in LANGS},
        }
        if e.sms:
            raw["sms"] = {lang: e.sms.get(lang, "") for lang in LANGS}
        if e.not_about:
            raw["not_about"] = {lang: list(words) for lang, words in e.not_about.items()}
        entries.append(raw)
    head = "# Voice assistant FAQ (bailanys faq import). SAMPLE content until replaced.\n"
    return head + yaml.safe_dump({"entries": entries}, allow_unicode=True, sort_keys=False,
                                 width=100)


# -- CSV ------------------------------------------------------------------------


def export_csv(kb: KnowledgeBase, path: str | Path) -> None:
    """Write one row per entry; variants joined by ``" | "``."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLUMNS)
        for e in kb.entries:
            sms = e.sms or {}
            w.writerow([
                e.id, e.topic,
                VARIANT_SEP.join(e.questions.get("kk", ())),
                VARIANT_SEP.join(e.questions.get("ru", ())),
                e.answer.get("kk", ""), e.answer.get("ru", ""),
                sms.get("kk", ""), sms.get("ru", ""),
                e.title.get("kk", ""), e.title.get("ru", ""),
                e.about.get("kk", ""), e.about.get("ru", ""),
                VARIANT_SEP.join(e.not_about.get("kk", ())),
                VARIANT_SEP.join(e.not_about.get("ru", ())),
            ])


def import_csv(path: str | Path) -> tuple[KnowledgeBase, list[Problem]]:
    """Read a CSV written by :func:`export_csv` (or a spreadsheet); the line is the CSV line."""
    src = Source(str(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        src.problems.append(Problem(str(path), 0, "", f"cannot read: {exc}"))
        return KnowledgeBase((), str(path)), src.problems
    head = tuple(c.strip() for c in rows[0]) if rows else ()
    if head not in (CSV_COLUMNS, CSV_COLUMNS[:-_CSV_OPTIONAL]):
        src.problems.append(Problem(str(path), 1, "", f"header must be: {','.join(CSV_COLUMNS)}"))
        return KnowledgeBase((), str(path)), src.problems
    raws: list[tuple[Path_, Any]] = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        cells = dict(zip(CSV_COLUMNS, [*row, *[""] * len(CSV_COLUMNS)], strict=False))
        path_: Path_ = (f"row{n}",)
        src.lines[path_] = n
        raw: dict[str, Any] = {"id": cells["id"], "topic": cells["topic"]}
        raw["title"] = {lang: cells[f"title_{lang}"] for lang in LANGS}
        raw["about"] = {lang: cells[f"about_{lang}"] for lang in LANGS}
        raw["questions"] = {
            lang: [v.strip() for v in cells[f"questions_{lang}"].split("|") if v.strip()]
            for lang in LANGS
        }
        raw["answer"] = {lang: cells[f"answer_{lang}"] for lang in LANGS}
        if cells["sms_kk"].strip() or cells["sms_ru"].strip():
            raw["sms"] = {lang: cells[f"sms_{lang}"] for lang in LANGS}
        not_about = {lang: [w.strip() for w in cells[f"not_about_{lang}"].split("|")
                            if w.strip()] for lang in LANGS}
        if any(not_about.values()):
            raw["not_about"] = {lang: words for lang, words in not_about.items() if words}
        raws.append((path_, raw))
    return _build(src, raws), list(src.problems)
