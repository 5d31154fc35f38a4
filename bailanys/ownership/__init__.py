"""Queues across engines (issue 22): one engine at a time owns a queue group
through a lease in PostgreSQL (``docs/architecture.md``, "Queues across
engines"). ``lease.py`` is the pure lease machine, ``pglease.py`` its
PostgreSQL adapter, ``rebuild.py`` the queue rebuilt from the event log."""
