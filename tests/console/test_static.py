"""The page's files: every string in every language, nothing from outside."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bailanys.console.auth import Role
from bailanys.console.pages import STATIC_DIR, load_static
from bailanys.console.protocol import ACTIONS, ErrorCode
from bailanys.metrics.formulas import KPI_NAMES
from bailanys.metrics.snapshot import Status
from bailanys.queue.agents import AUTO_PAUSE, AgentState
from bailanys.queue.callers import CallerState


def strings() -> dict[str, dict[str, str]]:
    text = (STATIC_DIR / "i18n.js").read_text()
    table: dict[str, dict[str, str]] = json.loads(text.split("/*JSON*/")[1].split("/*END*/")[0])
    return table


def test_every_language_has_every_key_and_no_empty_string() -> None:
    table = strings()
    assert set(table) == {"kk", "ru", "en"}
    keys = set(table["kk"])
    for lang, texts in table.items():
        assert set(texts) == keys, lang
        assert all(v.strip() for v in texts.values()), lang


def test_kazakh_uses_the_standards_terms() -> None:
    kk = strings()["kk"]
    assert kk["queue"] == "Кезек" and kk["col_agent"] == "Оператор"
    assert kk["waiting"] == "Күтуде" and kk["state_break"] == "Үзіліс"
    assert kk["kpi_service_level_pct"] == "Қызмет деңгейі"
    assert kk["kpi_lost_pct"] == "Жоғалған қоңыраулар үлесі"
    # item 3.16: requests resolved at the first contact ("бастапқы жүгіну")
    assert kk["kpi_fcr_pct"] == "Бастапқы жүгінуде шешілген өтініштер (FCR)"
    assert kk["kpi_lost_after_30s_pct"].startswith("30 секунд күткеннен кейін жоғалған")
    assert kk["kpi_satisfaction_score"].startswith("Қанағаттану")
    ru = strings()["ru"]
    assert sum(kk[k] != ru[k] for k in kk) > len(kk) * 0.9  # really translated


def used_keys() -> set[str]:
    keys = set()
    for name in ("index.html", "login.html"):
        keys |= set(re.findall(r'data-i18n(?:-\w+)?="(\w+)"', (STATIC_DIR / name).read_text()))
    keys |= set(re.findall(r'\bt\("(\w+)"\)', (STATIC_DIR / "app.js").read_text()))
    # Issue 19's alert and overdue list: its keys, with placeholders or without.
    keys |= set(re.findall(r'\bt\("(\w+)"', (STATIC_DIR / "casealerts.js").read_text()))
    # Issue 21's listen, whisper, barge buttons (monitor.js): its keys and the modes'.
    keys |= set(re.findall(r'\bt\("(\w+)"', (STATIC_DIR / "monitor.js").read_text()))
    keys |= {f"mon_{m}{s}" for m in ("listen", "whisper", "barge") for s in ("", "_hint")}
    # Issue 22's engines of the cluster console.
    keys |= set(re.findall(r'\bt\("(\w+)"', (STATIC_DIR / "clusterview.js").read_text()))
    # Issue 21's wallboard.
    keys |= set(re.findall(r'\bt\("(\w+)"', (STATIC_DIR / "wallboard.js").read_text()))
    # Keys built from a prefix and a value the engine or the protocol sends.
    keys |= {f"state_{s}" for s in AgentState} | {f"caller_{s}" for s in CallerState}
    keys |= {f"act_{a}" for a in ACTIONS} | {f"err_{c}" for c in ErrorCode}
    keys |= {f"role_{r}" for r in Role} | {f"reason_{AUTO_PAUSE}"}
    keys |= {f"status_{s}" for s in Status} | {f"kpi_{k}" for k in KPI_NAMES}
    keys.add("kpi_occupancy_pct")
    keys |= {f"conn_{s}" for s in ("connecting", "online", "offline")}
    keys |= {f"language_{lang}" for lang in ("kk", "ru")}
    keys |= {f"unit_{u}" for u in ("s", "min", "points")}
    return keys


def test_every_string_the_pages_use_exists() -> None:
    missing = used_keys() - set(strings()["kk"])
    assert not missing


def test_every_pause_reason_offered_is_translated() -> None:
    reasons = re.findall(r'<option value="(\w+)"', (STATIC_DIR / "index.html").read_text())
    assert reasons and {f"reason_{r}" for r in reasons} <= set(strings()["kk"])


@pytest.mark.parametrize("path", sorted(STATIC_DIR.iterdir()), ids=lambda p: p.name)
def test_nothing_is_loaded_from_outside(path: Path) -> None:
    text = path.read_text()
    outside = re.findall(r"(?:https?:)?//[\w.-]+\.\w+/", text)
    assert [u for u in outside if u != "http://www.w3.org/"] == []
    assert "innerHTML" not in text and "@import" not in text


def test_the_static_table_holds_the_pages_and_assets() -> None:
    table = load_static()
    assert {"index.html", "login.html", "app.js", "i18n.js", "login.js", "style.css"} <= set(table)
    assert table["app.js"].content_type.startswith("text/javascript")
