"""Plain HTTP answers shared by every page: status texts, security headers, redirects.

Every answer carries a strict Content-Security-Policy (the pages load only
their own scripts and styles and connect only back to this server), closes
its connection (one request per connection: nothing to keep alive, nothing
for a slow client to hold) and says it comes from Bailanys.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from starlette.responses import Response

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
TEXT = CONTENT_TYPES[".txt"]
SERVER_HEADER = "bailanys-console"

SECURITY_HEADERS = (
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; connect-src 'self'; "
     "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    ("X-Content-Type-Options", "nosniff"),
    # not no-referrer: with it, browsers send "Origin: null" on the login POST
    ("Referrer-Policy", "same-origin"),
)
#: Added to every answer of the web layer (``app.py`` sees to the ones made elsewhere).
COMMON_HEADERS = (("Connection", "close"), ("Server", SERVER_HEADER), *SECURITY_HEADERS)


def response(status: HTTPStatus, body: bytes = b"", content_type: str = TEXT,
             headers: Sequence[tuple[str, str]] = (), cache: str = "no-store") -> Response:
    """An answer with ``body``, its type, ``Cache-Control`` and the common headers."""
    answer = Response(body, status.value, media_type=None)
    raw = answer.raw_headers
    raw.append((b"content-type", content_type.encode("latin-1")))
    raw.append((b"cache-control", cache.encode("latin-1")))
    for name, value in headers:
        raw.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return answer


def error(status: HTTPStatus, message: str = "",
          headers: Sequence[tuple[str, str]] = ()) -> Response:
    """``<code> <phrase>: <message>`` as text (the status's description when no message)."""
    text = f"{status.value} {status.phrase}: {message or status.description}\n"
    return response(status, text.encode(), headers=headers)


def redirect(location: str, cookie: str | None = None) -> Response:
    """303 See Other to ``location`` (RFC 9110 §15.4.4), setting ``cookie`` if given."""
    headers = [("Location", location)] + ([("Set-Cookie", cookie)] if cookie else [])
    return response(HTTPStatus.SEE_OTHER, headers=headers)


def same_origin(conn: HTTPConnection) -> bool:
    """No ``Origin`` (not a browser) or one naming this very host and port.

    Refuses cross-site websockets and form posts even from browsers that do
    not honour SameSite. A reverse proxy must pass ``Host`` through."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    host = conn.headers.get("host", "")
    return bool(host) and urlsplit(origin).netloc.lower() == host.lower()
