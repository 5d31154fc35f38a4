"""Fixtures for the engine's real-peer tests: an in-process engine on loopback.

``engine`` starts :class:`~bailanys.engine.core.Engine` on the test's own
event loop (pytest-asyncio auto mode), on a SIP port free for both UDP and
TCP and an RTP range of its own, with a fresh SQLite store in ``tmp_path``.
SIPp then runs through ``run_sipp_async`` so the loop keeps serving.
``engine_factory`` builds one with other settings (flood limit, ring delay).

Prompts render into ``voice_models/prompts`` (gitignored), the same cache
``bailanys serve`` uses, so they render once and every later test (and test
session) only loads them.

Every event the engine appends is also kept in ``engine.appended`` (a
listener subscribed before ``start()``), so a test can check that the store
holds exactly what was appended.

The voice robot's FAQ matcher (``bailanys.engine.robot._load_matcher``) is
built once per FAQ file and shared by every engine of the session
(:func:`_one_faq_matcher`): each engine start parsed the same 52-entry YAML
and calibrated the same matcher again (~0.3 s idle, a second under load).
A FAQ file a test writes or changes (another path, size or mtime) and one
that does not load still go through the real loader.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import socket
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

_ROOT = Path(__file__).resolve().parents[2]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from bailanys.analytics.settings import AnalyticsConfig  # noqa: E402
from bailanys.cases.settings import CasesFileConfig  # noqa: E402
from bailanys.cluster.proxy import ClusterConfig  # noqa: E402
from bailanys.config import (  # noqa: E402
    PROJECT_ROOT,
    AsrConfig,
    AuthConfig,
    Config,
    ConsoleConfig,
    EngineConfig,
    IvrConfig,
    MediaConfig,
    QueueFileConfig,
    RegistrarConfig,
    RobotConfig,
    SipConfig,
    StoreConfig,
    VoiceConfig,
)
from bailanys.engine import robot as engine_robot  # noqa: E402
from bailanys.engine.core import Engine  # noqa: E402
from bailanys.media.session import RtpSession  # noqa: E402
from bailanys.monitor.settings import MonitorConfig  # noqa: E402
from bailanys.qa.settings import QaConfig  # noqa: E402
from bailanys.store import Store  # noqa: E402
from bailanys.store.events import Event  # noqa: E402
from tests.peers.sipp import SCENARIOS, SippResult, find_sipp, run_sipp_async  # noqa: E402

#: One prompt cache for every test and every session (gitignored).
PROMPT_DIR = PROJECT_ROOT / "voice_models" / "prompts"
SCORECARDS = PROJECT_ROOT / "configs" / "scorecards"
#: The registrar's one operator in these tests.
USERS = {"1001": "pw1001", "1002": "pw1002"}
#: Seconds of silence before the demo flow gives up; short keeps failures fast.
NO_INPUT_S = 3
#: RTP ports per engine: the flood test holds a few dozen calls at once.
RTP_SPAN = 400
_RTP_BASE = 30000 + 2 * random.randrange(0, 2000)  # apart from a parallel session
_rtp_blocks = itertools.count()

needs_sipp = pytest.mark.skipif(find_sipp() is None, reason="sipp is not installed")


_real_load_matcher = engine_robot._load_matcher
_matchers: dict[tuple[str, str, int, int], Any] = {}
_matchers_lock = threading.Lock()


def _shared_load_matcher(faq: str, cache: str,
                         progress: Callable[[int, int], None] | None = None) -> Any:
    """``_load_matcher``, built once per FAQ file (path, size, mtime) and cache path.

    The matcher is read-only once built and thread-safe (``Matcher``'s
    docstring), so engines may share it; a FAQ that fails to load is not kept.
    """
    try:
        st = os.stat(faq)
    except OSError:
        return _real_load_matcher(faq, cache, progress)
    key = (os.path.abspath(faq), os.path.abspath(cache), st.st_mtime_ns, st.st_size)
    with _matchers_lock:
        if key not in _matchers:
            matcher = _real_load_matcher(faq, cache, progress)
            if matcher is None:
                return None
            _matchers[key] = matcher
        return _matchers[key]


@pytest.fixture(scope="session", autouse=True)
def _one_faq_matcher() -> Iterator[None]:
    """Every engine of the session shares one matcher per FAQ file (module docstring)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine_robot, "_load_matcher", _shared_load_matcher)
        yield


