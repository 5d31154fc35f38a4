"""The key of a caller's number in the contacts' table (issue 19, the screen pop's history).

``contacts.caller_key`` holds it instead of the number (schema v8); the
projector writes it, ``desk/history.py`` reads by it.
"""

from __future__ import annotations

import hashlib
import hmac

from bailanys.phone import ANONYMOUS, normalise


def caller_key(number: str, salt: bytes) -> str:
    """The lookup key of a caller's number: hex HMAC-SHA256 (RFC 2104) of
    the normalised number (``bailanys.phone.normalise``) under ``salt``
    (the requests' salt, ``[cases] salt_file``). ValueError for an
    anonymous number or an empty salt: a withheld number has no history."""
    if not salt:
        raise ValueError("caller_key needs a salt")
    norm = normalise(number)
    if norm == ANONYMOUS:
        raise ValueError("an anonymous caller has no key")
    return hmac.new(salt, norm.encode("utf-8"), hashlib.sha256).hexdigest()
