"""The call table: every call leg the engine holds, by dialog and by INVITE.

Three indexes, all cleared by :meth:`CallTable.forget` when a call ends:

* ``by_dialog``: established calls (answered inbound ones, answered
  outbound legs) by dialog id (RFC 3261 §12: Call-ID, local tag, remote tag);
* ``by_invite``: new INVITEs still being set up or ringing, by server
  transaction key (§17.2.3), with their transaction handle (a CANCEL finds
  them here, §9.2);
* ``awaiting_ack``: answered INVITEs until their ACK (§13.3.1.4), by the
  same key, so a repeated INVITE gets the same 2xx and no second call.

The three dicts are read by others (``engine.calls`` is ``by_dialog``) but
written only by this class's methods, which keep reverse indexes beside
them (issue 20: "call setup cost flat in the call rate"): each call's
dialog id and INVITE keys, the calls awaiting an ACK by (Call-ID, From tag)
and the established calls by Call-ID.  Every operation is O(1) in the
number of calls; none scans a whole index.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TypeVar

from bailanys.engine.call import Call, CallState
from bailanys.sip.endpoint import ServerHandle

DialogId = tuple[str, str, str]
K = TypeVar("K", bound=Hashable)


def _add(buckets: dict[K, dict[Call, None]], key: K, call: Call) -> None:
    """Put ``call`` in ``key``'s bucket (an insertion-ordered set)."""
    buckets.setdefault(key, {})[call] = None


def _discard(buckets: dict[K, dict[Call, None]], key: K, call: Call) -> None:
    """Take ``call`` out of ``key``'s bucket; an emptied bucket goes."""
    calls = buckets.get(key)
    if calls is not None:
        calls.pop(call, None)
        if not calls:
            del buckets[key]


class CallTable:
    """The engine's call legs, indexed for the SIP side."""

    def __init__(self) -> None:
        self.by_dialog: dict[DialogId, Call] = {}
        self.by_invite: dict[object, tuple[Call, ServerHandle]] = {}
        self.awaiting_ack: dict[object, Call] = {}
        # Reverse indexes (each the exact inverse of its forward dict).
        self._dialog_of: dict[Call, DialogId] = {}
        self._ringing_key: dict[Call, object] = {}
        self._ack_key: dict[Call, tuple[object, tuple[str, str]]] = {}
        # Calls in awaiting_ack by (Call-ID, remote tag), in insertion order.
        self._acking: dict[tuple[str, str], dict[Call, None]] = {}
        # Calls in by_dialog by Call-ID, in insertion order.
        self._by_call_id: dict[str, dict[Call, None]] = {}

    def __len__(self) -> int:
        """Calls up or being set up: what the call limit counts."""
        return len(self.by_dialog) + len(self.by_invite)

    # ------------------------------------------------------------ by dialog

    def register(self, call: Call) -> None:
        """Enter an answered call under its dialog id (an ended one never).

        An ended call has been forgotten already: an entry made now would
        stay for good.  Another call under the same id is replaced.
        """
        assert call.dialog is not None
        if call.state is CallState.ENDED:
            return
        did = call.dialog.id
        old = self.by_dialog.get(did)
        if old is not None and old is not call:
            self._unregister(old)
        if self._dialog_of.get(call, did) != did:
            self._unregister(call)  # registered before under another id
        self.by_dialog[did] = call
        self._dialog_of[call] = did
        _add(self._by_call_id, did[0], call)

    def _unregister(self, call: Call) -> None:
        did = self._dialog_of.pop(call, None)
        if did is None:
            return
        if self.by_dialog.get(did) is call:
            del self.by_dialog[did]
        _discard(self._by_call_id, did[0], call)

    def with_call_id(self, call_id: str) -> Iterator[Call]:
        """The established calls whose dialog has ``call_id`` (oldest first)."""
        return iter(list(self._by_call_id.get(call_id, ())))

    # ------------------------------------------------------------ ringing INVITEs

    def ringing(self, key: object, call: Call, handle: ServerHandle) -> None:
        """A new INVITE (server transaction ``key``, §17.2.3) is being set up or rings."""
        old = self.by_invite.get(key)
        if old is not None and old[0] is not call:
            self._ringing_key.pop(old[0], None)
        if self._ringing_key.get(call, key) != key:
            self._stop_ringing(call)  # ringing before under another key
        self.by_invite[key] = (call, handle)
        self._ringing_key[call] = key

    def stop_ringing(self, key: object) -> tuple[Call, ServerHandle] | None:
        """The INVITE ``key`` rings no more (answered or CANCELled, §9.2): its entry, if any."""
        entry = self.by_invite.pop(key, None)
        if entry is not None:
            self._ringing_key.pop(entry[0], None)
        return entry

    def _stop_ringing(self, call: Call) -> None:
        key = self._ringing_key.pop(call, None)
        if key is not None:
            entry = self.by_invite.get(key)
            if entry is not None and entry[0] is call:
                del self.by_invite[key]

    # ------------------------------------------------------------ awaiting the ACK

    def await_ack(self, key: object, call: Call) -> None:
        """Our 2xx to INVITE ``key`` awaits its ACK (§13.3.1.4)."""
        assert call.dialog is not None
        old = self.awaiting_ack.get(key)
        if old is call:
            return  # already awaiting under this key (its place in the order kept)
        if old is not None:
            self.drop_awaiting_ack(old)
        self.drop_awaiting_ack(call)
        did = call.dialog.id
        pair = (did[0], did[2])  # Call-ID, From tag: fixed for the dialog's life
        self.awaiting_ack[key] = call
        self._ack_key[call] = (key, pair)
        _add(self._acking, pair, call)

    def drop_awaiting_ack(self, call: Call) -> None:
        """The ACK came (or the call ended): the INVITE no longer awaits one."""
        entry = self._ack_key.pop(call, None)
        if entry is None:
            return
        key, pair = entry
        if self.awaiting_ack.get(key) is call:
            del self.awaiting_ack[key]
        _discard(self._acking, pair, call)

    def acking(self, call_id: str, remote_tag: str) -> Iterator[Call]:
        """The calls awaiting an ACK in Call-ID ``call_id`` from tag ``remote_tag``
        (oldest first): what an ACK with a foreign To tag may belong to."""
        return iter(list(self._acking.get((call_id, remote_tag), ())))

    # ------------------------------------------------------------ the end

    def forget(self, call: Call) -> None:
        """Drop ``call`` from every index (idempotent)."""
        self._unregister(call)
        dialog = call.dialog
        if dialog is not None and self.by_dialog.get(dialog.id) is call:
            del self.by_dialog[dialog.id]  # entered other than by register (a test's)
        self._stop_ringing(call)
        self.drop_awaiting_ack(call)
