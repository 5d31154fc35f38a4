"""The SIP transaction user for calls: the UAS side (RFC 3261 §8.2, §13.3).

:class:`CallServer` implements :class:`~bailanys.sip.endpoint.TransactionUser`:
INVITE (100 by the transaction, 180, 200 with the SDP answer), ACK, BYE,
CANCEL (487), OPTIONS (200; 503 while stopping), re-INVITE (hold/unhold, §14), REGISTER (handed
to the registrar), REFER (RFC 3515, an operator's transfer: handed to
:mod:`bailanys.engine.refer`); known methods we do not serve get 405 with Allow,
unknown ones 501.  Each new INVITE passes a flood guard (per source
address) and the call limit first (503 with Retry-After, §21.5.4); while
the engine stops (``stopping``) every new INVITE gets that 503, and so does
OPTIONS: a proxy's health check takes a draining engine out of its set.

It holds no engine: it takes the call table, the ports a call uses
(:class:`~bailanys.engine.call.CallPorts`), the router that says which
numbers are ours and which flow a call runs, the registrar, the flood
guard and its :class:`UasSettings`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bailanys.engine.call import Call, CallPorts, CallState, FlowRouter
from bailanys.engine.calls import CallTable
from bailanys.engine.floodguard import FloodGuard
from bailanys.engine.offered import dialled, from_address, offered_of
from bailanys.engine.ports import RecordingWatch, RegisterHandler
from bailanys.engine.sdpapply import apply_answer
from bailanys.engine.uac import OutboundCall
from bailanys.errors import MediaError, SdpError, SipParseError
from bailanys.events import CallHold, CallOffered, CallRegion, CallUnhold
from bailanys.media.session import RtpSession
from bailanys.reports.model import RegionSource
from bailanys.reports.regions import region_of_number
from bailanys.sip.dialog import Dialog, dialog_id_of
from bailanys.sip.endpoint import ServerHandle
from bailanys.sip.headers import NameAddr, SipUri
from bailanys.sip.ids import new_tag
from bailanys.sip.message import Request, Response, make_response
from bailanys.sip.sdp import Answer, NoCommonCodec, SessionDescription, negotiate
from bailanys.sip.transaction import server_key
from bailanys.sip.transport import Source

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, REFER"
SUPPORTED: frozenset[str] = frozenset()  # option tags we implement (none yet: 100rel, timer...)
KNOWN_UNSERVED = frozenset(
    {"INFO", "UPDATE", "MESSAGE", "NOTIFY", "SUBSCRIBE", "PRACK", "PUBLISH"}
)
RETRY_AFTER_S = 5  # Retry-After on 503 (RFC 3261 §20.33); short: load passes quickly


class ReferPort(Protocol):
    """Serves a REFER (RFC 3515) in a call's dialog (:mod:`bailanys.engine.refer`)."""

    def on_refer(self, handle: ServerHandle, call: Call | None) -> None: ...


class CallRouter(FlowRouter, Protocol):
    """Which dialled numbers are ours, and the flow a confirmed call runs."""

    def answers(self, number: str) -> bool: ...


@dataclass(frozen=True)
class UasSettings:
    """The UAS's own settings, from the config's ``sip``, ``engine`` and ``media`` tables."""

    rtp_host: str  # the address in our SDP's c= line
    sip_host: str  # the host in our Contact
    max_calls: int  # sip.max_calls: calls up or being set up
    answer_delay_s: float  # engine.answer_delay_ms: ringing before the 200
    max_call_s: float  # engine.max_call_seconds
    record_dir: Path | None  # media.record_dir when media.record_calls, else None
    #: media.record_dir when analytics records calls the queue may re-record
    #: (analytics enabled, record_calls off: engine/recordings.py), else None
    analytics_record_dir: Path | None = None


