"""Headers remember what get/get_all found until the next change (issue 20).

The memo must never be seen: after any sequence of reads and changes, every
read equals that of a fresh ``Headers`` built from the same lines (which has
read nothing yet).  A hypothesis walk over the changing methods and the
reading ones, with compact forms, case variants and list headers.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bailanys.sip.message import Headers, parse_message

NAMES = ["Via", "v", "VIA", "From", "f", "To", "Contact", "m", "Route", "Call-ID", "i",
         "CSeq", "X-Custom", "x-custom", "Supported", "k"]
VALUES = ["a", "b, c", '"x, y" <sip:u@h>', "SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP g",
          "<sip:r@h;lr>, <sip:s@h;lr>", ""]

op = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.sampled_from(VALUES)),
    st.tuples(st.just("prepend"), st.sampled_from(NAMES), st.sampled_from(VALUES)),
    st.tuples(st.just("set"), st.sampled_from(NAMES), st.sampled_from(VALUES)),
    st.tuples(st.just("remove"), st.sampled_from(NAMES), st.just("")),
    st.tuples(st.just("remove_first"), st.sampled_from(NAMES), st.just("")),
    st.tuples(st.just("read"), st.sampled_from(NAMES), st.just("")),
)


def _reads(h: Headers, name: str) -> tuple[object, ...]:
    return h.get(name), h.get_all(name), name in h, h.count_lines(name)


@settings(max_examples=150, deadline=None, database=None)  # no .hypothesis/ files
@given(st.lists(op, max_size=25))
def test_reads_after_any_changes_equal_a_fresh_copy(ops: list[tuple[str, str, str]]) -> None:
    h = Headers()
    for kind, name, value in ops:
        if kind == "read":
            _reads(h, name)  # fills the memo
        elif kind in ("add", "prepend", "set"):
            getattr(h, kind)(name, value)
        else:
            getattr(h, kind)(name)
        fresh = Headers(list(h))
        for n in NAMES:
            assert _reads(h, n) == _reads(fresh, n), (kind, name, n)
        copy = h.copy()
        assert list(copy) == list(h)


def test_get_all_hands_out_a_new_list_each_time() -> None:
    h = Headers([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2")])
    first = h.get_all("v")
    first.append("junk")  # a caller's change to its list must not reach the next read
    assert h.get_all("Via") == ["SIP/2.0/UDP a;branch=z9hG4bK1", "SIP/2.0/UDP b;branch=z9hG4bK2"]
    assert h.get("VIA") == "SIP/2.0/UDP a;branch=z9hG4bK1"


def test_a_parsed_message_reads_the_same_after_its_top_via_is_stamped() -> None:
    raw = (b"INVITE sip:1414@h SIP/2.0\r\nv: SIP/2.0/UDP a;branch=z9hG4bK1;rport\r\n"
           b"Via: SIP/2.0/UDP b;branch=z9hG4bK2\r\nf: <sip:a@h>;tag=1\r\nt: <sip:b@h>\r\n"
           b"i: x@h\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
    msg = parse_message(raw)
    assert msg.headers.get("Via") == "SIP/2.0/UDP a;branch=z9hG4bK1;rport"
    msg.headers.remove_first("Via")
    msg.headers.prepend("Via", "SIP/2.0/UDP a;branch=z9hG4bK1;rport=5;received=1.2.3.4")
    assert msg.headers.get_all("Via") == [
        "SIP/2.0/UDP a;branch=z9hG4bK1;rport=5;received=1.2.3.4",
        "SIP/2.0/UDP b;branch=z9hG4bK2",
    ]
    assert msg.call_id == "x@h" and msg.cseq == (1, "INVITE")


def test_parsed_values_are_remembered_equal_bounded_and_bad_ones_raise_each_time() -> None:
    import pytest

    from bailanys.errors import SipParseError
    from bailanys.sip import headers as h

    for parse, text in ((h.Via.parse, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKm;rport"),
                        (h.NameAddr.parse, '"A, B" <sip:a@h;lr>;tag=9'),
                        (h.SipUri.parse, "sip:1414@10.0.0.1:5060;user=phone")):
        first = parse(text)
        assert parse(text) is first  # the one shared (frozen) instance
        assert parse(" " + text) == first  # another spelling: parsed, equal
    for bad in ("SIP/2.0/UDP", "<sip:unterminated", "nota uri"):
        for _ in range(2):
            with pytest.raises(SipParseError):
                (h.Via.parse if bad.startswith("SIP") else
                 h.NameAddr.parse if bad.startswith("<") else h.SipUri.parse)(bad)
    for i in range(h.PARSE_CACHE + 50):
        h.Via.parse(f"SIP/2.0/UDP h;branch=z9hG4bK{i}")
    info = h._parse_via.cache_info()
    assert info.currsize <= h.PARSE_CACHE and info.maxsize == h.PARSE_CACHE


def test_a_remembered_verdict_is_the_same_error_with_status_400() -> None:
    import pytest

    from bailanys.errors import SipParseError
    from bailanys.sip import validate

    good = ("INVITE sip:1414@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n"
            "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x@h\r\nCSeq: 1 INVITE\r\n"
            "Contact: <sip:a@h>\r\nContent-Length: 0\r\n\r\n")
    bad = good.replace("From: <sip:a@h>;tag=1", 'From: "unbalanced <sip:a@h>;tag=1')
    for _ in range(2):  # the second time from the remembered verdicts
        validate.validate_request(parse_message(good.encode()))  # type: ignore[arg-type]
        with pytest.raises(SipParseError) as info:
            validate.validate_request(parse_message(bad.encode()))  # type: ignore[arg-type]
        assert info.value.status == 400 and "From" in str(info.value)
    assert validate._address_problem.cache_info().hits >= 2
