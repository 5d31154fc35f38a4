"""The reviewers' page's routes (bailanys/qa/web.py) on the web layer, with a fake port;
its input parsing and CSV (webparams.py) and JSON shapes (webshape.py).

Roles and sessions through the layer's real check; every route's JSON; bad
bodies and parameters are 400 with a code, the store's refusals 409/403/404.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from bailanys.analytics.pageparams import ParamError
from bailanys.console.pages import STATIC_DIR, load_static
from bailanys.qa import webparams, webshape
from bailanys.qa.model import Answer, Criterion, Kind, Names, Outcome, Scale, Scorecard, Section
from bailanys.qa.web import QaRefused, QaRoutes
from bailanys.timezone import ALMATY
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore

CALL = "c-2026-0001"
NOW = 1_796_380_000.0  # 2026-12-04 in Almaty
ORIGIN = {"origin": "http://t"}


def review(rid: int = 7, state: str = "draft", **more: Any) -> dict[str, Any]:
    return {"id": rid, "call_id": CALL, "reviewer": "dana", "revision": 1, "supersedes": None,
            "state": state, "answers": [], "comment": "", "total": None,
            "critical_failed": [], "counted": False, "created": NOW, "finalised": None, **more}


@dataclass
class FakeQa:
    """Fixed answers; records every call; ``refuse`` makes actions refuse."""

    calls: list[tuple[Any, ...]] = field(default_factory=list)
    refuse: QaRefused | None = None

    def _record(self, *args: Any) -> None:
        self.calls.append(args)
        if self.refuse is not None:
            raise self.refuse

    def queue(self, reviewer: str, limit: int, offset: int) -> Sequence[Mapping[str, Any]]:
        self.calls.append(("queue", reviewer, limit, offset))
        return [{"call_id": f"c{i}", "started": NOW, "agent": "1001", "queue": "support",
                 "total": 80.0, "critical_failed": [],
                 "reasons": [{"reason": "sample", "detail": ""}]}
                for i in range(offset, min(offset + limit, 60))]

    def call(self, call_id: str) -> Mapping[str, Any] | None:
        if call_id != CALL:
            return None
        return {"call_id": CALL, "score": {"total": 50.0, "results": []},
                "reviews": [review(state="final", finalised=NOW)], "reasons": []}

    def open_review(self, call_id: str, reviewer: str, now: float) -> Mapping[str, Any]:
        self._record("open", call_id, reviewer, now)
        return review()

    def save(self, review_id: int, reviewer: str, answers: Sequence[Answer],
             comment: str) -> Mapping[str, Any]:
        self._record("save", review_id, reviewer, tuple(answers), comment)
        return review(review_id, answers=[a.to_json() for a in answers], comment=comment)

    def finalise(self, review_id: int, reviewer: str, now: float) -> Mapping[str, Any]:
        self._record("finalise", review_id, reviewer, now)
        return review(review_id, "final")

    def correct(self, review_id: int, reviewer: str, now: float) -> Mapping[str, Any]:
        self._record("correct", review_id, reviewer, now)
        return review(review_id + 1, revision=2, supersedes=review_id)

    def flag(self, call_id: str, by: str, now: float, detail: str) -> bool:
        self._record("flag", call_id, by, detail)
        return True

    def calibrate(self, call_id: str, by: str, now: float) -> bool:
        self._record("calibrate", call_id, by)
        return False

    def calibration(self, since: dt.date, until: dt.date) -> Mapping[str, Any]:
        self._record("calibration", since, until)
        return {"since": str(since), "until": str(until), "calls": 3, "criteria": [
            {"criterion": "greeting", "calls": 3, "agreement_pct": 66.7, "kappa": 0.25}]}

    def report(self, by: str, since: dt.date, until: dt.date) -> Mapping[str, Any]:
        self._record("report", by, since, until)
        return {"by": by, "groups": [{"key": "1001", "weeks": [], "overall": {}}]}

    def export_csv(self, by: str, since: dt.date, until: dt.date, lang: str) -> bytes:
        self._record("export", by, since, until, lang)
        return f"\ufeff{by};{lang}\r\n".encode()


@dataclass
class Site:
    http: httpx.AsyncClient
    port: FakeQa
    sessions: SessionStore

    def login(self, role: Role, login: str = "dana") -> dict[str, str]:
        session = self.sessions.create(ConsoleUser(login, role, "unused"))
        return {"cookie": f"{COOKIE_NAME}={session.token}", **ORIGIN}


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    sessions, port = SessionStore(3600), FakeQa()
    routes = QaRoutes(Access(sessions), port, load_static(STATIC_DIR), ALMATY, clock=lambda: NOW)
    app = web_app(routes.routes())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as http:
        yield Site(http, port, sessions)


# --- who may ----------------------------------------------------------------------

async def test_without_a_session_the_page_goes_to_the_login_and_the_apis_answer_401(
        site: Site) -> None:
    page = await site.http.get("/qa")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    for path in ("/api/qa/queue", f"/api/qa/calls/{CALL}", "/api/qa/calibration",
                 "/api/qa/report", "/api/qa/export.csv"):
        assert (await site.http.get(path)).status_code == 401, path
    assert (await site.http.post(f"/api/qa/calls/{CALL}/review")).status_code == 401


@pytest.mark.parametrize("role", [Role.QA, Role.SUPERVISOR, Role.ADMIN])
async def test_reviewers_supervisors_and_admins_get_the_page(site: Site, role: Role) -> None:
    page = await site.http.get("/qa", headers=site.login(role))
    assert page.status_code == 200 and b'src="/static/qa.js"' in page.content


async def test_an_analyst_is_refused(site: Site) -> None:
    analyst = site.login(Role.ANALYST, "bolat")
    assert (await site.http.get("/qa", headers=analyst)).status_code == 403
    assert (await site.http.get("/api/qa/queue", headers=analyst)).status_code == 403


async def test_a_change_from_another_site_is_refused(site: Site) -> None:
    headers = {**site.login(Role.QA), "origin": "http://evil.example"}
    answer = await site.http.post(f"/api/qa/calls/{CALL}/review", headers=headers)
    assert answer.status_code == 403 and site.port.calls == []


async def test_only_supervisors_flag_calls(site: Site) -> None:
    qa = await site.http.post(f"/api/qa/calls/{CALL}/flag", headers=site.login(Role.QA),
                              json={"detail": "x"})
    assert qa.status_code == 403 and qa.json()["error"] == "may_not_flag"
    sup = await site.http.post(f"/api/qa/calls/{CALL}/flag", json={"detail": " rude "},
                               headers=site.login(Role.SUPERVISOR, "aigerim"))
    assert sup.json() == {"queued": True}
    assert site.port.calls == [("flag", CALL, "aigerim", "rude")]
    long = await site.http.post(f"/api/qa/calls/{CALL}/flag", json={"detail": "x" * 301},
                                headers=site.login(Role.SUPERVISOR, "aigerim"))
    assert long.status_code == 400 and long.json()["error"] == "too_long"


# --- the queue and a call --------------------------------------------------------

async def test_the_queue_pages_and_carries_local_times(site: Site) -> None:
    first = (await site.http.get("/api/qa/queue", headers=site.login(Role.QA))).json()
    assert len(first["items"]) == 50 and first["more"] is True and first["me"] == "dana"
    assert first["items"][0]["started_text"] == "2026-12-04 15:26"  # Almaty, UTC+5
    assert first["may_flag"] is False
    rest = (await site.http.get("/api/qa/queue?offset=50", headers=site.login(Role.QA))).json()
    assert len(rest["items"]) == 10 and rest["more"] is False
    assert site.port.calls[-1] == ("queue", "dana", 51, 50)
    bad = await site.http.get("/api/qa/queue?offset=-1", headers=site.login(Role.QA))
    assert bad.status_code == 400 and bad.json()["error"] == "bad_page"


async def test_a_call_its_reviews_and_a_call_never_scored(site: Site) -> None:
    call = (await site.http.get(f"/api/qa/calls/{CALL}", headers=site.login(Role.QA))).json()
    assert call["score"]["total"] == 50.0 and call["me"] == "dana"
    assert call["reviews"][0]["finalised_text"] == "2026-12-04 15:26"
    missing = await site.http.get("/api/qa/calls/c-9", headers=site.login(Role.QA))
    assert missing.status_code == 404 and missing.json()["error"] == "not_scored"
    bad = await site.http.get("/api/qa/calls/..%2Fetc", headers=site.login(Role.QA))
    assert bad.status_code in (400, 404)


# --- reviewing -------------------------------------------------------------------

async def test_open_save_finalise_correct_go_to_the_port(site: Site) -> None:
    qa = site.login(Role.QA)
    opened = await site.http.post(f"/api/qa/calls/{CALL}/review", headers=qa)
    assert opened.json()["id"] == 7
    body = {"answers": [{"criterion": "accurate", "outcome": "pass", "comment": "ok"},
                        {"criterion": "politeness", "outcome": "pass", "value": 4},
                        {"criterion": "closing", "outcome": "pass", "override": True,
                         "reason": "said it in Kazakh, the recogniser missed it"}],
            "comment": "  жақсы  "}
    saved = await site.http.put("/api/qa/reviews/7", headers=qa, json=body)
    assert saved.status_code == 200 and saved.json()["comment"] == "жақсы"
    answers = site.port.calls[-1][3]
    assert answers[1] == Answer("politeness", Outcome.PASS, 4.0)
    assert answers[2].override and answers[2].reason.startswith("said it")
    assert (await site.http.post("/api/qa/reviews/7/finalise", headers=qa)).json()["state"] == \
        "final"
    corrected = (await site.http.post("/api/qa/reviews/7/correct", headers=qa)).json()
    assert corrected["revision"] == 2 and corrected["supersedes"] == 7
    assert [c[0] for c in site.port.calls] == ["open", "save", "finalise", "correct"]
    assert site.port.calls[2] == ("finalise", 7, "dana", NOW)


@pytest.mark.parametrize(("body", "code"), [
    (b"not json", "bad_json"),
    (b"[1, 2]", "bad_json"),
    (json.dumps({"answers": {"a": 1}}).encode(), "bad_answer"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "maybe"}]}).encode(), "bad_answer"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "pending"}]}).encode(), "bad_answer"),
    (json.dumps({"answers": [{"criterion": "X Y", "outcome": "pass"}]}).encode(), "bad_answer"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "pass", "value": 9}]}).encode(),
     "bad_answer"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "pass", "value": True}]}).encode(),
     "bad_answer"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "fail", "override": True}]}).encode(),
     "no_reason"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "fail", "override": True,
                              "reason": "   "}]}).encode(), "no_reason"),
    (json.dumps({"answers": [{"criterion": "x", "outcome": "na"}] * 2}).encode(), "bad_answer"),
    (json.dumps({"comment": "ы" * 1001}, ensure_ascii=False).encode(), "too_long"),
    (json.dumps({"comment": 5}).encode(), "bad_answer"),
])
async def test_a_bad_review_body_is_400_and_never_reaches_the_store(
        site: Site, body: bytes, code: str) -> None:
    answer = await site.http.put("/api/qa/reviews/7", headers=site.login(Role.QA), content=body)
    assert answer.status_code == 400 and answer.json()["error"] == code
    assert site.port.calls == []


async def test_the_stores_refusal_is_the_pages_error(site: Site) -> None:
    site.port.refuse = QaRefused("not_owner", "review 7 is bolat's", HTTPStatus.FORBIDDEN)
    answer = await site.http.post("/api/qa/reviews/7/finalise", headers=site.login(Role.QA))
    assert answer.status_code == 403 and answer.json()["error"] == "not_owner"
    site.port.refuse = QaRefused("immutable", "final")
    assert (await site.http.put("/api/qa/reviews/7", headers=site.login(Role.QA),
                                json={})).status_code == 409
    bad = await site.http.post("/api/qa/reviews/x1/correct", headers=site.login(Role.QA))
    assert bad.status_code == 400 and bad.json()["error"] == "bad_review"


# --- calibration, reports, CSV ---------------------------------------------------

async def test_calibration_and_reports_over_a_period_of_local_dates(site: Site) -> None:
    qa = site.login(Role.QA)
    cal = (await site.http.get("/api/qa/calibration?since=2026-11-01&until=2026-11-30",
                               headers=qa)).json()
    assert cal["criteria"][0]["kappa"] == 0.25
    assert site.port.calls[-1] == ("calibration", dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    rep = (await site.http.get("/api/qa/report?by=team", headers=qa)).json()
    assert rep["by"] == "team" and rep["groups"][0]["key"] == "1001"
    # eight weeks up to today (the clock's day in Almaty), both ends included
    assert site.port.calls[-1] == ("report", "team", dt.date(2026, 10, 10), dt.date(2026, 12, 4))
    for query, code in (("by=queue", "bad_choice"), ("since=2026-13-01", "bad_date"),
                        ("until=yesterday", "bad_date"),
                        ("since=2026-12-01&until=2026-11-01", "bad_period"),
                        ("since=2024-12-31&until=2026-01-01", "bad_period")):
        answer = await site.http.get(f"/api/qa/report?{query}", headers=qa)
        assert answer.status_code == 400 and answer.json()["error"] == code, query
    year = await site.http.get("/api/qa/report?since=2025-01-01&until=2026-01-01", headers=qa)
    assert year.status_code == 200  # 366 days, both included: as reports.period


async def test_the_report_as_csv_is_the_review_stores(site: Site) -> None:
    answer = await site.http.get("/api/qa/export.csv?by=agent&since=2026-12-01"
                                 "&until=2026-12-04&lang=ru", headers=site.login(Role.QA))
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == \
        'attachment; filename="qa-agent-20261201-20261204.csv"'
    assert answer.content.decode() == "\ufeffagent;ru\r\n"
    await site.http.get("/api/qa/export.csv?lang=xx", headers=site.login(Role.QA))
    assert site.port.calls[-1][-1] == "kk"  # an unknown language: the default


async def test_a_supervisor_asks_for_a_second_review(site: Site) -> None:
    sup = site.login(Role.SUPERVISOR, "aigerim")
    answer = await site.http.post(f"/api/qa/calls/{CALL}/calibrate", headers=sup)
    assert answer.json() == {"queued": False} and site.port.calls == [
        ("calibrate", CALL, "aigerim")]
    qa = await site.http.post(f"/api/qa/calls/{CALL}/calibrate", headers=site.login(Role.QA))
    assert qa.status_code == 403


def test_answers_parse_into_the_models_answers() -> None:
    answers, comment = webparams.parse_review(json.dumps({"answers": [
        {"criterion": "a", "outcome": "na", "comment": None}]}).encode())
    assert answers == (Answer("a", Outcome.NA),) and comment == ""
    with pytest.raises(ParamError):
        webparams.parse_review(json.dumps({"answers": [{}] * 201}).encode())


# --- shapes ----------------------------------------------------------------------

def card() -> Scorecard:
    names = Names("Сәлемдесу", "Приветствие", "Greeting")
    crit = (Criterion("greeting", Kind.SAID, names, critical=True),
            Criterion("politeness", Kind.MANUAL, Names("Сыпайы", "Вежливость", "Politeness"),
                      scale=Scale.ONE_TO_FIVE))
    return Scorecard("default", 3, Names("Негізгі", "Основной", "Default"),
                     (Section("greeting", names, crit),))


def test_a_scorecard_version_as_the_page_draws_it() -> None:
    data = webshape.card_json(card())
    assert data["version"] == 3 and data["names"]["ru"] == "Основной"
    first, second = data["sections"][0]["criteria"]
    assert (first["kind"], first["critical"], first["scale"]) == ("said", True, None)
    assert (second["kind"], second["scale"]) == ("manual", "1-5")


def test_a_review_row_as_the_page_reads_it() -> None:
    row = (5, CALL, "dana", 2, 4, "default", 3, "final",
           '[{"criterion":"a","outcome":"pass"}]', "ok", 80.0, "x,y", 1, NOW, NOW + 5)
    data = webshape.review_json(row)
    assert data["answers"] == [{"criterion": "a", "outcome": "pass"}]
    assert data["critical_failed"] == ["x", "y"] and data["counted"] is True
    assert webshape.review_json((*row[:8], "not json", *row[9:]))["answers"] == []


@dataclass(frozen=True)
class Row:
    criterion: str
    kappa: float | None


@dataclass(frozen=True)
class Report:
    criteria: tuple[Row, ...]

    def to_json(self) -> dict[str, Any]:
        return {"criteria": [{"criterion": r.criterion, "kappa": r.kappa} for r in self.criteria],
                "rows": (Row("b", None),)}


def test_the_review_stores_values_are_read_through_to_json_or_their_fields() -> None:
    assert webshape.plain(Report((Row("a", 0.5),))) == {
        "criteria": [{"criterion": "a", "kappa": 0.5}],
        "rows": [{"criterion": "b", "kappa": None}]}
    assert webshape.plain([{"x": (1, 2)}]) == [{"x": [1, 2]}]


def test_every_string_the_page_uses_exists_in_every_language() -> None:
    import re

    from bailanys.qa.model import QueueReason
    from tests.console.test_static import strings

    table = strings()
    keys = set(re.findall(r'data-i18n(?:-\w+)?="(\w+)"', (STATIC_DIR / "qa.html").read_text()))
    for name in ("qa.js", "callview.js"):
        keys |= set(re.findall(r'\bt\("(\w+)"', (STATIC_DIR / name).read_text()))
    keys |= {f"qa_reason_{r}" for r in QueueReason} | {f"qa_out_{o}" for o in Outcome}
    keys |= {f"qa_state_{s}" for s in ("draft", "final")}
    # the scorers' machine notes on evidence (qa/criteria.py), as qa.js makes their keys
    keys |= {f"qa_note_{n.replace(' ', '_')}" for n in (
        "no transcript", "not said", "no phrases", "no recording", "no hold",
        "no hold phrase before", "no value")}
    # every refusal code: the page's (web.py, webparams.py) and the review store's
    # (answers.ReviewError's docstring)
    keys |= {f"qa_err_{c}" for c in (
        "bad_answer", "no_reason", "too_long", "bad_json", "not_scored", "may_not_flag",
        "too_large", "bad_review", "no_score", "not_found", "not_owner", "final", "not_final",
        "superseded", "no_scorecard", "unknown_criterion", "duplicate", "bad_outcome",
        "bad_value", "unanswered", "bad_period")}
    for lang in ("kk", "ru", "en"):
        assert keys - set(table[lang]) == set(), lang
    kk, ru = table["kk"], table["ru"]
    qa_keys = [k for k in kk if k.startswith("qa_")]
    assert sum(kk[k] != ru[k] for k in qa_keys) > len(qa_keys) * 0.9  # really translated