def free_sip_port(host: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on ``host`` (the engine binds both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no port free for both UDP and TCP")


def next_rtp_range() -> str:
    """A distinct even RTP range per engine (the hub skips ports in use anyway)."""
    block = next(_rtp_blocks) % ((60000 - _RTP_BASE) // RTP_SPAN)
    lo = _RTP_BASE + block * RTP_SPAN
    return f"{lo}-{lo + RTP_SPAN - 1}"


class EngineUnderTest(Engine):
    """The engine plus what a test needs to reach it."""

    appended: list[Event]

    @property
    def target(self) -> str:
        """``host:port`` for SIPp."""
        return f"{self.config.sip.host}:{self.transport.port}"


EngineFactory = Callable[..., Awaitable[EngineUnderTest]]


#: Debian's Chromium: the browser tests drive it through Playwright.
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, through Playwright; the test is skipped
    where either is missing. Audio may start without a click (the pages'
    players are driven by the tests)."""
    if not CHROMIUM.is_file():  # noqa: ASYNC240 (one stat, before anything runs)
        pytest.skip(f"no Chromium at {CHROMIUM}")
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--autoplay-policy=no-user-gesture-required"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any) -> Any:
    """A page of :func:`browser` at 1366x768 (the console's smallest target)."""
    return await browser.new_page(viewport={"width": 1366, "height": 768})


@pytest.fixture
async def engine_factory(tmp_path: Path) -> AsyncIterator[EngineFactory]:
    """``await engine_factory(sip=..., engine=...)``: started engines, stopped at teardown.

    Keyword arguments are extra fields for ``SipConfig`` (``sip``),
    ``EngineConfig`` (``engine``), ``MediaConfig`` (``media``), ``IvrConfig``
    (``ivr``), ``AsrConfig`` (``asr``), ``AuthConfig`` (``auth``) and
    ``AnalyticsConfig`` (``analytics``; off by default here), ``QaConfig``
    (``qa``), ``CasesFileConfig`` (``cases``; the salt file in the test's
    folder), ``VoiceConfig`` (``voice``; recorded prompts in the test's
    folder) and ``MonitorConfig`` (``monitor``) as dicts; ``sip_users`` adds registrar users;
    ``store_url`` (issue 22) makes the engine open that store itself (PostgreSQL);
    ``cluster`` the fields of ``ClusterConfig`` (``[cluster]``).
    """
    started: list[tuple[EngineUnderTest, Store | None]] = []

    async def make(
        *,
        sip: dict[str, Any] | None = None,
        engine: dict[str, Any] | None = None,
        media: dict[str, Any] | None = None,
        ivr: dict[str, Any] | None = None,
        asr: dict[str, Any] | None = None,
        queue: dict[str, Any] | None = None,
        console: dict[str, Any] | None = None,
        robot: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
        analytics: dict[str, Any] | None = None,
        qa: dict[str, Any] | None = None,
        cases: dict[str, Any] | None = None,
        sip_users: dict[str, str] | None = None,
        monitor: dict[str, Any] | None = None,
        store_path: str | None = None,
        voice: dict[str, Any] | None = None,
        store_url: str | None = None,
        cluster: dict[str, Any] | None = None,
    ) -> EngineUnderTest:
        n = len(started)
        no_flows = tmp_path / "no-flows"
        no_flows.mkdir(exist_ok=True)
        config = Config(
            sip=SipConfig(**{"listen": f"127.0.0.1:{free_sip_port()}", **(sip or {})}),
            media=MediaConfig(
                rtp_ports=next_rtp_range(), record_dir=str(tmp_path / "rec"), **(media or {})
            ),
            store=StoreConfig(path=store_path or str(tmp_path / f"b{n}.db"), batch_ms=20,
                              url=store_url or ""),
            # Recorded prompts (issue 21) in the test's folder, not var/prompts.
            voice=VoiceConfig(**{"prompt_dir": str(PROMPT_DIR),
                                 "recorded_dir": str(tmp_path / "recorded"), **(voice or {})}),
            registrar=RegistrarConfig(users={**USERS, **(sip_users or {})}),
            auth=AuthConfig(**(auth or {})),
            engine=EngineConfig(
                # drain_seconds 0: a test ending with calls up stops at once.
                **{"no_input_seconds": NO_INPUT_S, "numbers": ("1414",), "drain_seconds": 0,
                   **(engine or {})}
            ),
            # By default no flows (1414 is the built-in demo) and no speech models.
            ivr=IvrConfig(**{"flow_dir": str(no_flows), "reload_seconds": 0, **(ivr or {})}),
            asr=AsrConfig(**{"model_dir": str(no_flows), **(asr or {})}),
            # By default no queues (queue.file = ""): queue nodes fall back.
            queue=QueueFileConfig(**{"file": "", **(queue or {})}),
            # By default no console server (the KPI fold still runs).
            console=ConsoleConfig(**{"listen": "", **(console or {})}),
            robot=RobotConfig(**{"demo_db": str(tmp_path / f"robot{n}.db"), **(robot or {})}),
            # By default no speech analytics: no whole-call recordings, no
            # jobs, no worker processes (issue 13's recording tests keep
            # their bridge-only files, and no test pays for a worker start).
            analytics=AnalyticsConfig(**{"enabled": False, "workers": 0, **(analytics or {})}),
            # QA scores what the workers transcribe (the project's scorecards
            # unless a test names its own folder).
            qa=QaConfig(**{"scorecard_dir": str(SCORECARDS), **(qa or {})}),
            # The requests' salt of this test, not var/cases.salt of the checkout.
            cases=CasesFileConfig(**{"salt_file": str(tmp_path / "cases.salt"),
                                     **(cases or {})}),
            monitor=MonitorConfig(**(monitor or {})),  # issue 21: the supervisors' phones
            cluster=ClusterConfig(**(cluster or {})),  # issue 22: [cluster]
        )
        if store_url:  # issue 22: the engine opens [store] url itself, as `serve` does
            own = EngineUnderTest(config)
            own.appended = []
            await own.start()
            started.append((own, None))
            return own
        store = await Store.open(config.store.path, batch_interval=0.02)
        eng = EngineUnderTest(config, store=store)
        eng.appended = []
        store.events.subscribe(eng.appended.append)
        try:
            await eng.start()
        except BaseException:
            await store.close()
            raise
        started.append((eng, store))
        return eng

    try:
        yield make
    finally:
        for eng, store in reversed(started):
            try:
                await eng.stop()
            finally:
                if store is not None:
                    await store.close()


@pytest.fixture
async def engine(engine_factory: EngineFactory) -> EngineUnderTest:
    """An engine with the test defaults (demo on 1414, user 1001, no ring delay)."""
    return await engine_factory()


# ------------------------------------------------------------ helpers for the tests

DEMO_DIGITS = ["2", "1", "2", "3", "#"]


async def sipp(
    engine: EngineUnderTest,
    scenario: str,
    cwd: Path,
    *,
    timeout_s: float = 30,
    **kw: object,
) -> SippResult:
    """Run ``scenario`` from ``tests/peers/scenarios`` against ``engine``."""
    return await run_sipp_async(
        SCENARIOS / scenario,
        engine.target,
        cwd=cwd,
        timeout_s=timeout_s,
        **kw,  # type: ignore[arg-type]
    )


async def events_of(engine: EngineUnderTest, type: str | None = None) -> list[Event]:
    await engine.events.flush()
    return await engine.events.query(type=type)


async def wait_until_idle(engine: EngineUnderTest, within: float = 10.0) -> bool:
    """Poll until the engine holds no call and no media session; False after ``within`` s."""
    for _ in range(int(within / 0.05)):
        if not engine.calls and not engine.hub.sessions:
            return True
        await asyncio.sleep(0.05)
    return False


@contextlib.asynccontextmanager
async def session_watch(engine: EngineUnderTest) -> AsyncIterator[list[RtpSession]]:
    """Collect every RTP session the engine opens meanwhile (stats stay readable after close)."""
    seen: list[RtpSession] = []

    async def poll() -> None:
        while True:
            for s in engine.hub.sessions:
                if not any(s is x for x in seen):
                    seen.append(s)
            await asyncio.sleep(0.02)

    task = asyncio.get_running_loop().create_task(poll())
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def by_call(events: Sequence[Event]) -> dict[str | None, list[Event]]:
    out: dict[str | None, list[Event]] = {}
    for e in events:
        out.setdefault(e.call_id, []).append(e)
    return out


async def assert_demo_call(
    engine: EngineUnderTest, *, cause: str = "normal", source: str = "rfc4733"
) -> str:
    """One demo call took place: offered, answered, digits 2 1 2 3 #, ended with ``cause``.

    Returns its call id.
    """
    offered = await events_of(engine, "call.offered")
    assert len(offered) == 1, offered
    call_id = offered[0].call_id
    assert call_id
    dtmf = await events_of(engine, "dtmf")
    assert [e.data["digit"] for e in dtmf] == DEMO_DIGITS, dtmf
    assert {e.data["source"] for e in dtmf} == {source}, dtmf
    assert {e.call_id for e in dtmf} == {call_id}
    answered = await events_of(engine, "call.answered")
    assert [e.call_id for e in answered] == [call_id]
    lang = await events_of(engine, "call.language")
    assert [(e.call_id, e.data["language"]) for e in lang] == [(call_id, "ru")]
    ended = await events_of(engine, "call.ended")
    assert [e.call_id for e in ended] == [call_id], ended
    assert ended[0].data["reason"] == cause, ended  # the detail; "cause" is who
    assert ended[0].data["duration"] > 0
    return call_id


@contextlib.contextmanager
def spy_sends(engine: EngineUnderTest) -> Iterator[list[tuple[bytes, tuple[str, int], str]]]:
    """Record every SIP message the engine's transport sends: ``(bytes, addr, transport)``."""
    sent: list[tuple[bytes, tuple[str, int], str]] = []
    real = engine.transport.send

    def send(data: bytes, addr: tuple[str, int], transport: str = "UDP") -> None:
        sent.append((data, addr, transport))
        real(data, addr, transport)

    engine.transport.send = send  # type: ignore[method-assign]
    try:
        yield sent
    finally:
        del engine.transport.send  # back to the class's method


def statuses(sent: Sequence[tuple[bytes, tuple[str, int], str]]) -> list[int]:
    """Status codes of the responses among ``spy_sends`` records."""
    return [int(d.split(b" ", 2)[1]) for d, _, _ in sent if d.startswith(b"SIP/2.0 ")]
