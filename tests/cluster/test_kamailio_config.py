"""``bailanys cluster kamailio-config`` (issue 22): the description, the
generated configuration, Kamailio's own syntax check of it, and the
engine's ``[cluster]`` side (the proxy's phones read from PostgreSQL).

The real cluster runs in tests/peers/test_cluster.py.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from bailanys.cli import main
from bailanys.cluster.kamailio import kamailio_db_url, render
from bailanys.cluster.locations import ProxyPhones
from bailanys.cluster.phones import ha1, ha1b
from bailanys.cluster.proxy import ClusterConfig
from bailanys.cluster.settings import Cluster, parse
from bailanys.config import PROJECT_ROOT, load_config
from bailanys.engine.floodguard import FloodGuard
from bailanys.errors import ConfigError

KAMAILIO = shutil.which("kamailio") or (
    "/usr/sbin/kamailio" if Path("/usr/sbin/kamailio").is_file() else None)
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
KAMAILIO_SQL = Path("/usr/share/kamailio/postgres")
EXAMPLE = PROJECT_ROOT / "configs" / "cluster.example.toml"

TWO = {"listen": "10.0.0.1:5060", "engines": ["10.0.0.11:5060", "10.0.0.12:5070"],
       "db_url": "postgresql://kamailio:secret@10.0.0.2:5432/bailanys"}


def test_the_configuration_routes_as_documented() -> None:
    cluster = parse({"kamailio": {**TWO, "health_check_s": 3, "engine_timeout_ms": 800,
                                  "phones_from": ["10.0.1.0/24"]}})
    files = render(cluster, "/etc/kamailio/dispatcher.list")
    cfg = files.cfg
    assert files.dispatcher_list.splitlines()[1:] == [
        "1 sip:10.0.0.11:5060 0 0 duid=engine1", "1 sip:10.0.0.12:5070 0 0 duid=engine2"]
    for line in ('modparam("dispatcher", "ds_ping_interval", 3)',
                 'modparam("dispatcher", "ds_probing_mode", 1)',
                 'modparam("dispatcher", "ds_ping_reply_codes", "class=2")',
                 'modparam("dispatcher", "list_file", "/etc/kamailio/dispatcher.list")',
                 'modparam("tm", "fr_timer", 800)',
                 'modparam("usrloc", "db_url", '
                 '"postgres://kamailio:secret@10.0.0.2:5432/bailanys")',
                 'modparam("usrloc", "db_mode", 1)',
                 "listen=udp:10.0.0.1:5060", "listen=tcp:10.0.0.1:5060",
                 'if (!ds_select_dst("1", "4"))', 'ds_mark_dst("ip");', "if (ds_next_dst())",
                 't_check_status("408|5[0-9][0-9]")', 'if (!lookup("location"))',
                 'if (!save("location"))', "record_route();", "if (!(src_ip == 10.0.1.0/24))",
                 'loadmodule "auth_db.so"', 'if (!auth_check("10.0.0.1", "subscriber", "1"))',
                 'auth_challenge("10.0.0.1", "1");', 'modparam("auth_db", "calculate_ha1", 0)'):
        assert line in cfg, line
    # Registration by network only, and another realm.
    assert "auth_check" not in render(parse({"kamailio": {**TWO, "auth": False}}), "x").cfg
    assert 'auth_check("callcentre.kz"' in render(
        parse({"kamailio": {**TWO, "realm": "callcentre.kz"}}), "x").cfg


@pytest.mark.skipif(KAMAILIO is None, reason="kamailio is not installed")
def test_kamailio_accepts_the_generated_configuration(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "kamailio-config", str(EXAMPLE), "--out", str(tmp_path),
                 "--check"]) == 0
    out = capsys.readouterr().out
    assert "2 engine(s) behind 10.0.0.1:5060" in out and "config file ok" in out
    # And Kamailio itself, run directly as an operator would.
    assert KAMAILIO is not None
    done = subprocess.run([KAMAILIO, "-c", "-f", str(tmp_path / "kamailio.cfg"), "-L", MODULES],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "dispatcher.list").read_text().count("sip:10.0.0.1") == 2


@pytest.mark.skipif(KAMAILIO is None, reason="kamailio is not installed")
def test_a_broken_generated_file_is_refused_by_the_check(tmp_path: Path) -> None:
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(render(Cluster(**{**TWO, "engines": tuple(TWO["engines"])}), "x").cfg
                   .replace("route[RELAY] {", "route[RELAY] {{"))
    from bailanys.cliutil import CommandError
    from bailanys.cluster.commands import check
    with pytest.raises(CommandError, match="kamailio refuses it"):
        check(cfg)


@pytest.mark.parametrize(("change", "message"), [
    ({"listen": "kamailio:5060"}, "kamailio.listen: expected an IP address"),
    ({"engines": []}, "kamailio.engines: expected at least one engine"),
    ({"engines": ["10.0.0.11"]}, "kamailio.engines[0]: expected host:port"),
    ({"engines": ["10.0.0.11:5060", "10.0.0.11:5060"]}, "listed twice"),
    ({"db_url": "mysql://x/y"}, "kamailio.db_url: expected a postgresql:// URL"),
    ({"health_check_s": 0}, "kamailio.health_check_s: expected 1..3600, got 0"),
    ({"health_check_s": True}, "kamailio.health_check_s: expected an integer"),
    ({"phones_from": ["10.0.1.0/33"]}, "kamailio.phones_from[0]: expected a network"),
    ({"engine_timout_ms": 5}, "kamailio.engine_timout_ms: unknown key"),
    ({"realm": 'a" b'}, "kamailio.realm: expected a realm without quotes"),
    ({"auth": "yes"}, "kamailio.auth: expected true or false"),
])
def test_a_bad_description_is_one_clear_line(change: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        parse({"kamailio": {**TWO, **change}}, "cluster.toml")
    assert str(caught.value).startswith("cluster.toml: ")
    assert message in str(caught.value)


def test_missing_keys_and_files_are_reported(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="kamailio.db_url: missing"):
        parse({"kamailio": {"listen": "10.0.0.1:5060", "engines": ["10.0.0.11:5060"]}})
    with pytest.raises(ConfigError, match=r"unknown section \[engines\]"):
        parse({"engines": {}})
    bad = tmp_path / "c.toml"
    bad.write_text("[kamailio\n")
    assert main(["cluster", "kamailio-config", str(bad), "--out", str(tmp_path)]) == 2
    assert "TOML syntax error" in capsys.readouterr().err
    assert main(["cluster", "kamailio-config", str(tmp_path / "none.toml"),
                 "--out", str(tmp_path)]) == 2


def test_kamailio_db_url_drops_libpq_options() -> None:
    assert kamailio_db_url("postgresql://u:p@h:5433/db?sslmode=require") == \
        "postgres://u:p@h:5433/db"


def test_engine_cluster_section(tmp_path: Path) -> None:
    conf = tmp_path / "b.toml"
    conf.write_text('[cluster]\nproxy = "10.0.0.1:5060"\n'
                    'locations_url = "postgresql://k@10.0.0.2/b"\n')
    assert load_config(conf).cluster.proxy_addr == ("10.0.0.1", 5060)
    for text, message in (('proxy = "kam:5060"', "cluster.proxy: expected an IP address"),
                          ('proxy = "10.0.0.1"', "cluster.proxy: expected host:port"),
                          ('locations_url = "postgresql://x/y"', "needs cluster.proxy"),
                          ('locations_poll_ms = 5', "cluster.locations_poll_ms")):
        conf.write_text(f"[cluster]\n{text}\n")
        with pytest.raises(ConfigError, match=message):
            load_config(conf)
    assert not load_config(None, env={}).cluster.enabled  # standalone by default


def test_the_proxy_is_trusted_past_the_flood_guard() -> None:
    guard = FloodGuard(2, trusted=frozenset({"10.0.0.1"}))
    assert all(guard.allow("10.0.0.1", 0.0) for _ in range(100))
    assert [guard.allow("10.0.0.9", 0.0) for _ in range(3)] == [True, True, False]


async def test_without_locations_every_agent_is_rung_through_the_proxy() -> None:
    phones = ProxyPhones(ClusterConfig(proxy="10.0.0.1:5060"))
    await phones.start()
    (b,) = phones.lookup("1001", 0.0)
    assert (b.contact, b.source, b.transport) == ("sip:1001@10.0.0.1:5060", ("10.0.0.1", 5060),
                                                  "UDP")
    await phones.stop()


def kamailio_tables(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as db:
        for name in ("standard-create.sql", "usrloc-create.sql", "auth_db-create.sql"):
            db.execute((KAMAILIO_SQL / name).read_text())  # type: ignore[arg-type]


def test_phone_accounts_are_the_engines_registrar_users(
        pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kamailio_tables(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("INSERT INTO subscriber (username, domain, ha1) VALUES "
                   "('1009', '10.0.0.1', 'x'), ('1009', 'other.kz', 'y')")
    desc = tmp_path / "cluster.toml"
    desc.write_text(f'[kamailio]\nlisten = "10.0.0.1:5060"\nengines = ["10.0.0.11:5060"]\n'
                    f'db_url = "{pg_url}"\n')
    conf = tmp_path / "bailanys.toml"
    conf.write_text('[registrar.users]\n1001 = "pw1001"\n1002 = "pw1002"\n')
    assert main(["cluster", "phones", str(desc), "--config", str(conf)]) == 0
    assert "2 phone account(s) for realm 10.0.0.1, 1 removed" in capsys.readouterr().out
    with psycopg.connect(pg_url) as db:
        rows = db.execute("SELECT username, domain, password, ha1, ha1b FROM subscriber "
                          "ORDER BY domain, username").fetchall()
    # RFC 2617 §3.2.2.2 HA1; no password kept; another realm's row untouched.
    assert rows == [
        ("1001", "10.0.0.1", "", ha1("1001", "10.0.0.1", "pw1001"),
         ha1b("1001", "10.0.0.1", "pw1001")),
        ("1002", "10.0.0.1", "", ha1("1002", "10.0.0.1", "pw1002"),
         ha1b("1002", "10.0.0.1", "pw1002")),
        ("1009", "other.kz", "", "y", ""),
    ]
    assert ha1("1001", "10.0.0.1", "pw1001") == \
        hashlib.md5(b"1001:10.0.0.1:pw1001").hexdigest()
    # No subscriber table (a fresh database): one line, exit 1.
    desc.write_text(desc.read_text().replace(pg_url, pg_url.rsplit("/", 1)[0] + "/postgres"))
    assert main(["cluster", "phones", str(desc), "--config", str(conf)]) == 1
    assert "cannot write subscriber" in capsys.readouterr().err


async def test_the_proxys_phones_come_from_its_location_table(pg_url: str) -> None:
    kamailio_tables(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as db:
        db.execute("INSERT INTO location (ruid, username, contact) VALUES "
                   "('r1', '1001', 'sip:1001@10.0.1.5:5062')")
    changes: list[tuple[str, str, bool]] = []
    phones = ProxyPhones(ClusterConfig(proxy="10.0.0.1:5060", locations_url=pg_url),
                         lambda *c: changes.append(c))
    await phones.start()
    try:
        assert changes == []  # the first read is silent: the queues ask when they start
        assert phones.lookup("1001", 0.0)[0].contact == "sip:1001@10.0.0.1:5060"
        assert phones.lookup("1002", 0.0) == []
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute("INSERT INTO location (ruid, username, contact) VALUES "
                       "('r2', '1002', 'sip:1002@10.0.1.6:5062')")
            db.execute("DELETE FROM location WHERE username = '1001'")
        await phones.poll()
        assert changes == [("1001", "sip:1001@10.0.1.5:5062", False),
                           ("1002", "sip:1002@10.0.1.6:5062", True)]
        assert phones.lookup("1001", 0.0) == [] and phones.lookup("1002", 0.0)
    finally:
        await phones.stop()


async def test_an_unreachable_database_keeps_the_last_known_phones(
        caplog: pytest.LogCaptureFixture) -> None:
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    phones = ProxyPhones(ClusterConfig(proxy="10.0.0.1:5060",
                                       locations_url=f"postgresql://k@127.0.0.1:{port}/b"))
    phones.phones = {"1001": "sip:1001@10.0.1.5"}
    await phones.start()  # no exception: the engine starts, and reads again later
    try:
        await phones.poll()
        assert phones.lookup("1001", 0.0)
        warnings = [r for r in caplog.records if "cannot read" in r.getMessage()]
        assert len(warnings) == 1  # once per outage, not once a second
    finally:
        await phones.stop()
