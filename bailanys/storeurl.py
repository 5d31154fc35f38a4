"""``[store] url``: which backend the store lives on (issue 22).

Accepted forms:

* ``sqlite:///var/bailanys.db`` (absolute: four slashes ``sqlite:////srv/b.db``),
  ``sqlite:var/bailanys.db``, or a plain path (``var/bailanys.db``,
  ``:memory:``): the embedded SQLite file, the default;
* ``postgresql://user:password@host:port/dbname?...`` (or ``postgres://``):
  a PostgreSQL database, in libpq's URI syntax (psycopg passes it on).

:func:`parse_store_url` is pure; a bad URL raises ``ValueError`` with a
message saying what was expected (``config.py`` turns it into a
``ConfigError`` naming ``store.url``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Backend = Literal["sqlite", "postgresql"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_PG_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class StoreUrl:
    """A parsed store location: ``target`` is the SQLite path or the libpq URL."""

    backend: Backend
    target: str

    @property
    def display(self) -> str:
        """The location for messages and logs: a PostgreSQL password masked."""
        return redact(self.target) if self.backend == "postgresql" else self.target


def redact(url: str) -> str:
    """``url`` with the password (if any) replaced by ``***``."""
    return re.sub(r"^(postgres(?:ql)?://[^:@/]*:)[^@/]*@", r"\1***@", url)


def parse_store_url(text: str) -> StoreUrl:
    """Parse ``[store] url`` (see the module docstring); ``ValueError`` if bad."""
    value = text.strip()
    if not value:
        raise ValueError("expected sqlite:///PATH, a file path or postgresql://..., got ''")
    if value == ":memory:":
        return StoreUrl("sqlite", value)
    match = _SCHEME.match(value)
    # "C:\\..." style drive letters are not a scheme; nor is a path like "var/x:y".
    if match is None or len(match.group(1)) == 1:
        return StoreUrl("sqlite", value)
    scheme = match.group(1).lower()
    if scheme == "sqlite":
        rest = value[len("sqlite:"):]
        path = rest[3:] if rest.startswith("///") else rest
        if path.startswith("//"):
            raise ValueError(f"sqlite URL has a host part, expected sqlite:///PATH, got {value!r}")
        if not path:
            raise ValueError(f"sqlite URL without a file path, got {value!r}")
        return StoreUrl("sqlite", path)
    if scheme in _PG_SCHEMES:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises ValueError on a bad port)
        except ValueError as exc:
            raise ValueError(f"bad PostgreSQL URL {redact(value)!r}: {exc}") from exc
        if not parts.path.strip("/") and "dbname=" not in parts.query:
            raise ValueError(
                f"PostgreSQL URL names no database, expected postgresql://USER@HOST:PORT/DBNAME,"
                f" got {redact(value)!r}")
        return StoreUrl("postgresql", value)
    raise ValueError(
        f"unknown store URL scheme {scheme!r}: expected sqlite:///PATH, a file path,"
        f" or postgresql://USER@HOST:PORT/DBNAME")
