"""The reviewers' page's JSON shapes from stored rows and the review store's values.

Pure (no I/O): the shapes :class:`bailanys.qa.web.QaPort` documents, made
from schema v5 rows (``qa_reviews``), from a
:class:`~bailanys.qa.model.Scorecard`, and from the review store's values
(``reviewqueue.QueueItem``, ``kappa.CalibrationReport``, ``reports.Report``)
through their ``to_json()``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from bailanys.qa.model import Criterion, Names, Scorecard


def names_json(names: Names) -> dict[str, str]:
    return names.to_json()


def criterion_json(c: Criterion) -> dict[str, Any]:
    return {"id": c.id, "kind": str(c.kind), "names": names_json(c.names), "weight": c.weight,
            "critical": c.critical, "channel": c.channel,
            "scale": None if c.scale is None else str(c.scale),
            "measure": None if c.measure is None else str(c.measure),
            "min": c.min, "max": c.max}


def card_json(card: Scorecard) -> dict[str, Any]:
    """The scorecard version a call was scored with, as the page draws it."""
    return {"id": card.id, "version": card.version, "names": names_json(card.names),
            "sections": [{"id": s.id, "names": names_json(s.names),
                          "criteria": [criterion_json(c) for c in s.criteria]}
                         for s in card.sections]}


def ids(text: str | None) -> list[str]:
    """A comma-separated id list (``critical_failed`` columns) as a list."""
    return [i for i in (text or "").split(",") if i]


def loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except json.JSONDecodeError:
        return default


REVIEW_COLUMNS = ("id", "call_id", "reviewer", "revision", "supersedes", "scorecard", "version",
                  "state", "answers", "comment", "total", "critical_failed", "counted",
                  "created", "finalised")
#: Reads one review row in :data:`REVIEW_COLUMNS`' order (``review_json``).
SELECT_REVIEW = f"SELECT {', '.join(REVIEW_COLUMNS)} FROM qa_reviews"


def review_json(row: Sequence[Any]) -> dict[str, Any]:
    """A ``qa_reviews`` row (:data:`SELECT_REVIEW`) as the page's review."""
    out = dict(zip(REVIEW_COLUMNS, row, strict=True))
    out["answers"] = loads(out["answers"], [])
    out["critical_failed"] = ids(out["critical_failed"])
    out["counted"] = bool(out["counted"])
    return out


def plain(value: Any) -> Any:
    """A value of the review store as JSON data: its ``to_json()``, else its
    dataclass fields, else itself (lists and mappings walked)."""
    if hasattr(value, "to_json"):
        return plain(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value
