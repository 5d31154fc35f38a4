"""A failed Engine.start() stops what it started (issue 13 item 4).

Before, a later step's failure (a bad queues file, a port in use) left the
store's aiosqlite thread, the TTS worker, the console's socket and the media
clock running, and ``bailanys serve`` never exited.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from bailanys.analytics.settings import AnalyticsConfig
from bailanys.config import (
    AsrConfig,
    Config,
    ConsoleConfig,
    IvrConfig,
    MediaConfig,
    QueueFileConfig,
    RobotConfig,
    SipConfig,
    StoreConfig,
    VoiceConfig,
)
from bailanys.engine.core import Engine
from bailanys.errors import ConfigError, StartupError

PROMPT_DIR = Path(__file__).resolve().parents[2] / "voice_models" / "prompts"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(tmp_path: Path, *, sip_port: int, console_port: int, queue_file: str = "") -> Config:
    empty = tmp_path / "empty"
    empty.mkdir(exist_ok=True)
    return Config(
        sip=SipConfig(listen=f"127.0.0.1:{sip_port}"),
        media=MediaConfig(rtp_ports="41000-41099"),
        store=StoreConfig(path=str(tmp_path / "b.db")),
        voice=VoiceConfig(prompt_dir=str(PROMPT_DIR)),
        ivr=IvrConfig(flow_dir=str(empty), reload_seconds=0),
        asr=AsrConfig(model_dir=str(empty)),
        queue=QueueFileConfig(file=queue_file),
        console=ConsoleConfig(listen=f"127.0.0.1:{console_port}"),
        robot=RobotConfig(demo_db=str(tmp_path / "robot.db"), faq=""),
        analytics=AnalyticsConfig(workers=0),  # no transcription worker processes here
    )


def new_threads(before: set[threading.Thread]) -> list[str]:
    """Threads started since ``before`` that would hold the interpreter's exit.

    The event loop's default executor (``asyncio_N``) is shut down by
    ``asyncio.run`` itself; anything else must be gone (an aiosqlite thread
    answers ``close()`` just before it returns: a moment's grace).
    """
    left = [t for t in threading.enumerate()
            if t not in before and not t.daemon and not t.name.startswith("asyncio_")]
    for t in left:
        t.join(1.0)
    return [t.name for t in left if t.is_alive()]


def can_bind(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


async def test_sip_port_in_use_undoes_everything(tmp_path: Path) -> None:
    """The last step fails: every earlier part (console included) is stopped."""
    console_port = free_port()
    before = set(threading.enumerate())
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        sip_port = int(taken.getsockname()[1])
        engine = Engine(config(tmp_path, sip_port=sip_port, console_port=console_port))
        with pytest.raises(StartupError) as caught:
            await engine.start()
    assert str(caught.value).startswith(f"sip.listen 127.0.0.1:{sip_port}: cannot listen: ")
    assert "(is another engine running?)" in str(caught.value)
    assert not engine.started
    assert new_threads(before) == []  # the store's aiosqlite thread is closed
    assert can_bind(console_port, socket.SOCK_STREAM)  # the console stopped listening
    assert not engine.hub.clock._running
    assert not engine.renderer._worker.alive
    await engine.stop()  # harmless after a failed start


async def test_console_port_in_use(tmp_path: Path) -> None:
    sip_port = free_port(socket.SOCK_DGRAM)
    before = set(threading.enumerate())
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        console_port = int(taken.getsockname()[1])
        engine = Engine(config(tmp_path, sip_port=sip_port, console_port=console_port))
        with pytest.raises(StartupError, match=f"console.listen 127.0.0.1:{console_port}: "):
            await engine.start()
    assert new_threads(before) == []
    assert can_bind(sip_port, socket.SOCK_DGRAM)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[queues.general]\nbogus = 1\n", "queues.general.bogus: unknown key"),
        (None, "queue.file: no such file: "),
    ],
)
async def test_bad_or_missing_queue_file(tmp_path: Path, content: str | None,
                                         message: str) -> None:
    queues = tmp_path / "queues.toml"
    if content is not None:
        queues.write_text(content, encoding="utf-8")
    before = set(threading.enumerate())
    engine = Engine(config(tmp_path, sip_port=free_port(socket.SOCK_DGRAM),
                           console_port=free_port(), queue_file=str(queues)))
    with pytest.raises(ConfigError, match=message):
        await engine.start()
    assert new_threads(before) == []


async def test_empty_queue_file_setting_runs_without_queues(tmp_path: Path) -> None:
    engine = Engine(config(tmp_path, sip_port=free_port(socket.SOCK_DGRAM),
                           console_port=free_port(), queue_file=""))
    await engine.start()
    try:
        assert engine.queues.config is None
    finally:
        await engine.stop()
