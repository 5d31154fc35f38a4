"""Kannel's smsbox ``sendsms`` HTTP interface: building the request, reading the answer.

Kannel User's Guide, chapter "SMS Push (send-sms) CGI interface": a GET on
``/cgi-bin/sendsms`` with ``username``, ``password``, ``from``, ``to``,
``text``, ``coding``, ``charset``, ``dlr-mask`` and ``dlr-url``. We send
``coding=2`` (UCS-2, so Cyrillic and the Kazakh letters ә ғ қ ң ө ұ ү һ і
survive; the GSM 7-bit alphabet has none of them) with ``charset=UTF-8``,
which tells smsbox that ``text`` is UTF-8 to be converted to UCS-2.
smsbox answers ``202`` with ``0: Accepted for delivery`` (or ``3: Queued
for later delivery`` when no SMSC is connected; Kannel keeps it and sends
later), 4xx/5xx otherwise (``403 Authorization failed``, ``400`` for
missing arguments...).

``dlr-mask`` is the bit mask of delivery reports wanted and ``%d`` in the
``dlr-url`` is replaced by the report's value (User's Guide, "Delivery
reports"; table "Parameters (escape codes)"): 1 delivered to phone,
2 non-delivered to phone, 4 queued on SMSC, 8 delivered to SMSC, 16
non-delivered to SMSC; ``%F`` is the SMSC's (foreign) message id, the same
in every report of one message (``%I``, Kannel's id, is new in each report).

The pure part (``sendsms_target``, ``check_accepted``) does no I/O; the
``HttpKannel`` adapter asks smsbox with httpx (the web layer's HTTP client,
``bailanys/web``) and is reached through the ``Kannel`` protocol, so tests
can put a fake there.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

import httpx

from bailanys.errors import BailanysError

log = logging.getLogger(__name__)

#: Kannel's ``coding`` value for UCS-2 (User's Guide, sendsms CGI arguments:
#: 0 default/7-bit, 1 8-bit, 2 UCS-2).
CODING_UCS2 = 2
#: All five report kinds: 1 + 2 + 4 + 8 + 16.
DLR_MASK_ALL = 31
#: The hotline's short number, the sender the subscriber sees.
DEFAULT_SENDER = "1414"
#: Seconds for connect + request + answer; smsbox answers at once (it only
#: queues the message to bearerbox), so 10 s means it is stuck.
DEFAULT_TIMEOUT_S = 10.0
#: Bytes of answer we read at most; smsbox's answers are one short line.
MAX_REPLY = 64 * 1024


class KannelError(BailanysError):
    """Kannel could not be reached or refused the message (worth a retry).

    ``status`` is the HTTP status, or ``None`` when no answer came at all
    (connection refused, timeout, garbage).
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DlrStatus(enum.IntFlag):
    """Kannel's delivery report values (``%d`` in the DLR URL)."""

    DELIVERED = 1  # delivered to phone (final)
    UNDELIVERED = 2  # non-delivered to phone (final)
    BUFFERED = 4  # queued on SMSC (intermediate)
    SMSC_SUBMIT = 8  # delivered to SMSC (intermediate)
    SMSC_REJECT = 16  # non-delivered to SMSC (final)


@dataclass(frozen=True)
class KannelConfig:
    """Where smsbox's sendsms interface is and how we sign and address messages.

    host, port: smsbox's ``sendsms-port`` (and interface).
    username, password: a ``group = sendsms-user`` of that smsbox.
    sender: ``from``; the hotline's number.
    dlr_url: our receiver's base URL, e.g. ``http://127.0.0.1:8014/dlr``;
        empty asks for no delivery reports.
    dlr_mask: which reports to ask for (default all five).
    timeout_s: one request's limit.
    """

    host: str = "127.0.0.1"
    port: int = 13013  # Kannel's documented sendsms-port example
    username: str = "bailanys"
    password: str = ""
    sender: str = DEFAULT_SENDER
    dlr_url: str = ""
    dlr_mask: int = DLR_MASK_ALL
    timeout_s: float = DEFAULT_TIMEOUT_S
    path: str = "/cgi-bin/sendsms"


def dlr_url_for(base: str, msg_id: int) -> str:
    """The DLR URL for one message: our id, Kannel's ``%d`` status, the SMSC's ``%F`` id."""
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}id={msg_id}&status=%d&kid=%F"


def sendsms_target(cfg: KannelConfig, to: str, text: str, msg_id: int) -> str:
    """The request target (path and query) sending ``text`` to ``to`` as UCS-2."""
    args: list[tuple[str, str]] = [
        ("username", cfg.username),
        ("password", cfg.password),
        ("from", cfg.sender),
        ("to", to),
        ("text", text),
        ("coding", str(CODING_UCS2)),
        ("charset", "UTF-8"),
    ]
    if cfg.dlr_url:
        args += [("dlr-mask", str(cfg.dlr_mask)), ("dlr-url", dlr_url_for(cfg.dlr_url, msg_id))]
    # urlencode encodes str as UTF-8, which is what charset=UTF-8 announces.
    return f"{cfg.path}?{urlencode(args)}"


def check_accepted(status: int, body: str) -> str:
    """Return smsbox's answer text if it took the message, else raise ``KannelError``."""
    if 200 <= status < 300:
        return body
    raise KannelError(f"Kannel answered {status}: {body[:200]}", status=status)


class Kannel(Protocol):
    """What the outbox needs from the gateway: hand one message over or raise."""

    async def send(self, to: str, text: str, msg_id: int) -> str:
        """Return Kannel's answer text; raise ``KannelError`` when not accepted."""
        ...


class HttpKannel:
    """``Kannel`` over HTTP with httpx: one connection per message, as smsbox expects
    from a sendsms client that sends now and then (no connection kept open).

    The client is made once here (httpx reads its TLS settings then, a few
    milliseconds of blocking that must not happen per message on the loop).
    """

    def __init__(self, config: KannelConfig) -> None:
        self.config = config
        self._http = httpx.AsyncClient(
            timeout=config.timeout_s, trust_env=False, follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0))

    def url(self, to: str, text: str, msg_id: int) -> str:
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        return f"http://{host}:{self.config.port}{sendsms_target(self.config, to, text, msg_id)}"

    async def send(self, to: str, text: str, msg_id: int) -> str:
        cfg = self.config
        try:
            async with asyncio.timeout(cfg.timeout_s):  # the whole exchange, not each read
                async with self._http.stream("GET", self.url(to, text, msg_id)) as answer:
                    body = bytearray()
                    async for chunk in answer.aiter_bytes():
                        body += chunk
                        if len(body) > MAX_REPLY:
                            break
                    status = answer.status_code
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise KannelError(f"{cfg.host}:{cfg.port}: no answer in {cfg.timeout_s} s") from exc
        except httpx.HTTPError as exc:  # refused, reset, or an answer that is not HTTP
            raise KannelError(f"{cfg.host}:{cfg.port}: {_reason(exc)}") from exc
        return check_accepted(status, body[:MAX_REPLY].decode("utf-8", "replace").strip())


def _reason(exc: BaseException) -> str:
    """The system's words for the OS error under an httpx error ("Connection refused")."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno)
        seen = seen.__cause__ or seen.__context__
    return str(exc) or type(exc).__name__
