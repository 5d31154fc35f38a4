"""StreamFramer: whole, chunked, byte by byte, keep-alives, garbage, limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.sip.framing import FramerConfig, FramerEvent, FramingError, Ping, StreamFramer
from bailanys.sip.message import Request, Response, parse_message

TORTURE = Path(__file__).parent / "torture"

# Valid RFC 4475 messages that are also well framed on a stream: exactly one
# Content-Length equal to the body size.  (inv2543 has no Content-Length and
# dblreq is a datagram carrying trailing noise.)
STREAMABLE = [
    "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "semiuri",
    "transports", "mpart01", "unreason", "noreason", "unkscm", "novelsc", "unksm2",
    "bext01", "invut", "regaut01", "bcast", "zeromf", "cparam01", "cparam02",
    "regescrt", "sdp01",
]


def msg(call_id: str, body: bytes = b"", method: str = "OPTIONS") -> bytes:
    return (
        f"{method} sip:user@example.com SIP/2.0\r\n"
        "Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK1\r\n"
        "To: <sip:user@example.com>\r\n"
        "From: <sip:caller@example.com>;tag=1\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: 1 {method}\r\n"
        "Max-Forwards: 70\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    ).encode() + body


def feed_bytewise(framer: StreamFramer, data: bytes) -> list[FramerEvent]:
    out: list[FramerEvent] = []
    for i in range(len(data)):
        out.extend(framer.feed(data[i : i + 1]))
    return out


def call_ids(events: list[FramerEvent]) -> list[str]:
    return [e.call_id for e in events if isinstance(e, Request | Response)]


@pytest.mark.parametrize("name", STREAMABLE)
def test_torture_message_whole_and_byte_by_byte(name: str) -> None:
    data = (TORTURE / f"{name}.sip").read_bytes()
    expected = parse_message(data)
    for events in (StreamFramer().feed(data), feed_bytewise(StreamFramer(), data)):
        assert events == [expected]


def test_all_streamable_torture_messages_back_to_back_byte_by_byte() -> None:
    datas = [(TORTURE / f"{n}.sip").read_bytes() for n in STREAMABLE]
    stream = b"\r\n".join(datas)  # a CRLF between some: ignored (§7.5)
    framer = StreamFramer()
    events = feed_bytewise(framer, stream)
    assert events == [parse_message(d) for d in datas]
    assert framer.buffered == 0
    assert not framer.failed


def test_several_messages_in_one_chunk_and_split_anywhere() -> None:
    stream = msg("a", b"hello") + msg("b") + msg("c", b"\r\n\r\nx")
    assert call_ids(StreamFramer().feed(stream)) == ["a", "b", "c"]
    for cut in range(1, len(stream)):
        framer = StreamFramer()
        events = framer.feed(stream[:cut]) + framer.feed(stream[cut:])
        assert call_ids(events) == ["a", "b", "c"], cut
    bodies = [e.body for e in StreamFramer().feed(stream) if isinstance(e, Request)]
    assert bodies == [b"hello", b"", b"\r\n\r\nx"]


def test_partial_message_waits() -> None:
    framer = StreamFramer()
    data = msg("a", b"12345")
    assert framer.feed(data[:-1]) == []
    assert framer.buffered == len(data) - 1
    assert call_ids(framer.feed(data[-1:])) == ["a"]
    assert framer.buffered == 0


def test_double_crlf_is_a_ping_single_crlf_is_skipped() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == [Ping()]
    assert framer.feed(b"\r\n") == []
    assert framer.feed(b"\r\n") == [Ping()]
    assert feed_bytewise(framer, b"\r\n\r\n") == [Ping()]
    events = framer.feed(b"\r\n" + msg("a") + b"\r\n\r\n\r\n\r\n" + msg("b"))
    assert [type(e) for e in events] == [Request, Ping, Ping, Request]
    assert not framer.failed


def test_missing_content_length_is_fatal() -> None:
    data = msg("a").replace(b"Content-Length: 0\r\n", b"")
    framer = StreamFramer()
    (event,) = framer.feed(data + msg("b"))
    assert isinstance(event, FramingError)
    assert event.fatal
    assert "Content-Length" in str(event.error)
    assert framer.failed
    assert framer.feed(msg("c")) == []


@pytest.mark.parametrize(
    "value", [b"-999", b"five", b"1" * 11, b"\xb2", b"", b"9999999999"]
)
def test_bad_content_length_is_fatal(value: bytes) -> None:
    data = msg("a").replace(b"Content-Length: 0", b"Content-Length: " + value)
    (event,) = StreamFramer().feed(data)
    assert isinstance(event, FramingError)
    assert event.fatal


def test_conflicting_content_lengths_are_fatal_equal_ones_are_not() -> None:
    conflicting = msg("a").replace(b"Max-Forwards: 70", b"l: 5")
    (event,) = StreamFramer().feed(conflicting)
    assert isinstance(event, FramingError) and event.fatal
    # Two equal values frame fine; the parser then rejects the duplicate (400).
    equal = msg("a").replace(b"Max-Forwards: 70", b"l: 0")
    framer = StreamFramer()
    events = framer.feed(equal + msg("b"))
    assert isinstance(events[0], FramingError)
    assert not events[0].fatal
    assert events[0].error.status == 400
    assert events[0].raw == equal
    assert call_ids(events[1:]) == ["b"]


def test_compact_and_folded_content_length() -> None:
    data = msg("a", b"xyz").replace(b"Content-Length: 3", b"l:\r\n 3")
    assert call_ids(StreamFramer().feed(data + msg("b"))) == ["a", "b"]


def test_framed_but_unparsable_message_does_not_break_the_stream() -> None:
    bad = msg("a").replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE")
    events = StreamFramer().feed(bad + msg("b"))
    assert isinstance(events[0], FramingError)
    assert not events[0].fatal
    assert events[0].error.status == 400
    assert call_ids(events) == ["b"]


def test_trailing_garbage() -> None:
    framer = StreamFramer()
    events = framer.feed(msg("a") + b"garbage without an end")
    assert call_ids(events) == ["a"]
    assert not framer.failed
    assert framer.buffered == len(b"garbage without an end")
    (event,) = framer.eof()
    assert isinstance(event, FramingError) and event.fatal
    # Garbage that ends like a head has no Content-Length: fatal.
    (event,) = StreamFramer().feed(b"\x00\xff garbage\r\n\r\n")
    assert isinstance(event, FramingError) and event.fatal


def test_eof_between_messages_is_clean() -> None:
    framer = StreamFramer()
    framer.feed(msg("a") + b"\r\n")
    assert framer.eof() == []


def test_oversize_header_is_fatal_without_waiting_for_its_end() -> None:
    framer = StreamFramer(FramerConfig(max_header_bytes=1024))
    assert framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * 900) == []
    (event,) = framer.feed(b"a" * 200)
    assert isinstance(event, FramingError) and event.fatal
    assert "header" in str(event.error)
    default = StreamFramer()
    (event,) = default.feed(b"X" * (16 * 1024 + 1))
    assert isinstance(event, FramingError) and event.fatal


def test_oversize_header_with_end_is_fatal() -> None:
    framer = StreamFramer(FramerConfig(max_header_bytes=200))
    (event,) = framer.feed(msg("a"))  # about 230 bytes of head
    assert isinstance(event, FramingError) and event.fatal


def test_oversize_body_is_fatal() -> None:
    framer = StreamFramer(FramerConfig(max_body_bytes=10))
    assert call_ids(framer.feed(msg("a", b"0123456789"))) == ["a"]
    (event,) = framer.feed(msg("b", b"0123456789x"))
    assert isinstance(event, FramingError) and event.fatal


def test_bare_lf_line_ends() -> None:
    data = msg("a", b"a\r\n\r\nb").replace(b"\r\n", b"\n", 9)  # head only
    events = StreamFramer().feed(data + msg("b"))
    assert call_ids(events) == ["a", "b"]
    first = events[0]
    assert isinstance(first, Request)
    assert first.body == b"a\r\n\r\nb"
