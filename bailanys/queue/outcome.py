"""What came of an answered call, as the operator records it (issue 19).

Issue 19, "During and after the call": "outcome (resolved / not resolved /
request created / transferred) ... The disposition goes through the same
queue API the console uses, so FCR and the reports get it from the
operator". ``call.disposition`` carries the value (``outcome``) next to the
``resolved`` flag the KPI fold has always read: only :attr:`Outcome.RESOLVED`
is resolved at first contact; a transferred contact is excluded from FCR
(docs/kpi.md, the 1414 definition).
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    REQUEST_CREATED = "request_created"
    TRANSFERRED = "transferred"

    @property
    def resolved(self) -> bool:
        """The ``resolved`` flag of ``call.disposition``."""
        return self is Outcome.RESOLVED
