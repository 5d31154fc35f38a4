"""The five self-service services, driven as a pure state machine."""

from __future__ import annotations

import re
from datetime import date, time

import pytest

from bailanys.robot.backend import (
    Booking,
    Branch,
    Certificate,
    CertificateKind,
    DocumentState,
    DocumentStatus,
    Request,
    RequestStatus,
)
from bailanys.robot.otp import OtpConfig, OtpStore
from bailanys.robot.service_io import (
    BackendFailed,
    BackendResult,
    CallBackend,
    Collect,
    Digits,
    Emit,
    End,
    HandOver,
    HungUp,
    NoInput,
    Say,
    SendSms,
    SmsResult,
)
from bailanys.robot.services import (
    NEEDS_CODE,
    Service,
    ServiceMachine,
    Step,
    date_words,
    time_words,
)

IIN = "850315410002"
TODAY = date(2025, 3, 13)  # a Thursday
PHONE = "+77011234567"
BRANCHES = [Branch("AST-1", "Astana", "Астана №1 ХҚКО", "ЦОН №1 Астаны", "addr"),
            Branch("ALA-1", "Almaty", "Алматы ХҚКО", "ЦОН Алматы", "addr")]


def texts(actions: list[object]) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))


def only(actions: list[object], kind: type) -> list[object]:
    return [a for a in actions if isinstance(a, kind)]


def events(actions: list[object]) -> list[dict[str, object]]:
    return [dict(a.fields) for a in actions if isinstance(a, Emit)]


def machine(service: Service, lang: str = "ru", otp: OtpStore | None = None) -> ServiceMachine:
    if otp is None and service in NEEDS_CODE:
        otp = OtpStore()
    return ServiceMachine(service, lang, today=TODAY, phone=PHONE, otp=otp)


def assert_private(actions: list[object]) -> None:
    for a in actions:
        if isinstance(a, Say):
            assert IIN not in a.text and not any(ch.isdigit() for ch in a.text)
        if isinstance(a, Emit):
            assert IIN not in repr(a.fields)
            assert set(a.fields) == {"service", "step", "outcome"}


# ------------------------------------------------------------------ document status


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_document_ready(lang: str) -> None:
    m = machine(Service.DOCUMENT_STATUS, lang)
    out = m.start(0.0)
    assert only(out, Collect) == [Collect(12, secret=True)]
    out += (step := m.handle(Digits(IIN), 1.0))
    assert only(step, CallBackend) == [CallBackend("document_status", (IIN,))]
    out += m.handle(BackendResult(DocumentStatus(DocumentState.READY, "passport", "AST-1")), 2.0)
    out += (last := m.handle(BackendResult(BRANCHES), 3.0))
    assert ("ЦОН №1 Астаны" if lang == "ru" else "Астана №1 ХҚКО") in texts(last)
    assert only(last, End) == [End("completed")]
    assert m.done
    assert_private([a for a in out if not isinstance(a, Say)])


def test_document_in_progress_says_date_in_words() -> None:
    m = machine(Service.DOCUMENT_STATUS)
    m.start(0.0)
    m.handle(Digits(IIN), 1.0)
    out = m.handle(BackendResult(DocumentStatus(DocumentState.IN_PROGRESS, "id_card",
                                                ready_on=date(2025, 3, 20))), 2.0)
    assert "двадцатое марта" in texts(out)
    assert only(out, End)
    assert_private(out)


def test_unknown_iin_says_last_four_only() -> None:
    m = machine(Service.DOCUMENT_STATUS)
    m.start(0.0)
    m.handle(Digits(IIN), 1.0)
    out = m.handle(BackendResult(None), 2.0)
    said = texts(out)
    assert "ноль ноль ноль два" in said  # 0002, the last four, as words
    assert "восемь пять" not in said
    assert only(out, End) == [End("not_found")]
    assert_private(out)


