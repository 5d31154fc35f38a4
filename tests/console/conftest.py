"""Fixtures: a console server on a free loopback port with a fake engine API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bailanys.console.server import ConsoleServer
from tests.console.helpers import FakeApi, FakeClock, users


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(api: FakeApi, clock: FakeClock) -> AsyncIterator[ConsoleServer]:
    console = ConsoleServer("127.0.0.1", 0, users(), api, session_ttl=3600, clock=clock)
    await console.start()
    try:
        yield console
    finally:
        await console.stop()
