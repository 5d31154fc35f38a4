"""Where in-dialog requests go: a Contact host from the network is read safely (issue 13)."""

from __future__ import annotations

import pytest

from bailanys.engine.call import _is_ip


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("192.0.2.5", True),
        ("[2001:db8::1]", True),
        ("2001:db8::1", True),
        ("pbx.example.com", False),
        ("256.1.1.1", False),
        ("1.2.3", False),
        # 5,000 digits in one octet: int() raised ValueError and the BYE was never sent.
        ("1" * 5000 + ".1.1.1", False),
        ("².1.1.1", False),
        ("", False),
    ],
)
def test_is_ip(host: str, expected: bool) -> None:
    assert _is_ip(host) is expected
