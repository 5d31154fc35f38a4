"""Refer-To parsing (RFC 3515 §2.1, RFC 3261 §20.10, RFC 3891 §3) and target resolution."""

from __future__ import annotations

import pytest

from bailanys.errors import SipParseError
from bailanys.transfers.referto import Replaces, parse_refer_to
from bailanys.transfers.settings import TransfersConfig
from bailanys.transfers.targets import TransferError, TransferTargets

TARGETS = TransferTargets(TransfersConfig(
    targets={"complaints": "queue:complaints_q", "second_line": "sip:2000@192.0.2.10:5070"},
    kk={"complaints": "Шағымдар", "second_line": "Екінші желі"},
    ru={"complaints": "Жалобы", "second_line": "Вторая линия"},
))


@pytest.mark.parametrize("value, uri, user", [
    ("<sip:complaints@10.0.0.1>", "sip:complaints@10.0.0.1", "complaints"),
    ('"Жалобы" <sip:complaints@10.0.0.1;transport=udp>;x=1',
     "sip:complaints@10.0.0.1;transport=udp", "complaints"),
    ("sip:2000@bailanys.kz", "sip:2000@bailanys.kz", "2000"),  # addr-spec
    ("  <sips:second%5Fline@h>  ", "sips:second%5Fline@h", "second_line"),  # escaped
    ("<sip:10.0.0.1>", "sip:10.0.0.1", None),  # no user part
])
def test_refer_to_forms(value: str, uri: str, user: str | None) -> None:
    r = parse_refer_to(value)
    assert (r.uri, r.user, r.replaces) == (uri, user, None)


def test_replaces_recognised() -> None:
    r = parse_refer_to("<sip:1002@10.0.0.1?Replaces=abc%40h%3Bto-tag%3D7%3Bfrom-tag%3D9>")
    assert r.user == "1002"
    assert r.replaces == Replaces("abc@h", "7", "9")


@pytest.mark.parametrize("value", [
    None, "", "   ", "*", "<sip:a@b", "not a uri", "<sip:a@h?Replaces=abc%3Bto-tag%3D1>",
])
def test_bad_refer_to_is_400(value: str | None) -> None:
    with pytest.raises(SipParseError) as exc:
        parse_refer_to(value)
    assert exc.value.status == 400


@pytest.mark.parametrize("value, name", [
    ("<sip:complaints@h>", "complaints"),  # the target's name
    ("<sip:complaints_q@h>", "complaints"),  # its queue's name
    ("<sip:second_line@h>", "second_line"),
    ("<sip:2000@other.host>", "second_line"),  # the number's user part
    ("<sip:9999@h>", None),
    ("<sip:h>", None),
    ("<tel:+77010000000>", None),
])
def test_target_of_refer(value: str, name: str | None) -> None:
    try:
        target = TARGETS.for_refer(parse_refer_to(value))
    except SipParseError:
        target = None
    assert (target.name if target else None) == name


def test_targets_listed_with_labels() -> None:
    assert [t.as_dict() for t in TARGETS.all()] == [
        {"name": "complaints", "kind": "queue", "kk": "Шағымдар", "ru": "Жалобы"},
        {"name": "second_line", "kind": "number", "kk": "Екінші желі", "ru": "Вторая линия"},
    ]
    assert TARGETS.get("complaints").value == "complaints_q"
    with pytest.raises(TransferError, match="nope"):
        TARGETS.get("nope")
