"""A REGISTER password-guessing flood against a real engine (issue 13 item 5).

Before: 2,000 wrong digests at ~800/s for 1001 were all checked and answered
403, and the right password worked in the middle (an online oracle).  Now:
wrong digests from ten addresses at 800/s are checked only up to the
configured allowance (403), the rest are refused unchecked (503 +
Retry-After), the right password from an attacking address is refused too,
while a pyVoIP phone registered as 1001 is still called and gets media, a
phone for 1002 registers during the flood, and 1001's own address still
authenticates.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from bailanys.console.auth import hash_password
from tests.console.helpers import login
from tests.peers.conftest import EngineFactory, events_of, free_sip_port, session_watch
from tests.peers.register_flood import flood, register_once
from tests.peers.sipp import free_port

pytest.importorskip("pyVoIP")

from tests.peers.softphone import PyVoipAgent  # noqa: E402

pytestmark = pytest.mark.peer

#: Small allowances so the test shows every phase within seconds.
AUTH = {"source_failures": 3, "account_failures": 6, "window_s": 60, "ban_s": 30,
        "max_ban_s": 600}
ATTACKERS = [f"127.0.0.{i}" for i in range(2, 12)]
RATE, SECONDS = 800.0, 2.0
_rtp = iter(range(61300, 64000, 300))


def agent(port: int, user: str, password: str) -> PyVoipAgent:
    lo = next(_rtp)
    return PyVoipAgent("127.0.0.1", port, user, password, free_port(), lo, lo + 299,
                       answer_after_s=0.0)


async def test_guessing_is_slowed_while_phones_register_and_calls_get_media(
        engine_factory: EngineFactory) -> None:
    engine = await engine_factory(auth=AUTH)
    target = ("127.0.0.1", engine.transport.port)
    phone = agent(target[1], "1001", "pw1001")
    other = agent(target[1], "1002", "pw1002")
    await asyncio.to_thread(phone.start)
    try:
        assert phone.registered
        attack = asyncio.create_task(asyncio.to_thread(
            flood, target, "1001", ATTACKERS, per_second=RATE, seconds=SECONDS))
        await asyncio.sleep(0.3)  # the account is banned within the first few guesses
        # a phone for another account registers in the middle of the flood
        await asyncio.to_thread(other.start)
        assert other.registered
        # the operator's phone is called and gets media
        async with session_watch(engine) as sessions:
            call = await engine.call_user("1001", ring_s=10)
            assert call.final_status == 200
            prompt = engine.prompts.prompt("greeting", "ru")
            assert await asyncio.wait_for(call.play(prompt), prompt.duration + 5) is True
            await call.hangup("normal")
        assert phone.received_audio_bytes > 0
        assert sessions and sessions[0].stats.received > 0
        result = await attack
        # the right password: refused from an attacking address, fine from the phone's
        assert await asyncio.to_thread(register_once, target, "127.0.0.5", "1001",
                                       "pw1001") == 503
        assert await asyncio.to_thread(register_once, target, "127.0.0.1", "1001",
                                       "pw1001") == 200
    finally:
        await asyncio.to_thread(phone.stop, deregister=False)
        await asyncio.to_thread(other.stop, deregister=False)

    # slowed to the configured rate: the account's allowance plus what drains meanwhile
    allowed = AUTH["account_failures"] * (1 + result.seconds / AUTH["window_s"])
    print(f"\n{result.sent} guesses in {result.seconds:.2f} s from {len(ATTACKERS)} "
          f"addresses: {result.checked} checked (403), {result.refused} refused (503); "
          f"{result.guesses_per_second:.2f} checked/s, configured at most {allowed:.1f} "
          f"in that time ({AUTH['account_failures']} per {AUTH['window_s']} s)")
    assert result.checked <= allowed
    assert result.refused >= 0.9 * result.sent - result.checked
    assert set(result.statuses) <= {403, 503}, result.statuses

    failed = await events_of(engine, "auth.failed")
    blocked = await events_of(engine, "auth.blocked")
    assert len(failed) == result.checked  # few failures: no event was held back
    assert {e.data["account"] for e in failed} == {"1001"}
    assert any(e.data["scope"] == "account" for e in blocked)
    assert all("pw1001" not in repr(e.data) for e in failed + blocked)
    metrics = engine.console.metrics_text().decode()
    m = re.search(r'^bailanys_auth_failures_total\{kind="sip"\} (\S+)$', metrics, re.M)
    assert m and float(m.group(1)) == result.checked
    m = re.search(r'^bailanys_auth_blocked_total\{kind="sip",scope="account"\} (\S+)$',
                  metrics, re.M)
    assert m and float(m.group(1)) >= result.refused


async def test_console_logins_are_throttled_in_the_engine(
        engine_factory: EngineFactory) -> None:
    """The engine's console: wrong logins become 429, events and console counters."""
    port = free_sip_port()
    engine = await engine_factory(auth=AUTH, console={
        "listen": f"127.0.0.1:{port}", "users": {"sup": "supervisor:" + hash_password("pw")}})
    codes = [(await login(port, "sup", f"guess{i}")).status for i in range(5)]
    assert codes == [303, 303, 429, 429, 429]
    assert (await login(port, "sup", "pw", source="127.0.0.2")).status == 303
    blocked = await events_of(engine, "auth.blocked")
    assert [(e.data["kind"], e.data["scope"]) for e in blocked] == [("console", "source")]
    metrics = engine.console.metrics_text().decode()
    assert 'bailanys_auth_failures_total{kind="console"} 3.0' in metrics
    assert 'bailanys_auth_blocked_total{kind="console",scope="source"} 2.0' in metrics
