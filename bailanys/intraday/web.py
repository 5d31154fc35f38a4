"""The intraday routes on the console's app, behind the web layer's one check.

==============================================  =====================================
``GET /api/console/intervals``                  JSON: ``date`` (local, default today)
                                                in 15-minute intervals beside the same
                                                weekday a week before; ``queue``
                                                (default: every queue; its agents:
                                                those with the queue's skills)
``GET /api/console/agents/{agent}``             JSON: the agent's ``date`` (default
                                                today): calls with masked numbers,
                                                AHT, occupancy, breaks, login
``GET /api/console/intervals.csv``              CSV: every interval of ``from``..``to``
                                                (local dates), ``queue``, ``lang``
``GET /api/console/agents.csv``                 CSV: each agent's figures over
                                                ``from``..``to``, ``queue``, ``lang``
==============================================  =====================================

Who: :data:`~bailanys.web.access.SUPERVISOR_ROLES` (supervisors and admins).
A bad parameter is 400 ``{"error": code, "param", "message"}`` (codes:
``bad_date``, ``bad_period``, ``period_too_long``, ``bad_queue``, ``bad_lang``,
``bad_agent``); a store that cannot be read is 503 ``store``. Every read
runs in a worker thread (:data:`QUERY_SLOTS` at a time), never on the loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence, Set
from http import HTTPStatus
from typing import Any, Final, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from bailanys.errors import InputError
from bailanys.intraday.agentday import AgentPeriod
from bailanys.intraday.buckets import INTERVAL_S, DaySeries, day_bounds, labels, slot_of
from bailanys.intraday.csvout import LANGS, agents_csv, intervals_csv
from bailanys.store.syncdb import STORE_ERRORS
from bailanys.web.access import SUPERVISOR_ROLES, Access
from bailanys.web.app import endpoint
from bailanys.web.auth import Session
from bailanys.web.responses import response
from bailanys.web.static import StaticFile

log = logging.getLogger(__name__)

QUERY_SLOTS: Final = 2
#: The longest period an export covers (a quarter).
MAX_PERIOD_DAYS: Final = 92
MAX_NAME_CHARS: Final = 100
JSON_TYPE: Final = "application/json"
CSV_TYPE: Final = "text/csv; charset=utf-8"


class IntradayPort(Protocol):
    """The store's side (blocking; ``storeread.StoreIntraday`` is the real one)."""

    def series(self, since: dt.date, until: dt.date, queue: str | None, now: float,
               agents: Set[str] | None = None) -> list[tuple[dt.date, DaySeries]]: ...

    def agent_period(self, agent: str, since: float, until: float,
                     queue: str | None = None) -> AgentPeriod: ...

    def agent_periods(self, since: float, until: float,
                      queue: str | None = None) -> list[AgentPeriod]: ...


class IntradayParamError(InputError):
    """A query parameter of the intraday routes is not valid: ``code`` for the
    page, ``param`` named."""

    def __init__(self, code: str, param: str, message: str) -> None:
        super().__init__(message)
        self.code, self.param = code, param


