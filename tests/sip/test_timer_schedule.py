"""RFC 3261 §17 timers A, B, D, E, F, G, H, I, J, K run through a TimerQueue
on virtual time: every firing lands at the instant the RFC gives (issue 20
kept the semantics while changing how timers are stored).

The driver below does what the endpoint's adapter does (start, cancel,
cancel_all on Terminated, pop due timers one at a time), with time as an
input instead of the loop's clock.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bailanys.sip.message import Request, Response, make_response
from bailanys.sip.timer_queue import TimerQueue
from bailanys.sip.transaction import (
    Action,
    CancelTimer,
    InviteClientTransaction,
    InviteServerTransaction,
    NonInviteClientTransaction,
    NonInviteServerTransaction,
    Send,
    StartTimer,
    Terminated,
    Timeout,
)
from tests.siptext import req

Txn = (InviteClientTransaction | NonInviteClientTransaction
       | InviteServerTransaction | NonInviteServerTransaction)
Script = dict[float, Callable[[Txn], list[Action]]]


def request(method: str) -> Request:
    return req(f"""
        {method} sip:phone@192.0.2.10 SIP/2.0
        Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK{method.lower()}1
        Max-Forwards: 70
        From: <sip:1414@198.51.100.1>;tag=e1
        To: <sip:phone@192.0.2.10>
        Call-ID: sched@198.51.100.1
        CSeq: 1 {method}
    """)


def reply(status: int, method: str) -> Callable[[Txn], list[Action]]:
    """The peer's response arrives (client) or the TU responds (server)."""

    def act(txn: Txn) -> list[Action]:
        response: Response = make_response(txn.request, status, to_tag="p1")
        if isinstance(txn, InviteClientTransaction | NonInviteClientTransaction):
            return txn.receive(response)
        return txn.respond(response)

    return act


def ack(txn: Txn) -> list[Action]:
    """The ACK of the non-2xx final, already matched to the transaction (§17.2.3)."""
    assert isinstance(txn, InviteServerTransaction)
    return txn.receive(request("ACK"))


def simulate(txn: Txn, script: Script, until: float = 200.0) -> list[tuple[float, str]]:
    """Run ``txn`` on virtual time; the log of what it did, with instants."""
    q: TimerQueue[str] = TimerQueue()
    log: list[tuple[float, str]] = []
    now = 0.0

    def carry_out(actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, Send):
                m = a.message
                log.append((now, f"send {m.method if isinstance(m, Request) else m.status}"))
            elif isinstance(a, StartTimer):
                q.start("t", a.name, now + a.delay)
            elif isinstance(a, CancelTimer):
                q.cancel("t", a.name)
            elif isinstance(a, Timeout):
                log.append((now, "timeout"))
            elif isinstance(a, Terminated):
                log.append((now, "terminated"))
                q.cancel_all("t")

    carry_out(txn.start())
    pending = sorted(script.items())
    while now <= until:
        nxt = q.next_deadline()
        due_script = pending[0][0] if pending else None
        candidates = [t for t in (nxt, due_script) if t is not None]
        if not candidates:
            break
        now = min(candidates)
        while pending and pending[0][0] <= now:
            carry_out(pending.pop(0)[1](txn))
        while (due := q.pop_due(now)) is not None:
            log.append((now, f"timer {due[1]}"))
            carry_out(txn.timer(due[1]))
    assert len(q) == 0 or now > until
    return log


def times(log: list[tuple[float, str]], what: str) -> list[float]:
    return [t for t, w in log if w == what]


def test_invite_client_udp_timer_a_doubles_until_timer_b() -> None:
    log = simulate(InviteClientTransaction(request("INVITE"), reliable=False), {})
    assert times(log, "timer A") == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # §17.1.1.2
    assert times(log, "send INVITE") == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert times(log, "timer B") == times(log, "timeout") == times(log, "terminated") == [32.0]


def test_invite_client_failure_cancels_a_b_and_waits_timer_d() -> None:
    log = simulate(InviteClientTransaction(request("INVITE"), reliable=False),
                   {1.0: reply(486, "INVITE")})
    assert times(log, "timer A") == [0.5]
    assert times(log, "send ACK") == [1.0]
    assert times(log, "timer B") == []
    assert times(log, "timer D") == times(log, "terminated") == [33.0]  # D >= 32 s


def test_invite_client_tcp_has_no_timer_a_and_no_wait() -> None:
    log = simulate(InviteClientTransaction(request("INVITE"), reliable=True), {})
    assert times(log, "send INVITE") == [0.0] and times(log, "timer B") == [32.0]
    log = simulate(InviteClientTransaction(request("INVITE"), reliable=True),
                   {2.0: reply(486, "INVITE")})
    assert times(log, "terminated") == [2.0]  # Timer D = 0 on reliable transports


def test_non_invite_client_timer_e_caps_at_t2_until_timer_f() -> None:
    log = simulate(NonInviteClientTransaction(request("OPTIONS"), reliable=False), {})
    assert times(log, "timer E") == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert times(log, "timer F") == times(log, "timeout") == [32.0]


def test_non_invite_client_proceeding_holds_e_at_t2_then_k() -> None:
    log = simulate(NonInviteClientTransaction(request("OPTIONS"), reliable=False),
                   {0.25: reply(100, "OPTIONS"), 10.0: reply(200, "OPTIONS")})
    assert times(log, "timer E") == [0.5, 4.5, 8.5]  # §17.1.2.2: T2 in Proceeding
    assert times(log, "timer F") == []
    assert times(log, "timer K") == times(log, "terminated") == [15.0]  # T4


def test_invite_server_failure_g_backs_off_until_h() -> None:
    log = simulate(InviteServerTransaction(request("INVITE"), reliable=False),
                   {0.0: reply(486, "INVITE")})
    assert times(log, "timer G") == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert times(log, "send 486") == [0.0, *times(log, "timer G")]
    assert times(log, "timer H") == times(log, "timeout") == [32.0]


def test_invite_server_ack_cancels_g_h_then_timer_i() -> None:
    log = simulate(InviteServerTransaction(request("INVITE"), reliable=False),
                   {0.0: reply(486, "INVITE"), 2.0: ack})
    assert times(log, "timer G") == [0.5, 1.5]
    assert times(log, "timer H") == []
    assert times(log, "timer I") == times(log, "terminated") == [7.0]  # T4


def test_invite_server_2xx_ends_at_once() -> None:
    log = simulate(InviteServerTransaction(request("INVITE"), reliable=False),
                   {0.0: reply(200, "INVITE")})
    assert [w for _, w in log] == ["send 100", "send 200", "terminated"]


@pytest.mark.parametrize(("reliable", "end"), [(False, 33.0), (True, 1.0)])
def test_non_invite_server_timer_j(reliable: bool, end: float) -> None:
    log = simulate(NonInviteServerTransaction(request("BYE"), reliable=reliable),
                   {1.0: reply(200, "BYE")})
    assert times(log, "terminated") == [end]  # J = 64*T1 unreliable, 0 reliable
    assert times(log, "timer J") == ([end] if not reliable else [])
