"""SIP under a mutation fuzzer: only SipParseError ever escapes (issue 13).

Each input goes through the stream framer, the parser, the stateless 400
(``Endpoint.bad_message``), a live endpoint with its transactions,
``validate_request`` and every header the engine reads after it (see
``tests/fuzzing.py``).  Seeds: the 49 RFC 4475 torture messages and common
requests and responses.  Fixed seed; ``make fuzz`` runs it for minutes.
"""

from __future__ import annotations

from tests.fuzzing import SIP, fuzz

INPUTS = 4000


def test_sip_only_sip_parse_error_escapes() -> None:
    report = fuzz(SIP, inputs=INPUTS, seed=13)
    assert report.tried == INPUTS
    assert report.escapes == 0, "\n".join(report.examples)