def _json(value: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return response(status, body, JSON_TYPE)


def _refusal(code: str, message: str, param: str | None = None,
             status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> Response:
    return _json({"error": code, "param": param, "message": message}, status)


def parse_date(text: str | None, param: str, default: dt.date) -> dt.date:
    if text is None or text == "":
        return default
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else _bad_date(param)
    except ValueError:
        return _bad_date(param)


def _bad_date(param: str) -> dt.date:
    raise IntradayParamError("bad_date", param, f"{param}: a date YYYY-MM-DD")


def parse_name(text: str | None, param: str, code: str) -> str | None:
    if text is None or text == "":
        return None
    if len(text) > MAX_NAME_CHARS or not text.isprintable():
        raise IntradayParamError(code, param,
                                 f"{param}: at most {MAX_NAME_CHARS} printable characters")
    return text


def parse_period(query: Mapping[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    since = parse_date(query.get("from"), "from", today)
    until = parse_date(query.get("to"), "to", since)
    if until < since:
        raise IntradayParamError("bad_period", "to", "the period ends before it starts")
    if (until - since).days + 1 > MAX_PERIOD_DAYS:
        raise IntradayParamError("period_too_long", "to", f"at most {MAX_PERIOD_DAYS} days")
    return since, until


def parse_lang(text: str | None) -> str:
    if text is None or text == "":
        return "kk"
    if text not in LANGS:
        raise IntradayParamError("bad_lang", "lang", "lang: kk, ru or en")
    return text


def series_json(series: DaySeries) -> dict[str, Any]:
    return {"start": series.start, **series.to_json()}


class IntradayRoutes:
    """The routes of the module's table."""

    def __init__(self, access: Access, port: IntradayPort, tz: dt.tzinfo, *,
                 queue_names: Callable[[], Sequence[str]] = tuple,
                 agent_names: Callable[[], Mapping[str, str]] = dict,
                 queue_agents: Callable[[str], Set[str] | None] = lambda queue: None,
                 queue_labels: Callable[[], Mapping[str, Mapping[str, str]]] = dict,
                 clock: Callable[[], float] = time.time) -> None:
        self.access = access
        self.port = port
        self.tz = tz
        self.queue_names = queue_names
        self.agent_names = agent_names
        self.queue_agents = queue_agents
        #: the queues' display names by language (the queues file's ``names``)
        self.queue_labels = queue_labels
        self.clock = clock
        self._slots = asyncio.Semaphore(QUERY_SLOTS)

    def routes(self) -> list[BaseRoute]:
        api = self.access.api(SUPERVISOR_ROLES)
        return [
            endpoint("/api/console/intervals", api(self._intervals)),
            endpoint("/api/console/intervals.csv", api(self._intervals_csv)),
            endpoint("/api/console/agents.csv", api(self._agents_csv)),
            endpoint("/api/console/agents/{agent}", api(self._agent)),
        ]

    def _agents(self, queue: str | None) -> Set[str] | None:
        """The agents who serve ``queue`` (None: every agent)."""
        return None if queue is None else self.queue_agents(queue)

    def _today(self, now: float) -> dt.date:
        return dt.datetime.fromtimestamp(now, self.tz).date()

    async def _run(self, work: Callable[..., Any], *args: Any) -> Any:
        async with self._slots:
            return await asyncio.to_thread(work, *args)

    async def _answer(self, request: Request,
                      make: Callable[[Mapping[str, str], float], Awaitable[Response]]
                      ) -> Response:
        try:
            return await make(request.query_params, self.clock())
        except IntradayParamError as exc:
            return _refusal(exc.code, str(exc), exc.param)
        except STORE_ERRORS as exc:
            log.warning("intraday: the store cannot be read: %s", exc)
            return _refusal("store", "the store cannot be read", None,
                            HTTPStatus.SERVICE_UNAVAILABLE)

    async def _intervals(self, request: Request, session: Session) -> Response:
        async def make(query: Mapping[str, str], now: float) -> Response:
            day = parse_date(query.get("date"), "date", self._today(now))
            queue = parse_name(query.get("queue"), "queue", "bad_queue")
            before = day - dt.timedelta(days=7)
            agents = self._agents(queue)
            days = {d: series for d in (before, day) for _, series in
                    await self._run(self.port.series, d, d, queue, now, agents)}
            start, end = day_bounds(day, self.tz)
            current = slot_of(now, start) if start <= now < end else None
            return _json({
                "date": day.isoformat(), "compare_date": before.isoformat(),
                "queue": queue, "interval_s": INTERVAL_S, "now": now,
                "current": current, "labels": labels(start, end, self.tz),
                "queues": sorted(self.queue_names()),
                "queue_labels": {q: dict(names) for q, names in self.queue_labels().items()},
                "today": series_json(days[day]),
                "previous": series_json(days[before]),
            })

        return await self._answer(request, make)

    async def _agent(self, request: Request, session: Session) -> Response:
        async def make(query: Mapping[str, str], now: float) -> Response:
            agent = parse_name(request.path_params.get("agent"), "agent", "bad_agent")
            if agent is None:
                raise IntradayParamError("bad_agent", "agent", "agent: a SIP user")
            day = parse_date(query.get("date"), "date", self._today(now))
            start, end = day_bounds(day, self.tz)
            period: AgentPeriod = await self._run(self.port.agent_period, agent, start,
                                                  min(end, max(start, now)))
            return _json({**period.to_json(), "date": day.isoformat(),
                          "name": self.agent_names().get(agent, "")})

        return await self._answer(request, make)

    async def _intervals_csv(self, request: Request, session: Session) -> Response:
        async def make(query: Mapping[str, str], now: float) -> Response:
            since, until = parse_period(query, self._today(now))
            queue = parse_name(query.get("queue"), "queue", "bad_queue")
            lang = parse_lang(query.get("lang"))
            series = await self._run(self.port.series, since, until, queue, now,
                                     self._agents(queue))
            body = await self._run(intervals_csv, series, queue, self.tz, lang)
            return self._csv(body, f"intervals_{since}_{until}.csv")

        return await self._answer(request, make)

    async def _agents_csv(self, request: Request, session: Session) -> Response:
        async def make(query: Mapping[str, str], now: float) -> Response:
            since, until = parse_period(query, self._today(now))
            queue = parse_name(query.get("queue"), "queue", "bad_queue")
            lang = parse_lang(query.get("lang"))
            start, _ = day_bounds(since, self.tz)
            _, end = day_bounds(until, self.tz)
            periods = await self._run(self.port.agent_periods, start,
                                      min(end, max(start, now)), queue)
            body = await self._run(agents_csv, periods, dict(self.agent_names()), since,
                                   until, queue, lang)
            return self._csv(body, f"agents_{since}_{until}.csv")

        return await self._answer(request, make)

    @staticmethod
    def _csv(body: bytes, name: str) -> Response:
        return response(HTTPStatus.OK, body, CSV_TYPE,
                        headers=[("Content-Disposition", f'attachment; filename="{name}"')])


def intraday_routes(port: IntradayPort, tz: dt.tzinfo, *,
                    queue_names: Callable[[], Sequence[str]] = tuple,
                    agent_names: Callable[[], Mapping[str, str]] = dict,
                    queue_agents: Callable[[str], Set[str] | None] = lambda queue: None,
                    queue_labels: Callable[[], Mapping[str, Mapping[str, str]]] = dict,
                    ) -> Callable[[Access, Mapping[str, StaticFile]], Sequence[BaseRoute]]:
    """The hook the console's server takes (``extra_routes``, through ``joined_routes``)."""

    def build(access: Access, static: Mapping[str, StaticFile]) -> Sequence[BaseRoute]:
        return IntradayRoutes(access, port, tz, queue_names=queue_names,
                              agent_names=agent_names, queue_agents=queue_agents,
                              queue_labels=queue_labels).routes()

    return build
