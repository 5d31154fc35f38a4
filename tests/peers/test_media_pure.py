"""A real call with the pure-Python media core forced (``BAILANYS_PURE_MEDIA=1``).

The other peer tests run on the compiled core when it is built; this one
checks that the fallback carries a whole call end to end: SIPp's demo call
(RFC 4733 keys 2 1 2 3 #, the engine's prompts), both ways, until the
caller hangs up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bailanys.media.core import is_compiled
from tests.peers.conftest import (
    EngineFactory,
    assert_demo_call,
    needs_sipp,
    session_watch,
    sipp,
)

pytestmark = [pytest.mark.peer, needs_sipp]


async def test_demo_call_on_the_pure_media_core(
    engine_factory: EngineFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAILANYS_PURE_MEDIA", "1")
    engine = await engine_factory()
    assert not is_compiled(engine.hub.core)
    async with session_watch(engine) as sessions:
        res = await sipp(engine, "demo_dtmf_caller_bye.xml", tmp_path)
    assert res.ok, res.describe()
    await assert_demo_call(engine, cause="remote_bye")
    assert len(sessions) == 1
    stats = sessions[0].stats
    assert stats.sent > 100 and stats.received > 0
    assert stats.garbage == 0 and stats.foreign == 0
    assert sessions[0].quality()["rtp_sent"] == stats.sent  # read after the hang-up
    assert not engine.calls and not engine.hub.sessions
