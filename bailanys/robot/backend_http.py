"""A :class:`~bailanys.robot.backend.ServiceBackend` over a JSON HTTP API.

Each call is one request with ``Authorization: Bearer <token>`` and
``Accept: application/json``; bodies are JSON (UTF-8). Dates are ISO 8601
(``2025-03-14``), times ``HH:MM``. The calls run :mod:`urllib.request` in a
worker thread (:func:`asyncio.to_thread`), so no new dependency is needed.

Endpoints (relative to ``base_url``)::

    GET  /documents/{iin}                  200 {"state", "service_code", "branch_id"?, "ready_on"?}
                                           404 -> None
    GET  /branches                         200 [{"id", "city", "name_kk", "name_ru", "address"}]
    GET  /branches/{id}/slots?day=DATE     200 {"slots": ["09:00", ...]}
    POST /bookings                         {"iin", "branch_id", "day", "time"}
                                           201 {"id", "branch_id", "day", "time"}
                                           409 -> SlotTakenError
    POST /bookings/{id}/cancel             {"iin"}  200 {"cancelled": bool}; 404 -> False
    POST /certificates                     {"iin", "kind"}  201 {"kind", "link", "valid_until"?}
    GET  /services/{code}/documents?lang=L 200 {"text"}
    GET  /citizens/{iin}/requests          200 [{"number", "topic", "status",
                                                 "registered_on", "due_on"?}]
    GET  /people/{iin}                     200 {"region"?, "social_status"?}; 404 -> None

Any other status, a timeout, a refused connection or a body that does not
parse is a :class:`~bailanys.robot.backend.BackendError` (the timeout a
:class:`~bailanys.robot.backend.BackendTimeout`); 5xx and connection
failures are ``retryable``. Messages name the endpoint template, never the
IIN in it (it is personal data).
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from datetime import date, time
from typing import Any, Final
from urllib.parse import quote, urlencode

from bailanys.robot.backend import (
    BackendError,
    BackendTimeout,
    Booking,
    Branch,
    CallerInfo,
    Certificate,
    CertificateKind,
    DocumentState,
    DocumentStatus,
    Request,
    RequestStatus,
    SlotTakenError,
)

#: Seconds per call: the caller is waiting on the line, so keep it short.
DEFAULT_TIMEOUT_S: Final = 5.0


def _opt_date(v: object) -> date | None:
    return date.fromisoformat(str(v)) if v else None


class HttpBackend:
    """``HttpBackend("https://api.example.kz/robot", token, timeout=5.0)``."""

    def __init__(self, base_url: str, token: str, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    # ------------------------------------------------------------ transport

    def _request_sync(self, method: str, path: str, what: str,
                      body: object | None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self._token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, b""
            exc.close()
        except TimeoutError as exc:
            raise BackendTimeout(f"{what}: timed out after {self.timeout} s") from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise BackendTimeout(f"{what}: timed out after {self.timeout} s") from exc
            raise BackendError(f"{what}: cannot connect", retryable=True) from exc
        except OSError as exc:
            raise BackendError(f"{what}: {type(exc).__name__}", retryable=True) from exc
        if not 200 <= status < 300:
            return status, None
        try:
            return status, json.loads(raw) if raw else None
        except ValueError as exc:
            raise BackendError(f"{what}: the answer is not JSON") from exc

    async def _call(self, method: str, path: str, what: str,
                    body: object | None = None, ok_missing: bool = False) -> Any:
        status, payload = await asyncio.to_thread(self._request_sync, method, path, what, body)
        if status == 404 and ok_missing:
            return None
        if status == 409:
            raise SlotTakenError()
        if not 200 <= status < 300:
            raise BackendError(f"{what}: HTTP {status}", retryable=status >= 500)
        return payload

    @staticmethod
    def _shape(what: str, exc: Exception) -> BackendError:
        return BackendError(f"{what}: unexpected answer ({type(exc).__name__})")

    # ------------------------------------------------------------ ServiceBackend

    async def document_status(self, iin: str) -> DocumentStatus | None:
        what = "GET /documents/{iin}"
        p = await self._call("GET", f"/documents/{quote(iin)}", what, ok_missing=True)
        if p is None:
            return None
        try:
            return DocumentStatus(DocumentState(p["state"]), str(p["service_code"]),
                                  p.get("branch_id"), _opt_date(p.get("ready_on")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._shape(what, exc) from exc

    async def branches(self) -> list[Branch]:
        what = "GET /branches"
        p = await self._call("GET", "/branches", what)
        try:
            return [Branch(str(b["id"]), str(b["city"]), str(b["name_kk"]), str(b["name_ru"]),
                           str(b["address"])) for b in p]
        except (KeyError, TypeError) as exc:
            raise self._shape(what, exc) from exc

    async def free_slots(self, branch_id: str, day: date) -> list[time]:
        what = "GET /branches/{id}/slots"
        path = f"/branches/{quote(branch_id)}/slots?" + urlencode({"day": day.isoformat()})
        p = await self._call("GET", path, what)
        try:
            return [time.fromisoformat(s) for s in p["slots"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._shape(what, exc) from exc

    async def book(self, iin: str, branch_id: str, day: date, time: time) -> Booking:
        what = "POST /bookings"
        body = {"iin": iin, "branch_id": branch_id, "day": day.isoformat(),
                "time": time.isoformat("minutes")}
        p = await self._call("POST", "/bookings", what, body)
        try:
            return Booking(str(p["id"]), str(p["branch_id"]), date.fromisoformat(p["day"]),
                           type(time).fromisoformat(p["time"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise self._shape(what, exc) from exc

    async def cancel(self, booking_id: str, iin: str) -> bool:
        what = "POST /bookings/{id}/cancel"
        p = await self._call("POST", f"/bookings/{quote(booking_id)}/cancel", what,
                             {"iin": iin}, ok_missing=True)
        if p is None:
            return False
        try:
            return bool(p["cancelled"])
        except (KeyError, TypeError) as exc:
            raise self._shape(what, exc) from exc

    async def issue_certificate(self, iin: str, kind: CertificateKind) -> Certificate:
        what = "POST /certificates"
        p = await self._call("POST", "/certificates", what, {"iin": iin, "kind": kind.value})
        try:
            return Certificate(CertificateKind(p["kind"]), str(p["link"]),
                               _opt_date(p.get("valid_until")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._shape(what, exc) from exc

    async def required_documents(self, service_code: str, lang: str) -> str:
        what = "GET /services/{code}/documents"
        path = f"/services/{quote(service_code)}/documents?" + urlencode({"lang": lang})
        p = await self._call("GET", path, what)
        try:
            return str(p["text"])
        except (KeyError, TypeError) as exc:
            raise self._shape(what, exc) from exc

    async def open_requests(self, iin: str, phone: str = "") -> list[Request]:
        what = "GET /citizens/{iin}/requests"
        p = await self._call("GET", f"/citizens/{quote(iin)}/requests", what)
        try:
            return [Request(str(r["number"]), str(r["topic"]), RequestStatus(r["status"]),
                            date.fromisoformat(r["registered_on"]), _opt_date(r.get("due_on")))
                    for r in p]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._shape(what, exc) from exc

    async def caller_info(self, iin: str) -> CallerInfo | None:
        """``GET /people/{iin}`` -> ``{"region": ..., "social_status": ...}`` (both
        optional; issue 17); 404: unknown."""
        what = "GET /people/{iin}"
        p = await self._call("GET", f"/people/{quote(iin)}", what, ok_missing=True)
        if p is None:
            return None
        if not isinstance(p, dict):
            raise self._shape(what, TypeError("not an object"))
        region, status = p.get("region"), p.get("social_status")
        return CallerInfo(region if isinstance(region, str) else None,
                          status if isinstance(status, str) else None)
