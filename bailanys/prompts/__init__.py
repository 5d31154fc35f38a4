"""Recorded prompts (issue 21): keys, import, store, the console page."""
