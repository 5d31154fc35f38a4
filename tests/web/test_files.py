"""File downloads through the web layer: HTTP range requests (RFC 9110 §14), behind the check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from bailanys.console.auth import COOKIE_NAME, Role, Session, SessionStore
from bailanys.web.access import Access
from bailanys.web.app import endpoint
from bailanys.web.files import download
from tests.console.helpers import users
from tests.web.conftest import serve

AUDIO = bytes(range(256)) * 40  # 10 240 bytes of a "recording"


@pytest.fixture
async def recordings(tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, str]]]:
    path = tmp_path / "call-1.wav"
    path.write_bytes(AUDIO)
    sessions = SessionStore(3600)
    access = Access(sessions)

    @access.api(roles={Role.QA, Role.SUPERVISOR})
    async def recording(request: Request, session: Session) -> Response:
        return download(path, inline=True)

    server = await serve([endpoint("/recordings/call-1.wav", recording)])
    cookie = {"Cookie": f"{COOKIE_NAME}={sessions.create(users()['dana']).token}"}
    try:
        yield f"http://127.0.0.1:{server.port}/recordings/call-1.wav", cookie
    finally:
        await server.stop()


async def test_a_range_of_a_recording_comes_as_206(
        recordings: tuple[str, dict[str, str]]) -> None:
    url, cookie = recordings
    async with httpx.AsyncClient() as http:
        reply = await http.get(url, headers={**cookie, "Range": "bytes=1000-1099"})
        assert reply.status_code == 206
        assert reply.headers["content-range"] == f"bytes 1000-1099/{len(AUDIO)}"
        assert reply.content == AUDIO[1000:1100]
        assert reply.headers["content-type"] == "audio/wav"
        assert reply.headers["content-disposition"].startswith("inline")
        tail = await http.get(url, headers={**cookie, "Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == AUDIO[-10:]
        whole = await http.get(url, headers=cookie)
        assert whole.status_code == 200 and whole.content == AUDIO
        assert whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["connection"] == "close"


async def test_a_range_past_the_end_is_416(recordings: tuple[str, dict[str, str]]) -> None:
    url, cookie = recordings
    async with httpx.AsyncClient() as http:
        reply = await http.get(url, headers={**cookie, "Range": f"bytes={len(AUDIO)}-"})
    assert reply.status_code == 416
    assert reply.headers["content-range"] == f"bytes */{len(AUDIO)}"


async def test_a_recording_needs_a_session_of_an_allowed_role(
        recordings: tuple[str, dict[str, str]]) -> None:
    url, _ = recordings
    sessions_free = {"Range": "bytes=0-10"}
    async with httpx.AsyncClient() as http:
        reply = await http.get(url, headers=sessions_free)
        assert reply.status_code == 401 and AUDIO[:10] not in reply.content
