"""A real call hears the recorded prompt, not the synthesised one (issue 21).

The engine starts with a one-node flow whose Russian prompt is rendered by
espeak-ng. While it runs, a human recording (Debian's
asterisk-core-sounds-ru-wav, padded with silence, 20 dB down, as MP3 made
by ffmpeg) is imported under the prompt's key, as ``bailanys prompts
import`` does: the engine picks it up from the manifest without a restart.
A pyVoIP caller then dials the flow's number and keeps what it receives
(PCMU, decoded by pyVoIP to 8-bit linear). What it heard correlates with
the stored recording (normalised cross-correlation > 0.6) and not with the
espeak rendering of the same text (< 0.3).
"""

from __future__ import annotations

import asyncio
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import correlate

from bailanys.prompts.importer import import_path, key_catalog
from bailanys.prompts.store import RecordedStore
from bailanys.voice.audio import load_prompt, read_wav, write_wav
from tests.peers.conftest import EngineFactory, free_sip_port
from tests.peers.softphone import PyVoipAgent

pytestmark = pytest.mark.peer

SOURCE = Path("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/all-circuits-busy-now.wav")
TEXT = "Все линии заняты. Пожалуйста, перезвоните позже."
FLOW = f"""
flow: recorded-test
numbers: ["1417"]
languages: [ru]
start: hello
nodes:
  hello:
    type: say
    text: {{ru: "{TEXT}"}}
    next: bye
  bye:
    type: hangup
"""


def _recording(folder: Path) -> Path:
    data, _, _ = read_wav(SOURCE)
    quiet = (data.astype(np.float64) * 0.1).astype(np.int16)
    write_wav(folder / "src.wav", np.concatenate([np.zeros(6000, np.int16), quiet,
                                                   np.zeros(6000, np.int16)]))
    out = folder / "recorded-test.hello.ru.mp3"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(folder / "src.wav"),
                    str(out)], check=True, timeout=30)
    return out


def _similarity(heard: np.ndarray, reference: np.ndarray) -> float:
    """Peak of the normalised cross-correlation of ``reference`` within ``heard``."""
    h = heard.astype(np.float64) - float(np.mean(heard))
    r = reference.astype(np.float64) - float(np.mean(reference))
    corr = correlate(h, r, "valid" if h.size >= r.size else "full", method="fft")
    window = np.sqrt(np.convolve(h ** 2, np.ones(r.size), "valid")) if h.size >= r.size \
        else np.full(corr.size, math.sqrt(float(np.sum(h ** 2))))
    score = np.abs(corr) / (np.maximum(window, 1e-9) * math.sqrt(float(np.sum(r ** 2))))
    return float(np.max(score))


@pytest.mark.skipif(shutil.which("ffmpeg") is None or not SOURCE.is_file(),
                    reason="needs Debian's ffmpeg and asterisk-core-sounds-ru-wav")
async def test_a_call_hears_the_recording_imported_while_the_engine_runs(
        engine_factory: EngineFactory, tmp_path: Path) -> None:
    from pyVoIP.VoIP import CallState

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "recorded.yaml").write_text(FLOW, encoding="utf-8")
    eng = await engine_factory(ivr={"flow_dir": str(flows)}, engine={"numbers": ()})
    synthesised = load_prompt(eng.renderer.path_for("ru", TEXT))  # what TTS would say
    mp3 = await asyncio.to_thread(_recording, tmp_path)
    store = RecordedStore(Path(eng.config.voice.recorded_dir))
    keys = await asyncio.to_thread(key_catalog, flows, ("ru",))
    [done] = await asyncio.to_thread(import_path, store, keys, mp3)
    assert done.error is None, done.error
    recorded = load_prompt(store.wav(done.entry or {}))
    for _ in range(100):  # the engine's watcher reloads the manifest (no restart)
        if ("ru", TEXT) in eng.prompts.recorded():
            break
        await asyncio.sleep(0.05)
    assert ("ru", TEXT) in eng.prompts.recorded()

    caller = PyVoipAgent("127.0.0.1", eng.transport.port, "1002", "pw1002", free_sip_port(),
                         64600, 64899)
    await asyncio.to_thread(caller.start)
    assert caller.registered
    await asyncio.sleep(1.1)  # pyVoIP's SIP receive loop starts 1 s after start()
    try:
        call = await asyncio.to_thread(caller.phone.call, "1417")
        for _ in range(150):  # answered, the prompt played, then the flow hangs up
            if call.state == CallState.ENDED:
                break
            await asyncio.sleep(0.1)
        assert call.state == CallState.ENDED
        received = call.RTPClients[0].pmin.buffer.getvalue()  # every frame pyVoIP got
    finally:
        await asyncio.to_thread(caller.stop, deregister=False)
    heard = (np.frombuffer(received, np.uint8).astype(np.int16) - 128) * 256
    assert heard.size > recorded.size * 0.9, (heard.size, recorded.size)
    with_recording = _similarity(heard, recorded)
    with_tts = _similarity(heard, synthesised)
    print(f"similarity: recording {with_recording:.2f}, tts {with_tts:.2f}")
    assert with_recording > 0.6 and with_tts < 0.3, (with_recording, with_tts)
