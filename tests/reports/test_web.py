"""The Reports page's routes (bailanys/reports/web.py) over the real port
(webstore.py) on a real store at schema v6, with fake builders (pagefakes.py).

Roles and sessions through the layer's real check; every route's answer;
bad parameters are 400 with a code, what cannot be made has its code and
status; a verdict writes ``complaint.confirmed``; an import's body may be
larger than the console's 8 KiB, the others' may not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bailanys.config import Config
from bailanys.console.pages import STATIC_DIR, load_static
from bailanys.events.reports import ComplaintConfirmed
from bailanys.reports import params as params_module
from bailanys.reports import produce as produce_module
from bailanys.reports import web as web_module
from bailanys.reports import webstore as webstore_module
from bailanys.reports.produce import Parts, ReportError, module
from bailanys.reports.web import MAX_IMPORT_BYTES, REPORT_CSP, ReportsRoutes, file_name
from bailanys.reports.webstore import StoreReports
from bailanys.timezone import ALMATY
from bailanys.web.access import Access
from bailanys.web.app import web_app
from bailanys.web.auth import COOKIE_NAME, ConsoleUser, Role, SessionStore
from tests.reports.pagefakes import ROW13, FakeParts, add_contact, new_store

NOW = 1_796_380_000.0  # 2026-12-04 in Almaty
DAY = 86_400.0
ORIGIN = {"origin": "http://t"}
CSV = b"date,channel,topic\n2026-11-02,chat,pension\n2026-11-03,email,complaint\n"


@dataclass
class Events:
    emitted: list[ComplaintConfirmed] = field(default_factory=list)

    def emit(self, event: ComplaintConfirmed) -> object:
        self.emitted.append(event)
        return event


@dataclass
class Site:
    http: httpx.AsyncClient
    fakes: FakeParts
    events: Events
    sessions: SessionStore
    db: str

    def login(self, role: Role, login: str = "aigerim") -> dict[str, str]:
        session = self.sessions.create(ConsoleUser(login, role, "unused"))
        return {"cookie": f"{COOKIE_NAME}={session.token}", **ORIGIN}


def app_of(port: Any, events: Events, sessions: SessionStore) -> Any:
    routes = ReportsRoutes(Access(sessions), port, events, load_static(STATIC_DIR), ALMATY,
                           clock=lambda: NOW)
    return web_app(routes.routes())


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite; PostgreSQL too for the tests marked :data:`BOTH` (those that read or
    write the store: the others would only run the page twice)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(tmp_path / "bailanys.db")


#: Run on both store backends (issue 22).
BOTH = pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
async def site(store_url: str) -> AsyncIterator[Site]:
    db = await asyncio.to_thread(new_store, store_url)
    fakes, events, sessions = FakeParts(), Events(), SessionStore(3600)
    port = StoreReports(db, Config(), fakes.parts())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(
            app=app_of(port, events, sessions)), base_url="http://t") as http:
        yield Site(http, fakes, events, sessions, db)


# --- who may ----------------------------------------------------------------------

async def test_without_a_session_the_page_goes_to_the_login_and_the_apis_answer_401(
        site: Site) -> None:
    page = await site.http.get("/reports")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    for path in ("/api/reports/me", "/api/reports/due", "/api/reports/complaints",
                 "/api/reports/imports", "/api/reports/semiannual?period=2026-H2"):
        assert (await site.http.get(path)).status_code == 401, path
    assert (await site.http.post("/api/calls/c1/complaint")).status_code == 401


@pytest.mark.parametrize("role", [Role.ANALYST, Role.SUPERVISOR, Role.ADMIN])
async def test_analysts_supervisors_and_admins_get_the_page(site: Site, role: Role) -> None:
    page = await site.http.get("/reports", headers=site.login(role))
    assert page.status_code == 200 and b'src="/static/reports.js"' in page.content
    me = (await site.http.get("/api/reports/me", headers=site.login(role))).json()
    assert me["role"] == role and me["may_judge"] == (role != Role.ANALYST)
    assert me["today"] == "2026-12-04"
    assert me["defaults"] == {"semiannual": "2026-H1", "quarterly": "2026-Q3",
                              "feedback": "2026-H1"}


async def test_a_qa_reviewer_is_refused(site: Site) -> None:
    assert (await site.http.get("/reports", headers=site.login(Role.QA))).status_code == 403
    answer = await site.http.get("/api/reports/due", headers=site.login(Role.QA))
    assert answer.status_code == 403


# --- reports ----------------------------------------------------------------------

async def test_the_html_view_is_inline_with_a_policy_of_its_own(site: Site) -> None:
    answer = await site.http.get("/api/reports/semiannual?period=2026-H2&lang=ru&format=html",
                                 headers=site.login(Role.ANALYST))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == REPORT_CSP
    assert "content-disposition" not in answer.headers
    assert ROW13["ru"] in answer.text and "қ ә ө &lt;b&gt;" in answer.text
    assert site.fakes.calls == [("semiannual", "2026-H2", "ru", "org", "topics"),
                                ("render", "semiannual", "html")]


@pytest.mark.parametrize(("kind", "period", "fmt", "name", "call"), [
    ("semiannual", "2026-H1", "xlsx", "semiannual-2026-H1-kk.xlsx",
     ("semiannual", "2026-H1", "kk", "org", "topics")),
    ("quarterly", "2026-Q3", "pdf", "quarterly-2026-Q3-kk.pdf", ("quarterly", "2026-Q3", "kk")),
    ("feedback", "2026-10-01..2026-11-30", "xlsx", "feedback-2026-10-01_2026-11-30-kk.xlsx",
     ("feedback", dt.date(2026, 10, 1), dt.date(2026, 11, 30), "kk")),
    ("feedback", "2026-Q4", "pdf", "feedback-2026-Q4-kk.pdf",
     ("feedback", dt.date(2026, 10, 1), dt.date(2026, 12, 31), "kk")),
])
async def test_xlsx_and_pdf_are_downloads_named_for_the_request(
        site: Site, kind: str, period: str, fmt: str, name: str, call: tuple[Any, ...]) -> None:
    answer = await site.http.get(f"/api/reports/{kind}",
                                 params={"period": period, "lang": "kk", "format": fmt},
                                 headers=site.login(Role.SUPERVISOR))
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert answer.headers["content-type"].startswith(
        "application/pdf" if fmt == "pdf" else "application/vnd.openxmlformats")
    assert answer.content.startswith(b"%PDF" if fmt == "pdf" else b"PK")
    assert site.fakes.calls == [call, ("render", kind, fmt)]


@pytest.mark.parametrize(("path", "code", "param"), [
    ("/api/reports/semiannual?period=2026-Q3", "bad_period", "period"),
    ("/api/reports/semiannual?period=", "no_period", "period"),
    ("/api/reports/quarterly?period=2026-Q5", "bad_period", "period"),
    ("/api/reports/feedback?period=2026-12-01..2026-11-01", "bad_period", "period"),
    ("/api/reports/feedback?period=2026-13", "bad_period", "period"),
    ("/api/reports/feedback?period=2026-11-31..2026-12-01", "bad_date", "period"),
    ("/api/reports/semiannual?period=2026-H2&lang=en", "bad_lang", "lang"),
    ("/api/reports/semiannual?period=2026-H2&format=docx", "bad_format", "format"),
    ("/api/reports/monthly?period=2026-H2", "bad_kind", "kind"),
])
async def test_bad_parameters_are_400_with_a_code(site: Site, path: str, code: str,
                                                  param: str) -> None:
    answer = await site.http.get(path, headers=site.login(Role.ANALYST))
    assert answer.status_code == 400
    assert answer.json()["error"] == code and answer.json()["param"] == param
    assert answer.headers["content-security-policy"] == REPORT_CSP  # the frame may read it
    assert site.fakes.calls == []


async def test_a_profile_with_problems_lists_them(site: Site) -> None:
    site.fakes.bad_profile = True
    answer = await site.http.get("/api/reports/semiannual?period=2026-H2&format=xlsx",
                                 headers=site.login(Role.ANALYST))
    assert answer.status_code == 422
    assert answer.json()["error"] == "sources"
    assert answer.json()["problems"] == ["configs/organisation.toml:3: name: missing"]


async def test_a_missing_part_is_503_and_a_failing_one_500_without_a_traceback(
        tmp_path: Path) -> None:
    db = await asyncio.to_thread(new_store, tmp_path / "b.db")
    sessions, events = SessionStore(3600), Events()

    def broken(name: str) -> Any:
        if name == "render":
            raise RuntimeError("boom")  # a renderer that fails
        return FakeParts().find(name)

    for find, status, code in ((lambda name: module("no_such_part"), 503, "unavailable"),
                               (broken, 500, "failed")):
        port = StoreReports(db, Config(), Parts(find=find))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(
                app=app_of(port, events, sessions)), base_url="http://t") as http:
            session = sessions.create(ConsoleUser("bolat", Role.ANALYST, "unused"))
            answer = await http.get("/api/reports/quarterly?period=2026-Q3",
                                    headers={"cookie": f"{COOKIE_NAME}={session.token}"})
        assert answer.status_code == status and answer.json()["error"] == code
        assert "Traceback" not in answer.text and "boom" not in answer.text


# --- the reminder -----------------------------------------------------------------

async def test_the_due_reminder_says_the_period_the_date_and_the_days_left(site: Site) -> None:
    answer = await site.http.get("/api/reports/due", headers=site.login(Role.ANALYST))
    assert answer.json() == {"due": {"period": "2026-H2", "date": "2027-01-15",
                                     "days_left": 42}}
    site.fakes.due = None
    answer = await site.http.get("/api/reports/due", headers=site.login(Role.ANALYST))
    assert answer.json() == {"due": None}


async def test_no_reminder_where_the_form_is_not_installed(tmp_path: Path) -> None:
    sessions = SessionStore(3600)
    db = await asyncio.to_thread(new_store, tmp_path / "b.db")
    port = StoreReports(db, Config(),
                        Parts(find=lambda name: module("no_such_part")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(
            app=app_of(port, Events(), sessions)), base_url="http://t") as http:
        session = sessions.create(ConsoleUser("bolat", Role.ANALYST, "unused"))
        answer = await http.get("/api/reports/due",
                                headers={"cookie": f"{COOKIE_NAME}={session.token}"})
    assert answer.status_code == 200 and answer.json() == {"due": None}


# --- complaints -------------------------------------------------------------------

@BOTH
async def test_complaints_of_the_period_undecided_first(site: Site) -> None:
    add_contact(site.db, "c-old", NOW - 40 * DAY, "2026-10-25", confirmed=True)
    add_contact(site.db, "c-new", NOW - DAY, "2026-12-03")
    add_contact(site.db, "c-mid", NOW - 3 * DAY, "2026-12-01", confirmed=False)
    add_contact(site.db, "c-fine", NOW - DAY, "2026-12-03", complaint=False)
    add_contact(site.db, "c-before", NOW - 90 * DAY, "2026-09-05")
    answer = await site.http.get("/api/reports/complaints?since=2026-10-01&until=2026-12-31",
                                 headers=site.login(Role.ANALYST))
    body = answer.json()
    assert [(i["call_id"], i["confirmed"]) for i in body["items"]] == [
        ("c-new", None), ("c-mid", False), ("c-old", True)]
    assert body["items"][0]["started_text"] == "2026-12-03 " + body["items"][0][
        "started_text"][11:] and body["may_judge"] is False and body["more"] is False
    bad = await site.http.get("/api/reports/complaints?since=2026-12-31&until=2026-10-01",
                              headers=site.login(Role.ANALYST))
    assert bad.status_code == 400 and bad.json()["error"] == "bad_period"


@BOTH
async def test_a_supervisor_confirms_or_rejects_a_complaint(site: Site) -> None:
    add_contact(site.db, "c-7", NOW - DAY, "2026-12-03")
    for confirmed in (True, False):
        answer = await site.http.post("/api/calls/c-7/complaint",
                                      json={"confirmed": confirmed},
                                      headers=site.login(Role.SUPERVISOR, "aigerim"))
        assert answer.status_code == 200
        assert answer.json() == {"call_id": "c-7", "confirmed": confirmed, "user": "aigerim"}
    assert site.events.emitted == [
        ComplaintConfirmed(call_id="c-7", confirmed=True, user="aigerim"),
        ComplaintConfirmed(call_id="c-7", confirmed=False, user="aigerim")]


@pytest.mark.parametrize(("role", "call", "body", "status", "code"), [
    (Role.ANALYST, "c-7", {"confirmed": True}, 403, "may_not_judge"),
    (Role.SUPERVISOR, "c-fine", {"confirmed": True}, 409, "not_complaint"),
    (Role.SUPERVISOR, "c-none", {"confirmed": True}, 404, "no_contact"),
    (Role.SUPERVISOR, "c-7", {"confirmed": "yes"}, 400, "bad_verdict"),
    (Role.SUPERVISOR, "c-7", [], 400, "bad_verdict"),
    (Role.ADMIN, "-bad", {"confirmed": True}, 400, "bad_call"),
])
async def test_verdicts_refused(site: Site, role: Role, call: str, body: Any, status: int,
                                code: str) -> None:
    add_contact(site.db, "c-7", NOW - DAY, "2026-12-03")
    add_contact(site.db, "c-fine", NOW - DAY, "2026-12-03", complaint=False)
    answer = await site.http.post(f"/api/calls/{call}/complaint", json=body,
                                  headers=site.login(role))
    assert answer.status_code == status and answer.json()["error"] == code
    assert site.events.emitted == []


async def test_a_verdict_from_another_site_is_refused(site: Site) -> None:
    add_contact(site.db, "c-7", NOW - DAY, "2026-12-03")
    headers = {**site.login(Role.SUPERVISOR), "origin": "http://evil.example"}
    answer = await site.http.post("/api/calls/c-7/complaint", json={"confirmed": True},
                                  headers=headers)
    assert answer.status_code == 403 and site.events.emitted == []


# --- imports ----------------------------------------------------------------------

@BOTH
async def test_an_import_is_one_batch_listed_afterwards(site: Site) -> None:
    answer = await site.http.post(
        "/api/reports/imports",
        params={"name": "C:\\Users\\x\\чаттар 2026.csv", "since": "2026-10-01",
                "until": "2026-12-31"}, content=CSV, headers=site.login(Role.ANALYST, "bolat"))
    assert answer.status_code == 200
    assert answer.json() == {"name": "чаттар 2026.csv", "since": "2026-10-01",
                             "until": "2026-12-31", "batch": 1, "rows": 2, "replaced": 0}
    assert site.fakes.imported == [("чаттар 2026.csv", dt.date(2026, 10, 1),
                                    dt.date(2026, 12, 31), "bolat", 2, ALMATY,
                                    frozenset({"pension", "complaint"}), "kk")]
    listed = (await site.http.get("/api/reports/imports", headers=site.login(Role.ANALYST)))
    [item] = listed.json()["items"]
    assert (item["name"], item["rows"], item["user"]) == ("чаттар 2026.csv", 2, "bolat")


@BOTH
async def test_an_import_with_problems_lists_them_and_writes_nothing(site: Site) -> None:
    answer = await site.http.post(
        "/api/reports/imports", params={"name": "x.csv", "since": "2026-10-01",
                                        "until": "2026-12-31", "lang": "ru"},
        content=b"when,channel\n1,chat\n", headers=site.login(Role.ANALYST))
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_csv"
    assert answer.json()["problems"] == ["x.csv:1: date: no such column (ru)"]
    listed = await site.http.get("/api/reports/imports", headers=site.login(Role.ANALYST))
    assert listed.json()["items"] == []


@pytest.mark.parametrize(("params", "body", "code"), [
    ({"name": "x.csv"}, CSV, "no_period"),
    ({"since": "2026-10-01", "until": "2026-13-01"}, CSV, "bad_date"),
    ({"since": "2026-10-01", "until": "2026-12-31"}, b" \n", "empty_file"),
])
async def test_imports_refused(site: Site, params: dict[str, str], body: bytes,
                               code: str) -> None:
    answer = await site.http.post("/api/reports/imports", params=params, content=body,
                                  headers=site.login(Role.ANALYST))
    assert answer.status_code == 400 and answer.json()["error"] == code


async def test_only_the_import_takes_a_body_larger_than_the_consoles(site: Site) -> None:
    rows = b"".join(b"2026-11-02,chat,pension\n" for _ in range(20_000))  # ~480 KB
    params = {"name": "big.csv", "since": "2026-10-01", "until": "2026-12-31"}
    answer = await site.http.post("/api/reports/imports", params=params,
                                  content=b"date,channel,topic\n" + rows,
                                  headers=site.login(Role.ANALYST))
    assert answer.status_code == 200 and answer.json()["rows"] == 20_000
    too_big = await site.http.post("/api/reports/imports", params=params,
                                   content=b"d" * (MAX_IMPORT_BYTES + 1),
                                   headers=site.login(Role.ANALYST))
    assert too_big.status_code == 413
    verdict = await site.http.post("/api/calls/c-7/complaint", content=b" " * 9000,
                                   headers=site.login(Role.SUPERVISOR))
    assert verdict.status_code == 413


@pytest.mark.parametrize(("given", "stored"), [
    ("report.csv", "report.csv"), ("/etc/passwd", "passwd"), ("..\\..\\a.csv", "a.csv"),
    ("", "import.csv"), ("<script>.csv", "script.csv"), ("хаттар.csv", "хаттар.csv"),
])
def test_an_uploaded_files_name_is_its_last_part(given: str, stored: str) -> None:
    assert file_name(given) == stored


def test_a_report_error_carries_its_code_and_problems() -> None:
    exc = ReportError("sources", "bad", problems=("a:1: b: c",))
    assert (exc.code, exc.status, exc.problems) == ("sources", 422, ("a:1: b: c",))


# --- the page's strings -----------------------------------------------------------

def page_keys() -> set[str]:
    html_text = (STATIC_DIR / "reports.html").read_text()
    js = (STATIC_DIR / "reports.js").read_text()
    keys = set(re.findall(r'data-i18n(?:-\w+)?="(\w+)"', html_text))
    keys |= set(re.findall(r'\bt\("(\w+)"', js)) | set(re.findall(r'"(rp_\w+)"', js))
    keys |= {f"rp_verdict_{v}" for v in ("null", "true", "false")}
    keys |= {f"rp_half_{n}" for n in (1, 2)} | {f"rp_quarter_{n}" for n in range(1, 5)}
    # every code the routes and the port answer with, and the page's own
    web = (Path(web_module.__file__).read_text() + Path(webstore_module.__file__).read_text()
           + Path(produce_module.__file__).read_text() + Path(params_module.__file__).read_text())
    codes = set(re.findall(r'(?:_refusal|ReportError)\(\s*"(\w+)"', web))
    codes |= set(re.findall(r'ParamError\("\w+", "(\w+)"', web))
    keys |= {f"rp_err_{c}" for c in codes | {"no_file", "too_large", "not_found"}}
    return keys


def test_every_string_of_the_page_exists_in_every_language() -> None:
    table = json.loads((STATIC_DIR / "i18n.js").read_text().split("/*JSON*/")[1]
                       .split("/*END*/")[0])
    keys = page_keys()
    assert {"rp_err_bad_period", "rp_err_may_not_judge", "rp_err_sources",
            "rp_err_bad_csv", "rp_due", "rp_kind_feedback"} <= keys
    for lang in ("kk", "ru", "en"):
        assert keys - set(table[lang]) == set(), lang
    kk, ru = table["kk"], table["ru"]
    assert all(kk[k] != ru[k] for k in keys if k.startswith("rp_err_"))
    assert kk["rp_kind_semiannual"].endswith("(2-қосымша)")
