"""Scorecards as data: YAML files, loaded, checked and fingerprinted.

Issue 16, "Scorecards as data": a scorecard has sections of criteria, each
with a weight, a kind and an optional **critical** flag, applies to queues or
topics, and has a version; "a changed scorecard applies to new calls, and
each score records the version it used" (:mod:`bailanys.qa.cardstore`).
``bailanys qa check`` validates the files like ``flows check``
(:mod:`bailanys.qa.commands`). The grammar (also configs/scorecards/README.md)::

    id: default                 # [a-z][a-z0-9_]*, unique among the cards
    version: 1                  # whole number >= 1; raise it on any change
    names: {kk: ..., ru: ..., en: ...}      # every name in all three
    applies_to:                 # optional; left out: the default card
      queues: [complaints]      # calls of these queues ...
      topics: [complaint]       # ... or of these topics (a topic wins)
    sections:
      - id: greeting
        names: {kk: ..., ru: ..., en: ...}
        criteria:
          - id: greeting        # unique in the whole card
            kind: said          # see below
            names: {kk: ..., ru: ..., en: ...}
            weight: 2           # > 0, default 1
            critical: false     # a failed critical criterion fails KPI 2
            ...                 # the kind's own keys

The kinds and their own keys (``cardcheck.KIND_FIELDS``; any other key is
an error, so is a missing required one):

=================  ==========================================  ====================
kind               required                                    optional
=================  ==========================================  ====================
said, not_said     variants                                    channel, window
no_personal_data   masks (IIN, PHONE, CARD, EMAIL, NUMBER)     channel, window
hold_etiquette     variants, min_silence_s, lookback_s         channel
acoustic           measure (talk_ratio, longest_silence_s,     min, max (one at
                   overtalk_s, overtalk_ratio, speech_rate)    least; min <= max)
outcome            measure (answer_s, disposition_set,         min, max
                   survey_score)
manual             scale (yes_no or 1-5)
=================  ==========================================  ====================

``channel`` is agent (the default) or caller; ``window`` is ``{start: 0,
end: 10}`` (seconds from the recording's start) or ``{last: 20}`` (the
recording's last seconds); ``variants`` maps a language to its phrasings and
needs kk and ru (any other language is optional), each phrasing a short core
that the search's normalisation (:func:`bailanys.analytics.morph.terms`)
leaves words in, none the same as another once normalised.

The canonical form of a card (:func:`to_json`) has the YAML's shape, every
number a float but ``version``, only the kind's own keys; its sha256 is the
card's :func:`digest`: comments, key order and layout of the file do not
change it, any change of content does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from bailanys.errors import ConfigError
from bailanys.qa import cardcheck
from bailanys.qa.model import Criterion, Kind, Scorecard, Window
from bailanys.yamlsrc import Problem, Source, dotted, load_file

#: File names read from a scorecard directory.
PATTERNS: Final = ("*.yaml", "*.yml")
#: Kinds whose phrases are looked for in a window of the call.
WINDOW_KINDS: Final = frozenset({Kind.SAID, Kind.NOT_SAID, Kind.NO_PERSONAL_DATA})
#: Kinds read from one channel's transcript.
CHANNEL_KINDS: Final = WINDOW_KINDS | {Kind.HOLD_ETIQUETTE}


class ScorecardError(ConfigError):
    """A scorecard has problems, or its version is misused; ``problems`` lists
    them (``file:line: field: message``, one a line)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load(path: Path) -> Scorecard:
    """The scorecard in ``path`` (with its :func:`digest`); ScorecardError otherwise."""
    src = load_file(path)
    card = cardcheck.build(src)
    if card is None or src.problems:
        raise ScorecardError(src.problems)
    return replace(card, digest=digest(card))


def load_files(files: Iterable[Path]) -> tuple[list[Scorecard], list[Problem]]:
    """The good cards among ``files`` and every problem found, including those
    between cards: an id used twice, two default cards, a queue or topic
    claimed by two cards. The later file (in the order given) of such a pair
    is left out, so that the choice of a card is never ambiguous."""
    cards: list[Scorecard] = []
    problems: list[Problem] = []
    for path in files:
        src = load_file(path)
        card = cardcheck.build(src)
        problems += src.problems
        if card is None or src.problems:
            continue
        clash = _clashes(cards, card, src)
        problems += clash
        if not clash:
            cards.append(replace(card, digest=digest(card)))
    return cards, problems


