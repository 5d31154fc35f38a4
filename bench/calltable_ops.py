"""The call table's cost per call against the calls it holds (issue 20:
"call setup cost flat in the call rate").

    PYTHONPATH=TREE python bench/calltable_ops.py [--sizes 0,100,1000,4000]

With N other calls answered and awaiting their ACK (what piles up at a high
setup rate while ACKs are late), one more call goes through the table the
way the call server drives it: ringing, answered (its dialog registered,
awaiting the ACK), ACKed, ended; printed: microseconds per call.  Before
issue 20 the ACK and the end scanned every entry (O(N)); after, O(1).
``PYTHONPATH`` picks the tree: the table of an unpacked ``git archive``
(before) or this checkout (after); a table without the issue-20 methods is
driven by writing its dicts as the call server did.

Never a timed test: this prints figures for humans.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bailanys.engine.call import Call
from bailanys.engine.calls import CallTable
from bailanys.media.session import RtpSession
from bailanys.sip.dialog import Dialog
from bailanys.sip.message import Request, parse_message
from tests.engine.corefakes import Rig, invite

REPEATS = 2000  # calls timed per size: enough for a stable mean at µs resolution


def _call(rig: Rig, i: int) -> Call:
    req = parse_message(invite(call_id=f"c{i}@bench"))
    assert isinstance(req, Request)
    dialog = Dialog.uas(req, f"us{i}", "<sip:bailanys@198.51.100.1:5070>")
    return Call(rig.ports, dialog=dialog, session=RtpSession(40000, 0),
                peer=("192.0.2.10", 5062), transport="UDP")


def _one(table: CallTable, call: Call, key: object) -> None:
    """Ringing, answered, ACKed, ended: the table's part of one call."""
    assert call.dialog is not None
    if hasattr(table, "ringing"):
        table.ringing(key, call, None)  # type: ignore[arg-type]
        table.stop_ringing(key)
        table.register(call)
        table.await_ack(key, call)
    else:  # before issue 20: the call server wrote the dicts
        table.by_invite[key] = (call, None)  # type: ignore[assignment]
        table.by_invite.pop(key, None)
        table.by_dialog[call.dialog.id] = call
        table.awaiting_ack[key] = call
    table.drop_awaiting_ack(call)
    table.forget(call)


async def measure(sizes: list[int]) -> None:
    rig = Rig()
    try:
        timed = [_call(rig, -1 - i) for i in range(REPEATS)]
        for n in sizes:
            table = CallTable()
            for i in range(n):
                _one_half(table, _call(rig, i), ("k", i))
            start = time.perf_counter()
            for i, call in enumerate(timed):
                _one(table, call, ("t", i))
            per = (time.perf_counter() - start) / REPEATS * 1e6
            print(f"{n:>6} calls awaiting an ACK: {per:8.2f} µs per call set up and ended")
    finally:
        await rig.close()


def _one_half(table: CallTable, call: Call, key: object) -> None:
    """A call answered and left awaiting its ACK."""
    assert call.dialog is not None
    if hasattr(table, "await_ack"):
        table.register(call)
        table.await_ack(key, call)
    else:
        table.by_dialog[call.dialog.id] = call
        table.awaiting_ack[key] = call


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="0,100,1000,4000")
    args = ap.parse_args()
    asyncio.run(measure([int(x) for x in args.sizes.split(",") if x]))


if __name__ == "__main__":
    main()
