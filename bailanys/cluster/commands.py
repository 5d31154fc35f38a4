"""``bailanys cluster kamailio-config`` and ``bailanys cluster phones`` (issue 22).

``phones DESCRIPTION --config ENGINE.toml`` writes the engine's
``[registrar.users]`` into Kamailio's ``subscriber`` table for the
cluster's realm (:mod:`bailanys.cluster.phones`); exit 1 when the database
cannot be written.

``kamailio-config DESCRIPTION --out DIR`` reads the cluster's description
(:mod:`bailanys.cluster.settings`), writes
``DIR/kamailio.cfg`` and ``DIR/dispatcher.list``
(:mod:`bailanys.cluster.kamailio`) and, with ``--check``, runs ``kamailio
-c`` on the result. Exit 0 when written (and checked), 2 for a bad
description, 1 when Kamailio refuses the configuration.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

from bailanys.cliutil import (
    EXIT_CONFIG,
    EXIT_OK,
    CommandError,
    add_config_option,
    load_config_or_exit,
)
from bailanys.cluster import phones as phone_accounts
from bailanys.cluster import settings
from bailanys.cluster.kamailio import render
from bailanys.errors import ConfigError

#: Debian's place for Kamailio's modules.
MODULES_DIR = "/usr/lib/x86_64-linux-gnu/kamailio/modules"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cluster = subparsers.add_parser("cluster", help="several engines behind Kamailio")
    sub = cluster.add_subparsers(dest="cluster_command", metavar="ACTION", required=True)
    gen = sub.add_parser("kamailio-config",
                         help="write kamailio.cfg and dispatcher.list from a cluster description")
    gen.add_argument("description", type=Path, help="the cluster's TOML description")
    gen.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="directory the two files are written to")
    gen.add_argument("--list-path", default=None, metavar="PATH",
                     help="where dispatcher.list will be on Kamailio's machine "
                          "(default: DIR/dispatcher.list)")
    gen.add_argument("--check", action="store_true",
                     help="then run `kamailio -c` on the written configuration")
    gen.set_defaults(func=cmd_kamailio_config)
    phones = sub.add_parser("phones",
                            help="write the engine's [registrar.users] into Kamailio's "
                                 "subscriber table (digest for REGISTER)")
    phones.add_argument("description", type=Path, help="the cluster's TOML description")
    add_config_option(phones)
    phones.set_defaults(func=cmd_phones)
    console = sub.add_parser("console",
                             help="serve one console of every engine ([cluster] peers; "
                                  "KPIs from the shared store)")
    add_config_option(console)
    console.add_argument("--listen", default=None, metavar="HOST:PORT",
                         help="where to serve it (default: [console] host and port)")
    console.set_defaults(func=cmd_console)


def cmd_kamailio_config(args: argparse.Namespace) -> int:
    try:
        cluster = settings.load(args.description)
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_CONFIG) from None
    out: Path = args.out
    list_path = args.list_path or str((out / "dispatcher.list").resolve())
    files = render(cluster, list_path, source=str(args.description))
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / "kamailio.cfg").write_text(files.cfg)
        (out / "dispatcher.list").write_text(files.dispatcher_list)
    except OSError as exc:
        raise CommandError(f"{out}: cannot write: {exc.strerror}") from None
    print(f"{out / 'kamailio.cfg'}: {len(cluster.engines)} engine(s) behind {cluster.listen}")
    print(f"{out / 'dispatcher.list'}")
    if args.check:
        check(out / "kamailio.cfg")
    return EXIT_OK


def check(cfg: Path) -> None:
    """``kamailio -c -f cfg``; CommandError with its last lines when it refuses."""
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    if not Path(binary).is_file():
        raise CommandError("kamailio is not installed: cannot --check")
    argv = [binary, "-c", "-f", str(cfg)]
    if Path(MODULES_DIR).is_dir():
        argv += ["-L", MODULES_DIR]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise CommandError(f"{cfg}: kamailio refuses it:\n{tail}")
    print(f"{cfg}: kamailio -c: config file ok")


def cmd_phones(args: argparse.Namespace) -> int:
    try:
        cluster = settings.load(args.description)
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_CONFIG) from None
    config = load_config_or_exit(args)
    users = dict(config.registrar.users)
    try:
        written, removed = phone_accounts.sync(cluster.db_url, cluster.digest_realm, users)
    except Exception as exc:  # psycopg.Error: no database, no subscriber table
        raise CommandError(f"{cluster.db_url.split('@')[-1]}: cannot write subscriber: "
                           f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
                           ) from None
    print(f"subscriber: {written} phone account(s) for realm {cluster.digest_realm}, "
          f"{removed} removed")
    return EXIT_OK


def cmd_console(args: argparse.Namespace) -> int:
    """Serve the cluster console until SIGTERM or Ctrl-C (exit 2: a bad config)."""
    import asyncio

    from bailanys.cluster import consoleserve
    from bailanys.config import split_host_port

    config = load_config_or_exit(args)
    try:
        consoleserve.check(config)
        host, port = (split_host_port(args.listen, "--listen") if args.listen
                      else (config.console.host, config.console.port))
        asyncio.run(consoleserve.serve(config, host, port))
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_CONFIG) from None
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise CommandError(str(exc)) from None
    return EXIT_OK
