"""``[cluster]``: an engine behind a SIP proxy (Kamailio, issue 22).

With ``proxy`` set, the engine rings an operator as ``sip:<agent>@<proxy>``
and sends that INVITE to the proxy, which looks the phone up in its
registrar (usrloc) and relays it: any engine reaches any phone, whichever
proxy or engine the phone registered with. Which agents have a phone now is
read from the proxy's ``location`` table in PostgreSQL
(``locations_url``; :mod:`bailanys.cluster.locations`); without it every
agent of the queue file counts as registered and the proxy's 404 says
otherwise at ring time. Callbacks and transfers to numbers go through the
proxy too (the dialer's ``outbound``). The proxy's address is exempt from the engine's
per-source flood guard (every caller arrives from it; the proxy limits
sources itself). The rest of "behind a proxy" needs no setting: the engine
answers OPTIONS (the dispatcher's health check), follows Record-Route
(RFC 3261 §12.1) on both sides of a call, and answers requests where their
Via says (so through the proxy).

Pure; no import of :mod:`bailanys.config` (which imports this).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Final

from bailanys.errors import ConfigError

#: How often the proxy's registrations are read: a phone that registers is
#: rung within a second, as with the engine's own registrar (at once).
DEFAULT_LOCATIONS_POLL_MS: Final = 1000
#: The queue-group lease's time to live (``ownership/lease.py``'s default).
DEFAULT_LEASE_TTL_S: Final = 6.0


def _split(value: str, key: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"expected host:port such as 10.0.0.1:5060, got {value!r}", key=key)
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ConfigError(f"expected an IP address (no DNS on the call path), got {host!r}",
                          key=key) from None
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class ClusterConfig:
    """``[cluster]``: the engine behind a SIP proxy; empty ``proxy``: on its own."""

    #: host:port of the proxy (Kamailio): the engine's outbound proxy for
    #: operators' phones; its address is trusted past the flood guard.
    proxy: str = ""
    #: PostgreSQL URL of the proxy's registrations (usrloc's ``location``
    #: table); empty: every agent counts as registered.
    locations_url: str = ""
    #: How often ``locations_url`` is read, in milliseconds.
    locations_poll_ms: int = DEFAULT_LOCATIONS_POLL_MS
    #: PostgreSQL URL of the queue-group leases (docs/architecture.md, "Queues
    #: across engines"); empty: this engine serves every queue itself.
    leases_url: str = ""
    #: The lease's time to live in seconds: a dead owner's queues are taken
    #: over within ``lease_ttl_s`` × 4/3.
    lease_ttl_s: float = DEFAULT_LEASE_TTL_S
    #: The other engines' consoles (``http://host:port``), read by ``bailanys
    #: cluster console`` (the one console of every engine, issue 22).
    peers: tuple[str, ...] = ()
    #: The shared secret the engines' ``/cluster/state`` asks of the cluster
    #: console (``Authorization: Bearer``); empty: the route is off.
    console_token: str = ""

    def __post_init__(self) -> None:
        for i, peer in enumerate(self.peers):
            if not peer.startswith(("http://", "https://")) or len(peer) < 10:
                raise ConfigError(f"expected an engine console's URL such as "
                                  f"http://10.0.0.11:8080, got {peer!r}",
                                  key=f"cluster.peers[{i}]")
        if self.console_token and len(self.console_token) < 16:
            raise ConfigError("expected a secret of at least 16 characters",
                              key="cluster.console_token")
        if self.proxy:
            _split(self.proxy, "cluster.proxy")
        if self.locations_url and not self.locations_url.startswith(
                ("postgresql://", "postgres://")):
            raise ConfigError(f"expected a postgresql:// URL, got {self.locations_url!r}",
                              key="cluster.locations_url")
        if self.locations_url and not self.proxy:
            raise ConfigError("needs cluster.proxy (the proxy whose registrations these are)",
                              key="cluster.locations_url")
        if self.leases_url and not self.leases_url.startswith(("postgresql://", "postgres://")):
            raise ConfigError(f"expected a postgresql:// URL, got {self.leases_url!r}",
                              key="cluster.leases_url")
        if self.leases_url and not self.proxy:
            raise ConfigError("needs cluster.proxy (calls are moved to a queue's owner through it)",
                              key="cluster.leases_url")
        if not isinstance(self.lease_ttl_s, int | float) or not 1 <= self.lease_ttl_s <= 120:
            raise ConfigError(f"expected 1..120 seconds, got {self.lease_ttl_s!r}",
                              key="cluster.lease_ttl_s")
        if not 100 <= self.locations_poll_ms <= 60_000:
            raise ConfigError(f"expected 100..60000, got {self.locations_poll_ms!r}",
                              key="cluster.locations_poll_ms")

    @property
    def enabled(self) -> bool:
        return bool(self.proxy)

    @property
    def owns_queues(self) -> bool:
        """Queues are shared with other engines through leases."""
        return bool(self.leases_url)

    @property
    def proxy_addr(self) -> tuple[str, int]:
        return _split(self.proxy, "cluster.proxy")