def load_dir(directory: Path) -> tuple[list[Scorecard], list[Problem]]:
    """Every ``*.yaml`` card of ``directory`` in file-name order (:func:`load_files`)."""
    if not directory.is_dir():
        return [], [Problem(str(directory), 0, "", "no such directory")]
    return load_files(scorecard_files(directory))


def scorecard_files(directory: Path) -> list[Path]:
    return sorted({p for pattern in PATTERNS for p in directory.glob(pattern) if p.is_file()})


def _clashes(cards: Sequence[Scorecard], card: Scorecard, src: Source) -> list[Problem]:
    out: list[Problem] = []

    def clash(path: tuple[str | int, ...], message: str) -> None:
        out.append(Problem(src.file, src.line(path), dotted(path), message))

    for other in cards:
        if other.id == card.id:
            clash(("id",), f"scorecard id {card.id!r} is also the id of {other.path}")
        if not (card.queues or card.topics or other.queues or other.topics):
            clash(("id",), f"a second default card (no applies_to): {other.path} is "
                           f"the default; give this one applies_to")
        for field, mine, theirs in (("queues", card.queues, other.queues),
                                    ("topics", card.topics, other.topics)):
            for i, name in enumerate(mine):
                if name in theirs:
                    clash(("applies_to", field, i),
                          f"{name!r} is already claimed by {other.id} ({other.path})")
    return out


# --- the canonical form --------------------------------------------------------


def to_json(card: Scorecard) -> dict[str, Any]:
    """The card's canonical JSON form (what ``qa_scorecards.body`` stores)."""
    out: dict[str, Any] = {"id": card.id, "version": card.version,
                           "names": card.names.to_json()}
    applies = {k: list(v) for k, v in (("queues", card.queues), ("topics", card.topics)) if v}
    if applies:
        out["applies_to"] = applies
    out["sections"] = [{"id": s.id, "names": s.names.to_json(),
                        "criteria": [_criterion_json(c) for c in s.criteria]}
                       for s in card.sections]
    return out


def _criterion_json(c: Criterion) -> dict[str, Any]:
    out: dict[str, Any] = {"id": c.id, "kind": str(c.kind), "names": c.names.to_json(),
                           "weight": float(c.weight), "critical": c.critical}
    if c.kind in CHANNEL_KINDS:
        out["channel"] = c.channel
    if c.kind in WINDOW_KINDS:
        out["window"] = _window_json(c.window)
    if c.kind in (Kind.SAID, Kind.NOT_SAID, Kind.HOLD_ETIQUETTE):
        out["variants"] = {lang: list(v) for lang, v in sorted(c.variants.items())}
    if c.kind is Kind.NO_PERSONAL_DATA:
        out["masks"] = list(c.masks)
    if c.kind is Kind.HOLD_ETIQUETTE:
        out["min_silence_s"] = _float(c.min_silence_s)
        out["lookback_s"] = _float(c.lookback_s)
    if c.kind in (Kind.ACOUSTIC, Kind.OUTCOME):
        out["measure"] = str(c.measure)
        out.update({k: float(v) for k, v in (("min", c.min), ("max", c.max)) if v is not None})
    if c.kind is Kind.MANUAL:
        out["scale"] = str(c.scale)
    return out


def _window_json(w: Window) -> dict[str, float]:
    if w.last is not None:
        return {"last": float(w.last)}
    out = {"start": float(w.start)}
    if w.end is not None:
        out["end"] = float(w.end)
    return out


def _float(value: float | None) -> float | None:
    return float(value) if value is not None else None


def from_json(data: Mapping[str, Any]) -> Scorecard:
    """The card of a canonical JSON form (:func:`to_json`), checked like a file;
    ScorecardError (lines 0: a body has none) when it is not valid."""
    src = Source(file=f"<scorecard {data.get('id', '?')}>" if isinstance(data, Mapping)
                 else "<scorecard>", data=dict(data) if isinstance(data, Mapping) else data)
    card = cardcheck.build(src)
    if card is None or src.problems:
        raise ScorecardError(src.problems)
    card = replace(card, path="")
    return replace(card, digest=digest(card))


def canonical(card: Scorecard) -> str:
    """:func:`to_json` as one line of JSON: sorted keys, no spaces, UTF-8 text."""
    return json.dumps(to_json(card), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False)


def digest(card: Scorecard) -> str:
    """sha256 (hex) of the card's :func:`canonical` JSON."""
    return hashlib.sha256(canonical(card).encode("utf-8")).hexdigest()
