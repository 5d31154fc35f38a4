"""The external systems' bearer tokens for the requests' API (issue 19).

Issue 19: "an API for an external system (e.g. the state's appeals system)
to update status; the update arrives authenticated (a token per system)".
``[cases] api_tokens`` names a file kept beside the store, never in the
repository (like ``[cases] salt_file``): one system per line,
``NAME TOKEN``, ``#`` comments; a token is at least
:data:`~bailanys.web.access.MIN_TOKEN_CHARS` characters (RFC 6750 §5.2).
Only the tokens' SHA-256 digests stay in memory
(:class:`~bailanys.web.access.BearerTokens`). A system acts with the
supervisor's rights on requests; its name is the ``user`` of every change
it makes (``api:NAME``). Blocking file I/O: call it off the event loop.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from bailanys.errors import ConfigError
from bailanys.web.access import MIN_TOKEN_CHARS, ApiClient, BearerTokens
from bailanys.web.auth import Role

#: A system's name: what the history shows after ``api:``.
_NAME: Final = re.compile(r"^[a-z][a-z0-9_.-]{0,39}$")
#: The role a system's token stands for: it may change a request's status.
SYSTEM_ROLE: Final = Role.SUPERVISOR


def parse(text: str, file: str) -> BearerTokens:
    """The tokens of a file's text; :class:`ConfigError` at ``file:line``."""
    tokens: dict[str, ApiClient] = {}
    names: set[str] = set()
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ConfigError("expected NAME TOKEN", path=f"{file}:{no}")
        name, token = parts
        if not _NAME.match(name):
            raise ConfigError(f"bad system name {name!r} (a-z, 0-9, _ . -)", path=f"{file}:{no}")
        if name in names or token in tokens:
            raise ConfigError(f"system {name!r} or its token is given twice",
                              path=f"{file}:{no}")
        if len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"the token of {name!r} is shorter than {MIN_TOKEN_CHARS} "
                              "characters", path=f"{file}:{no}")
        names.add(name)
        tokens[token] = ApiClient(name, SYSTEM_ROLE)
    return BearerTokens(tokens)


def load(path: str) -> BearerTokens:
    """The tokens of ``path``; none when ``path`` is empty (the API refuses all)."""
    if not path:
        return BearerTokens({})
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=path, key="cases.api_tokens") from None
    return parse(text, path)
