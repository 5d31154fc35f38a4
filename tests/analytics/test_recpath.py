"""``[analytics] recordings_map``: the engine's recording paths on a worker's mount (issue 22)."""

from __future__ import annotations

import pytest

from bailanys.analytics.recpath import local_path, parse_map
from bailanys.analytics.settings import AnalyticsConfig
from bailanys.errors import ConfigError


def test_the_longest_prefix_that_ends_at_a_component_wins() -> None:
    m = parse_map("/var/rec=/mnt/rec; /var/rec/old=/mnt/archive/ ;")
    assert local_path("/var/rec/2026/a.wav", m) == "/mnt/rec/2026/a.wav"
    assert local_path("/var/rec/old/a.wav", m) == "/mnt/archive/a.wav"
    assert local_path("/var/record/a.wav", m) == "/var/record/a.wav"  # not under /var/rec
    assert local_path("rel/a.wav", m) == "rel/a.wav"
    assert local_path("/var/rec/a.wav", ()) == "/var/rec/a.wav"


@pytest.mark.parametrize("bad", ["/var/rec", "/var/rec=", "var/rec=/mnt", "=/mnt"])
def test_a_bad_map_is_a_config_error_naming_the_key(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_map(bad)
    with pytest.raises(ConfigError, match="recordings_map"):
        AnalyticsConfig(recordings_map=bad)
