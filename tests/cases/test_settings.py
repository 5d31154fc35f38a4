"""The IIN salt: created once, private, reused; a short one is refused."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bailanys.cases.settings import SALT_BYTES, load_or_create_salt
from bailanys.errors import ConfigError


def test_the_salt_is_made_once_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "cases.salt"
    salt = load_or_create_salt(path)
    assert len(salt) == SALT_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_salt(path) == salt
    assert load_or_create_salt(tmp_path / "other.salt") != salt


def test_a_short_salt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cases.salt"
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="at least 16"):
        load_or_create_salt(path)