def test_invalid_iin_retry_then_ok() -> None:
    m = machine(Service.DOCUMENT_STATUS)
    m.start(0.0)
    out = m.handle(Digits("850315410003"), 1.0)  # bad check digit
    assert "неверно" in texts(out) and only(out, Collect) == [Collect(12, secret=True)]
    assert events(out)[0]["outcome"] == "invalid:checksum"
    out = m.handle(Digits("12345"), 2.0)
    assert only(out, Collect)
    out = m.handle(Digits(IIN), 3.0)
    assert only(out, CallBackend)


def test_invalid_iin_three_times_hands_over() -> None:
    m = machine(Service.OPEN_REQUESTS)
    m.start(0.0)
    m.handle(Digits("1"), 1.0)
    m.handle(NoInput(), 2.0)
    out = m.handle(Digits("000000000000"), 3.0)
    assert only(out, HandOver) == [HandOver("input")]
    assert m.done and m.handle(Digits(IIN), 4.0) == []


def test_backend_failure_hands_over() -> None:
    m = machine(Service.DOCUMENT_STATUS, "kk")
    m.start(0.0)
    m.handle(Digits(IIN), 1.0)
    out = m.handle(BackendFailed(retryable=True), 2.0)
    assert "қолжетімсіз" in texts(out)
    assert only(out, HandOver) == [HandOver("backend")]


def test_unexpected_result_type_hands_over() -> None:
    m = machine(Service.DOCUMENT_STATUS)
    m.start(0.0)
    m.handle(Digits(IIN), 1.0)
    assert only(m.handle(BackendResult("junk"), 2.0), HandOver)


def test_hang_up_mid_service() -> None:
    m = machine(Service.DOCUMENT_STATUS)
    m.start(0.0)
    out = m.handle(HungUp(), 1.0)
    assert only(out, End) == [End("hung_up")] and not only(out, Say)
    assert {"service": "document_status", "step": "iin", "outcome": "hung_up"} in events(out)


def test_inputs_of_the_wrong_kind_are_ignored() -> None:
    m = machine(Service.DOCUMENT_STATUS)
    m.start(0.0)
    assert m.handle(SmsResult(True), 1.0) == []
    m.handle(Digits(IIN), 1.0)
    assert m.handle(Digits("1"), 2.0) == []  # waiting for the backend
    assert m.step is Step.BACKEND


# ------------------------------------------------------------------ booking


def start_booking(lang: str = "ru") -> ServiceMachine:
    m = machine(Service.BOOKING, lang)
    m.start(0.0)
    out = m.handle(Digits(IIN), 1.0)
    assert m.step is Step.ACTION and only(out, Collect) == [Collect(1)]
    return m


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_booking_happy_path(lang: str) -> None:
    m = start_booking(lang)
    out = m.handle(Digits("1"), 2.0)
    assert only(out, CallBackend) == [CallBackend("branches", ())]
    out = m.handle(BackendResult(BRANCHES), 3.0)
    assert m.step is Step.BRANCH
    out = m.handle(Digits("1"), 4.0)
    said = texts(out)
    # Friday 14, Saturday 15, Monday 17 (Sunday skipped)
    assert date_words(lang, date(2025, 3, 14)) in said
    assert date_words(lang, date(2025, 3, 16)) not in said
    assert date_words(lang, date(2025, 3, 17)) in said
    out = m.handle(Digits("1"), 5.0)
    assert only(out, CallBackend) == [CallBackend("free_slots", ("AST-1", date(2025, 3, 14)))]
    slots = [time(9, 0), time(9, 30), time(10, 0)]
    out = m.handle(BackendResult(slots), 6.0)
    assert time_words(lang, time(9, 30)) in texts(out)
    out = m.handle(Digits("2"), 7.0)
    assert only(out, CallBackend) == [
        CallBackend("book", (IIN, "AST-1", date(2025, 3, 14), time(9, 30)))]
    out = m.handle(BackendResult(Booking("42", "AST-1", date(2025, 3, 14), time(9, 30))), 8.0)
    (sms,) = only(out, SendSms)
    day_time = "14.03.2025, 09:30" if lang == "kk" else "14.03.2025 09:30"
    assert day_time in sms.text and "42" in sms.text  # type: ignore[attr-defined]
    assert "четыре два" in texts(out) or "төрт екі" in texts(out)
    if lang == "kk":  # language review 2026-12, item 11: the dative
        assert "он төртінші наурызға, сағат тоғыз отызға жазылдыңыз" in texts(out)
    else:
        assert "Вы записаны на четырнадцатое марта, девять часов тридцать минут." in texts(out)
    assert_private(out)
    out = m.handle(SmsResult(True), 9.0)
    assert only(out, End) == [End("completed")]


