"""``[log] file`` (issue 21, log rotation): the engine's log goes to the file,
and after logrotate moves it away (deploy/logrotate.conf: no copytruncate,
no signal) the next line lands in a new file at the same path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bailanys.cli import main
from bailanys.config import PROJECT_ROOT

ROTATE = r"""
import logging, os, sys
from bailanys.cliutil import configure_logging
from bailanys.config import load_config
configure_logging(load_config(sys.argv[1], env={}))
log = logging.getLogger("bailanys.test")
log.info("before the rotation")
os.rename(sys.argv[2], sys.argv[2] + ".1")    # what logrotate does, then `create`
log.warning("after the rotation")
print("done")
"""


def test_the_log_file_is_reopened_after_logrotate_moved_it(tmp_path: Path) -> None:
    log_file = tmp_path / "bailanys.log"
    config = tmp_path / "bailanys.toml"
    config.write_text(f'[log]\nlevel = "INFO"\nfile = "{log_file}"\n')
    done = subprocess.run([sys.executable, "-c", ROTATE, str(config), str(log_file)],
                          capture_output=True, text=True, timeout=30, cwd=PROJECT_ROOT)
    assert done.returncode == 0 and done.stdout == "done\n", done.stderr
    assert done.stderr == ""  # the file, not stderr
    rotated = Path(f"{log_file}.1").read_text()
    assert "INFO bailanys.test: before the rotation" in rotated
    assert "after" not in rotated
    assert "WARNING bailanys.test: after the rotation" in log_file.read_text()


def test_a_log_file_that_cannot_be_opened_is_a_config_error(
        tmp_path: Path, capsys: object) -> None:
    config = tmp_path / "bailanys.toml"
    config.write_text(f'[log]\nfile = "{tmp_path}/no/such/dir/bailanys.log"\n'
                      '[queue]\nfile = ""\n')
    assert main(["serve", "--config", str(config)]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert f"bailanys: {config}: log.file: cannot open {tmp_path}/no/such/dir/bailanys.log: " \
           "No such file or directory" in err


def test_logrotate_s_file_names_the_log_directory_and_the_user() -> None:
    text = (PROJECT_ROOT / "deploy" / "logrotate.conf").read_text()
    assert "/var/log/bailanys/*.log {" in text
    directives = [line.strip() for line in text.splitlines() if not line.startswith("#")]
    assert "create 0640 bailanys bailanys" in directives
    assert "copytruncate" not in directives  # the handler reopens the moved file
