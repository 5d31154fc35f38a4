"""Who ended a call: the ``cause`` of ``call.ended`` and ``queue.abandoned``.

One fixed vocabulary, so that every fold, report and
export can tell a caller's hang-up from the engine's:

=================  ===========================================================
cause              meaning
=================  ===========================================================
caller             the caller hung up (BYE/CANCEL from the caller's side)
agent              the operator hung up a bridged call
flow               the flow, robot or demo ended the call as designed
                   (hang-up node, goodbye, no input, closed queue...)
no_answer          an outbound leg was not answered (agent legs, callbacks)
engine_shutdown    the engine stopped (SIGTERM, ``Engine.stop()``)
engine_restart     written at start-up for a call a crash left open
engine_failure     another engine closed it: the engine that held the call
                   died (issue 22, a queue taken over: docs/architecture.md)
rtp_timeout        no media from the peer
max_duration       the call-length limit
error              anything else (no ACK, flow error, setup failure)
=================  ===========================================================

The old detailed value ("remote_bye", "no_ack", "agent_hangup"...) travels
beside it in the field ``reason``, for diagnosis. :func:`of_reason` maps a
reason to its cause; a reason it does not know is a flow's own (a hang-up
node's ``cause:``, a robot outcome), hence ``flow``.

Only a caller's hang-up before an operator answered is a lost call
(requirements, KPI "lost calls"; ``docs/kpi.md``): the KPI folds read
``cause`` for that, and a stored ``queue.abandoned`` written before this
field existed reads as ``caller`` (:func:`abandon_cause`).

Pure: no I/O, no asyncio.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final


class Cause(StrEnum):
    CALLER = "caller"
    AGENT = "agent"
    FLOW = "flow"
    NO_ANSWER = "no_answer"
    ENGINE_SHUTDOWN = "engine_shutdown"
    ENGINE_RESTART = "engine_restart"
    ENGINE_FAILURE = "engine_failure"
    RTP_TIMEOUT = "rtp_timeout"
    MAX_DURATION = "max_duration"
    ERROR = "error"


#: The remote party of a leg: who a BYE or CANCEL from the other side is.
PEER_CALLER: Final = Cause.CALLER
PEER_AGENT: Final = Cause.AGENT

#: Detailed reasons the engine itself writes, and their causes. ``remote_bye``
#: and ``cancelled`` depend on who the remote party is (:func:`of_reason`).
REASONS: Final[Mapping[str, Cause]] = {
    "caller_hangup": Cause.CALLER,  # the caller's leg ended: the agent's leg is hung up
    "caller_gone": Cause.CALLER,  # the agent answered after the caller left
    "agent_hangup": Cause.AGENT,  # the agent's leg ended: the caller's leg is hung up
    "no_answer": Cause.NO_ANSWER,
    "timeout": Cause.NO_ANSWER,  # an outbound INVITE got no final response
    "shutdown": Cause.ENGINE_SHUTDOWN,
    "engine_shutdown": Cause.ENGINE_SHUTDOWN,
    "engine_restart": Cause.ENGINE_RESTART,
    "engine_failure": Cause.ENGINE_FAILURE,
    "rtp_timeout": Cause.RTP_TIMEOUT,
    "max_duration": Cause.MAX_DURATION,
    "no_ack": Cause.ERROR,
    "flow_error": Cause.ERROR,
    "bad_answer": Cause.ERROR,
    "setup_failed": Cause.ERROR,
    "error": Cause.ERROR,
}

#: Reasons that name the remote party's own act: the cause is who that party is.
REMOTE_REASONS: Final = frozenset({"remote_bye", "cancelled"})


def of_reason(reason: str, peer: Cause = Cause.CALLER) -> Cause:
    """The cause of a call that ended for ``reason``.

    ``peer`` is who stands at the other end of the leg (``caller`` for an
    inbound call or a callback, ``agent`` for an agent's leg): a BYE or a
    CANCEL from there is that party hanging up. An outbound INVITE refused
    (``rejected_486``...) was not answered. Any other unknown reason comes
    from a flow (hang-up node, robot outcome, demo): ``flow``.
    """
    if reason in REMOTE_REASONS:
        return peer
    known = REASONS.get(reason)
    if known is not None:
        return known
    if reason.startswith("rejected_"):
        return Cause.NO_ANSWER
    return Cause.FLOW


def parse(value: object) -> Cause | None:
    """``value`` as a cause; None when it is not one of the vocabulary."""
    try:
        return Cause(value) if isinstance(value, str) else None
    except ValueError:
        return None


def abandon_cause(data: Mapping[str, object]) -> Cause:
    """The cause of a stored ``queue.abandoned``: one written before the
    field existed (or with a value outside the vocabulary) reads as
    ``caller``, what it meant then (contract 2)."""
    return parse(data.get("cause")) or Cause.CALLER


def is_lost(cause: Cause) -> bool:
    """Whether an abandon with ``cause`` is a lost call (the caller's act)."""
    return cause is Cause.CALLER
