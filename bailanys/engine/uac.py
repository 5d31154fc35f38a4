"""Outbound calls to registered phones (RFC 3261 §8.1, §13.2): the UAC side.

:func:`start_call` sends an INVITE with our SDP offer to a registered
contact (an operator's phone, or a caller being called back) and returns
the leg at once; the leg follows the provisional responses, and on a 2xx
builds the dialog (§12.1.2), applies the SDP answer (RFC 3264 §5) and sends
the ACK (§13.2.2.4).  A phone that is not wanted any more is sent a CANCEL
(§9.1) by :meth:`OutboundCall.cancel`; ringing with a timeout is
:class:`~bailanys.engine.dialer.Dialer`'s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bailanys.engine.call import Call, CallPorts, CallState
from bailanys.engine.registrar import Binding
from bailanys.engine.sdpapply import apply_answer
from bailanys.errors import SdpError, SipParseError
from bailanys.events import CallOriginated, CallRinging
from bailanys.sip.dialog import Dialog
from bailanys.sip.headers import SipUri
from bailanys.sip.ids import new_call_id, new_tag
from bailanys.sip.message import Request, Response
from bailanys.sip.sdp import SessionDescription, make_offer, parse_answer
from bailanys.sip.transaction import build_cancel
from bailanys.sip.transport import Addr

log = logging.getLogger(__name__)


class OutboundCall(Call):
    """A call the engine placed; ``result`` resolves True when answered."""

    def __init__(self, ports: CallPorts, invite: Request, offer: SessionDescription,
                 **kw: object) -> None:
        super().__init__(ports, direction="outbound", **kw)  # type: ignore[arg-type]
        self.invite = invite
        self.offer = offer
        self.ack: Request | None = None
        self.result: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.final_status: int | None = None

    def owns(self, response: Response) -> bool:
        try:
            return response.call_id == self.invite.call_id and response.cseq[1] == "INVITE"
        except SipParseError:
            return False

    def on_2xx_retransmission(self, response: Response) -> None:
        """The 2xx came again: our ACK was lost; send it again (§13.2.2.4)."""
        if self.ack is not None:
            self.ports.sip.send_stateless(self.ack, self.target_addr(), self.transport)

    def on_response(self, response: Response | None) -> None:
        if response is None:
            self._finish(False, "timeout")
            return
        if response.status < 200:
            if response.status in (180, 183) and self.state is CallState.OFFERED:
                self.ports.events.emit(CallRinging(call_id=self.id, status=response.status))
            return
        self.final_status = response.status
        if response.status >= 300:
            self._finish(False, f"rejected_{response.status}")
            return
        if self.state is CallState.ENDED:
            self._late_answer(response)
            return
        try:
            self.dialog = Dialog.uac(self.invite, response)
            answer = SessionDescription.parse(response.body)
            media = parse_answer(self.offer, answer)
        except (SdpError, SipParseError, ValueError) as exc:
            log.warning("call %s: unusable 2xx: %s", self.id[:8], exc)
            self._send_ack(response)
            self._finish(False, "bad_answer")
            return
        apply_answer(self.session, media, direction=False)
        self._send_ack(response)
        self.ports.register(self)
        self.connected()
        if not self.result.done():
            self.result.set_result(True)

    def _late_answer(self, response: Response) -> None:
        """A 2xx for a call we already gave up (its CANCEL crossed the answer,
        RFC 3261 §9.1; or the ring timed out): ACK it (§13.2.2.4) and hang it
        up at once (§15.1.1).  It never joins the call table, so
        nothing is left there (a phone answering 1 s into its ring
        while the caller hung up left ``calls_in_progress`` at 1 for good)."""
        try:
            self._send_ack(response)
        except (SipParseError, ValueError) as exc:
            log.info("call %s: late 2xx not ACKed: %s", self.id[:8], exc)
            return
        assert self.dialog is not None
        bye = self.dialog.create_request("BYE", via=self.ports.sip.via(self.transport))
        self.ports.sip.send_request(bye, self.target_addr(), lambda _r: None,
                                          transport=self.transport)
        log.info("call %s: answered after we gave up; BYE sent", self.id[:8])

    def _send_ack(self, response: Response) -> None:
        if self.dialog is None:
            self.dialog = Dialog.uac(self.invite, response)
        cseq = self.invite.cseq[0]
        self.ack = self.dialog.create_ack(cseq, via=self.ports.sip.via(self.transport))
        self.ports.sip.send_stateless(self.ack, self.target_addr(), self.transport)

    def _finish(self, answered: bool, cause: str) -> None:
        if not self.result.done():
            self.result.set_result(answered)
        if not answered:
            self.ports.tasks.spawn(self.hangup(cause))

    def cancel(self) -> None:
        """Stop ringing: CANCEL the INVITE (§9.1)."""
        if self.state is not CallState.OFFERED:
            return
        self.ports.sip.send_request(
            build_cancel(self.invite), self.peer, lambda _r: None, transport=self.transport
        )


@dataclass(frozen=True)
class UacSettings:
    """Where our INVITEs say they come from: the address RTP is offered on,
    our SIP host and the domain operators' addresses-of-record are in."""

    rtp_host: str
    sip_host: str
    domain: str


async def start_call(ports: CallPorts, settings: UacSettings, binding: Binding,
                     headers: Sequence[tuple[str, str]] = ()) -> OutboundCall:
    """Send the INVITE and return at once; ``call.result`` resolves when it is decided.
    ``headers``: extension headers of the INVITE (a moved call's, issue 22).

    The caller owns the ring: on its timeout it calls ``call.cancel()`` and
    ``await call.end(...)`` (:meth:`~bailanys.engine.dialer.Dialer.ring`).
    """
    session = await ports.legs.open_session()
    offer = make_offer(settings.rtp_host, session.port, int(time.time()))
    transport = binding.transport if binding.transport in ("UDP", "TCP") else "UDP"
    # Send where the REGISTER came from: right behind NAT, and equal to the
    # contact otherwise (RFC 5626's flow idea, without its Path machinery).
    dest: Addr = binding.source
    local = f"sip:bailanys@{settings.sip_host}:{ports.sip.port}"
    aor = f"sip:{binding.user}@{settings.domain}"
    try:
        SipUri.parse(binding.contact)
    except SipParseError:
        ports.legs.close_session(session)
        raise
    invite = Request.build(
        "INVITE",
        binding.contact,
        [
            ("Via", ports.sip.via(transport)),
            ("Max-Forwards", "70"),
            ("From", f'"Bailanys" <{local}>;tag={new_tag()}'),
            ("To", f"<{aor}>"),
            ("Call-ID", new_call_id(settings.sip_host)),
            ("CSeq", "1 INVITE"),
            ("Contact", f"<{local}>"),
            *headers,
            ("Content-Type", "application/sdp"),
        ],
        body=bytes(offer),
    )
    call = OutboundCall(
        ports, invite, offer, dialog=None, session=session, peer=dest, transport=transport
    )
    ports.events.emit(CallOriginated(call_id=call.id, to=aor, contact=binding.contact))
    ports.sip.send_request(invite, dest, call.on_response, transport=transport)
    return call
