"""Which flow answers a dialled number.

An inbound call is ours when its Request-URI user part (the dialled number)
is a flow's number: the IVR's flows (reloaded while the engine runs), and
the line test (``ivr_flows/linetest.yaml``) on ``engine.numbers``.  Anything else is answered 404 by
the UAS.  The flow is picked when the call is confirmed (its ACK), so a
reload between the INVITE and the ACK is seen.
"""

from __future__ import annotations

from typing import Protocol

from bailanys.engine.call import Call, FlowFactory
from bailanys.ivr.model import Flow


class FlowCatalogue(Protocol):
    """The IVR's flows by number (:class:`~bailanys.engine.flows.FlowService`)."""

    def for_number(self, number: str) -> Flow | None: ...

    def factory(self, flow: Flow) -> FlowFactory: ...


class NumberRouter:
    """Routes a dialled number to the IVR flow that answers it."""

    def __init__(self, *, flows: FlowCatalogue) -> None:
        self._flows = flows

    def answers(self, number: str) -> bool:
        """Whether a call to ``number`` is ours: a flow answers it."""
        return self._flows.for_number(number) is not None

    def flow_for(self, call: Call) -> FlowFactory | None:
        """The flow an inbound call runs; None for an outbound leg or an unknown number."""
        if call.direction != "inbound":
            return None
        flow = self._flows.for_number(call.number)
        return None if flow is None else self._flows.factory(flow)