@dataclass
class _Setup:
    """What one INVITE's set-up has opened so far, for :meth:`CallServer._setup_failed`."""

    local_tag: str = field(default_factory=new_tag)
    session: RtpSession | None = None
    call: Call | None = None
    offer_read: bool = False  # the offer was parsed and negotiated
    offered: bool = False  # call.offered was appended (so call.ended must follow)


class CallServer:
    """Serves the requests the SIP endpoint delivers (a TransactionUser)."""

    def __init__(
        self,
        *,
        table: CallTable,
        ports: CallPorts,
        router: CallRouter,
        registrar: RegisterHandler,
        flood: FloodGuard,
        settings: UasSettings,
        recordings: RecordingWatch | None = None,
        refer: ReferPort | None = None,
    ) -> None:
        self.table = table
        self._refer = refer  # transfers from operators' phones (issue 19)
        self._recordings = recordings  # announces recordings with their jobs (issue 15)
        self._ports = ports
        self._router = router
        self._registrar = registrar
        self.flood = flood
        self.settings = settings
        #: True while the engine stops: new INVITEs get 503 with Retry-After.
        self.stopping = False
        self._setup_failures: dict[str, int] = {}  # unexpected set-up errors by type

    # ------------------------------------------------------------ TransactionUser

    def on_request(self, handle: ServerHandle) -> None:
        """A request in a new server transaction: Require and scheme checks, then by method."""
        req = handle.request
        unsupported = [
            tag.strip()
            for tag in req.headers.get_all("Require")
            if tag.strip() and tag.strip() not in SUPPORTED
        ]
        if unsupported and req.method not in ("ACK", "CANCEL"):
            handle.reply(420, to_tag=new_tag(), extra=[("Unsupported", ", ".join(unsupported))])
            return
        if req.uri.partition(":")[0].lower() not in ("sip", "sips"):
            # §8.2.2.1 for every method (RFC 4475 §3.3.2/3.3.3: OPTIONS to an
            # unknown scheme), not only INVITE: we serve no other scheme.
            handle.reply(416, to_tag=new_tag())
            return
        self._by_method(handle)

    def _by_method(self, handle: ServerHandle) -> None:
        req = handle.request
        method = req.method
        if method == "INVITE":
            if _to_tag(req):
                self._reinvite(handle)
            else:
                self._new_call(handle)
        elif method == "BYE":
            self._bye(handle)
        elif method == "OPTIONS" and self.stopping:
            # A proxy's health check (Kamailio's dispatcher, issue 22) takes a
            # draining engine out of its set: new calls go to another one.
            unavailable(handle, "Restarting")
        elif method == "OPTIONS":
            handle.reply(
                200,
                to_tag=new_tag(),
                extra=[
                    ("Allow", ALLOW),
                    ("Accept", "application/sdp"),
                    ("Accept-Language", "kk, ru"),
                ],
            )
        elif method == "REFER":
            self._on_refer(handle)
        elif method == "REGISTER":
            handle.respond(self._registrar.handle(req, handle.source, time.time()))
        elif method in KNOWN_UNSERVED:
            handle.reply(405, to_tag=new_tag(), extra=[("Allow", ALLOW)])
        else:
            handle.reply(501, to_tag=new_tag(), extra=[("Allow", ALLOW)])

    def on_ack(self, ack: Request, source: Source) -> None:
        """The ACK of our 2xx (§13.3.1.4): the call is confirmed."""
        call = self.table.by_dialog.get(dialog_id_of(ack, uas=True))
        if call is None:
            call = self._ack_with_wrong_to_tag(ack)
        if call is not None:
            call.on_ack(ack)
            self.table.drop_awaiting_ack(call)

    def _ack_with_wrong_to_tag(self, ack: Request) -> Call | None:
        """An ACK for our 2xx whose To tag is not ours (pyVoIP 1.6.8 invents a new one).

        RFC 3261 §12.2.2 would not match it to the dialog; a call answered
        and awaiting its ACK from the same Call-ID, From tag and CSeq number
        is unambiguous, so it is taken rather than leaving the call to time
        out with the caller on the line.
        """
        call_id, _, remote_tag = dialog_id_of(ack, uas=True)
        for call in self.table.acking(call_id, remote_tag):  # O(1): issue 20
            d = call.dialog
            if (d is not None and call.state is CallState.ANSWERED and d.id[0] == call_id
                    and d.id[2] == remote_tag and d.remote_seq == ack.cseq[0]):
                log.info("call %s: ACK with a foreign To tag taken (same Call-ID, From tag "
                         "and CSeq)", call.id[:8])
                return call
        return None

    def on_cancel(self, invite: ServerHandle) -> None:
        """A CANCEL of a ringing INVITE (§9.2): 487 to the INVITE, the call ends."""
        entry = self.table.stop_ringing(server_key(invite.request))
        if entry is None:
            return
        call, handle = entry
        if call.state is CallState.OFFERED:
            handle.reply(487, to_tag=call.dialog.local_tag if call.dialog else new_tag())
            self._ports.tasks.spawn(call.end("cancelled"))

    def on_stray_response(self, response: Response, source: Source) -> None:
        """A retransmitted 2xx to one of our INVITEs: the UAC leg re-ACKs it."""
        for call in self.table.with_call_id(response.call_id):  # O(1): issue 20
            if isinstance(call, OutboundCall) and call.owns(response):
                call.on_2xx_retransmission(response)
                return

    def refuse_ringing(self) -> None:
        """The engine stops: every INVITE still ringing gets 503 with Retry-After."""
        for call, handle in list(self.table.by_invite.values()):
            unavailable(handle, "Restarting", call.dialog.local_tag if call.dialog else None)

    # ------------------------------------------------------------ a new INVITE

    def _new_call(self, handle: ServerHandle) -> None:
        """A new INVITE: admit it (flood guard, call limit, number, offer) or refuse it."""
        try:
            self._admit_call(handle)
        except Exception as exc:  # a bug must still answer the INVITE (RFC 3261 §21.5.1)
            self._log_setup_failure(exc, 500)
            with contextlib.suppress(Exception):
                if not handle.final_sent:
                    handle.reply(500, to_tag=new_tag())

    def _admit_call(self, handle: ServerHandle) -> None:
        req = handle.request
        key = server_key(req)
        if key in self.table.by_invite:
            return  # already being set up (the transaction absorbs retransmissions)
        answered = self.table.awaiting_ack.get(key)
        if answered is not None:
            # The INVITE again after our 200 (its transaction has ended, §17.2.1):
            # the 200 was lost; answer this copy with it (§13.3.1.4), no second call.
            ok = answered.pending_2xx(req)
            if ok is not None:
                handle.respond(ok)
                return
        if self._refused_for_load(handle) or self._refused_request(handle):
            return
        self._ports.tasks.spawn(self._setup_call(handle, key))

    def _refused_for_load(self, handle: ServerHandle) -> bool:
        """503 with Retry-After while stopping, for a flooding source, or at the call limit."""
        if self.stopping:  # RFC 3261 §21.5.4: try again after Retry-After
            unavailable(handle, "Restarting")
        elif not self.flood.allow(handle.source.addr[0], time.monotonic()):
            unavailable(handle, "Too Many Calls")
        elif len(self.table) >= self.settings.max_calls:
            unavailable(handle, "Busy")
        else:
            return False
        return True

    def _refused_request(self, handle: ServerHandle) -> bool:
        """400/416/404/488 for an INVITE we cannot serve: its URI, its number, no offer."""
        req = handle.request
        try:
            ruri = SipUri.parse(req.uri)
        except SipParseError:
            handle.reply(400, "Bad Request-URI", to_tag=new_tag())
            return True
        if ruri.scheme not in ("sip", "sips"):
            handle.reply(416, to_tag=new_tag())
        elif not self._router.answers(ruri.user or ""):
            handle.reply(404, to_tag=new_tag())
        elif not req.body or req.content_type != "application/sdp":
            # No offer in the INVITE (RFC 3264 §5 "late offer"): not served yet.
            handle.reply(488, "SDP Offer Required", to_tag=new_tag())
        else:
            return False
        return True

    async def _setup_call(self, handle: ServerHandle, key: object) -> None:
        """Answer a new INVITE (RFC 3261 §13.3.1): 180, then 200 with the SDP answer.

        Nothing a failure leaves behind leaks: whatever was opened (the
        RTP/RTCP ports, the recorder, the ``by_invite`` entry, the call) is
        closed again and the INVITE gets a final response: 488 for an offer
        that cannot be read or accepted (RFC 3264 §6, RFC 3261 §21.4.26),
        503 when no media port is free, 400 for a request the dialog
        refuses, 500 for anything else (§21.5.1), or a BYE when our 200 had
        already gone.  An unexpected error is logged once, here.
        """
        setup = _Setup()
        try:
            await self._answer_call(handle, key, setup)
        except asyncio.CancelledError:
            # The engine is stopping: it ends the calls; ports no call owns close here.
            if setup.call is None and setup.session is not None:
                self._ports.legs.close_session(setup.session)
            raise
        except Exception as exc:
            await self._setup_failed(handle, setup, exc)

    def _record(self, call: Call) -> None:
        """Record the whole call with ``media.record_calls``, or provisionally
        for analytics (a queue's bridge replaces it; engine/recordings.py)."""
        directory = self.settings.record_dir or self.settings.analytics_record_dir
        if directory is None:
            return
        recorder = self._ports.legs.record(call.session, directory / f"{call.id}.wav")
        if self._recordings is not None:
            self._recordings.watch(recorder, call.id, lambda: call.language, agent=False,
                                   provisional=self.settings.record_dir is None,
                                   ended=call.ended)

    async def _answer_call(self, handle: ServerHandle, key: object, setup: _Setup) -> None:
        """The steps of :meth:`_setup_call`; ``setup`` records what each one opened."""
        call, answer = await self._open_call(handle, setup)
        self.table.ringing(key, call, handle)
        self._record(call)
        self._offered(handle, call, answer)
        setup.offered = True
        handle.reply(180, to_tag=setup.local_tag)
        delay = self.settings.answer_delay_s
        if delay > 0:
            await asyncio.sleep(delay)
        if self.table.stop_ringing(key) is None or call.state is not CallState.OFFERED:
            return  # cancelled while ringing
        self._send_ok(handle, key, call, setup.local_tag)

    async def _open_call(self, handle: ServerHandle, setup: _Setup) -> tuple[Call, Answer]:
        """Read the offer, open an RTP session, negotiate (RFC 3264 §6), build the call."""
        req = handle.request
        offer = SessionDescription.parse(req.body)
        setup.session = session = await self._ports.legs.open_session()
        answer = negotiate(
            offer,
            local_ip=self.settings.rtp_host,
            local_port=session.port,
            session_id=int(time.time()),
            session_version=1,
        )
        setup.offer_read = True
        dialog = Dialog.uas(req, setup.local_tag, self._contact(handle.source.transport))
        apply_answer(session, answer.media)
        setup.call = call = Call(
            self._ports,
            dialog=dialog,
            session=session,
            peer=handle.source.addr,
            transport=handle.source.transport,
            router=self._router,
        )
        call.number = dialled(req.uri)
        call.sdp_version = 1
        call.local_sdp = bytes(answer.sdp)
        return call, answer

    def _offered(self, handle: ServerHandle, call: Call, answer: Answer) -> None:
        """The ``call.offered`` event: who called whom, the codec, the transport."""
        req = handle.request
        media = answer.media
        from_uri, name = from_address(req.headers.get("From"))  # the From, parsed once
        to_uri = _uri_of(req.headers.get("To"))
        who = offered_of(from_uri, name, call.number)
        self._ports.events.emit(CallOffered(
            call_id=call.id, from_uri=from_uri, to_uri=to_uri, codec=media.codec.name,
            transport=handle.source.transport, caller=who.caller, dialled=who.dialled,
            display_name=who.display_name,
        ))
        region = region_of_number(who.caller)  # issue 17: a landline's area code
        if region is not None:
            self._ports.events.emit(CallRegion(call_id=call.id, region=region,
                                               source=RegionSource.NUMBER.value))

    def _send_ok(self, handle: ServerHandle, key: object, call: Call, local_tag: str) -> None:
        """200 with the SDP answer (§13.3.1.4), retransmitted until the ACK."""
        assert call.dialog is not None
        self.table.register(call)  # OFFERED here: never an ended call
        ok = make_response(
            handle.request,
            200,
            to_tag=local_tag,
            extra=[
                ("Contact", self._contact(handle.source.transport)),
                ("Allow", ALLOW),
                ("Content-Type", "application/sdp"),
            ],
            body=call.local_sdp,
        )
        handle.respond(ok)
        call.answered(ok)
        self.table.await_ack(key, call)
        call.limit_duration(self.settings.max_call_s)

    async def _setup_failed(self, handle: ServerHandle, setup: _Setup, exc: Exception) -> None:
        """Close what a failed set-up opened, then answer the INVITE (see :meth:`_setup_call`)."""
        status, reason, extra = self._refusal(setup, exc)
        call = setup.call
        try:
            if call is not None and setup.offered:
                # call.ended follows the stored call.offered; after our 200 the BYE goes too.
                await (call.hangup if handle.final_sent else call.end)("setup_failed")
        except Exception as cleanup_exc:
            self._log_setup_failure(cleanup_exc, status)
        finally:
            if call is not None:
                self.table.forget(call)
                self._ports.legs.close_session(call.session)
            if setup.session is not None:
                self._ports.legs.close_session(setup.session)  # and with it the recorder
        if not handle.final_sent:
            try:
                handle.reply(status, reason, to_tag=setup.local_tag, extra=extra)
            except Exception as reply_exc:
                self._log_setup_failure(reply_exc, status)

    def _refusal(
        self, setup: _Setup, exc: Exception
    ) -> tuple[int, str | None, list[tuple[str, str]]]:
        """The final response to an INVITE whose set-up raised ``exc``: status, reason, headers."""
        if isinstance(exc, NoCommonCodec):
            return 488, None, [("Warning", '305 bailanys "PCMU/PCMA"')]  # §20.43: media format
        if isinstance(exc, SdpError):
            return 488, f"Bad SDP ({str(exc)[:40]})", []
        if isinstance(exc, SipParseError) and setup.call is None:
            return 400, f"Bad Request ({str(exc)[:40]})", []
        if isinstance(exc, MediaError) and setup.session is None:
            log.warning("no media for a new call: %s", exc)
            return 503, "No Media Ports", [("Retry-After", str(RETRY_AFTER_S))]
        # Not a refusal we foresaw: a bug.  While the offer was being read
        # it is the offer's doing (488); afterwards it is ours (500).
        status = 500 if setup.offer_read else 488
        self._log_setup_failure(exc, status)
        return status, None, []

    def _log_setup_failure(self, exc: BaseException, status: int) -> None:
        """One line per failed set-up; the traceback the first time each error type is seen.

        The SIP port faces the whole network: a request that trips a bug
        could be sent thousands of times, so the log names it once in full.
        """
        name = type(exc).__name__
        seen = self._setup_failures[name] = self._setup_failures.get(name, 0) + 1
        if seen == 1:
            log.error("call set-up failed, answered %d: %s: %s", status, name, exc, exc_info=exc)
        else:
            log.error("call set-up failed, answered %d: %s (%d times)", status, name, seen)

    # ------------------------------------------------------------ in a dialog

    def _reinvite(self, handle: ServerHandle) -> None:
        """A re-INVITE in a dialog (§14.2): hold, unhold, or a new remote address."""
        req = handle.request
        call = self.table.by_dialog.get(dialog_id_of(req, uas=True))
        if call is None or call.dialog is None:
            handle.reply(481)
            return
        if handle.txn.key in self.table.by_invite:
            return
        pending = call.pending_2xx(req)
        if pending is not None:
            handle.respond(pending)  # a repeat of the re-INVITE our 2xx answered
            return
        status = call.dialog.receive_request(req)
        if status is not None:
            handle.reply(status)
            return
        body = self._reanswer(handle, call) if req.body else call.local_sdp
        if body is None:
            return  # refused
        ok = make_response(
            req,
            200,
            extra=[
                ("Contact", self._contact(handle.source.transport)),
                ("Content-Type", "application/sdp"),
            ],
            body=body,
        )
        handle.respond(ok)
        call.retransmit_until_ack(ok)

    def _reanswer(self, handle: ServerHandle, call: Call) -> bytes | None:
        """Answer a re-INVITE's offer (RFC 3264 §8); None when refused (488/400 sent)."""
        try:
            offer = SessionDescription.parse(handle.request.body)
            call.sdp_version += 1
            answer = negotiate(
                offer,
                local_ip=self.settings.rtp_host,
                local_port=call.session.port,
                session_id=int(call.local_sdp.split(b"o=", 1)[1].split()[1])
                if b"o=" in call.local_sdp
                else 0,
                session_version=call.sdp_version,
            )
        except NoCommonCodec:
            handle.reply(488)
            return None
        except (SdpError, IndexError, ValueError) as exc:
            handle.reply(400, f"Bad SDP ({str(exc)[:40]})")
            return None
        media = answer.media
        if apply_answer(call.session, media):
            self._ports.events.emit((CallHold if media.on_hold else CallUnhold)(call_id=call.id))
        call.local_sdp = bytes(answer.sdp)
        return call.local_sdp

    def _bye(self, handle: ServerHandle) -> None:
        """A BYE (§15.1.2): 200, and the call ends (481 when no dialog matches)."""
        req = handle.request
        call = self.table.by_dialog.get(dialog_id_of(req, uas=True))
        if call is None or call.dialog is None:
            handle.reply(481)
            return
        call.dialog.receive_request(req)
        handle.reply(200)
        self._ports.tasks.spawn(call.end("remote_bye"))

    def _on_refer(self, handle: ServerHandle) -> None:
        """REFER (RFC 3515): an operator's phone transferring its caller; outside
        a dialog, or without transfers, 403 (we take no out-of-dialog REFER)."""
        req = handle.request
        if self._refer is None or not _to_tag(req):
            handle.reply(403, "Transfer Only From An Operator's Call", to_tag=new_tag())
            return
        self._refer.on_refer(handle, self.table.by_dialog.get(dialog_id_of(req, uas=True)))

    def _contact(self, transport: str) -> str:
        t = "" if transport == "UDP" else f";transport={transport.lower()}"
        return f"<sip:bailanys@{self.settings.sip_host}:{self._ports.sip.port}{t}>"


def unavailable(handle: ServerHandle, reason: str, to_tag: str | None = None) -> None:
    """503 with Retry-After (RFC 3261 §21.5.4, §20.33): refused for now, not for good."""
    handle.reply(503, reason, to_tag=to_tag or new_tag(),
                 extra=[("Retry-After", str(RETRY_AFTER_S))])


def _to_tag(req: Request) -> str | None:
    try:
        return NameAddr.parse(req.headers.get("To") or "").tag
    except SipParseError:
        return None


def _uri_of(value: str | None) -> str:
    if not value:
        return ""
    try:
        return NameAddr.parse(value).uri
    except SipParseError:
        return value
