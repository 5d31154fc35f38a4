"""Request bodies: framed by ``Content-Length`` only, bounded, read before the app runs.

:class:`BoundedBody` is ASGI middleware in front of every application of
the web layer (RFC 9112 §6):

* a request with ``Transfer-Encoding`` is answered ``411 Length Required``
  (RFC 9112 §6.3 lets a server ask for a length): our forms and APIs are
  small and their clients know the length;
* a ``Content-Length`` over the application's limit (or the limit of
  the request's path, ``path_limits``) is answered ``413 Content Too
  Large`` before a byte of the body is read;
* otherwise the whole body is read here and handed to the application in
  one piece, so an endpoint never sees a half body. How long the body may
  take is the server's request deadline (``server.py``); a conflicting or
  malformed ``Content-Length`` never gets here (h11 answers 400).

:func:`parse_form` decodes an ``application/x-www-form-urlencoded`` body
(pure, no I/O).
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bailanys.errors import BailanysError
from bailanys.web.responses import error

#: The login form is under 200 bytes; anything much larger is not ours.
MAX_BODY_BYTES = 8 * 1024
#: A recorded prompt uploaded on the Prompts page (``bailanys/prompts/web.py``):
#: two minutes of 48 kHz 24-bit stereo WAV is 35 MB; a studio's MP3 far less.
MAX_AUDIO_UPLOAD_BYTES = 40 * 1024 * 1024
#: Fields accepted in a form body.
MAX_FORM_FIELDS = 16


class BodyError(BailanysError):
    """A request's body is refused; ``status`` is the answer to send."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def body_limit_error(headers: list[tuple[bytes, bytes]], max_bytes: int) -> BodyError | None:
    """Why a request with these (lower-cased) headers is refused before its body, if it is."""
    for name, value in headers:
        if name == b"transfer-encoding":
            return BodyError(HTTPStatus.LENGTH_REQUIRED, "send the body with Content-Length")
        if name == b"content-length":
            if not value.isdigit() or len(value) > 12:  # h11 refused these already
                return BodyError(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
            if int(value) > max_bytes:
                return BodyError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                 f"a body of at most {max_bytes} bytes")
    return None


class BoundedBody:
    """ASGI middleware: refuse unframed or oversized bodies, read the rest in one piece."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES,
                 path_limits: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.path_limits.get(scope["path"], self.max_bytes)
        refused = body_limit_error(scope["headers"], max_bytes)
        if refused is not None:
            await error(refused.status, str(refused))(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:  # cannot happen with Content-Length framing; be sure
                await error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        whole: Message | None = {"type": "http.request", "body": b"".join(chunks),
                                 "more_body": False}

        async def replay() -> Message:
            nonlocal whole
            if whole is not None:
                message, whole = whole, None
                return message
            return await receive()  # http.disconnect, when it comes

        await self.app(scope, replay, send)


def parse_form(body: bytes) -> dict[str, str]:
    """A urlencoded form -> the first value of each field (UTF-8; WHATWG URL §5.1)."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BodyError(HTTPStatus.BAD_REQUEST, "not a urlencoded UTF-8 form") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form