def test_time_words() -> None:
    assert time_words("ru", time(10, 30)) == "десять часов тридцать минут"
    assert time_words("ru", time(9, 0)) == "девять часов"
    assert time_words("kk", time(10, 30)) == "сағат он отыз"
    assert date_words("kk", date(2025, 3, 14)) == "он төртінші наурыз"


def test_booking_no_free_slots_then_other_day() -> None:
    m = start_booking()
    m.handle(Digits("1"), 2.0)
    m.handle(BackendResult(BRANCHES), 3.0)
    m.handle(Digits("2"), 4.0)
    m.handle(Digits("2"), 5.0)
    out = m.handle(BackendResult([]), 6.0)
    assert "свободного времени нет" in texts(out) and m.step is Step.DAY
    assert {"service": "booking", "step": "day", "outcome": "no_slots"} in events(out)
    out = m.handle(Digits("3"), 7.0)
    assert only(out, CallBackend)[0].args == ("ALA-1", date(2025, 3, 17))  # type: ignore[attr-defined]


def test_booking_no_slots_three_times_hands_over() -> None:
    m = start_booking()
    m.handle(Digits("1"), 2.0)
    m.handle(BackendResult(BRANCHES), 3.0)
    m.handle(Digits("1"), 4.0)
    out: list[object] = []
    for d in "123":
        m.handle(Digits(d), 5.0)
        out = list(m.handle(BackendResult([]), 6.0))
    assert only(out, HandOver) == [HandOver("no_slots")]


def test_booking_slot_taken_refreshes_slots() -> None:
    m = start_booking()
    m.handle(Digits("1"), 2.0)
    m.handle(BackendResult(BRANCHES), 3.0)
    m.handle(Digits("1"), 4.0)
    m.handle(Digits("1"), 5.0)
    m.handle(BackendResult([time(9, 0)]), 6.0)
    m.handle(Digits("1"), 7.0)
    out = m.handle(BackendFailed(slot_taken=True), 8.0)
    assert "занято" in texts(out)
    assert only(out, CallBackend)[0].method == "free_slots"  # type: ignore[attr-defined]


def test_booking_bad_menu_choice_retries() -> None:
    m = start_booking()
    out = m.handle(Digits("7"), 2.0)
    assert "Такого варианта нет" in texts(out) and m.step is Step.ACTION


def test_cancel_booking() -> None:
    m = start_booking()
    out = m.handle(Digits("2"), 2.0)
    assert only(out, Collect) == [Collect(12, terminator="#", secret=True)]
    out = m.handle(Digits("42"), 3.0)
    assert only(out, CallBackend) == [CallBackend("cancel", ("42", IIN))]
    out = m.handle(BackendResult(True), 4.0)
    assert "Запись отменена" in texts(out)
    assert "42" in only(out, SendSms)[0].text  # type: ignore[attr-defined]
    assert only(m.handle(SmsResult(True), 5.0), End)


def test_cancel_unknown_booking_retries() -> None:
    m = start_booking()
    m.handle(Digits("2"), 2.0)
    m.handle(Digits("99"), 3.0)
    out = m.handle(BackendResult(False), 4.0)
    assert "не найдена" in texts(out) and m.step is Step.BOOKING_ID


# ------------------------------------------------------------------ certificate


