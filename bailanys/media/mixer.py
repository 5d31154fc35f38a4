"""Listen, whisper, barge: what each leg of a monitored bridge hears (issue 21).

A supervisor's phone joins a bridged call (a caller and an agent) in one
of three modes; each media tick, given the frame each of the three legs
sent (or None: no packet this tick), :func:`mix_tick` says what each leg
receives:

=========  =====================  ================  ===================
mode       caller hears           agent hears       supervisor hears
=========  =====================  ================  ===================
listen     agent                  caller            caller + agent
whisper    agent                  caller + sup.     caller + agent
barge      agent + supervisor     caller + sup.     caller + agent
=========  =====================  ================  ===================

The caller never hears a whisper; in listen mode what the supervisor says
goes nowhere. Frames are summed in linear PCM (int32) and clipped to the
int16 range; the hub encodes each leg's frame in that leg's own G.711 law.
Pure numpy, no I/O: :class:`~bailanys.media.hub.MediaHub` calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from bailanys.media.session import RtpSession

LISTEN: Final = "listen"
WHISPER: Final = "whisper"
BARGE: Final = "barge"
MODES: Final = (LISTEN, WHISPER, BARGE)

Frame = NDArray[np.int16]

_LO: Final = np.iinfo(np.int16).min
_HI: Final = np.iinfo(np.int16).max


def mix(*frames: Frame | None) -> Frame | None:
    """The sum of the frames present, clipped to int16; None when none is."""
    present = [f for f in frames if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    total = np.sum(np.stack(present).astype(np.int32), axis=0)
    out: Frame = np.clip(total, _LO, _HI).astype(np.int16)
    return out


def mix_tick(caller: Frame | None, agent: Frame | None, supervisor: Frame | None,
             mode: str) -> tuple[Frame | None, Frame | None, Frame | None]:
    """(to the caller, to the agent, to the supervisor) for one tick in ``mode``."""
    if mode not in MODES:
        raise ValueError(f"unknown monitor mode {mode!r} (expected {', '.join(MODES)})")
    speaks_to_agent = supervisor if mode != LISTEN else None
    speaks_to_caller = supervisor if mode == BARGE else None
    return mix(agent, speaks_to_caller), mix(caller, speaks_to_agent), mix(caller, agent)


@dataclass(eq=False)
class MonitorMix:
    """One monitored bridge as the hub holds it: the three legs and the mode.

    ``on_end`` is called once when the hub drops the mix (a leg unbridged
    or closed: the call ended, a transfer moved it).
    """

    caller: RtpSession
    agent: RtpSession
    supervisor: RtpSession
    mode: str
    on_end: Callable[[], None] | None = field(default=None, repr=False)

    def legs(self) -> tuple[RtpSession, RtpSession, RtpSession]:
        return self.caller, self.agent, self.supervisor

    def frames(self) -> dict[RtpSession, Frame | None]:
        """What each leg is sent this tick, from the frames they last received."""
        to_caller, to_agent, to_supervisor = mix_tick(
            self.caller.bridge_rx, self.agent.bridge_rx, self.supervisor.bridge_rx, self.mode)
        return {self.caller: to_caller, self.agent: to_agent, self.supervisor: to_supervisor}
