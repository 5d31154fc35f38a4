"""The Prompts page in Debian's Chromium (Playwright, headless), at 1366x768 (issue 21).

An administrator logs in, opens /prompts, finds the 1414 flow's greeting
synthesised in Russian, uploads an MP3 (made by ffmpeg from a human Russian
prompt with silence around it) on its row, and sees the row turn recorded
with the levelled loudness in the status line, in Kazakh then Russian; a
file that is not audio is refused with the translated message and nothing
is stored. A supervisor is refused the page and the upload (403) by the
web layer's one role check. The recording is on disk at 8 kHz mono.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bailanys.console.server import ConsoleServer
from bailanys.prompts.importer import flows_of
from bailanys.prompts.store import RecordedStore
from bailanys.prompts.web import PromptsPort, prompts_routes
from bailanys.voice.audio import read_wav, write_wav
from tests.console.helpers import FakeApi, users
from tests.peers.test_reports_page import log_in, watch

pytestmark = pytest.mark.peer

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/all-circuits-busy-now.wav")
KEY = "hotline-1414.greeting"


def _mp3(folder: Path) -> Path:
    data, _, _ = read_wav(SOURCE)
    quiet = (data.astype(np.float64) * 0.1).astype(np.int16)
    write_wav(folder / "src.wav", np.concatenate([np.zeros(4000, np.int16), quiet,
                                                   np.zeros(4000, np.int16)]))
    out = folder / "greeting-take3.mp3"
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(folder / "src.wav"),
                    str(out)], check=True, timeout=30)
    return out


@pytest.mark.skipif(shutil.which("ffmpeg") is None or not SOURCE.is_file(),
                    reason="needs Debian's ffmpeg and asterisk-core-sounds-ru-wav")
async def test_an_admin_uploads_a_recording_and_a_supervisor_may_not(
        tmp_path: Path, browser: Any) -> None:
    from playwright.async_api import expect

    mp3 = await asyncio.to_thread(_mp3, tmp_path)
    (tmp_path / "notes.txt").write_text("not a recording\n" * 50, encoding="utf-8")
    flows = await asyncio.to_thread(flows_of, ROOT / "ivr_flows")
    store = RecordedStore(tmp_path / "rec")
    server = ConsoleServer("127.0.0.1", 0, users(), FakeApi(), extra_routes=prompts_routes(
        PromptsPort(store, lambda: flows, ("kk", "ru"))))
    await server.start()
    problems: list[str] = []
    try:
        base = f"http://127.0.0.1:{server.port}"
        page = await browser.new_page(viewport={"width": 1366, "height": 768})
        watch(page, problems)
        await log_in(page, base, "root")
        # the board links the page for an administrator (hidden for the others:
        # tests/console/test_browser.py)
        await page.goto(f"{base}/")
        await expect(page.locator('a[href="/prompts"]')).to_be_visible()
        await page.goto(f"{base}/prompts")
        row = page.locator(f'tr[data-key="{KEY}"][data-lang="ru"]')
        await expect(row.locator("td.state")).to_have_text("Синтезделген")
        await expect(row.locator("label.pick .chosen")).to_have_text("Файлды таңдау")
        # a file that is not audio: refused, translated, nothing stored
        await row.locator("input[type=file]").set_input_files(str(tmp_path / "notes.txt"))
        await row.locator("button.upload").click()
        await expect(page.locator("#pr-error")).to_have_text(
            "Бұл дыбыс файлы емес (WAV, MP3, OGG немесе M4A керек)")
        assert not store.entries()
        await row.locator("input[type=file]").set_input_files(str(mp3))
        await expect(row.locator("label.pick .chosen")).to_have_text("greeting-take3.mp3")
        await row.locator("button.upload").click()
        await expect(row.locator("td.state")).to_have_text("Жазылған")
        await expect(page.locator("#pr-error")).to_be_hidden()
        await expect(page.locator("#pr-status")).to_contain_text(f"{KEY} (ru) жазбасы сақталды")
        await expect(page.locator("#pr-status")).to_contain_text("16 dBFS")
        await expect(row.locator("td.source")).to_contain_text("greeting-take3.mp3")
        await page.click("button[data-lang=ru]")
        await expect(row.locator("td.state")).to_have_text("Записано")
        await expect(page.locator("#pr-status")).to_contain_text(f"Запись {KEY} (ru) сохранена")
        await page.select_option("#pr-filter select[name=lang]", "kk")
        await expect(page.locator(f'tr[data-key="{KEY}"][data-lang="ru"]')).to_have_count(0)
        await expect(page.locator(f'tr[data-key="{KEY}"][data-lang="kk"] td.state')
                     ).to_have_text("Синтез")
        await page.close()
        entry = store.entries()[KEY]["ru"]
        assert entry["source"] == "greeting-take3.mp3" and entry["user"] == "root"
        with wave.open(str(store.wav(entry)), "rb") as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)

        # a supervisor: the page and the upload are refused by the role check
        page = await browser.new_page(viewport={"width": 1366, "height": 768})
        await log_in(page, base, "aigerim")
        answer = await page.goto(f"{base}/prompts")
        assert answer is not None and answer.status == 403
        status = await page.evaluate(
            """async (key) => (await fetch(`/api/prompts/upload?key=${key}&lang=kk&name=a.mp3`,
                 {method: "POST", body: new Uint8Array(16)})).status""", KEY)
        assert status == 403
        listed = await page.evaluate("async () => (await fetch('/api/prompts')).status")
        assert listed == 403
        await page.close()
        assert "kk" not in store.entries()[KEY]
    finally:
        await server.stop()
    assert not problems, problems