def start_cert(otp: OtpStore, lang: str = "ru") -> tuple[ServiceMachine, str]:
    m = machine(Service.CERTIFICATE, lang, otp)
    m.start(0.0)
    m.handle(Digits("2"), 1.0)  # narcological
    out = m.handle(Digits(IIN), 2.0)
    (sms,) = only(out, SendSms)
    found = re.search(r"\b(\d{6})\b", sms.text)  # type: ignore[attr-defined]
    assert found is not None
    code = found.group(1)
    assert code not in texts(out)
    out = m.handle(SmsResult(True), 3.0)
    assert "шестизначный" in texts(out) or "Алты" in texts(out)
    assert only(out, Collect) == [Collect(6, secret=True)]
    return m, code


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_certificate_happy_path(lang: str) -> None:
    m, code = start_cert(OtpStore(), lang)
    out = m.handle(Digits(code), 10.0)
    assert only(out, CallBackend) == [
        CallBackend("issue_certificate", (IIN, CertificateKind.NARCOLOGICAL))]
    link = "https://egov.example.kz/cert/abc"
    out = m.handle(BackendResult(Certificate(CertificateKind.NARCOLOGICAL, link)), 11.0)
    assert link in only(out, SendSms)[0].text  # type: ignore[attr-defined]
    assert link not in texts(out)
    out = m.handle(SmsResult(True), 12.0)
    assert only(out, End) == [End("completed")]


def test_certificate_wrong_code_three_times_blocked() -> None:
    m, code = start_cert(OtpStore(generate=lambda n: "123456"))
    for _ in range(2):
        out = m.handle(Digits("000000"), 10.0)
        assert "Неверный код" in texts(out) and only(out, Collect)
    out = m.handle(Digits("000000"), 11.0)
    assert only(out, HandOver) == [HandOver("code_blocked")]
    assert {"service": "certificate", "step": "code", "outcome": "blocked"} in events(out)


def test_certificate_expired_code_resent_once() -> None:
    otp = OtpStore(generate=lambda n: "123456")
    m, code = start_cert(otp)
    out = m.handle(Digits(code), 400.0)
    assert "истёк" in texts(out) and only(out, SendSms)
    m.handle(SmsResult(True), 401.0)
    out = m.handle(Digits(code), 800.0)
    assert only(out, End) == [End("code_expired")]


def test_certificate_rate_limited() -> None:
    otp = OtpStore(OtpConfig(per_window=1))
    start_cert(otp)
    m = machine(Service.CERTIFICATE, "ru", otp)
    m.start(20.0)
    m.handle(Digits("1"), 21.0)
    out = m.handle(Digits(IIN), 22.0)
    assert "слишком часто" in texts(out) and not only(out, SendSms)
    assert only(out, End) == [End("rate_limited")]


def test_certificate_sms_failure_hands_over() -> None:
    m = machine(Service.CERTIFICATE, "ru", OtpStore())
    m.start(0.0)
    m.handle(Digits("1"), 1.0)
    m.handle(Digits(IIN), 2.0)
    out = m.handle(SmsResult(False), 3.0)
    assert only(out, HandOver) == [HandOver("sms")]


@pytest.mark.parametrize("service", sorted(NEEDS_CODE))
def test_services_with_a_code_need_an_otp_store(service: Service) -> None:
    with pytest.raises(ValueError):
        ServiceMachine(service, "ru", today=TODAY)


# ------------------------------------------------------------------ documents list, requests


def test_required_documents_by_sms() -> None:
    m = machine(Service.REQUIRED_DOCUMENTS, "kk")
    out = m.start(0.0)
    assert "паспорт" in texts(out) and only(out, Collect) == [Collect(1)]
    out = m.handle(Digits("3"), 1.0)
    assert only(out, CallBackend) == [CallBackend("required_documents", ("eds", "kk"))]
    out = m.handle(BackendResult("ЭЦҚ: жеке куәлік."), 2.0)
    assert only(out, SendSms)[0].text == "ЭЦҚ: жеке куәлік."  # type: ignore[attr-defined]
    out = m.handle(SmsResult(True), 3.0)
    assert "SMS арқылы жіберілді" in texts(out) and only(out, End)


