"""``make install`` / ``make uninstall`` into a temporary root, and the unit
checked by ``systemd-analyze`` (issue 21: a deployment an administrator can run).

The venv step is pip's own (``SKIP_VENV=1`` here, it takes a minute and the
network): the test's prefix gets the project's venv linked in its place, so
the installed unit names a ``bailanys`` that exists and ``systemd-analyze
verify`` checks everything it can.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bailanys.cli import main
from bailanys.config import PROJECT_ROOT, load_config

MAKE = shutil.which("make")
ANALYZE = shutil.which("systemd-analyze")
needs_make = pytest.mark.skipif(MAKE is None, reason="no make")


def make(target: str, **variables: str) -> subprocess.CompletedProcess[str]:
    assert MAKE is not None
    args = [MAKE, "-s", "-C", str(PROJECT_ROOT), target, "SKIP_VENV=1", "SKIP_USER=1",
            *(f"{k}={v}" for k, v in variables.items())]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def layout(root: Path) -> dict[str, str]:
    return {"PREFIX": f"{root}/opt/bailanys", "CONFDIR": f"{root}/etc/bailanys",
            "STATEDIR": f"{root}/var/lib/bailanys", "LOGDIR": f"{root}/var/log/bailanys",
            "UNITDIR": f"{root}/etc/systemd/system", "LOGROTATEDIR": f"{root}/etc/logrotate.d"}


def relative_paths_of_the_defaults() -> dict[str, str]:
    """``section.key`` of every value of configs/default.toml that is a relative path."""
    config = load_config(PROJECT_ROOT / "configs" / "default.toml", env={})
    found = {}
    for section in dataclasses.fields(config):
        part = getattr(config, section.name)
        if not dataclasses.is_dataclass(part):
            continue
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            if isinstance(value, str) and value and not value.startswith("/") and (
                    value.startswith("var/") or (PROJECT_ROOT / value).exists()) and \
                    not (PROJECT_ROOT / value / "__init__.py").exists():  # "bailanys": a name
                found[f"{section.name}.{f.name}"] = value
    return found


@needs_make
def test_make_install_lays_out_a_service_and_uninstall_keeps_the_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dirs = layout(tmp_path)
    prefix, confdir = Path(dirs["PREFIX"]), Path(dirs["CONFDIR"])
    prefix.mkdir(parents=True)
    (prefix / "venv").symlink_to(PROJECT_ROOT / ".venv")  # what pip would have made
    out = make("install", **dirs).stdout
    assert "not started" in out

    unit = Path(dirs["UNITDIR"]) / "bailanys.service"
    text = unit.read_text()
    assert f"ExecStart={prefix}/venv/bin/bailanys serve --config {confdir}/bailanys.toml" in text
    for line in ("Restart=on-failure", "User=bailanys", "NoNewPrivileges=yes",
                 "AmbientCapabilities=CAP_NET_BIND_SERVICE", "ProtectSystem=strict",
                 f"ReadWritePaths={dirs['STATEDIR']} {dirs['LOGDIR']}",
                 f"WorkingDirectory={dirs['STATEDIR']}", "StateDirectory=bailanys",
                 "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                 f"EnvironmentFile=-{confdir}/bailanys.env"):
        assert line in text.splitlines(), line
    assert "/opt/bailanys" not in text.replace(str(prefix), "")
    rotate = (Path(dirs["LOGROTATEDIR"]) / "bailanys").read_text()
    assert f"{dirs['LOGDIR']}/*.log {{" in rotate

    # The installed config: every relative path of the defaults made absolute,
    # pointing at the copied site files; and it passes `bailanys config check`.
    installed = confdir / "bailanys.toml"
    config = load_config(installed, env={})
    relative = relative_paths_of_the_defaults()
    assert {"store.path", "ivr.flow_dir", "queue.file", "robot.faq"} <= relative.keys()
    for dotted in relative:
        section, key = dotted.split(".")
        value = getattr(getattr(config, section), key)
        assert value.startswith((dirs["CONFDIR"] + "/", dirs["STATEDIR"] + "/")), (dotted, value)
    for name in ("queues.toml", "ivr_flows/1414.yaml", "knowledge/faq.yaml", "topics.yaml",
                 "scorecards/default.yaml", "calendar/kz-2026.toml", "bailanys.env"):
        assert (confdir / name).is_file(), name
    assert oct(installed.stat().st_mode & 0o777) == "0o640"
    assert main(["config", "check", "--config", str(installed)]) == 0
    assert capsys.readouterr().out.strip().endswith("ok")

    if ANALYZE is not None:
        verify = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True,
                                timeout=30)
        assert (verify.returncode, verify.stderr) == (0, ""), verify.stderr

    # A second install keeps the administrator's config and site files.
    installed.write_text(installed.read_text() + "\n# edited by the site\n")
    (confdir / "queues.toml").write_text("# the site's queues\n")
    (Path(dirs["STATEDIR"]) / "bailanys.db").write_bytes(b"data")
    out = make("install", **dirs).stdout
    assert f"kept {installed}" in out
    assert installed.read_text().endswith("# edited by the site\n")
    assert (confdir / "queues.toml").read_text() == "# the site's queues\n"

    out = make("uninstall", **dirs).stdout
    assert not unit.exists() and not (Path(dirs["LOGROTATEDIR"]) / "bailanys").exists()
    assert not prefix.exists() and (PROJECT_ROOT / ".venv" / "bin" / "python").exists()
    assert installed.is_file() and (Path(dirs["STATEDIR"]) / "bailanys.db").read_bytes() == b"data"
    assert "kept the config" in out


@needs_make
def test_destdir_stages_the_files_for_the_real_paths(tmp_path: Path) -> None:
    make("install", DESTDIR=str(tmp_path))
    unit = (tmp_path / "etc/systemd/system/bailanys.service").read_text()
    assert "ExecStart=/opt/bailanys/venv/bin/bailanys serve --config " \
           "/etc/bailanys/bailanys.toml" in unit
    config = (tmp_path / "etc/bailanys/bailanys.toml").read_text()
    assert 'path = "/var/lib/bailanys/bailanys.db"' in config
    assert 'flow_dir = "/etc/bailanys/ivr_flows"' in config
    assert str(tmp_path) not in config + unit
    assert (tmp_path / "opt/bailanys/README.md").is_file()


@pytest.mark.skipif(ANALYZE is None, reason="no systemd-analyze (Debian's systemd package)")
def test_the_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    """deploy/bailanys.service as shipped: ``verify`` finds nothing (its
    ExecStart pointed at this checkout's ``bailanys``, since /opt/bailanys is
    not installed here) and ``security`` rates its exposure low."""
    assert ANALYZE is not None
    text = (PROJECT_ROOT / "deploy" / "bailanys.service").read_text()
    here = PROJECT_ROOT / ".venv" / "bin" / "bailanys"
    unit = tmp_path / "bailanys.service"
    unit.write_text(text.replace("/opt/bailanys/venv/bin/bailanys", str(here)))
    verify = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True,
                            timeout=30)
    assert (verify.returncode, verify.stderr) == (0, ""), verify.stderr
    # A typo is caught: systemd ignores an unknown key with a warning only.
    unit.write_text(unit.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    typo = subprocess.run([ANALYZE, "verify", str(unit)], capture_output=True, text=True,
                          timeout=30)
    assert "Unknown key 'NoNewPrivilege'" in typo.stderr
    unit.write_text(text.replace("/opt/bailanys/venv/bin/bailanys", str(here)))
    security = subprocess.run([ANALYZE, "security", "--offline=yes", str(unit)],
                              capture_output=True, text=True, timeout=30,
                              env={**os.environ, "SYSTEMD_COLORS": "0"})
    level = re.search(r"Overall exposure level for bailanys\.service: (\d+\.\d+)",
                      security.stdout + security.stderr)
    assert level is not None, security.stdout + security.stderr
    assert float(level.group(1)) <= 2.0, security.stdout


def test_the_engine_s_own_flows_ship_in_the_wheel() -> None:
    """The survey and the line test are read from the checkout or, installed,
    from ``<venv>/share/bailanys/ivr_flows`` (pyproject.toml's data-files)."""
    import tomllib

    from bailanys.engine.flowfiles import LINE_TEST_FLOW, SURVEY_FLOW

    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    shipped = project["tool"]["setuptools"]["data-files"]["share/bailanys/ivr_flows"]
    assert sorted(shipped) == sorted(f"ivr_flows/{p.name}" for p in (SURVEY_FLOW, LINE_TEST_FLOW))
    assert all((PROJECT_ROOT / name).is_file() for name in shipped)
