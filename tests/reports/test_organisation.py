"""The organisation profile (configs/organisation.toml): the shipped file
loads; every wrong value is refused naming the file and the key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bailanys.errors import ConfigError
from bailanys.reports.organisation import Text, load

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
name = { kk = "Байланыс орталығы", ru = "Контакт-центр" }
address = "Астана"
phone = "1414"
working_hours = "24/7"
weekends_and_holidays = false
second_line = true
channels = ["телефон", { kk = "электрондық пошта", ru = "электронная почта" }]
operators = 10
software = ["IVR", "WFM"]
workplaces_equipped = true
knowledge_base = false
internal_rules = true
email = "info@example.kz"

[document]
number = "№ 42"
date = 2020-03-01

[staff]
regular = 12
other = 3

[certification]
date = 2026-05-20
name = { kk = "Сертификаттау аудиті", ru = "Сертификационный аудит" }
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "organisation.toml"
    path.write_text(text, "utf-8")
    return path


def test_the_shipped_profile_loads() -> None:
    org = load(ROOT / "configs" / "organisation.toml")
    assert org.phone == "1414"
    assert org.name.kk and org.name.ru and org.name.kk != org.name.ru
    assert org.operators <= org.staff
    assert len(org.branches) == 6


def test_a_full_profile(tmp_path: Path) -> None:
    org = load(_write(tmp_path, GOOD))
    assert org.name == Text("Байланыс орталығы", "Контакт-центр")
    assert org.address == Text("Астана", "Астана")
    assert org.document_no == "№ 42" and org.document_date == dt.date(2020, 3, 1)
    assert org.channels[1].get("ru") == "электронная почта"
    assert (org.staff_regular, org.staff_other, org.staff) == (12, 3, 15)
    assert org.certification is not None
    assert org.certification.date == dt.date(2026, 5, 20)
    assert org.certified_managers == 0 and org.branches == () and org.integrations == ()
    assert org.email == "info@example.kz"


@pytest.mark.parametrize(("change", "message"), [
    (("phone = \"1414\"\n", ""), "organisation.toml: phone: missing"),
    (("operators = 10", "operators = -1"), "operators: expected an integer >= 0, got -1"),
    (("operators = 10", "operators = 99"), "operators: 99 operators but 15 staff in all"),
    (("regular = 12", "regular = \"12\""), "staff.regular: expected an integer >= 0"),
    (("second_line = true", "second_line = \"yes\""), "second_line: expected true or false"),
    (("date = 2020-03-01", "date = \"2020-03-01\""), "document.date: expected a date"),
    (("date = 2020-03-01", "date = 2020-03-01T10:00:00"), "document.date: expected a date"),
    (("address = \"Астана\"", "address = { kk = \"Астана\" }"), "address: expected a non-empty"),
    (("address = \"Астана\"", "address = \"  \""), "address: expected a non-empty"),
    (("software = [\"IVR\", \"WFM\"]", "software = \"IVR\""), "software: expected a list"),
    (("software = [\"IVR\", \"WFM\"]", "software = [\"IVR\", 3]"), r"software\[1\]: expected"),
    (("channels = [", "channels = [] #"), "channels: list at least one channel"),
    (("email = ", "e_mail = "), "e_mail: unknown key"),
    (("[staff]", "[staff"), "not valid TOML: .*line"),
])
def test_errors_name_the_file_and_the_key(tmp_path: Path, change: tuple[str, str],
                                          message: str) -> None:
    old, new = change
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    if old == "channels = [":
        text = "\n".join(x for x in text.splitlines() if not x.startswith("channels"))
        text = "channels = []\n" + text
    with pytest.raises(ConfigError, match=message) as info:
        load(_write(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / "organisation.toml"))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "missing.toml")
    path = tmp_path / "organisation.toml"
    path.write_bytes(b"name = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(path)
