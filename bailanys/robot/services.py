"""The voice robot's five self-service services as one pure state machine.

Profile of the 1414 centre (``domain/kz-1414-contact-center-profile.ru.txt``):
"5 dynamic self-service services": document readiness, booking a slot at a
public service centre (ЦОН), certificates (IIN, then a code sent by SMS, then
the link by SMS), the list of required documents by SMS, and the caller's
open requests (issue 19: "by number + IIN + SMS code": the IIN, then a code
sent by SMS to the calling number, then the requests of that IIN made from
that number).

Sans-IO like :mod:`bailanys.ivr.runner`: :class:`ServiceMachine` never plays,
waits, sends or reads the clock. Its adapter feeds *inputs* (digits
collected, nothing entered, a backend result or failure, SMS sent or not,
hung up) with the current time, and executes the *actions* returned, in
order (say a text, collect digits, call the backend, send an SMS to the
caller, hand over to an operator, end, emit an event). Each ``Collect`` and
``CallBackend`` and ``SendSms`` is answered by exactly one input.

Steps and what answers them (one transition function, :meth:`ServiceMachine.handle`)::

    KIND      Collect 1   certificate kind                 -> IIN
    IIN       Collect 12  validate_iin; 3 tries             -> backend / ACTION / OTP
                          (certificate, open requests: OTP)
    ACTION    Collect 1   booking: 1 book, 2 cancel         -> BRANCH / BOOKING_ID
    BRANCH    Collect 1   branch from the backend's list    -> DAY
    DAY       Collect 1   one of the next working days      -> slots; none: DAY again
    SLOT      Collect 1   one of the first free slots       -> book -> SMS -> DONE
    BOOKING_ID Collect #  the booking number                -> cancel -> SMS -> DONE
    CODE      Collect 6   OTP: 3 tries, expiry, rate limit  -> certificate -> SMS -> DONE
                                                            -> open requests -> DONE
    SERVICE   Collect 1   service for the documents list    -> backend -> SMS -> DONE
    BACKEND   CallBackend awaiting ``pending``
    SMS       SendSms     awaiting the result of ``pending``
    DONE      ended (End or HandOver emitted)

Privacy: the IIN is never spoken (at most its last four digits), and events
carry only service, step and outcome. Every text is in ``kk`` or ``ru`` with
numbers as words (espeak-ng reads numerals badly, see
:mod:`bailanys.voice.phrases.keypad`). SMS texts may use numerals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Final

from bailanys.events import RobotService
from bailanys.iin import IIN_LENGTH, InvalidIinError, validate_iin
from bailanys.robot.backend import (
    BackendError,
    Booking,
    Branch,
    Certificate,
    CertificateKind,
    DocumentState,
    DocumentStatus,
    Request,
    RequestStatus,
    ServiceBackend,
    SlotTakenError,
)
from bailanys.robot.otp import CODE_DIGITS, Issued, OtpStore, Verdict
from bailanys.robot.service_io import (
    Action,
    BackendFailed,
    BackendResult,
    CallBackend,
    Collect,
    Digits,
    Emit,
    End,
    HandOver,
    HungUp,
    Identified,
    Input,
    NoInput,
    Say,
    SendSms,
    SmsResult,
)
from bailanys.robot.service_texts import (
    _DOC_STATE_KEY,
    _OPEN_REQUEST_RU,
    _REQUEST_STATUS,
    _T,
    date_words,
    digits_words,
    time_words,
)
from bailanys.voice.phrases import numbers_kk, numbers_ru
from bailanys.voice.phrases.keypad import digit_word
from bailanys.voice.phrases.languages import check_lang

log = logging.getLogger(__name__)

#: Tries at one step (bad or no input) before the caller is handed over.
MAX_TRIES: Final = 3
#: Working days offered for a booking, and free slots read out (one key each).
DAYS_OFFERED: Final = 3
SLOTS_OFFERED: Final = 5
#: Open requests read out; the rest are counted only.
REQUESTS_SPOKEN: Final = 3
#: No deadline is said for these: answered, or escalated (its deadline has
#: passed and the supervisor sets a new one; issue 19).
_NO_DUE_SPOKEN: Final = frozenset({RequestStatus.ANSWERED, RequestStatus.ESCALATED})
#: New codes sent after one expired during the same call.
CODE_RESENDS: Final = 1
#: Digits of a personal number the robot may say.
LAST_DIGITS: Final = 4
EVENT: Final = RobotService.type


class Service(StrEnum):
    DOCUMENT_STATUS = "document_status"
    BOOKING = "booking"
    CERTIFICATE = "certificate"
    REQUIRED_DOCUMENTS = "required_documents"
    OPEN_REQUESTS = "open_requests"


#: The services that send a one-time code by SMS before they answer (the
#: profile's certificates; issue 19's "my open requests").
NEEDS_CODE: Final = frozenset({Service.CERTIFICATE, Service.OPEN_REQUESTS})


class Step(StrEnum):
    KIND = "kind"
    IIN = "iin"
    ACTION = "action"
    BRANCH = "branch"
    DAY = "day"
    SLOT = "slot"
    BOOKING_ID = "booking_id"
    CODE = "code"
    SERVICE = "service"
    BACKEND = "backend"
    SMS = "sms"
    DONE = "done"


#: Services whose documents list the robot sends: (code, kk name, ru name).
DOCUMENT_SERVICES: Final = (
    ("passport", "паспорт", "паспорт"),
    ("id_card", "жеке куәлік", "удостоверение личности"),
    ("eds", "электрондық цифрлық қолтаңба", "электронная цифровая подпись"),
    ("birth_allowance", "бала тууына байланысты жәрдемақы", "пособие на рождение ребёнка"),
    ("pension", "зейнетақы", "пенсия"),
)




async def perform(call: CallBackend, backend: ServiceBackend) -> BackendResult | BackendFailed:
    """Adapter helper: run one :class:`CallBackend` and turn the outcome into an input."""
    try:
        value: object = await getattr(backend, call.method)(*call.args)
    except SlotTakenError:
        return BackendFailed(slot_taken=True)
    except BackendError as exc:
        log.warning("backend %s failed: %s", call.method, exc)
        return BackendFailed(retryable=exc.retryable)
    return BackendResult(value)


class ServiceMachine:
    """One service for one call. ``phone`` is the caller's number (OTP rate limit, SMS)."""

    def __init__(
        self,
        service: Service,
        lang: str,
        *,
        today: date,
        phone: str = "",
        otp: OtpStore | None = None,
        farewell: bool = True,
    ) -> None:
        check_lang(lang)
        if service in NEEDS_CODE and otp is None:
            raise ValueError(f"the {service.value} service needs an OtpStore")
        self.service = service
        self.lang = lang
        self.today = today
        self.phone = phone
        self.otp = otp
        #: Say goodbye on ending (False: the voice assistant goes on after the service).
        self.farewell = farewell
        self.step = Step.DONE
        self.outcome: str | None = None
        self.tries = 0
        self.pending = ""  # the backend method or SMS being awaited
        self._iin = ""
        self._kind = CertificateKind.PSYCHIATRIC
        self._branches: list[Branch] = []
        self._branch: Branch | None = None
        self._days: list[date] = []
        self._day = today
        self._slots: list[time] = []
        self._booking: Booking | None = None
        self._booking_id = ""
        self._resends = 0
        self._after_sms = ""  # the text key said once the SMS is sent
        self._ready_at = ""  # document status: the branch id to collect at

    @property
    def done(self) -> bool:
        return self.step is Step.DONE and self.outcome is not None

    # ------------------------------------------------------------ helpers

    def _t(self, name: str, **kw: str) -> str:
        return _T[name][self.lang].format(**kw)

    def _say(self, out: list[Action], name: str, **kw: str) -> None:
        out.append(Say(self._t(name, **kw), self.lang))

    def _event(self, out: list[Action], step: str, outcome: str) -> None:
        out.append(Emit(RobotService(service=self.service.value, step=step, outcome=outcome)))

    def _go(self, step: Step) -> None:
        if step is not self.step:
            log.debug("%s -> %s", self.step, step)
        self.step = step

    def _collect(self, out: list[Action], step: Step, max_digits: int,
                 terminator: str | None = None) -> None:
        self._go(step)
        secret = step in (Step.IIN, Step.CODE, Step.BOOKING_ID)
        out.append(Collect(max_digits, terminator=terminator, secret=secret))

    def _call(self, out: list[Action], method: str, *args: object) -> None:
        self._go(Step.BACKEND)
        self.pending = method
        out.append(CallBackend(method, args))

    def _sms(self, out: list[Action], purpose: str, text: str, then: str) -> None:
        self._go(Step.SMS)
        self.pending = purpose
        self._after_sms = then
        out.append(SendSms(text))

    def _end(self, out: list[Action], outcome: str, *, bye: bool = True) -> None:
        if bye and self.farewell:
            self._say(out, "bye")
        self._event(out, "done", outcome)
        self._go(Step.DONE)
        self.outcome = outcome
        out.append(End(outcome))

    def _hand_over(self, out: list[Action], reason: str) -> None:
        self._say(out, "handover")
        self._event(out, "done", f"handed_over:{reason}")
        self._go(Step.DONE)
        self.outcome = f"handed_over:{reason}"
        out.append(HandOver(reason))

    def _menu(self, out: list[Action], intro: str, items: Sequence[str], step: Step) -> None:
        text = self._t(intro)
        for i, what in enumerate(items, 1):
            text += " " + self._t("press", what=what, key=digit_word(self.lang, str(i)))
        out.append(Say(text, self.lang))
        self._collect(out, step, 1)

    def _tail(self, digits: str) -> str:
        return digits_words(self.lang, digits[-LAST_DIGITS:])

    # ------------------------------------------------------------ prompts per step

    def _prompt(self, out: list[Action], step: Step) -> None:
        """Ask the question of ``step`` (again)."""
        if step is Step.IIN:
            self._say(out, "ask_iin")
            self._collect(out, Step.IIN, IIN_LENGTH)
        elif step is Step.KIND:
            self._say(out, "ask_kind")
            self._collect(out, Step.KIND, 1)
        elif step is Step.ACTION:
            self._say(out, "ask_action")
            self._collect(out, Step.ACTION, 1)
        elif step is Step.BRANCH:
            names = [b.name_kk if self.lang == "kk" else b.name_ru for b in self._branches]
            self._menu(out, "ask_branch", names, Step.BRANCH)
        elif step is Step.DAY:
            self._menu(out, "ask_day", [date_words(self.lang, d) for d in self._days], Step.DAY)
        elif step is Step.SLOT:
            self._menu(out, "ask_slot", [time_words(self.lang, t) for t in self._slots],
                       Step.SLOT)
        elif step is Step.BOOKING_ID:
            self._say(out, "ask_booking_id")
            self._collect(out, Step.BOOKING_ID, 12, terminator="#")
        elif step is Step.CODE:
            self._collect(out, Step.CODE, CODE_DIGITS)
        elif step is Step.SERVICE:
            names = [kk if self.lang == "kk" else ru for _, kk, ru in DOCUMENT_SERVICES]
            self._menu(out, "ask_service", names, Step.SERVICE)

    def _retry(self, out: list[Action], key: str) -> None:
        """A bad or missing entry: say ``key``, ask again, or hand over after MAX_TRIES."""
        step = self.step
        self.tries += 1
        self._event(out, step.value, key)
        self._say(out, key)
        if self.tries >= MAX_TRIES:
            self._hand_over(out, "input")
        else:
            self._prompt(out, step)

    def _ask(self, out: list[Action], step: Step) -> None:
        self.tries = 0
        self._prompt(out, step)

    # ------------------------------------------------------------ entry points

    def start(self, now: float) -> list[Action]:
        out: list[Action] = []
        self._event(out, "start", "started")
        first = {Service.CERTIFICATE: Step.KIND, Service.REQUIRED_DOCUMENTS: Step.SERVICE}
        self._ask(out, first.get(self.service, Step.IIN))
        return out

    def handle(self, inp: Input, now: float) -> list[Action]:
        """Feed one input; returns the actions to execute, in order."""
        out: list[Action] = []
        if self.done:
            return out
        if isinstance(inp, HungUp):
            self._event(out, self.step.value, "hung_up")
            self._end(out, "hung_up", bye=False)
            return out
        if self.step is Step.BACKEND:
            if isinstance(inp, BackendResult | BackendFailed):
                self._on_backend(inp, out)
        elif self.step is Step.SMS:
            if isinstance(inp, SmsResult):
                self._on_sms(inp, out)
        elif isinstance(inp, NoInput):
            self._retry(out, "no_input")
        elif isinstance(inp, Digits):
            self._on_digits(inp.text, now, out)
        return out

    # ------------------------------------------------------------ digits

    def _choice(self, text: str, n: int) -> int | None:
        if len(text) == 1 and text.isdigit() and 1 <= int(text) <= n:
            return int(text) - 1
        return None

    def _on_digits(self, text: str, now: float, out: list[Action]) -> None:
        step = self.step
        if step is Step.IIN:
            try:
                validate_iin(text, today=self.today)
            except InvalidIinError as exc:
                self._event(out, "iin", f"invalid:{exc.reason.value}")
                self.tries += 1
                self._say(out, "bad_iin")
                if self.tries >= MAX_TRIES:
                    self._hand_over(out, "input")
                else:
                    self._prompt(out, Step.IIN)
                return
            self._iin = text
            self._event(out, "iin", "valid")
            out.append(Identified(text))  # issue 17: the portrait, at this moment
            self._after_iin(now, out)
        elif step is Step.KIND:
            i = self._choice(text, 2)
            if i is None:
                return self._retry(out, "bad_choice")
            self._kind = (CertificateKind.PSYCHIATRIC, CertificateKind.NARCOLOGICAL)[i]
            self._event(out, "kind", self._kind.value)
            self._ask(out, Step.IIN)
        elif step is Step.ACTION:
            i = self._choice(text, 2)
            if i is None:
                return self._retry(out, "bad_choice")
            if i == 0:
                self._call(out, "branches")
            else:
                self._ask(out, Step.BOOKING_ID)
        elif step is Step.BRANCH:
            i = self._choice(text, len(self._branches))
            if i is None:
                return self._retry(out, "bad_choice")
            self._branch = self._branches[i]
            self._days = self._next_days()
            self._ask(out, Step.DAY)
        elif step is Step.DAY:
            i = self._choice(text, len(self._days))
            if i is None or self._branch is None:
                return self._retry(out, "bad_choice")
            self._day = self._days[i]
            self._call(out, "free_slots", self._branch.id, self._day)
        elif step is Step.SLOT:
            i = self._choice(text, len(self._slots))
            if i is None or self._branch is None:
                return self._retry(out, "bad_choice")
            self._call(out, "book", self._iin, self._branch.id, self._day, self._slots[i])
        elif step is Step.BOOKING_ID:
            if not text.isdigit():
                return self._retry(out, "bad_choice")
            self._booking_id = text
            self._call(out, "cancel", text, self._iin)
        elif step is Step.SERVICE:
            i = self._choice(text, len(DOCUMENT_SERVICES))
            if i is None:
                return self._retry(out, "bad_choice")
            self._call(out, "required_documents", DOCUMENT_SERVICES[i][0], self.lang)
        elif step is Step.CODE:
            self._on_code(text, now, out)

    def _next_days(self) -> list[date]:
        days: list[date] = []
        d = self.today
        while len(days) < DAYS_OFFERED:
            d += timedelta(days=1)
            if d.isoweekday() != 7:  # service centres are closed on Sundays
                days.append(d)
        return days

    def _after_iin(self, now: float, out: list[Action]) -> None:
        if self.service is Service.DOCUMENT_STATUS:
            self._call(out, "document_status", self._iin)
        elif self.service is Service.BOOKING:
            self._ask(out, Step.ACTION)
        else:
            self._send_code(now, out)

    # ------------------------------------------------------------ OTP

    def _send_code(self, now: float, out: list[Action]) -> None:
        assert self.otp is not None
        got = self.otp.issue(self.phone, self._iin, now)
        if not isinstance(got, Issued):
            self._event(out, "code", f"rate_limited:{got.scope}")
            self._say(out, "rate_limited")
            self._end(out, "rate_limited")
            return
        self._event(out, "code", "issued")
        self._sms(out, "code", self._t("sms_code", code=got.code), then="code_sent")

    def _on_code(self, text: str, now: float, out: list[Action]) -> None:
        assert self.otp is not None
        v = self.otp.verify(self.phone, self._iin, text, now)
        self._event(out, "code", v.verdict.value)
        if v.verdict is Verdict.OK and self.service is Service.OPEN_REQUESTS:
            # the code proved the calling number: that number's requests only
            self._call(out, "open_requests", self._iin, self.phone)
        elif v.verdict is Verdict.OK:
            self._call(out, "issue_certificate", self._iin, self._kind)
        elif v.verdict is Verdict.WRONG:
            self._say(out, "bad_code")
            self._prompt(out, Step.CODE)
        elif v.verdict is Verdict.EXPIRED and self._resends < CODE_RESENDS:
            self._resends += 1
            self._say(out, "code_expired")
            self._send_code(now, out)
        elif v.verdict is Verdict.EXPIRED:
            self._say(out, "code_expired")
            self._end(out, "code_expired")
        else:  # BLOCKED, NO_CODE
            self._say(out, "code_blocked")
            self._hand_over(out, "code_blocked")

    # ------------------------------------------------------------ SMS

    def _on_sms(self, inp: SmsResult, out: list[Action]) -> None:
        purpose = self.pending
        self._event(out, "sms", f"{purpose}:{'sent' if inp.sent else 'failed'}")
        if not inp.sent:
            self._say(out, "sms_failed")
            self._hand_over(out, "sms")
        elif purpose == "code":
            self._say(out, "code_sent")
            self._ask(out, Step.CODE)
        else:
            if self._after_sms:
                self._say(out, self._after_sms)
            self._end(out, "completed")

    # ------------------------------------------------------------ backend

    def _on_backend(self, inp: BackendResult | BackendFailed, out: list[Action]) -> None:
        method = self.pending
        if isinstance(inp, BackendFailed):
            if inp.slot_taken and method == "book" and self._branch is not None:
                self._event(out, "slot", "taken")
                self._say(out, "slot_taken")
                self._call(out, "free_slots", self._branch.id, self._day)
                return
            self._event(out, "backend", f"{method}:failed")
            self._say(out, "unavailable")
            self._hand_over(out, "backend")
            return
        v = inp.value
        if method == "document_status" and (v is None or isinstance(v, DocumentStatus)):
            self._on_document(v, out)
        elif method == "open_requests" and isinstance(v, list):
            self._on_requests([r for r in v if isinstance(r, Request)], out)
        elif (method == "branches" and isinstance(v, list)
              and self.service is Service.DOCUMENT_STATUS):
            names = {b.id: (b.name_kk if self.lang == "kk" else b.name_ru)
                     for b in v if isinstance(b, Branch)}
            self._say(out, "doc_ready", branch=names.get(self._ready_at, ""))
            self._end(out, "completed")
        elif method == "branches" and isinstance(v, list):
            self._branches = [b for b in v if isinstance(b, Branch)][:9]
            if not self._branches:
                self._say(out, "unavailable")
                self._hand_over(out, "backend")
                return
            self._ask(out, Step.BRANCH)
        elif method == "free_slots" and isinstance(v, list):
            self._slots = [t for t in v if isinstance(t, time)][:SLOTS_OFFERED]
            if not self._slots:
                self._event(out, "day", "no_slots")
                self._say(out, "no_slots")
                self._retry_day(out)
                return
            self._ask(out, Step.SLOT)
        elif method == "book" and isinstance(v, Booking):
            self._on_booked(v, out)
        elif method == "cancel" and isinstance(v, bool):
            self._on_cancel(v, out)
        elif method == "issue_certificate" and isinstance(v, Certificate):
            self._event(out, "certificate", "issued")
            self._sms(out, "certificate", self._t("sms_cert", link=v.link), then="cert_sent")
        elif method == "required_documents" and isinstance(v, str):
            self._sms(out, "documents", v, then="docs_sent")
        else:
            log.warning("backend %s: unexpected result type %s", method, type(v).__name__)
            self._event(out, "backend", f"{method}:bad_result")
            self._say(out, "unavailable")
            self._hand_over(out, "backend")

    def _retry_day(self, out: list[Action]) -> None:
        self.step = Step.DAY
        self.tries += 1
        if self.tries >= MAX_TRIES:
            self._hand_over(out, "no_slots")
        else:
            self._prompt(out, Step.DAY)

    def _on_document(self, doc: DocumentStatus | None, out: list[Action]) -> None:
        who = self._t("iin_tail", d=self._tail(self._iin))
        if doc is None:
            self._event(out, "backend", "not_found")
            text = self._t("doc_none", who=who)
            out.append(Say(text[0].upper() + text[1:], self.lang))
            self._end(out, "not_found")
            return
        self._event(out, "backend", doc.state.value)
        if doc.state is DocumentState.READY:
            self._ready_at = doc.branch_id or ""
            self._call(out, "branches")  # to say the branch's name, not its id
            return
        self._say(out, _DOC_STATE_KEY[doc.state])
        if doc.state is DocumentState.IN_PROGRESS and doc.ready_on is not None:
            self._say(out, "doc_due", date=date_words(self.lang, doc.ready_on))
        self._end(out, "completed")

    def _on_requests(self, reqs: list[Request], out: list[Action]) -> None:
        if not reqs:
            self._event(out, "backend", "none")
            text = self._t("req_none", who=self._t("iin_tail", d=self._tail(self._iin)))
            out.append(Say(text[0].upper() + text[1:], self.lang))
            self._end(out, "none")
            return
        self._event(out, "backend", "found")
        n = (numbers_kk.cardinal(len(reqs)) if self.lang == "kk"
             else numbers_ru.count_phrase(len(reqs), _OPEN_REQUEST_RU))
        self._say(out, "req_count", n=n)
        for r in reqs[:REQUESTS_SPOKEN]:
            self._say(out, "req_one", d=self._tail(r.number),
                      status=_REQUEST_STATUS[r.status][self.lang])
            if r.due_on is not None and r.status not in _NO_DUE_SPOKEN:
                self._say(out, "req_due", date=date_words(self.lang, r.due_on))
        self._end(out, "completed")

    def _on_booked(self, b: Booking, out: list[Action]) -> None:
        self._booking = b
        self._event(out, "book", "booked")
        branch = self._branch
        name = "" if branch is None else (branch.name_kk if self.lang == "kk" else branch.name_ru)
        self._say(out, "booked", date=date_words(self.lang, b.day, dative=True),
                  time=time_words(self.lang, b.time, dative=True),
                  id=digits_words(self.lang, b.id))
        sms = self._t("sms_booked", branch=name, day=b.day.strftime("%d.%m.%Y"),
                      time=b.time.strftime("%H:%M"), id=b.id)
        self._sms(out, "booking", sms, then="")

    def _on_cancel(self, ok: bool, out: list[Action]) -> None:
        if not ok:
            self._event(out, "cancel", "not_found")
            self.step = Step.BOOKING_ID
            self._retry(out, "no_booking")
            return
        self._event(out, "cancel", "cancelled")
        self._say(out, "cancelled")
        self._sms(out, "cancel", self._t("sms_cancelled", id=self._booking_id), then="")
