"""``[cases]``: citizens' requests (issue 19): where their rules and calendar are,
and the secret that salts the IIN hash.

A frozen dataclass like the other config sections (``bailanys.config`` lists
it in ``SECTIONS``); only str and bool fields, so that
``BAILANYS_CASES_<KEY>`` overrides work like everywhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bailanys.errors import ConfigError

#: The routing table (topic -> department, deadlines per stage).
DEFAULT_FILE: Final = "configs/cases.yaml"
#: One calendar file per year (holidays, transferred working days).
DEFAULT_CALENDAR_DIR: Final = "configs/calendar"
#: The IIN hash's secret salt: created on first use (32 random bytes, mode
#: 0600) beside the store, never in the repository: with the salt, the
#: 10^12 possible IINs could be hashed in advance.
DEFAULT_SALT_FILE: Final = "var/cases.salt"
SALT_BYTES: Final = 32
#: The replies' templates in kk/ru (``bailanys.cases.replies``).
DEFAULT_REPLIES: Final = "configs/case_replies.yaml"
#: The external systems' API tokens (``bailanys.cases.apitokens``): empty,
#: no system may call the API until the site writes the file.
DEFAULT_API_TOKENS: Final = ""


@dataclass(frozen=True)
class CasesFileConfig:
    """``[cases]``: citizens' requests with deadlines."""

    enabled: bool = True
    file: str = DEFAULT_FILE
    calendar_dir: str = DEFAULT_CALENDAR_DIR
    salt_file: str = DEFAULT_SALT_FILE
    api_tokens: str = DEFAULT_API_TOKENS  # file of "NAME TOKEN" lines; "" = none
    replies: str = DEFAULT_REPLIES  # the reply templates; "" = none


def load_or_create_salt(path: str | Path) -> bytes:
    """The salt in ``path``; a new random one written there (0600) when the
    file does not exist. Blocking file I/O: call it off the event loop."""
    p = Path(path)
    try:
        salt = p.read_bytes()
    except FileNotFoundError:
        p.parent.mkdir(parents=True, exist_ok=True)
        salt = os.urandom(SALT_BYTES)
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return load_or_create_salt(p)
        with os.fdopen(fd, "wb") as f:
            f.write(salt)
        return salt
    if len(salt) < 16:
        raise ConfigError(f"{p}: the IIN salt is {len(salt)} bytes, expected at least 16",
                          key="cases.salt_file")
    return salt
