"""RTP, RTCP and RFC 4733 under a mutation fuzzer: only RtpParseError escapes (issue 13).

Packets written by our own builders (PCMU, CSRCs, extension, padding,
SR/RR/SDES/BYE/APP, whole key presses) are mutated bit by bit and word by
word; see ``tests/fuzzing.py``.  Fixed seeds; ``make fuzz`` runs for minutes.
"""

from __future__ import annotations

import pytest

from tests.fuzzing import DTMF, RTCP, RTP, Target, fuzz


@pytest.mark.parametrize(("target", "inputs"), [(RTP, 20000), (RTCP, 20000), (DTMF, 4000)],
                         ids=["RTP", "RTCP", "RFC 4733"])
def test_only_rtp_parse_error_escapes(target: Target, inputs: int) -> None:
    report = fuzz(target, inputs=inputs, seed=13)
    assert report.tried == inputs
    assert report.escapes == 0, "\n".join(report.examples)
