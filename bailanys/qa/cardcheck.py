"""Reading one scorecard's parsed YAML into a :class:`~bailanys.qa.model.Scorecard`.

Issue 16, "Scorecards as data ... validated like flows": every mistake is a
:class:`~bailanys.yamlsrc.Problem` naming the file, the line and the field
(``sections[1].criteria[0].window.end``), all of them at once, never an
exception. What each kind of criterion takes is the table :data:`KIND_FIELDS`
(the format itself is described in :mod:`bailanys.qa.scorecard`). Pure: the
caller parses the file (:func:`bailanys.yamlsrc.load_file`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from bailanys.analytics import pii
from bailanys.analytics.model import Channel
from bailanys.analytics.morph import terms
from bailanys.qa.model import (
    ACOUSTIC_MEASURES,
    OUTCOME_MEASURES,
    Criterion,
    Kind,
    Measure,
    Names,
    Scale,
    Scorecard,
    Section,
    Window,
)
from bailanys.yamlsrc import Path_, Source

#: Ids of cards, sections and criteria: what a URL, a CSV column and a log can carry.
ID: Final = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: Languages of phrase variants: ISO 639-1/-3 codes (kk, ru, en, ...).
LANG: Final = re.compile(r"[a-z]{2,3}")
#: The console's languages: every name is written in each (issue 16).
NAME_LANGS: Final = ("kk", "ru", "en")
#: Phrase variants every phrase criterion has: the centre's two languages.
VARIANT_LANGS: Final = ("kk", "ru")
#: The longest phrase variant (characters): a core, not a script.
MAX_VARIANT: Final = 200
#: The largest number a card holds (seconds, weights, bounds): a day's
#: seconds is 86,400; beyond this a value is a typo (and 10**400 no float).
MAX_NUMBER: Final = 1e9
#: The highest version: one a day for 27 years; fits SQLite's INTEGER easily.
MAX_VERSION: Final = 9999

TOP_KEYS: Final = ("id", "version", "names", "applies_to", "sections")
SECTION_KEYS: Final = ("id", "names", "criteria")
COMMON_KEYS: Final = ("id", "kind", "names", "weight", "critical")
WINDOW_KEYS: Final = ("start", "end", "last")
#: kind -> (required keys, optional keys) beside :data:`COMMON_KEYS`.
KIND_FIELDS: Final[Mapping[Kind, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    Kind.SAID: (("variants",), ("channel", "window")),
    Kind.NOT_SAID: (("variants",), ("channel", "window")),
    Kind.NO_PERSONAL_DATA: (("masks",), ("channel", "window")),
    Kind.HOLD_ETIQUETTE: (("variants", "min_silence_s", "lookback_s"), ("channel",)),
    Kind.ACOUSTIC: (("measure",), ("min", "max")),
    Kind.OUTCOME: (("measure",), ("min", "max")),
    Kind.MANUAL: (("scale",), ()),
}
CRITERION_KEYS: Final = COMMON_KEYS + tuple(dict.fromkeys(
    k for req, opt in KIND_FIELDS.values() for k in req + opt))
#: The bounds a measure's value can take (a min/max outside is a mistake).
MEASURE_RANGE: Final[Mapping[Measure, tuple[float, float]]] = {
    Measure.TALK_RATIO: (0.0, 1.0),
    Measure.OVERTALK_RATIO: (0.0, 1.0),
    Measure.DISPOSITION_SET: (0.0, 1.0),
    Measure.SURVEY_SCORE: (1.0, 5.0),
}
#: Mask names as written in a card (``IIN``) -> the transcript's mask (``[IIN]``).
MASK_NAMES: Final = {m.strip("[]"): m for m in pii.MASKS}


def build(src: Source) -> Scorecard | None:
    """The scorecard of ``src`` (a parsed file or JSON body), or None with
    ``src.problems`` saying why; problems found while building are added."""
    data = src.data
    if not isinstance(data, dict):
        if data is not None or not src.problems:
            src.problem((), "a scorecard is a mapping (id, version, names, sections)")
        return None
    before = len(src.problems)
    _keys(src, (), data, TOP_KEYS, TOP_KEYS[:3] + ("sections",))
    card_id = _id(src, ("id",), data.get("id"))
    version = data.get("version")
    if "version" in data and (type(version) is not int or not 1 <= version <= MAX_VERSION):
        src.problem(("version",), f"a whole number from 1 to {MAX_VERSION}, "
                                  f"got {version!r:.40}")
    names = _names(src, ("names",), data.get("names"))
    queues, topics = _applies_to(src, data.get("applies_to"))
    sections = _sections(src, data.get("sections"))
    if len(src.problems) > before or names is None or card_id is None:
        return None
    assert isinstance(version, int)
    return Scorecard(id=card_id, version=version, names=names, sections=sections,
                     queues=queues, topics=topics, path=src.file)


def _keys(src: Source, path: Path_, data: Mapping[str, Any], known: tuple[str, ...],
          required: tuple[str, ...]) -> None:
    for key in data:
        if key not in known:
            src.problem(path + (key,), f"unknown key (known: {', '.join(known)})")
    for key in required:
        if key not in data:
            src.problem(path + (key,), "missing")


def _id(src: Source, path: Path_, value: Any) -> str | None:
    if value is None:
        return None  # reported as missing
    if not isinstance(value, str) or not ID.fullmatch(value):
        src.problem(path, f"an id is lower-case latin letters, digits and _ "
                          f"(starting with a letter, at most 64), got {value!r}")
        return None
    return value


def _text(src: Source, path: Path_, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        src.problem(path, f"expected a text, got {value!r}")
        return None
    return value.strip()


def _names(src: Source, path: Path_, value: Any) -> Names | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        src.problem(path, "expected a mapping of kk, ru and en names")
        return None
    for lang in value:
        if lang not in NAME_LANGS:
            src.problem(path + (lang,), "unknown language (names are kk, ru and en: "
                                        "the console's languages)")
    texts = {}
    for lang in NAME_LANGS:
        if lang not in value:
            src.problem(path + (lang,), f"missing: every name is written in "
                                        f"{', '.join(NAME_LANGS)}")
        else:
            texts[lang] = _text(src, path + (lang,), value[lang])
    if any(texts.get(lang) is None for lang in NAME_LANGS):
        return None
    return Names(kk=str(texts["kk"]), ru=str(texts["ru"]), en=str(texts["en"]))


def _string_list(src: Source, path: Path_, value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        src.problem(path, f"expected a list of {what} (at least one)")
        return ()
    out: list[str] = []
    for i, item in enumerate(value):
        text = _text(src, path + (i,), item if isinstance(item, str) else None)
        if text is None:
            continue
        if text in out:
            src.problem(path + (i,), f"{text!r} is listed twice")
        else:
            out.append(text)
    return tuple(out)


def _applies_to(src: Source, value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    path: Path_ = ("applies_to",)
    if value is None:
        return (), ()
    if not isinstance(value, dict) or not value:
        src.problem(path, "expected queues and/or topics (leave applies_to out "
                          "for the default card)")
        return (), ()
    _keys(src, path, value, ("queues", "topics"), ())
    queues = (_string_list(src, path + ("queues",), value["queues"], "queue names")
              if "queues" in value else ())
    topics = (_string_list(src, path + ("topics",), value["topics"], "topics")
              if "topics" in value else ())
    return queues, topics


def _sections(src: Source, value: Any) -> tuple[Section, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        src.problem(("sections",), "expected a list of sections (at least one)")
        return ()
    sections: list[Section] = []
    section_ids: dict[str, int] = {}
    criterion_ids: dict[str, int] = {}
    for i, item in enumerate(value):
        path: Path_ = ("sections", i)
        if not isinstance(item, dict):
            src.problem(path, "a section is a mapping (id, names, criteria)")
            continue
        _keys(src, path, item, SECTION_KEYS, SECTION_KEYS)
        sid = _unique(src, path + ("id",), item.get("id"), section_ids, "section")
        names = _names(src, path + ("names",), item.get("names"))
        raw = item.get("criteria")
        if "criteria" in item and (not isinstance(raw, list) or not raw):
            src.problem(path + ("criteria",), "expected a list of criteria (at least one)")
            raw = []
        criteria = [_criterion(src, path + ("criteria", j), c, criterion_ids)
                    for j, c in enumerate(raw or [])]
        if sid is not None and names is not None:
            sections.append(Section(sid, names, tuple(c for c in criteria if c is not None)))
    return tuple(sections)


def _unique(src: Source, path: Path_, value: Any, seen: dict[str, int], what: str
            ) -> str | None:
    found = _id(src, path, value)
    if found is None:
        return None
    if found in seen:
        src.problem(path, f"{what} id {found!r} is used twice (also on line {seen[found]})")
        return None
    seen[found] = src.line(path)
    return found


def _criterion(src: Source, path: Path_, data: Any, seen: dict[str, int]) -> Criterion | None:
    if not isinstance(data, dict):
        src.problem(path, "a criterion is a mapping (id, kind, names, ...)")
        return None
    before = len(src.problems)
    cid = _unique(src, path + ("id",), data.get("id"), seen, "criterion")
    kind = _kind(src, path + ("kind",), data.get("kind"))
    names = _names(src, path + ("names",), data.get("names"))
    for key in ("id", "kind", "names"):
        if key not in data:
            src.problem(path + (key,), "missing")
    weight = _number(src, path + ("weight",), data.get("weight", 1.0), low=0.0, strict=True)
    critical = data.get("critical", False)
    if not isinstance(critical, bool):
        src.problem(path + ("critical",), f"expected true or false, got {critical!r}")
    fields: dict[str, Any] = {}
    if kind is not None:
        fields = _kind_fields(src, path, data, kind)
    if len(src.problems) > before or cid is None or kind is None or names is None:
        return None
    return Criterion(id=cid, kind=kind, names=names, weight=float(weight or 0),
                     critical=bool(critical), line=src.line(path), **fields)


def _kind(src: Source, path: Path_, value: Any) -> Kind | None:
    if value is None:
        return None
    try:
        return Kind(value)
    except ValueError:
        src.problem(path, f"unknown kind {value!r} (kinds: {', '.join(Kind)})")
        return None


def _kind_fields(src: Source, path: Path_, data: Mapping[str, Any], kind: Kind
                 ) -> dict[str, Any]:
    """The kind's own fields as :class:`Criterion` keyword arguments."""
    required, optional = KIND_FIELDS[kind]
    for key in data:
        if key in COMMON_KEYS or key in required or key in optional:
            continue
        if key in CRITERION_KEYS:
            takes = ", ".join(required + optional)
            src.problem(path + (key,), f"not used by kind {kind} (it takes: {takes})")
        else:
            src.problem(path + (key,), f"unknown key (known: {', '.join(CRITERION_KEYS)})")
    for key in required:
        if key not in data:
            src.problem(path + (key,), f"missing (kind {kind} needs it)")
    data = {k: v for k, v in data.items() if k in required or k in optional}
    out: dict[str, Any] = {}
    if "channel" in data:
        out["channel"] = _channel(src, path + ("channel",), data["channel"])
    if "window" in data:
        out["window"] = _window(src, path + ("window",), data["window"])
    if "variants" in data:
        out["variants"] = _variants(src, path + ("variants",), data["variants"])
    if "masks" in data:
        out["masks"] = _masks(src, path + ("masks",), data["masks"])
    for key in ("min_silence_s", "lookback_s"):
        if key in data:
            out[key] = _number(src, path + (key,), data[key], low=0.0, strict=True)
    if kind in (Kind.ACOUSTIC, Kind.OUTCOME):
        out.update(_bounds(src, path, data, kind))
    if "scale" in data:
        out["scale"] = _enum(src, path + ("scale",), data["scale"], Scale, "scale")
    return out


