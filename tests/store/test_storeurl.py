"""``[store] url``: the accepted forms and the messages for bad ones."""

from __future__ import annotations

import pytest

from bailanys.config import StoreConfig
from bailanys.errors import ConfigError
from bailanys.storeurl import StoreUrl, parse_store_url, redact


@pytest.mark.parametrize(("text", "expected"), [
    ("var/bailanys.db", StoreUrl("sqlite", "var/bailanys.db")),
    (":memory:", StoreUrl("sqlite", ":memory:")),
    ("sqlite:///var/b.db", StoreUrl("sqlite", "var/b.db")),
    ("sqlite:////srv/b.db", StoreUrl("sqlite", "/srv/b.db")),
    ("sqlite:var/b.db", StoreUrl("sqlite", "var/b.db")),
    ("postgresql://b@127.0.0.1:5432/bailanys",
     StoreUrl("postgresql", "postgresql://b@127.0.0.1:5432/bailanys")),
    ("postgres://b:pw@db/x?sslmode=require",
     StoreUrl("postgresql", "postgres://b:pw@db/x?sslmode=require")),
])
def test_accepted_forms(text: str, expected: StoreUrl) -> None:
    assert parse_store_url(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "got ''"),
    ("mysql://x/y", "unknown store URL scheme 'mysql'"),
    ("sqlite://host/x.db", "has a host part"),
    ("sqlite:", "without a file path"),
    ("postgresql://u:secret@h:99999/db", "bad PostgreSQL URL"),
    ("postgresql://u@h:5432", "names no database"),
])
def test_bad_urls_are_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_store_url(text)
    assert "secret" not in str(info.value)


def test_password_masked_for_display() -> None:
    assert redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    assert parse_store_url("postgresql://u:secret@h/db").display == "postgresql://u:***@h/db"


def test_config_url_sets_the_sqlite_path_and_names_the_key() -> None:
    assert StoreConfig().location == StoreUrl("sqlite", "var/bailanys.db")  # default unchanged
    assert StoreConfig(url="sqlite:///tmp/x.db").path == "tmp/x.db"
    pg = StoreConfig(url="postgresql://u@h/db")
    assert pg.location.backend == "postgresql" and pg.path == "var/bailanys.db"
    with pytest.raises(ConfigError, match=r"store\.url: unknown store URL scheme"):
        StoreConfig(url="redis://x")
