"""Score one call against a scorecard (issue 16, "Every transcribed call is scored").

:func:`score_call` runs every criterion's evaluator
(:mod:`bailanys.qa.criteria`) on the call's inputs and folds the results into
the total and the failed critical criteria with
:func:`bailanys.qa.totals.combine` (the same fold a reviewer's answers go
through), giving the :class:`~bailanys.qa.model.Score` that ``qa_scores`` and
the ``qa.scored`` event carry. Manual criteria come out PENDING. Pure and
synchronous: the worker calls it off the event loop.
"""

from __future__ import annotations

from bailanys.qa.criteria import Context, evaluate
from bailanys.qa.model import CallInputs, Score, Scorecard
from bailanys.qa.totals import combine


def score_call(card: Scorecard, inputs: CallInputs) -> Score:
    """Every criterion of ``card`` on the call, in the card's order."""
    ctx = Context(inputs)
    results = tuple(evaluate(c, ctx) for c in card.criteria)
    total, critical = combine(card, results)
    return Score(call_id=inputs.call_id, scorecard=card.id, version=card.version,
                 results=results, total=total, critical_failed=critical)
