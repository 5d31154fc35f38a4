"""The questions the voice assistant could not answer, kept masked for the knowledge base.

Issue 18, "The questions it could not answer feed the knowledge base": every
spoken turn the assistant handed over or answered below its confidence
threshold is kept, so that ``bailanys faq gaps`` can list what callers ask
and the FAQ lacks. The quarterly methodology of request analysis
(kz-methodology-request-analysis-2024, /work/shared/DOMAIN.md) asks for
"формирование перечня вопросов для размещения ... включая раздел «Часто
задаваемые вопросы», а также в базе знаний": FAQ candidates.

Kept: a question whose :class:`~bailanys.events.RobotFaq` outcome is in
:data:`KEPT_OUTCOMES` (``clarify``: "press 1 / press 2"; ``no_match``:
"say it in other words" or an operator; ``operator``: the caller asked for
one). An answered question and a turn nothing was recognised in are not.

Privacy: the recognised words are personal data (a caller dictates an IIN
or a phone number to the robot). The text is read with the analytics' number
reading (:func:`bailanys.analytics.itn.itn_text`: «сегіз бес ноль ...» ->
digits) and masked (:func:`bailanys.analytics.pii.mask_text`) BEFORE
anything else sees it; only the masked text is cut, stored and clustered.
Events still never carry the words.

After a clarify, :func:`resolution_rows` records how it ended (the caller
chose an entry, or was handed over).

Pure: :func:`gap_rows` returns the side rows (:data:`~bailanys.store.events.SideRow`)
written with the turn's ``robot.faq`` event in one transaction
(``EventLog.emit(event, rows=...)``), so the log never blocks on them and a
row exists exactly when its event does; the same rows delete what is older
than ``robot.gaps_retention_days`` (indexed on ``ts``), which bounds the table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bailanys.analytics import itn, pii
from bailanys.analytics.morph import terms
from bailanys.robot.matcher import MatchResult
from bailanys.timezone import ALMATY

#: ``robot.faq`` outcomes of a question that make it a gap (assistant.py).
KEPT_OUTCOMES: Final = frozenset({"clarify", "no_match", "operator"})
#: Longest masked question kept, in characters: a turn is cut at 15 s
#: (assistant.MAX_QUESTION_S), ~40 words, ~300 characters; the rest is noise.
MAX_TEXT: Final = 400
#: The matcher's best entries kept per question (it returns three).
MAX_CANDIDATES: Final = 3
_DAY_S: Final = 86400.0

INSERT_GAP: Final = (
    "INSERT INTO faq_gaps (ts, day, call_id, language, text, terms, candidates, outcome,"
    " attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
DELETE_EXPIRED: Final = "DELETE FROM faq_gaps WHERE ts < ?"
#: The call's last kept question is the one a clarify answers.
RESOLVE_GAP: Final = (
    "UPDATE faq_gaps SET resolution = ? WHERE id = (SELECT max(id) FROM faq_gaps"
    " WHERE call_id = ?)"
)


@dataclass(frozen=True)
class Gap:
    """One kept question, as stored (``text`` masked)."""

    ts: float
    call_id: str
    lang: str
    text: str
    candidates: tuple[tuple[str, float], ...]
    outcome: str


def masked_question(text: str, lang: str) -> str:
    """The caller's words with numbers read and personal data masked, cut to :data:`MAX_TEXT`.

    Masked first, cut after: a cut through an IIN could otherwise leave
    its digits as a shorter, unmasked number.
    """
    masked = pii.mask_text(itn.itn_text(" ".join(text.split()), lang))
    if len(masked) <= MAX_TEXT:
        return masked
    cut = masked[:MAX_TEXT]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def local_day(ts: float) -> str:
    """The Asia/Almaty date of ``ts`` (the centre's day, as the KPIs count it)."""
    return datetime.fromtimestamp(ts, ALMATY).date().isoformat()


def gap_rows(*, call_id: str, ts: float, lang: str, text: str, result: MatchResult,
             outcome: str, attempt: int, retention_days: int) -> list[tuple[str, Sequence[Any]]]:
    """The side rows that keep one question (none when it is not a gap or not kept)."""
    if outcome not in KEPT_OUTCOMES or retention_days <= 0:
        return []
    masked = masked_question(text, lang)
    if not masked.strip():
        return []
    cands = [[c.entry.id, round(c.confidence, 3)] for c in result.candidates[:MAX_CANDIDATES]]
    row = (ts, local_day(ts), call_id, lang, masked, " ".join(terms(masked)),
           json.dumps(cands, ensure_ascii=False), outcome, attempt)
    return [(INSERT_GAP, row), (DELETE_EXPIRED, (ts - retention_days * _DAY_S,))]


def resolution_rows(*, call_id: str, outcome: str,
                    entry: str | None) -> list[tuple[str, Sequence[Any]]]:
    """The side row recording how a clarify ended (a ``clarified`` event's outcome):
    ``answered:<entry>`` (the caller chose it: the entry lacks this phrasing),
    ``no_choice`` or ``no_input`` (handed over)."""
    resolution = f"answered:{entry}" if outcome == "answered" and entry else outcome
    return [(RESOLVE_GAP, (resolution[:100], call_id))]


def decode_candidates(text: str) -> tuple[tuple[str, float], ...]:
    """``candidates`` as stored -> ((entry id, confidence), ...); () when unreadable."""
    try:
        value = json.loads(text)
        return tuple((str(e), float(c)) for e, c in value)
    except (ValueError, TypeError):
        return ()
