"""The ``[auth]`` section: defaults, file and environment, every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys import authguard
from bailanys.config import AuthConfig, load_config
from tests.test_config import error, write


def test_defaults_are_the_guards() -> None:
    assert AuthConfig().limits == authguard.Limits()


def test_file_and_environment(tmp_path: Path) -> None:
    path = write(tmp_path, "[auth]\nsource_failures = 3\nban_s = 30\n")
    cfg = load_config(path, env={"BAILANYS_AUTH_MAX_BAN_S": "300"})
    assert (cfg.auth.source_failures, cfg.auth.ban_s, cfg.auth.max_ban_s) == (3, 30, 300)
    assert cfg.auth.limits.ban_length(10) == 300


@pytest.mark.parametrize(("text", "message"), [
    ("source_failures = 0", "auth.source_failures: expected an integer between 1 and 1000"),
    ("account_failures = -1", "auth.account_failures: expected an integer between 1"),
    ("window_s = 0", "auth.window_s"),
    ("ban_s = 600\nmax_ban_s = 60", "auth.max_ban_s: expected an integer between 600"),
    ("trust_s = 0", "auth.trust_s"),
    ("max_entries = 5", "auth.max_entries: expected an integer between 100"),
    ("ban_s = \"1m\"", "auth.ban_s: expected an integer"),
    ("bans = 3", "unknown key"),
])
def test_bad_values_are_named(tmp_path: Path, text: str, message: str) -> None:
    assert message in error(tmp_path, f"[auth]\n{text}\n")
