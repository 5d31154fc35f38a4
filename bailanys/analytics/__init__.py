"""Speech analytics on the event log (empty so far; see ``docs/architecture.md``)."""
