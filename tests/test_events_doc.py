"""docs/events.md is generated from the catalogue and must be current."""

from __future__ import annotations

from pathlib import Path

from bailanys.events import DOMAINS
from bailanys.events.doc import REGENERATE, render

DOC = Path(__file__).parents[1] / "docs" / "events.md"


def test_docs_events_md_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        f"docs/events.md is stale: regenerate it with `{REGENERATE}`")


def test_every_type_has_a_section_with_its_fields() -> None:
    text = render()
    for _, classes in DOMAINS:
        for cls in classes:
            assert f"### `{cls.type}`" in text
    assert "| `from` | string | `from_uri` in code |" in text
    assert "| `caller` | string | optional |" in text
