"""The engine's side of the voice robot: self-service machines on calls, and SMS.

A flow's ``robot`` node with a ``service`` (``document_readiness``,
``booking``, ``certificate``, ``required_documents``, ``open_requests``)
runs that service's pure :class:`~bailanys.robot.services.ServiceMachine`
on the call: its sentences are rendered by the TTS worker and played (keys
barge in and are kept), its digit entries are read with their time-outs,
back-end calls go to the demo SQLite back end, and SMS go out through the
Kannel outbox (stored first, retried, delivery reports applied). A
machine that hands the caller over makes the node's ``fallback`` run (an
operator queue). A robot node without a service — free questions answered
from the FAQ — is not wired to calls yet: it falls back too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bailanys.errors import SipParseError
from bailanys.ivr.runner import StartRobot
from bailanys.robot.demo_backend import SqliteDemoBackend
from bailanys.robot.kannel import HttpKannel, KannelConfig
from bailanys.robot.otp import OtpStore
from bailanys.robot.services import (
    CallBackend,
    Collect,
    Digits,
    Emit,
    End,
    HandOver,
    Input,
    NoInput,
    Say,
    SendSms,
    Service,
    ServiceMachine,
    SmsResult,
    perform,
)
from bailanys.robot.sms import DlrServer, SmsOutbox
from bailanys.sip.headers import SipUri

if TYPE_CHECKING:
    from bailanys.engine.call import Call
    from bailanys.engine.core import Engine

log = logging.getLogger(__name__)

#: Flow ``service`` names -> the robot's services.
SERVICES = {
    "document_readiness": Service.DOCUMENT_STATUS,
    "booking": Service.BOOKING,
    "certificate": Service.CERTIFICATE,
    "required_documents": Service.REQUIRED_DOCUMENTS,
    "open_requests": Service.OPEN_REQUESTS,
}


class RobotService:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.backend: SqliteDemoBackend | None = None
        self.outbox: SmsOutbox | None = None
        self.dlr: DlrServer | None = None
        self.otp = OtpStore()

    async def start(self) -> None:
        cfg = self.engine.config.robot
        await asyncio.to_thread(Path(cfg.demo_db).parent.mkdir, parents=True, exist_ok=True)
        self.backend = SqliteDemoBackend(cfg.demo_db)
        await self.backend.open()
        if cfg.kannel and self.engine.store is not None:
            host, _, port = cfg.kannel.rpartition(":")
            dlr_url = ""
            if cfg.dlr_listen:
                dlr_url = f"http://{cfg.dlr_listen}/dlr"
            kannel = HttpKannel(KannelConfig(host=host, port=int(port),
                                             username=cfg.kannel_user,
                                             password=cfg.kannel_password,
                                             sender=cfg.sms_sender, dlr_url=dlr_url))
            self.outbox = SmsOutbox(self.engine.store.db, kannel, emit=self._emit_sms)
            self.outbox.start()
            if cfg.dlr_listen:
                dhost, _, dport = cfg.dlr_listen.rpartition(":")
                self.dlr = DlrServer(dhost, int(dport), self.outbox)
                await self.dlr.start()
            log.info("SMS through Kannel at %s (delivery reports %s)", cfg.kannel,
                     cfg.dlr_listen or "off")
        else:
            log.info("no SMS gateway (robot.kannel is empty): SMS services hand over")

    async def stop(self) -> None:
        if self.dlr is not None:
            await self.dlr.stop()
            self.dlr = None
        if self.outbox is not None:
            await self.outbox.stop()
            self.outbox = None
        if self.backend is not None:
            await self.backend.close()
            self.backend = None

    def _emit_sms(self, type_: str, fields: dict[str, object]) -> None:
        self.engine.events.append(type_, None, **fields)

    # ------------------------------------------------------------ a service on a call

    async def run(self, call: Call, action: StartRobot) -> bool:
        """Run the node's service; False when the caller is to be handed over."""
        service = SERVICES.get(action.service or "")
        if service is None or self.backend is None:
            return False
        lang = action.language or self.engine.config.engine.languages[0]
        phone = _number(call.caller_uri())
        machine = ServiceMachine(service, lang, today=date.today(), phone=phone, otp=self.otp)
        actions = machine.start(time.monotonic())
        while actions:
            inputs: list[Input] = []
            for act in actions:
                if isinstance(act, Emit):
                    self.engine.events.append(act.type, call.id, **dict(act.fields))
                elif isinstance(act, Say):
                    await self.engine.prompts.add([(act.lang, act.text)])
                    await call.play(self.engine.prompts.text(act.lang, act.text))
                elif isinstance(act, Collect):
                    inputs.append(await _collect(call, act))
                elif isinstance(act, CallBackend):
                    inputs.append(await perform(act, self.backend))
                elif isinstance(act, SendSms):
                    inputs.append(await self._sms(phone, act.text))
                elif isinstance(act, HandOver):
                    self.engine.events.append("robot.handover", call.id, reason=act.reason,
                                              service=service.value)
                    return False
                elif isinstance(act, End):
                    await call.hangup(f"robot_{act.outcome}")
                    return True
            actions = []
            for inp in inputs:
                actions += machine.handle(inp, time.monotonic())
        return True

    async def _sms(self, phone: str, text: str) -> SmsResult:
        if self.outbox is None or not phone:
            return SmsResult(False)
        try:
            await self.outbox.enqueue(phone, text)
        except Exception as exc:
            log.warning("SMS not queued: %s", exc)
            return SmsResult(False)
        return SmsResult(True)


async def _collect(call: Call, act: Collect) -> Digits | NoInput:
    """Keys until ``max_digits`` or the terminator; silence for ``timeout_s`` ends it."""
    keys = ""
    while len(keys) < act.max_digits:
        key = await call.next_digit(act.timeout_s)
        if key is None:
            break
        if act.terminator is not None and key == act.terminator:
            break
        keys += key
    return Digits(keys) if keys else NoInput()


def _number(uri: str) -> str:
    """The user part of a caller's SIP URI when it is a phone number."""
    try:
        user = SipUri.parse(uri).user or ""
    except SipParseError:
        return ""
    return user if user.lstrip("+").isdigit() else ""

