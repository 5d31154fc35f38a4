"""``[transfers]`` settings: every mistake is one ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.config import load_config
from bailanys.errors import ConfigError
from bailanys.transfers.settings import TransfersConfig

GOOD = {"targets": {"a": "queue:q"}, "kk": {"a": "А"}, "ru": {"a": "А"}}


@pytest.mark.parametrize("change, key, words", [
    ({"targets": {"a": "queue:"}}, "transfers.targets.a", "no name"),
    ({"targets": {"a": "2000"}}, "transfers.targets.a", "sip: URI"),
    ({"targets": {"a": "tel:+7701"}}, "transfers.targets.a", "sip: URI"),
    ({"targets": {"a b": "queue:q"}}, "transfers.targets.a b", "letters"),
    ({"kk": {}}, "transfers.kk.a", "no kk label"),
    ({"ru": {"a": "  "}}, "transfers.ru.a", "no ru label"),
    ({"ru": {"a": "А", "b": "Б"}}, "transfers.ru.b", "not in transfers.targets"),
])
def test_refused(change: dict[str, dict[str, str]], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as exc:
        TransfersConfig(**{**GOOD, **change})
    assert exc.value.key == key and words in str(exc.value)


def test_none_by_default_and_loaded_from_toml(tmp_path: Path) -> None:
    assert dict(TransfersConfig().targets) == {}
    f = tmp_path / "c.toml"
    f.write_text('[transfers.targets]\nx = "sip:1@h"\n[transfers.kk]\nx = "Х"\n'
                 '[transfers.ru]\nx = "Х"\n', encoding="utf-8")
    assert dict(load_config(f, env={}).transfers.targets) == {"x": "sip:1@h"}
    f.write_text('[transfers.targets]\nx = "sip:1@h"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"transfers\.kk\.x.*no kk label"):
        load_config(f, env={})


def test_environment_override() -> None:
    cfg = load_config(None, env={"BAILANYS_TRANSFERS_TARGETS": "x=queue:q",
                                 "BAILANYS_TRANSFERS_KK": "x=Х", "BAILANYS_TRANSFERS_RU": "x=Х"})
    assert cfg.transfers.targets["x"] == "queue:q"
