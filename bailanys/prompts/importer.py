"""Importing recordings under their keys, and which prompts are recorded (blocking; threads).

The command line (:mod:`bailanys.prompts.commands`) and the console's page
(:mod:`bailanys.prompts.web`) both come here. An import checks, in order,
that the key is known (:mod:`bailanys.prompts.keys`, from the flows of
``ivr.flow_dir`` and the engine's own), that the key is said in that
language, and that the file is a usable recording
(:mod:`bailanys.prompts.audio`); any refusal is a
:class:`PromptImportError` with a code and a message, and nothing is
stored. A folder is imported file by file, the key and the language read
from each name: ``<key>.<lang>.<ext>`` (``hotline-1414.greeting.ru.mp3``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from bailanys.ivr.model import Flow
from bailanys.ivr.registry import load_dir
from bailanys.prompts.audio import PromptImportError, prepare
from bailanys.prompts.keys import KEY_RE, PromptKey, catalog
from bailanys.prompts.store import RecordedStore
from bailanys.web.limits import MAX_AUDIO_UPLOAD_BYTES

#: The formats taken (ffmpeg reads more; these are what a studio sends).
EXTENSIONS: Final = (".wav", ".mp3", ".ogg", ".m4a")
#: The largest file taken (the console's upload limit too).
MAX_FILE_BYTES: Final = MAX_AUDIO_UPLOAD_BYTES
LANGUAGES: Final = ("kk", "ru")
#: The flows the engine runs itself (``engine/flowfiles.py``), beside the configured ones.
BUILTIN_FLOWS: Final = Path(__file__).resolve().parents[2] / "ivr_flows"


def builtin_flows() -> list[Flow]:
    """The engine's own flows (line test, survey), good ones only."""
    return [f for f in load_dir(BUILTIN_FLOWS).flows.values()
            if Path(f.file).name in ("linetest.yaml", "survey.yaml")]


def flows_of(flow_dir: Path) -> list[Flow]:
    """The flows of ``flow_dir`` and the engine's own (line test, survey), good ones only."""
    flows = list(load_dir(flow_dir).flows.values()) if flow_dir.is_dir() else []
    names = {f.name for f in flows}
    return flows + [f for f in builtin_flows() if f.name not in names]


def key_catalog(flow_dir: Path, languages: Sequence[str] = LANGUAGES) -> dict[str, PromptKey]:
    return catalog(flows_of(flow_dir), languages)


def name_key(file_name: str) -> tuple[str, str]:
    """(key, language) of ``<key>.<lang>.<ext>``; refuses a name that is not one."""
    parts = Path(file_name).name.split(".")
    if len(parts) < 3 or parts[-2] not in LANGUAGES:
        raise PromptImportError("bad_name", f"{file_name}: name it <key>.<lang>.<ext>, "
                                            "e.g. hotline-1414.greeting.ru.wav")
    return ".".join(parts[:-2]), parts[-2]


def import_bytes(store: RecordedStore, keys: Mapping[str, PromptKey], data: bytes, name: str,
                 key: str, lang: str, *, user: str = "",
                 now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
                 ) -> dict[str, Any]:
    """Check, prepare and store one recording; its manifest entry."""
    found = keys.get(key) if KEY_RE.fullmatch(key) else None  # a file is named by its key
    if found is None:
        raise PromptImportError("unknown_key", f"{name}: no prompt has the key {key!r} "
                                               "(bailanys prompts list shows them)")
    if lang not in found.texts:
        said = ", ".join(sorted(found.texts)) or "none"
        raise PromptImportError("unknown_language", f"{name}: {key} is not said in {lang!r} "
                                                    f"(languages: {said})")
    if len(data) > MAX_FILE_BYTES:
        raise PromptImportError("too_large", f"{name}: over {MAX_FILE_BYTES // 2**20} MiB")
    ready = prepare(data, name)  # PromptImportError: not a usable recording
    entry = {"text": found.texts[lang], "source": Path(name).name,
             "sha256": hashlib.sha256(data).hexdigest(), "source_s": round(ready.source_s, 3),
             "duration_s": round(ready.duration_s, 3),
             "loudness_before_dbfs": ready.loudness_before_dbfs,
             "loudness_after_dbfs": ready.loudness_after_dbfs,
             "peak_after_dbfs": ready.peak_after_dbfs, "gain_db": ready.gain_db,
             "imported_at": now().isoformat(timespec="seconds"), "user": user}
    return {"key": key, "lang": lang, **store.put(key, lang, ready.pcm, entry)}


@dataclass(frozen=True)
class Outcome:
    """One file of an import: its entry, or why it was refused."""

    file: str
    entry: dict[str, Any] | None = None
    error: PromptImportError | None = None


def import_path(store: RecordedStore, keys: Mapping[str, PromptKey], path: Path, *,
                key: str | None = None, lang: str | None = None, user: str = ""
                ) -> list[Outcome]:
    """A file (``key`` and ``lang`` given, or read from its name), or a folder's audio files."""
    if path.is_dir():
        if key is not None:
            raise PromptImportError("key_with_folder",
                                    "--key names one file's prompt; a folder's files are "
                                    "named <key>.<lang>.<ext>")
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in EXTENSIONS)
        if not files:
            raise PromptImportError("empty_folder", f"{path}: no {', '.join(EXTENSIONS)} files")
        return [_one(store, keys, p, None, lang, user) for p in files]
    return [_one(store, keys, path, key, lang, user)]


def _one(store: RecordedStore, keys: Mapping[str, PromptKey], path: Path, key: str | None,
         lang: str | None, user: str) -> Outcome:
    try:
        if key is None:
            key, named_lang = name_key(path.name)
            lang = lang or named_lang
        if lang is None:
            raise PromptImportError("no_language", f"{path}: say the language (--lang kk|ru)")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PromptImportError("unreadable", f"{path}: {exc.strerror or exc}") from None
        return Outcome(str(path), entry=import_bytes(store, keys, data, str(path), key, lang,
                                                     user=user))
    except PromptImportError as exc:
        return Outcome(str(path), error=exc)


def status_rows(keys: Iterable[PromptKey], entries: Mapping[str, Mapping[str, Mapping[str, Any]]],
                *, flow: str | None = None, lang: str | None = None) -> list[dict[str, Any]]:
    """One row per key and language: ``recorded`` (a recording of this text plays,
    ``via`` the key it was imported for), ``stale`` (recorded, but the text has
    changed since: synthesised), or ``synthesised``."""
    by_text: dict[tuple[str, str], tuple[str, Mapping[str, Any]]] = {}
    for k, langs in entries.items():
        for lg, entry in langs.items():
            by_text.setdefault((lg, str(entry.get("text", ""))), (k, entry))
    rows: list[dict[str, Any]] = []
    for item in keys:
        if flow is not None and item.flow != flow:
            continue
        for lg, text in item.texts.items():
            if lang is not None and lg != lang:
                continue
            own = entries.get(item.key, {}).get(lg)
            hit = by_text.get((lg, text))
            state = "recorded" if hit else "stale" if own else "synthesised"
            entry = hit[1] if hit else own or {}
            rows.append({"key": item.key, "flow": item.flow, "lang": lg, "state": state,
                         "text": text, "via": hit[0] if hit else None,
                         "source": entry.get("source"), "duration_s": entry.get("duration_s"),
                         "imported_at": entry.get("imported_at")})
    return rows
