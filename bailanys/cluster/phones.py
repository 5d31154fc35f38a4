"""The operators' phone accounts in Kamailio's ``subscriber`` table (issue 22).

In the cluster set-up the phones register with Kamailio, which checks
their digest (RFC 3261 §22.4, RFC 2617 §3.2.2.2) against ``subscriber``
(``auth_db`` with ``calculate_ha1`` 0: only the HA1 hashes are stored, never
the password). :func:`sync` writes one row per user of the engine's
``[registrar.users]`` for the cluster's realm and removes the realm's
other rows, in one transaction, so the engine's config stays the one list
of phone accounts. ``bailanys cluster phones`` runs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

UPSERT = (
    "INSERT INTO subscriber (username, domain, password, ha1, ha1b) "
    "VALUES (%s, %s, '', %s, %s) ON CONFLICT (username, domain) "
    "DO UPDATE SET password = '', ha1 = EXCLUDED.ha1, ha1b = EXCLUDED.ha1b"
)
REMOVE = "DELETE FROM subscriber WHERE domain = %s AND NOT (username = ANY(%s))"


def ha1(user: str, realm: str, password: str) -> str:
    """MD5(user:realm:password), RFC 2617 §3.2.2.2 (Kamailio's ``ha1`` column)."""
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def ha1b(user: str, realm: str, password: str) -> str:
    """The same for phones that send ``user@realm`` as their user name (``ha1b``)."""
    return hashlib.md5(f"{user}@{realm}:{realm}:{password}".encode()).hexdigest()


def sync(db_url: str, realm: str, users: Mapping[str, str]) -> tuple[int, int]:
    """Write ``users`` for ``realm`` and remove the realm's others: (written, removed)."""
    import psycopg  # only this command and an engine behind a proxy need it

    with psycopg.connect(db_url, connect_timeout=5) as db:  # one transaction, committed
        for user, password in sorted(users.items()):
            db.execute(UPSERT, (user, realm, ha1(user, realm, password),
                                ha1b(user, realm, password)))
        removed = db.execute(REMOVE, (realm, sorted(users))).rowcount
    return len(users), max(removed, 0)
