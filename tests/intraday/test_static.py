"""The intraday section's page files: every text it uses in kk, ru and en, an
error text for every code the routes answer, nothing loaded from outside."""

from __future__ import annotations

import json
import re

from bailanys.console.pages import STATIC_DIR

SCRIPT = STATIC_DIR / "intraday.js"
#: The codes of bailanys/intraday/web.py's refusals.
ERROR_CODES = ("bad_date", "bad_period", "period_too_long", "bad_queue", "bad_lang",
               "bad_agent", "store")


def test_every_key_of_the_section_is_in_every_language() -> None:
    text = (STATIC_DIR / "i18n.js").read_text()
    table = json.loads(text.split("/*JSON*/")[1].split("/*END*/")[0])
    script = SCRIPT.read_text()
    used = set(re.findall(r'"(ix_\w+)"', script)) | {f"ix_err_{c}" for c in ERROR_CODES}
    used |= {"dk_outcome_resolved", "dk_outcome_not_resolved", "reason_lunch"}
    assert len(used) > 40
    for lang in ("kk", "ru", "en"):
        assert used <= set(table[lang]), (lang, used - set(table[lang]))
    assert table["kk"]["ix_lost"] == "Жоғалған" and table["ru"]["ix_lost"] == "Потеряно"


def test_the_page_mounts_the_section_and_loads_nothing_from_outside() -> None:
    index = (STATIC_DIR / "index.html").read_text()
    assert '<section id="intraday"' in index and 'src="/static/intraday.js"' in index
    for name in ("intraday.js", "intraday.css"):
        assert not re.search(r"https?://", (STATIC_DIR / name).read_text()), name
