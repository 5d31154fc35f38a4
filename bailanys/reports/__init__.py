"""The regulator's reports (issue 17): the semi-annual form (Appendix 2 of the
2023 requirements, "БОҚБЕ"), the quarterly analysis of requests (the 2024
methodology) with the callers' social portrait, and the feedback analysis.

Layout (pure cores first, adapters last):

- ``model.py``: the shared vocabulary: contact channels, the regions, age
  bands, sex, social statuses (kk/ru names), the ``Contact`` fact row.
- ``topics.py``: the topic classifier (``configs/topics.yaml``).
- ``regions.py``, ``portrait.py``: region from the caller's number (landline
  area codes) and the IIN's age band and sex, derived at entry; the IIN is
  never stored.
- ``contacts.py``, ``projector.py``, ``imports.py``: one ``contacts`` row per
  contact, folded from its call's events (schema v6), kept by the engine;
  other channels imported from CSV.
- ``semiannual.py``, ``quarterly.py``, ``feedback.py``: the reports' figures
  (pure, from contacts rows and the metrics core); ``render/`` writes XLSX,
  PDF and HTML in Kazakh and Russian; ``commands.py`` (``bailanys report``)
  and ``web.py`` (the analysts' page).
"""