def _number(src: Source, path: Path_, value: Any, *, low: float | None = None,
            strict: bool = False) -> float | None:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not -MAX_NUMBER <= value <= MAX_NUMBER):  # also NaN
        src.problem(path, f"expected a number, got {value!r:.40}")
        return None
    if low is not None and (value <= low if strict else value < low):
        src.problem(path, f"must be {'above' if strict else 'at least'} {low:g}, got {value!r}")
        return None
    return float(value)


def _enum(src: Source, path: Path_, value: Any, enum: Any, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        src.problem(path, f"unknown {what} {value!r} ({what}s: {', '.join(enum)})")
        return None


def _channel(src: Source, path: Path_, value: Any) -> str:
    found = _enum(src, path, value, Channel, "channel")
    return str(found if found is not None else Channel.AGENT)


def _window(src: Source, path: Path_, value: Any) -> Window:
    if not isinstance(value, dict) or not value:
        src.problem(path, "expected start and end, or last (seconds)")
        return Window()
    _keys(src, path, value, WINDOW_KEYS, ())
    start = _number(src, path + ("start",), value.get("start", 0.0), low=0.0)
    end = last = None
    if "end" in value:
        end = _number(src, path + ("end",), value["end"], low=start or 0.0, strict=True)
    if "last" in value:
        last = _number(src, path + ("last",), value["last"], low=0.0, strict=True)
        if "start" in value or "end" in value:
            src.problem(path + ("last",), "last counts back from the end of the call: "
                                          "not with start or end")
    return Window(start=start or 0.0, end=end, last=last)


def _variants(src: Source, path: Path_, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        src.problem(path, "expected a mapping of language -> list of phrases")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for lang, phrases in value.items():
        if not LANG.fullmatch(lang):
            src.problem(path + (lang,), "a language is a two- or three-letter code (kk, ru, en)")
            continue
        found = _string_list(src, path + (lang,), phrases, "phrases")
        seen: dict[tuple[str, ...], int] = {}
        for i, phrase in enumerate(found):
            key = tuple(terms(phrase))
            if len(phrase) > MAX_VARIANT:
                src.problem(path + (lang, i), f"longer than {MAX_VARIANT} characters: "
                                              "write the phrase's short core")
            elif not key:
                src.problem(path + (lang, i), f"{phrase!r} has no word to look for")
            elif key in seen:
                src.problem(path + (lang, i), f"{phrase!r} is the same as variant "
                                              f"{seen[key]} once normalised")
            else:
                seen[key] = i
        out[lang] = found
    for lang in VARIANT_LANGS:
        if lang not in value:
            src.problem(path + (lang,), f"missing: phrases are given in "
                                        f"{' and '.join(VARIANT_LANGS)} at least")
    return out


def _masks(src: Source, path: Path_, value: Any) -> tuple[str, ...]:
    found = _string_list(src, path, value, "personal-data masks")
    out = []
    for i, name in enumerate(found):
        mask = MASK_NAMES.get(name.strip("[]")) if name.strip("[]").isupper() else None
        if mask is None:
            src.problem(path + (i,), f"unknown mask {name!r} "
                                     f"(masks: {', '.join(sorted(MASK_NAMES))})")
        elif mask in out:
            src.problem(path + (i,), f"{name!r} is listed twice")
        else:
            out.append(mask)
    return tuple(out)


def _bounds(src: Source, path: Path_, data: Mapping[str, Any], kind: Kind) -> dict[str, Any]:
    allowed = ACOUSTIC_MEASURES if kind is Kind.ACOUSTIC else OUTCOME_MEASURES
    measure = None
    if "measure" in data:
        measure = _enum(src, path + ("measure",), data["measure"], Measure, "measure")
        if measure is not None and measure not in allowed:
            src.problem(path + ("measure",), f"{measure} is not an {kind} measure "
                                             f"({kind}: {', '.join(sorted(allowed))})")
            measure = None
    low, high = MEASURE_RANGE.get(measure, (0.0, math.inf)) if measure else (0.0, math.inf)
    out: dict[str, Any] = {"measure": measure}
    for key in ("min", "max"):
        if key not in data:
            continue
        value = _number(src, path + (key,), data[key])
        if value is not None and measure is not None and not low <= value <= high:
            src.problem(path + (key,), f"{measure} is between {low:g} and {high:g}, "
                                       f"got {value:g}")
        out[key] = value
    if "min" not in data and "max" not in data:
        src.problem(path + ("min",), "missing: give min, max or both")
    elif (out.get("min") is not None and out.get("max") is not None
          and out["min"] > out["max"]):
        src.problem(path + ("max",), f"max {out['max']:g} is below min {out['min']:g}")
    return out
