"""The digit pump: every key a caller presses, forwarded as it arrives.

The IVR session and the queue's holding loop both turn a call's keys
(RFC 4733 telephone-events or in-band tones, decoded by the media layer)
into inputs of their own; this loop is the one both run, as a task they
own and cancel when someone else takes the keys (a hand-over, the survey).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

#: The pump's wait per key: the callers' own timers do the real timing, so
#: this is only how often an idle pump wakes up (once an hour).
DIGIT_WAIT_S = 3600.0


class DigitSource(Protocol):
    """A call's keys (:meth:`bailanys.engine.call.Call.next_digit`)."""

    async def next_digit(self, wait_s: float) -> str | None: ...


async def pump_digits(
    call: DigitSource, put: Callable[[str], None], wait_s: float = DIGIT_WAIT_S
) -> None:
    """Hand every key of ``call`` to ``put``, in order, until cancelled."""
    while True:
        key = await call.next_digit(wait_s)
        if key is not None:
            put(key)