def test_required_documents_no_input_three_times() -> None:
    m = machine(Service.REQUIRED_DOCUMENTS)
    m.start(0.0)
    m.handle(NoInput(), 1.0)
    m.handle(NoInput(), 2.0)
    assert only(m.handle(NoInput(), 3.0), HandOver)


def start_requests(otp: OtpStore, lang: str = "ru") -> tuple[ServiceMachine, str]:
    """Issue 19: "my open requests" by number + IIN + SMS code: the IIN, then
    a code by SMS to the calling number; nothing is read before the code."""
    m = machine(Service.OPEN_REQUESTS, lang, otp)
    m.start(0.0)
    out = m.handle(Digits(IIN), 1.0)
    assert not only(out, CallBackend)
    (sms,) = only(out, SendSms)
    found = re.search(r"\b(\d{6})\b", sms.text)  # type: ignore[attr-defined]
    assert found is not None and found.group(1) not in texts(out)
    out = m.handle(SmsResult(True), 2.0)
    assert only(out, Collect) == [Collect(6, secret=True)] and not only(out, CallBackend)
    return m, found.group(1)


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_open_requests(lang: str) -> None:
    m, code = start_requests(OtpStore(), lang)
    out = m.handle(Digits(code), 3.0)
    assert only(out, CallBackend) == [CallBackend("open_requests", (IIN, PHONE))]
    assert {"service": "open_requests", "step": "code", "outcome": "ok"} in events(out)
    reqs = [Request("20240001234", "pension", RequestStatus.IN_PROGRESS, TODAY,
                    date(2025, 3, 23)),
            Request("20240005678", "housing", RequestStatus.REGISTERED, TODAY)]
    out = m.handle(BackendResult(reqs), 2.0)
    said = texts(out)
    if lang == "ru":
        assert "У вас два открытых обращения." in said
        assert "один два три четыре: на рассмотрении" in said
        assert "двадцать третье марта" in said
    else:
        assert "Сізде екі ашық өтініш бар." in said
    assert_private(out)
    assert only(out, End) == [End("completed")]


def test_open_requests_wrong_code_three_times_reads_nothing() -> None:
    m, _code = start_requests(OtpStore(generate=lambda n: "123456"))
    for _ in range(2):
        out = m.handle(Digits("654321"), 10.0)
        assert "Неверный код" in texts(out) and not only(out, CallBackend)
    out = m.handle(Digits("654321"), 11.0)
    assert only(out, HandOver) == [HandOver("code_blocked")] and not only(out, CallBackend)
    assert m.handle(Digits("123456"), 12.0) == []


def test_open_requests_expired_code_and_rate_limit() -> None:
    otp = OtpStore(OtpConfig(per_window=2), generate=lambda n: "123456")
    m, code = start_requests(otp)
    out = m.handle(Digits(code), 400.0)  # past the 300 s lifetime: one new code
    assert "истёк" in texts(out) and only(out, SendSms) and not only(out, CallBackend)
    m.handle(SmsResult(True), 401.0)
    assert only(m.handle(Digits(code), 402.0), CallBackend)
    again = machine(Service.OPEN_REQUESTS, "kk", otp)  # a third code in ten minutes
    again.start(403.0)
    out = again.handle(Digits(IIN), 404.0)
    assert "жиі" in texts(out) and only(out, End) == [End("rate_limited")]


def test_open_requests_sms_failure_hands_over() -> None:
    m = machine(Service.OPEN_REQUESTS)
    m.start(0.0)
    m.handle(Digits(IIN), 1.0)
    assert only(m.handle(SmsResult(False), 2.0), HandOver) == [HandOver("sms")]


def test_no_open_requests() -> None:
    m, code = start_requests(OtpStore())
    m.handle(Digits(code), 3.0)
    out = m.handle(BackendResult([]), 4.0)
    assert "открытых обращений нет" in texts(out) and only(out, End) == [End("none")]
