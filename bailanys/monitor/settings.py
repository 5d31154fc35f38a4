"""``[monitor]``: which phone is a supervisor's, for listen, whisper, barge (issue 21).

::

    [monitor]
    ring_s = 20                  # how long the supervisor's phone rings
    [monitor.phones]             # console login -> the SIP user of their phone
    aigerim = "2001"

The engine rings that SIP user's registered phone when the supervisor
starts monitoring a call from the console. :func:`monitor_problems` checks
the table against ``[console.users]`` (a supervisor or an admin) and
``[registrar.users]`` (a SIP user the registrar knows), for ``bailanys
config check``.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from bailanys.errors import ConfigError

DEFAULT_RING_S: Final = 20
MIN_RING_S: Final = 5
MAX_RING_S: Final = 120
#: Roles that may listen, whisper and barge (the console's acting roles).
MONITOR_ROLES: Final = ("supervisor", "admin")
_SIP_USER_RE: Final = re.compile(r"[A-Za-z0-9._~+\-!*'()&=$,;?/]+")


def _empty() -> Mapping[str, str]:
    return types.MappingProxyType({})


@dataclass(frozen=True)
class MonitorConfig:
    """``[monitor]``: the supervisors' phones and how long they ring."""

    #: ``[monitor.phones]``: console login -> SIP user of the supervisor's phone.
    phones: Mapping[str, str] = field(default_factory=_empty)
    ring_s: int = DEFAULT_RING_S

    def __post_init__(self) -> None:
        if not MIN_RING_S <= self.ring_s <= MAX_RING_S:
            raise ConfigError(f"expected {MIN_RING_S} to {MAX_RING_S} seconds, "
                              f"got {self.ring_s}", key="monitor.ring_s")
        owners: dict[str, str] = {}
        for login, sip_user in self.phones.items():
            key = f"monitor.phones.{login}"
            if not _SIP_USER_RE.fullmatch(sip_user.strip()):
                raise ConfigError(f"expected the SIP user of a phone, got {sip_user!r}", key=key)
            if sip_user in owners:
                raise ConfigError(f"phone {sip_user} is {owners[sip_user]}'s already", key=key)
            owners[sip_user] = login
        object.__setattr__(self, "phones", types.MappingProxyType(
            {k: v.strip() for k, v in self.phones.items()}))


def monitor_problems(config: MonitorConfig, console_users: Mapping[str, str],
                     sip_users: Mapping[str, str], source: str) -> list[str]:
    """One line per ``[monitor.phones]`` entry whose login is not a supervisor
    or admin of ``[console.users]``, or whose phone is not a SIP user of
    ``[registrar.users]``."""
    out = []
    for login, sip_user in config.phones.items():
        role = console_users.get(login, "").partition(":")[0]
        if role not in MONITOR_ROLES:
            what = f"has the role {role}" if role else "is not in [console.users]"
            out.append(f"{source}: monitor.phones.{login}: {login} {what}; only a "
                       f"supervisor or an admin may listen, whisper or barge")
        if sip_user not in sip_users:
            out.append(f"{source}: monitor.phones.{login}: no SIP user {sip_user!r} in "
                       "[registrar.users] (the phone could never register)")
    return out
