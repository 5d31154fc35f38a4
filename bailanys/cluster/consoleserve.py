"""``bailanys cluster console``: serve the one console of every engine (issue 22).

Reads the engine config it is given: ``[console]`` (users, host, port, TLS),
``[queue] file`` (the board's queue names and thresholds, when set),
``[store] url`` (the shared store the KPIs are folded from), ``[cluster]
peers`` and ``console_token`` (the engines' ``/cluster/state``). Runs the
usual console server (:class:`~bailanys.console.server.ConsoleServer`) over
:class:`~bailanys.cluster.overview.ClusterConsole` until SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from bailanys.cluster.overview import ClusterConsole
from bailanys.config import Config
from bailanys.console.auth import ConsoleUser
from bailanys.console.server import ConsoleServer
from bailanys.errors import ConfigError
from bailanys.metrics.fold import KpiConfig
from bailanys.queue.settings import load_queue_config
from bailanys.store.backend import open_database
from bailanys.store.events import EventLog
from bailanys.web.tls import TlsFiles

log = logging.getLogger(__name__)


def check(config: Config) -> None:
    """What the cluster console needs of the config, or a ConfigError naming it."""
    if not config.cluster.peers:
        raise ConfigError("expected the engines' console URLs for the cluster console",
                          key="cluster.peers")
    if not config.cluster.console_token:
        raise ConfigError("expected the engines' shared token", key="cluster.console_token")
    if not config.console.users:
        raise ConfigError("expected at least one console user", key="console.users")


async def serve(config: Config, host: str, port: int,
                stopped: asyncio.Event | None = None) -> None:
    """Serve on ``host:port`` until ``stopped`` is set (or SIGTERM/SIGINT)."""
    check(config)
    cfg = config.console
    stop = stopped or asyncio.Event()
    if stopped is None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    queues = (await asyncio.to_thread(load_queue_config, Path(config.queue.file))
              if config.queue.file else None)
    db = await open_database(config.store.url or config.store.path, readonly=True)
    overview = ClusterConsole(
        config.cluster.peers, config.cluster.console_token, EventLog(db),
        kpi=KpiConfig(service_level_s=float(cfg.service_level_s),
                      wait_of_all=cfg.kpi_wait_of_all, fcr_per_call=cfg.kpi_fcr_per_call),
        queues=queues)
    users = {login: ConsoleUser(login, value.partition(":")[0],  # type: ignore[arg-type]
                                value.partition(":")[2])
             for login, value in cfg.users.items()}
    tls = TlsFiles(cfg.tls_cert, cfg.tls_key, config.source or "<defaults>") if cfg.tls else None
    server = ConsoleServer(host, port, users, overview, session_ttl=float(cfg.session_ttl_s),
                           tls=tls)
    try:
        await overview.start()
        await server.start()
        print(f"cluster console on {'https' if tls else 'http'}://{host}:{server.port}/ "
              f"({len(config.cluster.peers)} engines)", flush=True)
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await server.stop()
        await overview.stop()
        await db.close()
