"""SDP under a mutation fuzzer: only SdpError ever escapes (issue 13, defect 2).

A few thousand inputs with a fixed seed (repeatable in CI); ``make fuzz``
runs the same targets for minutes.  The fuzzer's mutations are described in
``tests/fuzzing.py``.
"""

from __future__ import annotations

from bailanys.errors import SdpError
from tests.fuzzing import SDP, Target, fuzz

INPUTS = 6000


def test_sdp_only_sdp_error_escapes() -> None:
    report = fuzz(SDP, inputs=INPUTS, seed=13)
    assert report.tried == INPUTS
    assert report.escapes == 0, "\n".join(report.examples)


def _old_ptime(data: bytes) -> None:
    """How ``MediaDescription.ptime`` read ``a=ptime`` before issue 13 (lines split here)."""
    for line in data.decode("utf-8", "replace").splitlines():
        if line.startswith("a=ptime:"):
            value = line[8:]
            try:
                round(float(value)) if value else None
            except ValueError:
                pass


def test_the_fuzzer_finds_the_ptime_overflow() -> None:
    """The mutations reach defect 1: ``round(float("inf"))`` escapes as OverflowError."""
    report = fuzz(Target("old ptime", SDP.seeds, _old_ptime, (SdpError,)), inputs=INPUTS, seed=13)
    assert report.escapes > 0
    assert any(e.startswith("OverflowError") for e in report.examples), report.examples
