"""The call table: every call leg the engine holds, by dialog and by INVITE.

Three indexes, all cleared by :meth:`CallTable.forget` when a call ends:

* ``by_dialog``: established calls (answered inbound ones, answered
  outbound legs) by dialog id (RFC 3261 §12: Call-ID, local tag, remote tag);
* ``by_invite``: new INVITEs still being set up or ringing, by server
  transaction key (§17.2.3), with their transaction handle (a CANCEL finds
  them here, §9.2);
* ``awaiting_ack``: answered INVITEs until their ACK (§13.3.1.4), by the
  same key, so a repeated INVITE gets the same 2xx and no second call.
"""

from __future__ import annotations

from bailanys.engine.call import Call, CallState
from bailanys.sip.endpoint import ServerHandle

DialogId = tuple[str, str, str]


class CallTable:
    """The engine's call legs, indexed for the SIP side."""

    def __init__(self) -> None:
        self.by_dialog: dict[DialogId, Call] = {}
        self.by_invite: dict[object, tuple[Call, ServerHandle]] = {}
        self.awaiting_ack: dict[object, Call] = {}

    def __len__(self) -> int:
        """Calls up or being set up: what the call limit counts."""
        return len(self.by_dialog) + len(self.by_invite)

    def register(self, call: Call) -> None:
        """Enter an answered call under its dialog id (an ended one never).

        An ended call has been forgotten already: an entry made now would
        stay for good.
        """
        assert call.dialog is not None
        if call.state is CallState.ENDED:
            return
        self.by_dialog[call.dialog.id] = call

    def forget(self, call: Call) -> None:
        """Drop ``call`` from every index (idempotent)."""
        dialog = call.dialog
        if dialog is not None and self.by_dialog.get(dialog.id) is call:
            del self.by_dialog[dialog.id]
        for key, (c, _) in list(self.by_invite.items()):
            if c is call:
                del self.by_invite[key]
        self.drop_awaiting_ack(call)

    def drop_awaiting_ack(self, call: Call) -> None:
        """The ACK came (or the call ended): the INVITE no longer awaits one."""
        for key, c in list(self.awaiting_ack.items()):
            if c is call:
                del self.awaiting_ack[key]
