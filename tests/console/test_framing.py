"""Request bodies framed before websockets sees the head (RFC 9112 §6)."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from bailanys.console.framing import (
    MAX_BODY_BYTES,
    FramingError,
    body_length,
    head_end,
    parse_form,
    strip_framing,
)

HEAD = (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\n")
BODY = b"user=aigerim&password=p%40s"


def test_the_head_ends_at_the_first_blank_line_byte_by_byte() -> None:
    data = HEAD + BODY
    ends = [head_end(data[:i]) for i in range(len(data) + 1)]
    assert all(e == -1 for e in ends[:len(HEAD)])
    assert all(e == len(HEAD) for e in ends[len(HEAD):])


def test_the_body_length_comes_from_content_length() -> None:
    assert body_length(HEAD) == len(BODY)
    assert body_length(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == 0
    assert body_length(b"POST / HTTP/1.1\r\ncontent-LENGTH:  5 \r\n\r\n") == 5
    assert body_length(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") == 5


@pytest.mark.parametrize(("head", "status"), [
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", HTTPStatus.LENGTH_REQUIRED),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     HTTPStatus.LENGTH_REQUIRED),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", HTTPStatus.BAD_REQUEST),
    (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", HTTPStatus.BAD_REQUEST),
    (b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", HTTPStatus.BAD_REQUEST),
    (b"POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", HTTPStatus.BAD_REQUEST),
    (b"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", HTTPStatus.BAD_REQUEST),
    (b"POST / HTTP/1.1\r\nContent-Length: 99999999999999999\r\n\r\n", HTTPStatus.BAD_REQUEST),
    (f"POST / HTTP/1.1\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode(),
     HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
])
def test_bodies_that_cannot_be_framed_say_which_answer_to_send(
        head: bytes, status: HTTPStatus) -> None:
    with pytest.raises(FramingError) as info:
        body_length(head)
    assert info.value.status == status


def test_stripping_keeps_everything_but_the_framing() -> None:
    head = (b"POST /login HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\n"
            b"Transfer-Encoding: chunked\r\nCookie: a=b\r\n\r\n")
    assert strip_framing(head) == b"POST /login HTTP/1.1\r\nHost: h\r\nCookie: a=b\r\n\r\n"
    assert body_length(strip_framing(head)) == 0


def test_a_form_decodes_to_the_first_value_of_each_field() -> None:
    assert parse_form(BODY) == {"user": "aigerim", "password": "p@s"}
    assert parse_form(b"user=%D0%90%D0%B9&password=a+b&user=x") == {
        "user": "Ай", "password": "a b"}
    assert parse_form(b"") == {}
    assert parse_form(b"empty=") == {"empty": ""}


@pytest.mark.parametrize("body", [b"user=%FF%FE", b"\xff=1", b"&".join([b"a=1"] * 40)])
def test_a_bad_form_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(FramingError) as info:
        parse_form(body)
    assert info.value.status == HTTPStatus.BAD_REQUEST
