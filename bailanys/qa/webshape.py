"""The reviewers' page's JSON shapes from stored rows and the review store's values.

Pure (no I/O): the shapes :class:`bailanys.qa.web.QaPort` documents, made
from schema v5 rows (``qa_reviews``, ``qa_queue``), from a
:class:`~bailanys.qa.model.Scorecard`, and from the review store's reports
(``qa/kappa.py``, ``qa/reports.py``), whose values are read through their
``to_json()`` (or dataclass fields) so that the page does not depend on
their Python classes.
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
    """A report value as JSON-able data: its ``to_json()``, its dataclass fields, as is."""
    if hasattr(value, "to_json"):
        return plain(value.to_json())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        if data.get(key) is not None:
            return data[key]
    return None


def _rows(data: Any, *keys: str) -> list[Mapping[str, Any]]:
    """The list of row objects in ``data`` (a list, or a mapping holding one)."""
    if isinstance(data, Mapping):
        found = _first(data, *keys)
        if found is None:
            found = next((v for v in data.values() if isinstance(v, list)), data)
        data = found
    if isinstance(data, Mapping):  # keyed by criterion / agent
        return [{"key": k, **v} for k, v in data.items() if isinstance(v, Mapping)]
    return [r for r in data or () if isinstance(r, Mapping)]


def _pct(row: Mapping[str, Any], pct_keys: Sequence[str], share_keys: Sequence[str] = ()
         ) -> float | None:
    """A percentage: one of ``pct_keys`` as is, or one of ``share_keys`` (0-1) scaled."""
    for keys, scale in ((pct_keys, 1.0), (share_keys, 100.0)):
        value = _first(row, *keys)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(scale * float(value), 1)
    return None


def calibration_json(report: Any) -> dict[str, Any]:
    """``kappa.calibration``'s report as ``{calls, criteria: [...]}``."""
    data = plain(report)
    criteria = []
    for row in _rows(data, "criteria", "rows", "per_criterion"):
        criteria.append({
            "criterion": _first(row, "criterion", "id", "key"),
            "calls": _first(row, "calls", "pairs", "n", "count") or 0,
            "agreement_pct": _pct(row, ("agreement_pct",), ("agreement", "agreement_share")),
            "kappa": _first(row, "kappa", "cohen_kappa")})
    calls = _first(data, "calls", "pairs", "n") if isinstance(data, Mapping) else None
    return {"calls": calls if calls is not None else max((c["calls"] for c in criteria),
                                                          default=0),
            "criteria": criteria}


def _failed(value: Any) -> list[dict[str, Any]]:
    out = []
    for row in _rows(value, "criteria", "failed"):
        calls = _first(row, "calls", "call_ids") or []
        out.append({"criterion": _first(row, "criterion", "id", "key"),
                    "count": _first(row, "count", "failed", "n") or len(calls),
                    "calls": [str(c) for c in calls][:20]})
    return out


def report_json(report: Any, by: str) -> list[dict[str, Any]]:
    """``reports.by_agent`` / ``by_team`` as the page's rows, one per key and week."""
    rows = []
    for row in _rows(plain(report), "rows", "weeks", by, "agents", "teams"):
        rows.append({
            "key": _first(row, by, "agent", "team", "queue", "key"),
            "week": _first(row, "week", "iso_week"),
            "scored": _first(row, "scored", "auto", "auto_count", "scored_count") or 0,
            "auto_pct": _pct(row, ("auto_pct", "accuracy_auto_pct"), ("auto_share",)),
            "reviewed": _first(row, "reviewed", "reviewed_count") or 0,
            "kpi_pct": _pct(row, ("kpi_pct", "accuracy_pct", "kpi2_pct"), ("kpi_share",)),
            "mean_total": _first(row, "mean_total", "mean", "average_total"),
            "failed": _failed(_first(row, "failed", "most_failed", "top_failed") or [])})
    return rows
