"""Recorded prompts (issue 21): import of each format, refusals, the manifest, ``prompts list``.

The source is a human Russian prompt of Debian's asterisk-core-sounds-ru-wav,
padded with a second of silence at both ends and turned 26 dB down, then
converted by Debian's ffmpeg to WAV (44.1 kHz stereo), MP3, OGG and M4A.
Each import must give 8 kHz mono 16-bit, trimmed to the speech (plus the
100 ms margins), at −16 dBFS gated RMS (±0.5 dB) unless the −1 dBFS peak
ceiling lowered it.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import correlate

from bailanys import cli
from bailanys.prompts import audio
from bailanys.prompts.importer import (
    import_bytes,
    import_path,
    key_catalog,
    name_key,
    status_rows,
)
from bailanys.prompts.store import RecordedStore
from bailanys.voice.audio import read_wav, write_wav
from tests.test_cli import run

ROOT = Path(__file__).resolve().parents[2]
SOURCE = Path("/usr/share/asterisk/sounds/ru_RU_f_IvrvoiceRU/all-circuits-busy-now.wav")
FFMPEG = shutil.which("ffmpeg")

pytestmark = pytest.mark.skipif(
    FFMPEG is None or not SOURCE.is_file(),
    reason="needs Debian's ffmpeg and asterisk-core-sounds-ru-wav (scripts/ensure-deps.sh)")

KEYS = key_catalog(ROOT / "ivr_flows")
KEY = "hotline-1414.greeting"


def _speech() -> np.ndarray:
    data, channels, rate = read_wav(SOURCE)
    assert channels == 1 and rate == 8000
    return data


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The padded, quiet source in the four formats."""
    folder = tmp_path_factory.mktemp("src")
    quiet = (_speech().astype(np.float64) * 0.05).astype(np.int16)  # -26 dB
    padded = np.concatenate([np.zeros(8000, np.int16), quiet, np.zeros(8000, np.int16)])
    base = folder / "base.wav"
    write_wav(base, padded)
    out: dict[str, Path] = {}
    for ext in ("wav", "mp3", "ogg", "m4a"):
        path = folder / f"{KEY}.ru.{ext}"
        subprocess.run([FFMPEG or "ffmpeg", "-y", "-loglevel", "error", "-i", str(base),
                        "-ar", "44100", "-ac", "2", str(path)], check=True, timeout=30)
        out[ext] = path
    return out


