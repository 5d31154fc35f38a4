"""Recorded prompts on disk: ``<dir>/<key>.<lang>.wav`` and ``<dir>/manifest.json``.

``[voice] recorded_dir`` (default ``var/prompts``). Each file is 8 kHz
mono 16-bit PCM, ready for the line (:mod:`bailanys.prompts.audio`). The
manifest has one entry per key and language::

    {"format": 1, "prompts": {"<key>": {"<lang>": {
        "file": "<key>.<lang>.wav", "text": "<what it says>",
        "source": "<the uploaded file's name>", "sha256": "<of the source>",
        "source_s": 4.4, "duration_s": 2.5,
        "loudness_before_dbfs": -45.8, "loudness_after_dbfs": -16.0,
        "peak_after_dbfs": -3.6, "imported_at": "2026-12-04T22:10:00+00:00",
        "user": "<who imported it>"}}}}

The WAV is written first and the manifest after it, each atomically (a
temporary file and ``os.replace``), so a reader sees the old prompt or
the new one, never half of either; a lock file (``.lock``, ``flock``)
keeps two importers from losing each other's entries. Blocking file I/O: run in a thread.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from bailanys.voice.audio import Pcm, write_wav

MANIFEST: Final = "manifest.json"
FORMAT: Final = 1


class RecordedStore:
    """The recorded prompts' folder and manifest."""

    def __init__(self, directory: Path) -> None:
        self.dir = Path(directory)

    @property
    def manifest_path(self) -> Path:
        return self.dir / MANIFEST

    def entries(self) -> dict[str, dict[str, dict[str, Any]]]:
        """key -> language -> entry (empty when nothing was imported, or the file is unreadable)."""
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        prompts = data.get("prompts") if isinstance(data, dict) else None
        if not isinstance(prompts, dict):
            return {}
        return {k: {lang: e for lang, e in v.items() if isinstance(e, dict)}
                for k, v in prompts.items() if isinstance(v, dict)}

    def version(self) -> tuple[int, int] | None:
        """The manifest's (mtime in ns, size), to notice a new import; None when absent."""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def wav(self, entry: Mapping[str, Any]) -> Path:
        return self.dir / Path(str(entry.get("file", ""))).name

    def put(self, key: str, lang: str, pcm: Pcm, entry: Mapping[str, Any]) -> dict[str, Any]:
        """Store ``pcm`` for ``key`` in ``lang`` with its manifest ``entry``; returns the entry."""
        name = f"{key}.{lang}.wav"
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".lock", "a") as lock:  # the CLI and the console may both import
            fcntl.flock(lock, fcntl.LOCK_EX)
            write_wav(self.dir / name, pcm)
            entries = self.entries()
            stored = {"file": name, **entry}
            entries.setdefault(key, {})[lang] = stored
            body = json.dumps({"format": FORMAT, "prompts": entries}, ensure_ascii=False,
                              indent=1, sort_keys=True)
            _write_atomic(self.manifest_path, body.encode("utf-8"))
        return stored


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
