"""A throw-away PostgreSQL cluster for tests: Debian's server, started in a temp dir.

Issue 22's tests run the store on a real PostgreSQL: the ``postgresql``
Debian package (``scripts/ensure-deps.sh`` installs it; its own ``main``
cluster is never used or started here). :func:`start` runs ``initdb`` into a
fresh directory and ``pg_ctl start`` on a free loopback port with the
Unix socket in the same directory, so tests never touch a system cluster
and several test sessions (or helpers) can run side by side.

PostgreSQL refuses to run as root; when the tests run as root (CI, a fresh
Debian machine) the cluster runs as the ``postgres`` user the package
creates, through ``runuser``, in a directory that user owns.

Use it through the ``pg_cluster``/``pg_url`` fixtures (``tests/conftest.py``):
one cluster per test session, a fresh database per test (``pg_url``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def bin_dir() -> Path | None:
    """The newest installed server's bin directory, or None when there is none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: superuser ``bailanys`` (trust auth on loopback only)."""

    root: Path
    port: int
    bin: Path
    as_user: str | None

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://bailanys@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = list(argv)
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        """Run SQL through Debian's psql; returns its unaligned output."""
        out = self._run(
            str(self.bin / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.port), "-U", "bailanys", "-d", dbname, "-c", sql,
        )
        return out.stdout.strip()

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; returns its URL."""
        name = name or "t_" + uuid.uuid4().hex[:12]
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w", "stop",
                  check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start() -> Cluster:
    """initdb + pg_ctl start in a new temp dir; raises RuntimeError when it cannot."""
    bins = bin_dir()
    if bins is None:
        raise RuntimeError("PostgreSQL server is not installed (Debian package postgresql)")
    as_user: str | None = None
    root = Path(tempfile.mkdtemp(prefix="bailanys-pg-"))
    if os.geteuid() == 0:
        as_user = "postgres"
        try:
            entry = pwd.getpwnam(as_user)
        except KeyError as exc:
            raise RuntimeError("running as root and there is no postgres user") from exc
        os.chown(root, entry.pw_uid, entry.pw_gid)
        root.chmod(0o700)
    port = _free_port()
    cluster = Cluster(root=root, port=port, bin=bins, as_user=as_user)
    data = root / "data"
    cluster._run(
        str(bins / "initdb"), "-D", str(data), "-U", "bailanys", "-A", "trust",
        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
    )
    conf = "\n".join((
        "listen_addresses = '127.0.0.1'",
        f"port = {port}",
        f"unix_socket_directories = '{root}'",
        "fsync = off",  # a test cluster: speed over durability
        "synchronous_commit = off",
        "full_page_writes = off",
        "max_connections = 200",
        "shared_buffers = 64MB",
        "",
    ))
    with open(data / "postgresql.auto.conf", "a", encoding="utf-8") as f:
        f.write(conf)
    try:
        cluster._run(str(bins / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                     "-w", "-t", "30", "start")
    except subprocess.CalledProcessError as exc:
        log = (root / "log").read_text(errors="replace") if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {exc.stderr}\n{log}") from exc
    return cluster


@contextlib.contextmanager
def running() -> Iterator[Cluster]:
    cluster = start()
    try:
        yield cluster
    finally:
        cluster.stop()
