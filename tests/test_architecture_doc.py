"""``docs/architecture.md`` names only files that exist.

Every path or file name written in backticks must exist: a path from the
project root or from ``bailanys/``, a bare file name somewhere in the
package.  A path marked ``†`` arrives with another slice of a change in
progress: it must not exist yet, so that the mark is removed (and the path
checked) once it does.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
_TOKEN = re.compile(r"`([^`\s]+)`(†?)")
_FILE = re.compile(r"^[\w./-]+\.(?:py|md|toml|yaml|js)$|^[\w./-]+/$")


def _named() -> list[tuple[str, bool]]:
    """(path, pending) for every file-like token of the document."""
    out = []
    for token, mark in _TOKEN.findall(DOC.read_text(encoding="utf-8")):
        if _FILE.match(token) and "*" not in token:
            out.append((token, mark == "†"))
    return out


def _exists(token: str) -> bool:
    name = token.rstrip("/")
    if "/" in name:
        return (ROOT / name).exists() or (ROOT / "bailanys" / name).exists()
    return any((ROOT / "bailanys").rglob(name)) or (ROOT / name).exists()


def test_the_document_names_files() -> None:
    named = dict(_named())
    assert "bailanys/engine/ports.py" in named
    assert "ivr/kinds.py" in named


def test_every_named_file_exists() -> None:
    missing = sorted({t for t, pending in _named() if not pending and not _exists(t)})
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_a_pending_file_loses_its_mark_once_it_exists() -> None:
    arrived = sorted({t for t, pending in _named() if pending and _exists(t)})
    assert not arrived, f"these exist now: remove their † in docs/architecture.md: {arrived}"
