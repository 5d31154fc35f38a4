"""The cluster's description: Kamailio's address, the engines, its database (issue 22).

A small TOML file (``configs/cluster.example.toml``) read by ``bailanys
cluster kamailio-config``; :mod:`bailanys.cluster.kamailio` turns it into
Kamailio's configuration. Pure apart from :func:`load`, which reads the
file; every problem is one :class:`~bailanys.errors.ConfigError` naming the
file and the key.

```toml
[kamailio]
listen = "10.0.0.1:5060"                      # where callers, phones and engines reach it
engines = ["10.0.0.11:5060", "10.0.0.12:5060"] # the engines' sip.listen
db_url = "postgresql://kamailio:secret@10.0.0.2/bailanys"  # usrloc's location table
health_check_s = 2                            # OPTIONS to every engine this often
engine_timeout_ms = 1000                      # no answer at all from an engine: fail over
phones_from = ["10.0.1.0/24"]                 # who may REGISTER
auth = true                                   # REGISTER with digest (subscriber table)
```
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from bailanys.config import split_host_port
from bailanys.errors import ConfigError
from bailanys.tomlcheck import Kind, check

#: Dispatcher's OPTIONS probe period (``ds_ping_interval``, whole seconds).
#: With ``engine_timeout_ms`` it bounds how long a dead engine is still
#: offered calls when no call reaches it first (2 s + 1 s: "within a few
#: seconds", issue 22).
DEFAULT_HEALTH_CHECK_S: Final = 2
#: tm's ``fr_timer`` towards the engines: an engine on the same network
#: answers an INVITE with 100 Trying in milliseconds (the engine sends it at
#: once, RFC 3261 §17.2.1), so a second of silence means it is gone.
DEFAULT_ENGINE_TIMEOUT_MS: Final = 1000
#: The dispatcher set the engines are in.
ENGINE_SET: Final = 1
#: Kamailio's usrloc ``db_mode``: 1 is write-through (lookups from memory,
#: every change written at once, so the table is always current).
DEFAULT_DB_MODE: Final = 1
#: RFC 1918 and loopback: the phones on the centre's own networks.
DEFAULT_PHONES_FROM: Final = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")
#: Kamailio's control socket (``kamcmd``), Debian's default place.
DEFAULT_CONTROL = "unix:/run/kamailio/kamailio_ctl"

_KEYS: Final[dict[str, Kind]] = {
    "listen": Kind.STRING, "engines": Kind.STRINGS, "db_url": Kind.STRING,
    "health_check_s": Kind.INTEGER, "engine_timeout_ms": Kind.INTEGER,
    "phones_from": Kind.STRINGS, "db_mode": Kind.INTEGER, "control": Kind.STRING,
    "children": Kind.INTEGER, "auth": Kind.BOOLEAN, "realm": Kind.STRING,
}


def _default_phones() -> tuple[str, ...]:
    return DEFAULT_PHONES_FROM


@dataclass(frozen=True)
class Cluster:
    """``[kamailio]``: one Kamailio in front of several engines."""

    #: host:port Kamailio listens on (UDP and TCP); an IP literal.
    listen: str
    #: The engines' SIP addresses (host:port, their ``sip.listen``).
    engines: tuple[str, ...]
    #: PostgreSQL URL of the database holding Kamailio's ``location`` table.
    db_url: str
    health_check_s: int = DEFAULT_HEALTH_CHECK_S
    engine_timeout_ms: int = DEFAULT_ENGINE_TIMEOUT_MS
    #: Networks (CIDR) whose phones may REGISTER.
    phones_from: tuple[str, ...] = field(default_factory=_default_phones)
    db_mode: int = DEFAULT_DB_MODE
    #: ``ctl`` module's socket, for ``kamcmd -s``.
    control: str = DEFAULT_CONTROL
    #: Kamailio's UDP worker processes.
    children: int = 4
    #: Phones REGISTER with digest (RFC 3261 §22) against Kamailio's
    #: ``subscriber`` table (``bailanys cluster phones`` fills it from the
    #: engine's ``[registrar.users]``); false: by network only.
    auth: bool = True
    #: The digest realm; empty: Kamailio's listen host.
    realm: str = ""

    def __post_init__(self) -> None:
        host, _ = split_host_port(self.listen, "kamailio.listen")
        _ip(host, "kamailio.listen")
        if not self.engines:
            raise ConfigError("expected at least one engine, got []", key="kamailio.engines")
        for i, engine in enumerate(self.engines):
            key = f"kamailio.engines[{i}]"
            _ip(split_host_port(engine, key)[0], key)
        if len(set(self.engines)) != len(self.engines):
            raise ConfigError(f"an engine is listed twice in {list(self.engines)}",
                              key="kamailio.engines")
        if not self.db_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"expected a postgresql:// URL, got {self.db_url!r}",
                              key="kamailio.db_url")
        for name, value, lo, hi in (("health_check_s", self.health_check_s, 1, 3600),
                                    ("engine_timeout_ms", self.engine_timeout_ms, 100, 32_000),
                                    ("db_mode", self.db_mode, 0, 3),
                                    ("children", self.children, 1, 64)):
            if not lo <= value <= hi:
                raise ConfigError(f"expected {lo}..{hi}, got {value!r}", key=f"kamailio.{name}")
        for i, net in enumerate(self.phones_from):
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ConfigError(f"expected a network such as 10.0.1.0/24, got {net!r}",
                                  key=f"kamailio.phones_from[{i}]") from None
        if any(c in self.realm for c in '"\\\n '):
            raise ConfigError(f"expected a realm without quotes or spaces, got {self.realm!r}",
                              key="kamailio.realm")
        if any(c in self.db_url for c in '"\\\n'):
            raise ConfigError("expected a URL without quotes or newlines", key="kamailio.db_url")
        if not self.control.startswith(("unix:", "udp:", "tcp:")):
            raise ConfigError(f"expected unix:PATH, udp:HOST:PORT or tcp:HOST:PORT, "
                              f"got {self.control!r}", key="kamailio.control")

    @property
    def digest_realm(self) -> str:
        return self.realm or self.host

    @property
    def host(self) -> str:
        return split_host_port(self.listen, "kamailio.listen")[0]

    @property
    def port(self) -> int:
        return split_host_port(self.listen, "kamailio.listen")[1]


def _ip(host: str, key: str) -> None:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ConfigError(f"expected an IP address (Kamailio matches engines by address), "
                          f"got {host!r}", key=key) from None


def parse(data: dict[str, Any], where: str = "<cluster>") -> Cluster:
    """The description from a TOML document's tables."""
    unknown = sorted(set(data) - {"kamailio"})
    if unknown:
        raise ConfigError(f"unknown section [{unknown[0]}], expected [kamailio]", path=where)
    table = data.get("kamailio")
    if not isinstance(table, dict):
        raise ConfigError("expected a [kamailio] table", path=where, key="kamailio")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(f"unknown key, expected one of {', '.join(_KEYS)}",
                              path=where, key=f"kamailio.{key}")
        try:
            values[key] = check(_KEYS[key], value)
        except ValueError as exc:
            raise ConfigError(str(exc), path=where, key=f"kamailio.{key}") from None
    for key in ("listen", "engines", "db_url"):
        if key not in values:
            raise ConfigError("missing (required)", path=where, key=f"kamailio.{key}")
    try:
        return Cluster(**values)
    except ConfigError as exc:
        raise ConfigError(str(exc).split(": ", 1)[-1], path=where, key=exc.key) from None


def load(path: Path) -> Cluster:
    """Read and check a cluster description file."""
    where = str(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML syntax error: {exc}", path=where) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=where) from None
    return parse(data, where)
