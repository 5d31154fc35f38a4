"""Routing by topic, per-stage deadlines and escalation (issue 19).

Issue 19: "responsible department from a routing table by topic";
"Deadlines in working days ... per topic and per stage; escalation when a
deadline passes". ``configs/cases.yaml`` is read like the other YAML files
(:mod:`bailanys.yamlsrc`): :func:`parse` never raises and names every
mistake as ``file:line: field: message``; :func:`load` raises
:class:`CasesConfigError` with all of them.

Stages (:data:`STAGES`) are counted in working days from the day the
request is registered: ``route`` (the department takes the question into
work) and ``answer``. A question is overdue once the local date is past
the last day of a stage it has not finished (:func:`overdue`; the time is
an input). Pure but for the file read in :func:`load`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from bailanys.cases.calendar import Calendar, add_working_days
from bailanys.cases.lifecycle import OPEN, Status
from bailanys.cases.model import Case, Kind
from bailanys.errors import ConfigError
from bailanys.timezone import ALMATY
from bailanys.yamlsrc import Path_, Problem, Source, load_file

DEFAULT_PATH: Final = Path("configs/cases.yaml")
#: The stages of a question, in order.
STAGES: Final = ("route", "answer")
#: The longest stage accepted: 60 working days (about three months), past
#: which a deadline is a typo rather than a promise.
MAX_STAGE_DAYS: Final = 60
#: The duplicate window when the file does not set one: 30 calendar days.
DEFAULT_DUPLICATE_DAYS: Final = 30
_TOP: Final = frozenset({"duplicate_window_days", "departments", "default", "complaints",
                         "routes"})


class CasesConfigError(ConfigError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class Route:
    department: str
    route_days: int
    answer_days: int


@dataclass(frozen=True, slots=True)
class Named:
    id: str
    kk: str
    ru: str


@dataclass(frozen=True)
class CasesConfig:
    default: Route
    complaint: Route
    routes: dict[str, Route]  # topic id -> route
    departments: tuple[Named, ...]
    categories: tuple[Named, ...]  # complaint categories
    duplicate_window_days: int = DEFAULT_DUPLICATE_DAYS

    def route(self, topic: str, kind: Kind = Kind.REQUEST) -> Route:
        """Where a question on ``topic`` goes (complaints: to their department)."""
        if kind == Kind.COMPLAINT:
            return self.complaint
        return self.routes.get(topic, self.default)


@dataclass(frozen=True, slots=True)
class Due:
    """The deadlines of a question registered on ``start``."""

    department: str
    route_by: date
    deadline: date


def due(cfg: CasesConfig, cal: Calendar, topic: str, start: date,
        kind: Kind = Kind.REQUEST, department: str | None = None) -> Due:
    """The department and stage deadlines of a new question; ``department``
    overrides the routing table (an operator's split to another one)."""
    r = cfg.route(topic, kind)
    return Due(department or r.department, add_working_days(cal, start, r.route_days),
               add_working_days(cal, start, r.answer_days))


@dataclass(frozen=True, slots=True)
class Overdue:
    case_id: int
    number: str
    question: int
    stage: str  # "route" or "answer"
    deadline: date


def overdue(cases: Iterable[Case], now: datetime) -> list[Overdue]:
    """The open questions past a stage's last day at ``now`` (aware; read
    in Kazakhstan's time), in open requests not escalated yet. The route
    stage counts only while the request is still registered."""
    today = now.astimezone(ALMATY).date()
    out: list[Overdue] = []
    for case in cases:
        if case.status not in OPEN or case.status == Status.ESCALATED:
            continue
        for q in case.questions:
            if not q.open:
                continue
            rb = q.route_by
            if case.status == Status.REGISTERED and rb is not None and today > rb:
                out.append(Overdue(case.id, case.number, q.no, "route", rb))
            elif today > q.deadline:
                out.append(Overdue(case.id, case.number, q.no, "answer", q.deadline))
    return out


def _int(src: Source, value: Any, path: Path_, lo: int, hi: int) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        src.problem(path, f"expected a whole number from {lo} to {hi}, got {value!r}")
        return None
    return value


def _route(src: Source, body: Any, path: Path_, departments: set[str]) -> Route | None:
    if not isinstance(body, dict):
        src.problem(path, "expected a mapping with department and deadlines")
        return None
    dept = body.get("department")
    if dept not in departments:
        src.problem(path + ("department",), f"unknown department {dept!r}")
    dl = body.get("deadlines")
    if not isinstance(dl, dict) or set(dl) != set(STAGES):
        src.problem(path + ("deadlines",), f"expected {{route: N, answer: N}}, got {dl!r}")
        return None
    days = [_int(src, dl[s], path + ("deadlines", s), 1, MAX_STAGE_DAYS) for s in STAGES]
    if days[0] is None or days[1] is None or not isinstance(dept, str):
        return None
    if days[0] > days[1]:
        src.problem(path + ("deadlines", "route"), "route must not be later than answer")
    return Route(dept, days[0], days[1])


def _named(src: Source, items: Any, path: Path_) -> tuple[Named, ...]:
    if not isinstance(items, list) or not items:
        src.problem(path, "expected a list of {id, kk, ru}")
        return ()
    out: list[Named] = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not all(
            isinstance(it.get(k), str) and it[k].strip() for k in ("id", "kk", "ru")
        ):
            src.problem(path + (i,), "expected {id, kk, ru}, each a non-empty text")
            continue
        if any(n.id == it["id"] for n in out):
            src.problem(path + (i, "id"), f"duplicate id {it['id']!r}")
            continue
        out.append(Named(it["id"], it["kk"], it["ru"]))
    return tuple(out)


def _routes(src: Source, items: Any, depts: set[str],
            topics: frozenset[str] | None) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    if not isinstance(items, list):
        src.problem(("routes",), "expected a list of {topic, department, deadlines}")
        return routes
    for i, it in enumerate(items):
        path: Path_ = ("routes", i)
        topic = it.get("topic") if isinstance(it, dict) else None
        if not isinstance(topic, str):
            src.problem(path, "expected {topic, department, deadlines}")
            continue
        if topics is not None and topic not in topics:
            src.problem(path + ("topic",), f"unknown topic {topic!r} (configs/topics.yaml)")
        if topic in routes:
            src.problem(path + ("topic",), f"topic {topic!r} is routed twice")
        route = _route(src, it, path, depts)
        if route is not None:
            routes[topic] = route
    return routes


def parse(src: Source, topics: frozenset[str] | None = None) -> tuple[CasesConfig | None,
                                                                       list[Problem]]:
    """The config of a parsed file; ``topics``: the known topic ids."""
    data = src.data
    if not isinstance(data, dict):
        if not src.problems:
            src.problem((), "expected a mapping")
        return None, list(src.problems)
    for key in sorted(set(data) - _TOP):
        src.problem((key,), "unknown key")
    window = _int(src, data.get("duplicate_window_days", DEFAULT_DUPLICATE_DAYS),
                  ("duplicate_window_days",), 0, 366)
    departments = _named(src, data.get("departments"), ("departments",))
    depts = {d.id for d in departments}
    default = _route(src, data.get("default"), ("default",), depts)
    comp = data.get("complaints")
    complaint = _route(src, comp, ("complaints",), depts)
    categories = _named(src, comp.get("categories") if isinstance(comp, dict) else None,
                        ("complaints", "categories"))
    routes = _routes(src, data.get("routes", []), depts, topics)
    if src.problems or default is None or complaint is None or window is None:
        return None, list(src.problems)
    return CasesConfig(default, complaint, routes, departments, categories, window), []


def load(path: str | Path = DEFAULT_PATH, topics: frozenset[str] | None = None) -> CasesConfig:
    cfg, problems = parse(load_file(Path(path)), topics)
    if cfg is None:
        raise CasesConfigError(problems)
    return cfg
