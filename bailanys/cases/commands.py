"""``bailanys cases``: check the rules, list, show, change and escalate requests.

Issue 19: "``bailanys cases`` CLI". ``check`` reads ``[cases] file``,
``calendar_dir`` and ``replies`` as the engine does
(:func:`bailanys.cases.rules.problems`) and prints each problem as
``file[:line]: key: message``; ``list``, ``show``, ``status``, ``answer``,
``verdict`` (a complaint confirmed or not) and ``escalate`` work on the
configured store (schema v7) through :class:`~bailanys.cases.store.CaseStore`,
and write the events a change makes to the event log, as the engine would.
A change that tells the citizen (:mod:`bailanys.cases.notify`) queues the
SMS in the store's outbox (:func:`bailanys.robot.sms.enqueue_on`) when
``[robot] kannel`` is set; the engine's sender picks it up within seconds.
``reply`` prints a reply template (:mod:`bailanys.cases.replies`) filled
in for a request. Phone numbers are shown masked to the last 4 digits; the
IIN is never shown (only whether a hash is kept).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

from bailanys.cases import replies as rp
from bailanys.cases import rules as cr
from bailanys.cases.lifecycle import Status
from bailanys.cases.model import Case, mask_number
from bailanys.cases.notify import messages, to_tell
from bailanys.cases.store import CaseStore, connect
from bailanys.cliutil import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    CommandError,
    add_config_option,
    load_config_or_exit,
    plural,
    print_problems,
    store_location_or_exit,
)
from bailanys.config import Config
from bailanys.errors import BailanysError, ConfigError, InputError
from bailanys.events.base import EventBase
from bailanys.reports.topics import topic_tree
from bailanys.robot.sms import enqueue_on
from bailanys.store.syncdb import STORE_ERRORS
from bailanys.timezone import ALMATY

if TYPE_CHECKING:
    from bailanys.events import AnyEvent

_STATUSES = [s.value for s in Status]
#: ``cases verdict``'s words and what they record.
VERDICT_CHOICES = {"confirmed": True, "not_confirmed": False}
#: The most requests ``cases list`` prints: a screen's worth of pages, not the archive.
LIST_LIMIT = 500


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cases = subparsers.add_parser("cases", help="citizens' requests: check, list, show, update")
    sub = cases.add_subparsers(dest="cases_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="validate configs/cases.yaml and the calendar")
    lst = sub.add_parser("list", help="list requests, newest first")
    lst.add_argument("--overdue", action="store_true", help="only those past a deadline now")
    lst.add_argument("--status", choices=_STATUSES, help="only requests with this status")
    show = sub.add_parser("show", help="one request with its questions and history")
    show.add_argument("number", metavar="NUMBER", help="e.g. 2026-000042")
    status = sub.add_parser("status", help="change a request's status (the lifecycle decides)")
    status.add_argument("number", metavar="NUMBER")
    status.add_argument("status", metavar="STATUS", choices=_STATUSES)
    status.add_argument("--user", required=True, help="who makes the change (history)")
    status.add_argument("--note", default="", help="why (kept, personal data masked)")
    answer = sub.add_parser("answer", help="mark a question of a request answered")
    answer.add_argument("number", metavar="NUMBER")
    answer.add_argument("question", metavar="QUESTION", type=int, help="1, 2, ...")
    answer.add_argument("--user", required=True, help="who answered (history)")
    verdict = sub.add_parser("verdict", help="a supervisor's verdict on a complaint")
    verdict.add_argument("number", metavar="NUMBER")
    verdict.add_argument("verdict", metavar="VERDICT", choices=list(VERDICT_CHOICES))
    verdict.add_argument("--user", required=True, help="the supervisor (history)")
    esc = sub.add_parser("escalate", help="escalate every request overdue now")
    for p in (status, verdict, esc):
        p.add_argument("--no-sms", action="store_true", help="do not text the citizen")
    reply = sub.add_parser("reply", help="a reply template filled in for a request")
    reply.add_argument("number", metavar="NUMBER")
    reply.add_argument("--template", metavar="ID", help="the reply's id (none: list them)")
    reply.add_argument("--lang", choices=rp.LANGS, help="kk or ru (default: the citizen's)")
    reply.add_argument("--reason", default="", help="fills {reason} (e.g. why it is late)")
    for p, func in ((check, cmd_check), (lst, cmd_list), (show, cmd_show),
                    (status, cmd_status), (answer, cmd_answer), (verdict, cmd_verdict),
                    (esc, cmd_escalate), (reply, cmd_reply)):
        add_config_option(p)
        p.set_defaults(func=func)


def cmd_check(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    found = cr.problems(config)
    if print_problems(found):
        print(f"{plural(len(found), 'problem')} in the requests' rules")
        return EXIT_PROBLEMS
    print(f"ok: {config.cases.file}, {config.cases.calendar_dir}"
          + (f", {config.cases.replies}" if config.cases.replies else ""))
    return EXIT_OK


@contextmanager
def _store(config: Config) -> Iterator[CaseStore]:
    path = store_location_or_exit(config)
    try:
        rules = cr.load(config)
        conn = connect(path)
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    except BailanysError as exc:
        raise CommandError(str(exc)) from None
    try:
        yield CaseStore(conn, rules.cases, rules.calendar, rules.topics)
    except BailanysError as exc:
        raise CommandError(str(exc)) from None
    finally:
        conn.close()


def _write_events(config: Config, events: Sequence[EventBase]) -> None:
    """The changes' events into the store's event log (as the engine emits them)."""
    if not events:
        return

    async def write() -> None:
        from bailanys.store import Store

        store = await Store.open(store_location_or_exit(config))
        try:
            for event in events:
                store.events.emit(cast("AnyEvent", event))
        finally:
            await store.close()

    asyncio.run(write())


def _local(at: datetime) -> str:
    return at.astimezone(ALMATY).strftime("%Y-%m-%d %H:%M")


def line(case: Case) -> str:
    """One request on one line: number, status, topic, deadline, masked number."""
    due = case.deadline.isoformat() if case.deadline else "-"
    return (f"{case.number}  {case.status.value:<11}  {case.kind.value:<9}  "
            f"{case.topic:<16}  due {due}  {case.citizen.masked or '-'}")


def details(case: Case) -> list[str]:
    """``cases show``: the request, its questions, promises and history."""
    out = [line(case), f"  created {_local(case.created_at)}"
           + (f" (call {case.call_id})" if case.call_id else ""),
           f"  citizen: {case.citizen.masked or '-'}, {case.citizen.lang}, IIN "
           + ("hash kept" if case.citizen.iin_hash else "not given"),
           f"  description: {case.description}"]
    if case.category:
        verdict = {None: "no verdict", True: "confirmed", False: "not confirmed"}[case.confirmed]
        out.append(f"  complaint: {case.category}, {verdict}")
    for q in case.questions:
        state = f"answered {_local(q.answered_at)}" if q.answered_at else "open"
        out.append(f"  question {q.no}: {q.topic} -> {q.department}, due "
                   f"{q.deadline.isoformat()}, {state}: {q.text}")
    for p in case.promises:
        kept = f"kept {_local(p.kept_at)}" if p.kept_at else "not kept"
        out.append(f"  promise {p.no}: by {p.deadline.isoformat()} ({p.made_by}), {kept}: "
                   f"{p.text}")
    out += [f"  {_local(h.at)}  {h.user}: {h.what}" + (f" {h.detail}" if h.detail else "")
            for h in case.history]
    return out


def cmd_list(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    with _store(config) as store:
        if args.overdue:
            ids = dict.fromkeys(o.case_id for o in store.list_overdue(datetime.now(UTC)))
            cases = [c for c in (store.get(i) for i in ids) if c is not None]
        else:
            cases = list_cases(store, args.status)
        if args.status:
            cases = [c for c in cases if c.status.value == args.status]
        for case in cases:
            print(line(case))
        print(plural(len(cases), "request"))
    return EXIT_OK


def list_cases(store: CaseStore, status: str | None, limit: int = LIST_LIMIT) -> list[Case]:
    """The newest ``limit`` requests, with ``status`` if given."""
    sql, params = "SELECT id FROM cases", []
    if status:
        sql, params = sql + " WHERE status = ?", [status]
    rows = store.conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit)).fetchall()
    return [c for c in (store.get(int(r[0])) for r in rows) if c is not None]


def _by_number(store: CaseStore, number: str) -> Case:
    case = store.by_number(number.strip())
    if case is None:
        raise CommandError(f"no request {number!r}")
    return case


def cmd_show(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    with _store(config) as store:
        for text in details(_by_number(store, args.number)):
            print(text)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    with _store(config) as store:
        case = _by_number(store, args.number)
        res = store.set_status(case.id, Status(args.status), user=args.user,
                               now=datetime.now(UTC), note=args.note)
        told = tell(config, store, [res.case], res.events, args.no_sms)
    _write_events(config, [*res.events, *told])
    print(line(res.case))
    return EXIT_OK


def cmd_answer(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    with _store(config) as store:
        case = _by_number(store, args.number)
        res = store.answer_question(case.id, args.question, user=args.user,
                                    now=datetime.now(UTC))
    print(line(res.case))
    if not res.case.unanswered:
        print(f"every question is answered: bailanys cases status {res.case.number} answered")
    return EXIT_OK


def cmd_verdict(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    with _store(config) as store:
        case = _by_number(store, args.number)
        res = store.confirm_complaint(case.id, VERDICT_CHOICES[args.verdict], user=args.user,
                                      now=datetime.now(UTC))
        told = tell(config, store, [res.case], res.events, args.no_sms)
    _write_events(config, [*res.events, *told])
    for text in details(res.case)[:5]:
        print(text)
    return EXIT_OK


def cmd_reply(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    if not config.cases.replies:
        raise CommandError("no reply templates ([cases] replies is empty)", EXIT_USAGE)
    try:
        book = rp.load(config.cases.replies)
    except ConfigError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    with _store(config) as store:
        case = _by_number(store, args.number)
        lang = args.lang or case.citizen.lang
        if args.template is None:
            for r in book.items:
                print(f"{r.id:<24} {r.title[lang]}")
            return EXIT_OK
        reply = book.get(args.template)
        if reply is None:
            raise CommandError(f"no reply template {args.template!r} (have: "
                               + ", ".join(book.ids) + ")", EXIT_USAGE)
        departments = {d.id: d for d in store.cfg.departments}
        print(rp.render(reply, case, lang, departments=departments,
                        topics=topic_tree(config.reports.topics), reason=args.reason))
    return EXIT_OK


#: Why an SMS may not be queued: the store, or the text/number refused.
_SMS_FAILS: tuple[type[Exception], ...] = (*STORE_ERRORS, InputError)


def tell(config: Config, store: CaseStore, cases: Sequence[Case],
         events: Sequence[EventBase], no_sms: bool = False) -> list[EventBase]:
    """Queue the citizens' SMS for ``events`` in the store's outbox (the
    engine sends them); the ``sms.queued`` events for the event log. None
    without an SMS gateway (``[robot] kannel``), as in the engine."""
    texts = [m for case in cases for m in messages(case, events)]
    if not texts:
        return []
    if no_sms or not config.robot.kannel:
        why = "--no-sms" if no_sms else "no SMS gateway: [robot] kannel is empty"
        print(f"the citizen is not texted ({why})")
        return []
    now = time.time()
    out: list[EventBase] = []
    for sms in texts:
        try:
            msg_id, queued = enqueue_on(store.conn, sms.to, sms.text, now)
        except _SMS_FAILS as exc:  # the change stands; say what is missing
            print(f"the SMS to {mask_number(sms.to)} was not queued: {exc}")
            continue
        out.append(queued)
        print(f"SMS {msg_id} queued to {mask_number(sms.to)}")
    return out


def cmd_escalate(args: argparse.Namespace) -> int:
    config = load_config_or_exit(args)
    with _store(config) as store:
        events = store.escalate_overdue(datetime.now(UTC))
        found = [c for n in to_tell(events) if (c := store.by_number(n)) is not None]
        told = tell(config, store, found, events, args.no_sms)
    _write_events(config, [*events, *told])
    numbers = sorted({str(getattr(e, "number", "")) for e in events})
    for n in numbers:
        print(f"escalated {n}")
    print(f"{plural(len(numbers), 'request')} escalated")
    return EXIT_OK
