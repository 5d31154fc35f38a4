"""Quality assurance (issue 16): scorecards, automatic scoring of every
transcribed call, the review queue, reviews, and the regulator's KPI 2.

Layout (pure cores first, adapters last):

- ``model.py``: the types every part shares (scorecard, criterion, result,
  evidence, score, review); no I/O.
- ``settings.py``: ``[qa]``.
- ``scorecard.py`` / ``cardcheck.py`` / ``select.py``: scorecards as YAML
  data (``configs/scorecards/``), validated with ``file:line: field:
  message`` errors (``bailanys qa check``), chosen per queue or topic.
- ``phrases.py``, ``acoustic.py``, ``criteria.py``, ``score.py``: the
  automatic criteria and the scoring of one call (pure, or reading one WAV).
- ``scoring.py``, ``sampling.py``: the worker's step after a call's
  transcript is complete: score, write ``qa.scored``, fill the review queue.
- ``reviews.py``, ``kappa.py``, ``reports.py``, ``web.py``: the reviewers'
  workspace (console role ``qa``).

The stored shape of results and reviews is in schema v5
(:mod:`bailanys.store.migrations`); the events in :mod:`bailanys.events.qa`.
"""
