"""REFER from an operator's phone (RFC 3515): the phone's transfer key.

A REFER in the dialog of an agent's leg bridged to a queue caller:

* ``202 Accepted`` (§2.4.2), then NOTIFYs in the same dialog with
  ``Event: refer`` and ``message/sipfrag`` bodies (§2.4.4, RFC 3420):
  ``SIP/2.0 100 Trying`` (Subscription-State active), then the outcome with
  Subscription-State terminated (§2.4.7): ``SIP/2.0 200 OK`` when the caller
  was handed to the target (it then waits in the target queue, or hears the
  target number ring), ``SIP/2.0 404 Not Found`` when the Refer-To names
  no ``[transfers]`` target, ``SIP/2.0 503 Service Unavailable`` when the
  engine refuses it (no such queue). After the 200 the agent's leg gets
  our BYE (the blind transfer of :mod:`bailanys.engine.transfers`, ``via="phone"``);
* a REFER in any other dialog (a caller's own leg, an agent ringing or not
  bridged) is refused with ``403 Forbidden``; outside a dialog ``481``;
* a Refer-To with ``Replaces`` (RFC 3891: the phone's attended transfer,
  its consultation call made by the phone itself, not through the engine)
  gets ``501`` with a reason saying so: the engine cannot join a dialog it
  does not hold. The desktop's attended transfer goes through the engine;
* ``Refer-Sub: false`` (RFC 4488) is honoured: 202 with ``Refer-Sub: false``
  and no NOTIFY.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bailanys.engine.call import Call
from bailanys.engine.queues import QueueService
from bailanys.engine.transfers import Transfers
from bailanys.errors import SipParseError
from bailanys.sip.endpoint import ServerHandle
from bailanys.sip.message import Response
from bailanys.transfers.referto import ReferTo, parse_refer_to
from bailanys.transfers.targets import TransferError

log = logging.getLogger(__name__)

#: Subscription-State expiry while the transfer runs (RFC 3515 §2.4.4: the
#: NOTIFYs come within seconds; a minute covers a slow queue join).
REFER_SUB_EXPIRES_S = 60
SIPFRAG = "message/sipfrag;version=2.0"
#: How long the final NOTIFY's answer is awaited before the agent's leg gets
#: its BYE anyway: a phone that never answers it must not hold the line for
#: the 32 s of a transaction timeout (RFC 3261 Timer F); a LAN phone answers
#: within milliseconds, and 2 s covers a few retransmissions (T1 = 0.5 s).
NOTIFY_WAIT_S = 2.0


class ReferHandler:
    """Serves REFER on agents' legs (:class:`~bailanys.engine.uas.CallServer` hands it over)."""

    def __init__(self, transfers: Callable[[], Transfers | None], queues: QueueService,
                 spawn: Callable[..., asyncio.Task[None]]) -> None:
        self._transfers = transfers
        self._queues = queues
        self._spawn = spawn

    def on_refer(self, handle: ServerHandle, call: Call | None) -> None:
        req = handle.request
        if call is None or call.dialog is None:
            handle.reply(481)
            return
        status = call.dialog.receive_request(req)
        if status is not None:
            handle.reply(status)
            return
        transfers = self._transfers()
        caller = self._queues.call_of_leg(call.id)
        if transfers is None or caller is None or self._queues.transferable(caller) is None:
            handle.reply(403, "Not A Bridged Agent Call")
            return
        try:
            refer_to = parse_refer_to(req.headers.get("Refer-To") or req.headers.get("r"))
        except SipParseError as exc:
            handle.reply(400, f"Bad Refer-To ({str(exc)[:40]})")
            return
        if refer_to.replaces is not None:
            handle.reply(501, "Replaces Not Supported (transfer from the desktop)")
            return
        quiet = (req.headers.get("Refer-Sub") or "").strip().lower() == "false"
        handle.reply(202, extra=[("Refer-Sub", "false")] if quiet else [])
        event = f"refer;id={req.cseq[0]}"
        self._spawn(self._run(call, caller, transfers, refer_to, event=event, quiet=quiet))

    async def _run(self, call: Call, caller: str, transfers: Transfers, refer_to: ReferTo, *,
                   event: str, quiet: bool) -> None:
        async def notify(frag: str, final: bool) -> None:
            if not quiet:
                await self._notify(call, event, frag, final)

        await notify("SIP/2.0 100 Trying", False)
        target = transfers.table.for_refer(refer_to)
        if target is None:
            # The user part may be a citizen's number: not logged (personal data).
            log.info("call %s: REFER to an unknown target", caller[:8])
            await notify("SIP/2.0 404 Not Found", True)
            return
        try:
            transfers.blind_now(caller, target, "phone",
                                before_bye=lambda: notify("SIP/2.0 200 OK", True))
        except TransferError as exc:
            log.info("call %s: REFER refused: %s", caller[:8], exc)
            await notify("SIP/2.0 503 Service Unavailable", True)

    async def _notify(self, call: Call, event: str, frag: str, final: bool) -> None:
        """One NOTIFY of the refer subscription (RFC 3515 §2.4.4); waits for its answer."""
        if call.dialog is None or call.ended.is_set():
            return
        state = "terminated;reason=noresource" if final else \
            f"active;expires={REFER_SUB_EXPIRES_S}"
        req = call.dialog.create_request(
            "NOTIFY", via=call.ports.sip.via(call.transport), body=f"{frag}\r\n".encode(),
            content_type=SIPFRAG, extra=[("Event", event), ("Subscription-State", state)])
        done: asyncio.Future[Response | None] = asyncio.get_running_loop().create_future()

        def answered(resp: Response | None) -> None:
            if resp is not None and resp.status < 200:
                return
            if not done.done():
                done.set_result(resp)

        call.ports.sip.send_request(req, call.target_addr(), answered, transport=call.transport)
        try:
            resp = await asyncio.wait_for(done, NOTIFY_WAIT_S)
        except TimeoutError:
            resp = None
        if resp is None or resp.status >= 300:
            log.info("call %s: NOTIFY %s", call.id[:8],
                     "timed out" if resp is None else f"answered {resp.status}")
