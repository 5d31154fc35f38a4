"""A reviewer's answers checked against the scorecard version of the call (pure).

Issue 16, "The reviewers' workspace": manual criteria are answered yes / no /
n.a. or 1-5 with a comment; an automatic result may be overridden, with a
reason. :func:`check` turns what the page sent into the answers a review
stores, or raises :class:`ReviewError` with a ``code`` the page translates
(and ``detail``: the criterion). Free text (comments, reasons) is masked
with :func:`bailanys.analytics.pii.mask_text` first: a reviewer who types an
IIN or a phone number into a comment must not put it in the store in the
clear (issue 15, "Numbers and PII").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bailanys.analytics.pii import mask_text
from bailanys.errors import InputError
from bailanys.qa.model import Answer, Criterion, Kind, Outcome, Scale, Scorecard

#: Longest comment kept (a review's, or an answer's): about a page of text,
#: what the reviewers' form shows without scrolling far; more is refused.
MAX_COMMENT_CHARS: Final = 2000
#: Longest reason for an override: one or two sentences.
MAX_REASON_CHARS: Final = 500
#: A 1-5 answer of at least this passes (``qa.model.Scale.ONE_TO_FIVE``).
ONE_TO_FIVE_PASS: Final = 3


class ReviewError(InputError):
    """A review action the store refuses. ``code`` (what the page translates):

    ``no_score`` (the call was not scored automatically), ``not_found``,
    ``not_owner`` (another reviewer's draft), ``final`` (a finalised review
    is immutable: write a correction), ``not_final`` (only a final review is
    corrected), ``superseded`` (correct the latest revision),
    ``no_scorecard`` (the score's scorecard version is not stored),
    ``unknown_criterion``, ``duplicate``, ``bad_outcome``, ``bad_value``,
    ``no_reason`` (an override needs one), ``too_long``, ``unanswered``
    (manual criteria left; ``detail`` lists them), ``bad_period``.
    ``detail``: the criterion or value concerned (never personal data).
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def _text(value: str | None, limit: int, what: str) -> str:
    text = " ".join(str(value or "").split())
    if len(text) > limit:
        raise ReviewError("too_long", what)
    return mask_text(text) if text else ""


def _manual(c: Criterion, a: Answer) -> Answer:
    """A manual answer: yes/no/n.a. without a value; 1-5 with an integer value
    whose outcome follows from it (3 or more passes), or n.a. without one."""
    if a.override:
        raise ReviewError("bad_outcome", c.id)
    if a.outcome in (Outcome.NA, Outcome.PENDING):
        if a.value is not None:
            raise ReviewError("bad_value", c.id)
        return Answer(c.id, a.outcome, None, a.comment)
    if c.scale is Scale.ONE_TO_FIVE:
        v = a.value
        if isinstance(v, bool) or not isinstance(v, int | float) or v != int(v) \
                or not 1 <= v <= 5:
            raise ReviewError("bad_value", c.id)
        outcome = Outcome.PASS if v >= ONE_TO_FIVE_PASS else Outcome.FAIL
        return Answer(c.id, outcome, float(v), a.comment)
    if a.value is not None:
        raise ReviewError("bad_value", c.id)
    return Answer(c.id, a.outcome, None, a.comment)


def _override(c: Criterion, a: Answer) -> Answer:
    """An automatic criterion's answer: an override (pass / fail / n.a.) with a reason."""
    if not a.override or a.outcome is Outcome.PENDING:
        raise ReviewError("bad_outcome", c.id)
    if not a.reason:
        raise ReviewError("no_reason", c.id)
    if a.value is not None:
        raise ReviewError("bad_value", c.id)
    return Answer(c.id, a.outcome, None, a.comment, override=True, reason=a.reason)


def check(card: Scorecard, answers: Sequence[Answer]) -> tuple[Answer, ...]:
    """The answers to store, in the scorecard's order, texts cleaned and masked.

    Raises :class:`ReviewError` for an unknown or repeated criterion, an
    outcome or value the criterion's kind and scale do not allow, or an
    override without a reason."""
    by_id = {c.id: c for c in card.criteria}
    seen: dict[str, Answer] = {}
    for raw in answers:
        c = by_id.get(raw.criterion)
        if c is None:
            raise ReviewError("unknown_criterion", raw.criterion[:64])
        if c.id in seen:
            raise ReviewError("duplicate", c.id)
        try:
            outcome = Outcome(raw.outcome)
        except ValueError:
            raise ReviewError("bad_outcome", c.id) from None
        a = Answer(c.id, outcome, raw.value,
                   _text(raw.comment, MAX_COMMENT_CHARS, c.id),
                   bool(raw.override), _text(raw.reason, MAX_REASON_CHARS, c.id))
        seen[c.id] = _manual(c, a) if c.kind is Kind.MANUAL else _override(c, a)
    return tuple(seen[c.id] for c in card.criteria if c.id in seen)


def comment(text: str | None) -> str:
    """A review's comment, cleaned and masked (``too_long`` past the limit)."""
    return _text(text, MAX_COMMENT_CHARS, "comment")


def unanswered(card: Scorecard, answers: Sequence[Answer]) -> tuple[str, ...]:
    """Manual criteria with no answer (or a pending one): finalising waits for them."""
    done = {a.criterion for a in answers if a.outcome is not Outcome.PENDING}
    return tuple(c.id for c in card.criteria if c.kind is Kind.MANUAL and c.id not in done)
