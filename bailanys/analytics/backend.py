"""Which backend a store location names: a PostgreSQL URL, or a SQLite path.

Issue 22. Pure and light (no database driver imported), so the command
line can choose before loading either. The generic store's ``[store] url``
parser (``postgresql://``, ``postgres://``, ``sqlite:...``, a path) agrees
with :func:`is_postgres` on which is which; ``redact`` is that module's.
"""

from __future__ import annotations

from typing import Final

from bailanys.storeurl import redact

__all__ = ["PG_SCHEMES", "is_postgres", "redact"]

PG_SCHEMES: Final = ("postgresql://", "postgres://")


def is_postgres(store: str) -> bool:
    """True when ``store`` is a PostgreSQL URL (else a SQLite path)."""
    return store.strip().lower().startswith(PG_SCHEMES)

