"""Which flow answers a dialled number.

An inbound call is ours when its Request-URI user part (the dialled number)
is a flow's number (the IVR's flows, reloaded while the engine runs) or one
of ``engine.numbers`` (the demo flow).  Anything else is answered 404 by
the UAS.  The flow is picked when the call is confirmed (its ACK), so a
reload between the INVITE and the ACK is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from bailanys.engine.call import Call, FlowFactory
from bailanys.ivr.model import Flow


class FlowCatalogue(Protocol):
    """The IVR's flows by number (:class:`~bailanys.engine.flows.FlowService`)."""

    def for_number(self, number: str) -> Flow | None: ...

    def factory(self, flow: Flow) -> FlowFactory: ...


class NumberRouter:
    """Routes a dialled number to an IVR flow, else to the fixed-number flow (the demo)."""

    def __init__(
        self, *, flows: FlowCatalogue, fixed_numbers: Iterable[str], fixed: FlowFactory
    ) -> None:
        self._flows = flows
        self._fixed_numbers = frozenset(fixed_numbers)
        self._fixed = fixed

    def answers(self, number: str) -> bool:
        """Whether a call to ``number`` is ours: a flow's number, or a fixed one."""
        return self._flows.for_number(number) is not None or number in self._fixed_numbers

    def flow_for(self, call: Call) -> FlowFactory | None:
        """The flow an inbound call runs; None for an outbound leg or an unknown number."""
        if call.direction != "inbound":
            return None
        flow = self._flows.for_number(call.number)
        if flow is not None:
            return self._flows.factory(flow)
        return self._fixed if call.number in self._fixed_numbers else None
