"""Intraday statistics for supervisors (issue 21): 15-minute interval charts,
the agent drill-down, and their CSV export for a period.

Pure cores (``buckets.py``, ``agentday.py``, ``csvout.py``) under a reader of
the store (``storeread.py``, blocking, run in threads) and the routes
(``web.py``) on the console's app behind the web layer's one check.
"""
