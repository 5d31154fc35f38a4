"""Random identifiers for SIP: branches, tags, Call-IDs (RFC 3261 §8.1.1.4, §8.1.1.7, §19.3)."""

from __future__ import annotations

import secrets

MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7: branches start with it


def new_branch() -> str:
    return MAGIC_COOKIE + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(10)}@{host}"
