"""The organisation profile: the semi-annual form's rows no event can tell.

``configs/organisation.toml`` holds what Appendix 2 of the 2023 requirements
asks about the centre itself (rows 1-12 and 21-28: name, founding document,
address, branches, phone, working hours, weekends and holidays, second line,
channels, staff, operators, software, integrations, certification, managers'
certification, workplaces, auxiliary rooms, knowledge base, internal rules)
and the sender's details of the form's foot. The form is filled in Kazakh
and Russian (the filling instructions, item 5), so every free text is either
one string (the same in both: a phone number, "IVR") or a table
``{ kk = "...", ru = "..." }``.

:func:`load` validates the whole file and raises :class:`ConfigError`
naming the file and the key (``configs/organisation.toml: staff.regular:
expected an integer >= 0, got -3``); TOML syntax errors keep their line.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bailanys.errors import ConfigError

LANGS = ("kk", "ru")


@dataclass(frozen=True, slots=True)
class Text:
    """A text in Kazakh and Russian."""

    kk: str
    ru: str

    def get(self, lang: str) -> str:
        return self.kk if lang == "kk" else self.ru


@dataclass(frozen=True, slots=True)
class Certification:
    """Row 23: the certification audit (or the centre's certification) passed."""

    date: dt.date
    name: Text


@dataclass(frozen=True, slots=True)
class Organisation:
    name: Text  # row 1
    document_no: str  # row 2
    document_date: dt.date
    address: Text  # row 3
    branches: tuple[Text, ...]  # row 4: "yes" when any (listed)
    phone: str  # row 5
    working_hours: Text  # row 6, e.g. "24/7", "09:00-21:00"
    weekends_and_holidays: bool  # row 7
    second_line: bool  # row 9
    channels: tuple[Text, ...]  # row 10
    staff_regular: int  # row 11
    staff_other: int
    operators: int  # row 12: at the end of the period, consulting directly
    software: tuple[Text, ...]  # row 21 (IVR, WFM, voice robot...)
    integrations: tuple[Text, ...]  # row 22: state bodies' information systems
    certification: Certification | None  # row 23
    certified_managers: int  # row 24: 0 = "no"
    workplaces_equipped: bool  # row 25
    auxiliary_rooms: tuple[Text, ...]  # row 26 (dining room, rest room, classroom...)
    knowledge_base: bool  # row 27
    internal_rules: bool  # row 28
    email: str = ""  # the form's foot

    @property
    def staff(self) -> int:
        return self.staff_regular + self.staff_other


class _Reader:
    """Typed access to the TOML tree with errors naming file and key."""

    def __init__(self, path: str, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(message, path=self.path, key=key)

    def raw(self, key: str, *, required: bool = True) -> Any:
        node: Any = self.data
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                if required:
                    raise self.fail(key, "missing")
                return None
            node = node[part]
        return node

    def text(self, key: str, value: Any = None, *, required: bool = True) -> Text:
        value = self.raw(key, required=required) if value is None else value
        if value is None:
            return Text("", "")
        if isinstance(value, str) and value.strip():
            return Text(value.strip(), value.strip())
        if isinstance(value, dict) and set(value) == set(LANGS) and all(
                isinstance(value[lang], str) and value[lang].strip() for lang in LANGS):
            return Text(value["kk"].strip(), value["ru"].strip())
        raise self.fail(key, f"expected a non-empty string or {{ kk = \"...\", ru = \"...\" }}, "
                             f"got {value!r}")

    def texts(self, key: str) -> tuple[Text, ...]:
        value = self.raw(key, required=False)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {value!r}")
        return tuple(self.text(f"{key}[{i}]", item) for i, item in enumerate(value))

    def string(self, key: str, *, required: bool = True) -> str:
        value = self.raw(key, required=required)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"expected a non-empty string, got {value!r}")
        return value.strip()

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def count(self, key: str, *, required: bool = True) -> int:
        value = self.raw(key, required=required)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(key, f"expected an integer >= 0, got {value!r}")
        return value

    def date(self, key: str) -> dt.date:
        value = self.raw(key)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.fail(key, f"expected a date (YYYY-MM-DD, unquoted), got {value!r}")
        return value


_KNOWN = frozenset({
    "name", "document", "address", "branches", "phone", "working_hours",
    "weekends_and_holidays", "second_line", "channels", "staff", "operators", "software",
    "integrations", "certification", "certified_managers", "workplaces_equipped",
    "auxiliary_rooms", "knowledge_base", "internal_rules", "email"})


def parse(data: dict[str, Any], path: str = "organisation.toml") -> Organisation:
    """The profile from a parsed TOML tree (see :func:`load`)."""
    r = _Reader(path, data)
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise r.fail(unknown[0], "unknown key (known: " + ", ".join(sorted(_KNOWN)) + ")")
    certification = None
    if r.raw("certification", required=False) is not None:
        certification = Certification(r.date("certification.date"),
                                      r.text("certification.name"))
    org = Organisation(
        name=r.text("name"), document_no=r.string("document.number"),
        document_date=r.date("document.date"), address=r.text("address"),
        branches=r.texts("branches"), phone=r.string("phone"),
        working_hours=r.text("working_hours"),
        weekends_and_holidays=r.flag("weekends_and_holidays"),
        second_line=r.flag("second_line"), channels=r.texts("channels"),
        staff_regular=r.count("staff.regular"), staff_other=r.count("staff.other"),
        operators=r.count("operators"), software=r.texts("software"),
        integrations=r.texts("integrations"), certification=certification,
        certified_managers=r.count("certified_managers", required=False),
        workplaces_equipped=r.flag("workplaces_equipped"),
        auxiliary_rooms=r.texts("auxiliary_rooms"), knowledge_base=r.flag("knowledge_base"),
        internal_rules=r.flag("internal_rules"), email=r.string("email", required=False),
    )
    if not org.channels:
        raise r.fail("channels", "list at least one channel (row 10 of the form)")
    if org.operators > org.staff:
        raise r.fail("operators", f"{org.operators} operators but {org.staff} staff in all")
    return org


def load(path: str | Path) -> Organisation:
    """Read and validate ``configs/organisation.toml``."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path=name) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", path=name) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=name) from exc
    return parse(data, name)
