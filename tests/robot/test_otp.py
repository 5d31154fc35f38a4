"""One-time codes: time is an input, nothing sleeps."""

from __future__ import annotations

import pytest

from bailanys.robot.otp import (
    CODE_DIGITS,
    Issued,
    OtpConfig,
    OtpStore,
    RateLimited,
    Verdict,
)

PHONE = "+77011234567"
IIN = "850315410002"


def fixed(code: str = "123456") -> OtpStore:
    return OtpStore(generate=lambda n: code[:n])


def issue(store: OtpStore, now: float, phone: str = PHONE, iin: str = IIN) -> Issued:
    got = store.issue(phone, iin, now)
    assert isinstance(got, Issued)
    return got


def test_code_is_six_random_digits() -> None:
    store = OtpStore()
    codes = {issue(store, 0.0, phone=str(i)).code for i in range(3)}
    for c in codes:
        assert len(c) == CODE_DIGITS and c.isdigit()


def test_right_code_once() -> None:
    store = fixed()
    got = issue(store, 100.0)
    assert got.expires_at == 400.0
    assert store.verify(PHONE, IIN, "123456", 101.0).verdict is Verdict.OK
    assert store.verify(PHONE, IIN, "123456", 102.0).verdict is Verdict.NO_CODE


def test_code_bound_to_phone_and_iin() -> None:
    store = fixed()
    issue(store, 0.0)
    assert store.verify("+77000000000", IIN, "123456", 1.0).verdict is Verdict.NO_CODE
    assert store.verify(PHONE, "920723410006", "123456", 1.0).verdict is Verdict.NO_CODE


def test_three_wrong_blocks() -> None:
    store = fixed()
    issue(store, 0.0)
    v1 = store.verify(PHONE, IIN, "000000", 1.0)
    v2 = store.verify(PHONE, IIN, "000001", 2.0)
    assert (v1.verdict, v1.attempts_left) == (Verdict.WRONG, 2)
    assert (v2.verdict, v2.attempts_left) == (Verdict.WRONG, 1)
    assert store.verify(PHONE, IIN, "000002", 3.0).verdict is Verdict.BLOCKED
    # blocked: even the right code no longer works
    assert store.verify(PHONE, IIN, "123456", 4.0).verdict is Verdict.NO_CODE


def test_expiry_at_five_minutes() -> None:
    store = fixed()
    issue(store, 0.0)
    assert store.verify(PHONE, IIN, "123456", 299.9).verdict is Verdict.OK
    issue(store, 1000.0)
    assert store.verify(PHONE, IIN, "123456", 1300.0).verdict is Verdict.EXPIRED
    assert store.verify(PHONE, IIN, "123456", 1301.0).verdict is Verdict.NO_CODE


def test_new_code_replaces_old() -> None:
    codes = iter(["111111", "222222"])
    store = OtpStore(generate=lambda n: next(codes))
    issue(store, 0.0)
    issue(store, 10.0)
    assert store.verify(PHONE, IIN, "111111", 11.0).verdict is Verdict.WRONG
    assert store.verify(PHONE, IIN, "222222", 12.0).verdict is Verdict.OK


def test_rate_limit_per_phone_window() -> None:
    store = fixed()
    for t in (0.0, 60.0, 120.0):
        issue(store, t, iin=f"iin{t}")
    got = store.issue(PHONE, "another", 130.0)
    assert isinstance(got, RateLimited)
    assert got.scope == "phone"
    assert got.retry_after_s == pytest.approx(600.0 - 130.0)
    issue(store, 600.1, iin="later")  # the first one left the window


def test_rate_limit_per_iin_across_phones() -> None:
    store = fixed()
    for i in range(3):
        issue(store, float(i), phone=f"+7700000000{i}")
    got = store.issue("+77009999999", IIN, 5.0)
    assert isinstance(got, RateLimited) and got.scope == "iin"


def test_refused_issue_does_not_count() -> None:
    store = OtpStore(OtpConfig(per_window=1))
    issue(store, 0.0)
    assert isinstance(store.issue(PHONE, "other", 1.0), RateLimited)
    # the refused request for "other" did not use up that IIN's allowance
    assert isinstance(store.issue("+77000000000", "other", 2.0), Issued)


def test_daily_limit() -> None:
    store = fixed()
    t = 0.0
    for _ in range(10):
        issue(store, t)
        t += 601.0  # out of the 10-minute window each time
    got = store.issue(PHONE, IIN, t)
    assert isinstance(got, RateLimited)
    assert got.retry_after_s == pytest.approx(86_400.0 - t)
    issue(store, 86_400.1)


def test_only_hashes_stored() -> None:
    store = fixed("987654")
    issue(store, 0.0)
    dump = repr(vars(store)) if hasattr(store, "__dict__") else ""
    blob = b"".join(p.digest + p.salt for p in store._pending.values())
    assert b"987654" not in blob and "987654" not in dump
    assert all(PHONE.encode() not in k and IIN.encode() not in k for k in store._issued)


def test_purge() -> None:
    store = fixed()
    issue(store, 0.0)
    store.purge(299.0)
    assert len(store) == 1
    store.purge(300.0)
    assert len(store) == 0
    store.purge(86_400.0)
    assert not store._issued


def test_different_processes_different_digests() -> None:
    a, b = fixed(), fixed()
    issue(a, 0.0)
    issue(b, 0.0)
    (pa,), (pb,) = a._pending.values(), b._pending.values()
    assert pa.digest != pb.digest