@pytest.mark.parametrize("ext", ["wav", "mp3", "ogg", "m4a"])
def test_each_format_is_stored_8k_mono_trimmed_and_levelled(
        ext: str, sources: dict[str, Path], tmp_path: Path) -> None:
    store = RecordedStore(tmp_path / "prompts")
    [outcome] = import_path(store, KEYS, sources[ext])
    assert outcome.error is None and outcome.entry is not None
    entry = outcome.entry
    stored = tmp_path / "prompts" / f"{KEY}.ru.wav"
    with wave.open(str(stored), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    speech_s = _speech().size / 8000
    # trimmed: the 2 s of padding gone, the speech and at most the margins kept
    assert speech_s - 0.3 <= pcm.size / 8000 <= speech_s + 0.25, (pcm.size / 8000, speech_s)
    assert entry["source_s"] == pytest.approx(speech_s + 2.0, abs=0.05)
    loud, peak = audio.gated_rms_dbfs(pcm), audio.peak_dbfs(pcm)
    assert peak <= audio.PEAK_CEILING_DBFS + 0.05
    assert (abs(loud - audio.TARGET_DBFS) <= audio.TOLERANCE_DB
            or peak >= audio.PEAK_CEILING_DBFS - 0.05), (loud, peak)
    assert entry["loudness_before_dbfs"] < -40 and entry["loudness_after_dbfs"] == pytest.approx(
        loud, abs=0.05)
    # the same sound as the source: correlate with the original speech
    ref = _speech().astype(np.float64)
    corr = correlate(pcm.astype(np.float64), ref, "full", method="fft")
    norm = math.sqrt(float(np.sum(pcm.astype(np.float64) ** 2)) * float(np.sum(ref ** 2)))
    assert float(np.max(corr)) / norm > 0.8
    manifest = json.loads((tmp_path / "prompts" / "manifest.json").read_text("utf-8"))
    saved = manifest["prompts"][KEY]["ru"]
    assert saved["source"] == sources[ext].name and len(saved["sha256"]) == 64
    assert saved["text"] == KEYS[KEY].texts["ru"] and saved["imported_at"]


def test_bad_files_are_refused_and_nothing_is_stored(tmp_path: Path,
                                                     sources: dict[str, Path]) -> None:
    store = RecordedStore(tmp_path / "p")
    wav = sources["wav"].read_bytes()
    cases = {
        "not_audio": (b"this is a text file, not audio\n" * 20, KEY, "ru"),
        "empty": (b"", KEY, "ru"),
        "unknown_key": (wav, "hotline-1414.no_such_node", "ru"),
        "unknown_language": (wav, KEY, "en"),
    }
    for code, (data, key, lang) in cases.items():
        with pytest.raises(audio.PromptImportError) as caught:
            import_bytes(store, KEYS, data, "upload.wav", key, lang)
        assert caught.value.code == code, (code, str(caught.value))
        assert "upload.wav" in str(caught.value)
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(8000, np.int16))
    with pytest.raises(audio.PromptImportError) as caught:
        import_bytes(store, KEYS, silent.read_bytes(), "silent.wav", KEY, "ru")
    assert caught.value.code == "silent"
    long = tmp_path / "long.wav"
    with wave.open(str(long), "wb") as w:  # 121 s at 8 kHz: over the limit
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x10\x00" * 8000 * 121)
    with pytest.raises(audio.PromptImportError) as caught:
        import_bytes(store, KEYS, long.read_bytes(), "long.wav", KEY, "ru")
    assert caught.value.code == "too_long"
    with pytest.raises(audio.PromptImportError) as caught:  # never a path out of the folder
        import_bytes(store, {"../x": KEYS[KEY]}, wav, "up.wav", "../x", "ru")
    assert caught.value.code == "unknown_key"
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").glob("*.wav"))
    with pytest.raises(audio.PromptImportError):
        name_key("greeting.wav")
    assert name_key("hotline-1414.main_menu.kk.m4a") == ("hotline-1414.main_menu", "kk")


def test_cli_import_folder_and_list(tmp_path: Path, sources: dict[str, Path],
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "studio"
    folder.mkdir()
    shutil.copy(sources["mp3"], folder / f"{KEY}.ru.mp3")
    shutil.copy(sources["ogg"], folder / "waiting.queue_timeout.kk.ogg")
    (folder / "notes.ru.wav").write_bytes(b"not a recording")
    env = {"BAILANYS_VOICE_RECORDED_DIR": str(tmp_path / "rec"),
           "BAILANYS_IVR_FLOW_DIR": str(ROOT / "ivr_flows")}
    config = ROOT / "configs" / "default.toml"
    done = run("prompts", "import", str(folder), "--config", str(config), cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # one file refused
    assert "notes.ru.wav: no prompt has the key 'notes'" in done.stderr
    assert "2 recordings stored" in done.stdout and "-> -16.0 dBFS" in done.stdout
    for name, value in env.items():  # the listings in this process (one start-up less)
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert cli.main(["prompts", "list", "--json", "--config", str(config)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    state = {(r["key"], r["lang"]): r["state"] for r in rows}
    assert state[(KEY, "ru")] == "recorded" and state[(KEY, "kk")] == "synthesised"
    assert state[("waiting.queue_timeout", "kk")] == "recorded"
    assert {r["flow"] for r in rows} >= {"hotline-1414", "linetest", "survey", "phrases"}
    assert cli.main(["prompts", "list", "--flow", "hotline-1414", "--lang", "ru", "--config",
                     str(config)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert any(line.startswith(KEY) and "recorded" in line for line in table)
    assert table[-1].startswith("1 of ")


def test_a_changed_text_makes_the_recording_stale() -> None:
    key = KEYS[KEY]
    entries = {KEY: {"ru": {"text": "an older text", "source": "a.wav"}}}
    rows = status_rows([key], entries)
    assert {(r["lang"], r["state"]) for r in rows} == {("ru", "stale"), ("kk", "synthesised")}
