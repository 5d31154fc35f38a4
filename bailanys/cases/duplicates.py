"""Duplicate requests: the same citizen, the same topic, within N days (issue 19).

Issue 19, "Duplicates: a new request by the same citizen on the same topic
within N days is linked to the open one instead of creating a second"; the
appeals solution (DOMAIN.md "Case handling") asks for duplicate applicants
to be detected. The same citizen is the same salted IIN hash, or the same
phone number when either side has no IIN; N is ``duplicate_window_days`` of
configs/cases.yaml, in calendar days from the open request's creation.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bailanys.cases.model import Case, Citizen, Kind


def same_citizen(a: Citizen, b: Citizen) -> bool:
    """Both IIN hashes equal; or, where one has none, the same known number."""
    if a.iin_hash and b.iin_hash:
        return a.iin_hash == b.iin_hash
    return bool(a.phone) and a.phone == b.phone


def find_duplicate(cases: Iterable[Case], citizen: Citizen, topic: str, kind: Kind,
                   now: datetime, window_days: int) -> Case | None:
    """The newest open request of ``citizen`` on ``topic`` (same kind) made
    within ``window_days`` before ``now``; None when there is none."""
    since = now - timedelta(days=window_days)
    best: Case | None = None
    for case in cases:
        if not case.open or case.topic != topic or case.kind != kind:
            continue
        if not since <= case.created_at <= now:
            continue
        if not same_citizen(case.citizen, citizen):
            continue
        if best is None or case.created_at > best.created_at:
            best = case
    return best
