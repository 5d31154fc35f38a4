"""Flow control and keyed diffs for the supervisor page (issue 21, PROTOCOL.md).

A page that connects with ``/ws?flow=1`` acknowledges each state message
after it has drawn it (``{"type": "rendered", "seq": N}``). Its
:class:`FlowOutbox` then has at most one unacknowledged state message in
flight (the snapshot is ``seq`` 0): changes that arrive meanwhile are merged
(the latest value of each part wins) and go out as one delta on the ack, so
a page slower than the engine gets fewer, fresh deltas instead of a queue of
stale ones in the socket.

The big parts are sent as **keyed patches** instead of whole lists
(:data:`KEYED_PARTS`): only the agents (by ``user``) and queues (by
``name``) that changed since the last delta this client got, the keys that
left, and the order when it changed. A queue counts as unchanged when only
its callers' ``waited`` moved with the clock (their start time stays within
:data:`SINCE_TOLERANCE_S`). Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bailanys.console.protocol import Message, Outbox, delta_message

#: Part -> the field that keys its items.
KEYED_PARTS: dict[str, str] = {"agents": "user", "queues": "name"}
#: A caller whose start time (``now - waited``) moved less than this is the same.
SINCE_TOLERANCE_S = 0.5

Item = Mapping[str, Any]
#: (item, the time its part was merged)
Stamped = tuple[Item, float]


def _same_item(old: Stamped, new: Stamped) -> bool:
    return old[0] == new[0]


def _same_queue(old: Stamped, new: Stamped) -> bool:
    """Equal but for the callers' ``waited`` counting up with the clock."""
    (a, a_at), (b, b_at) = old, new
    if a.keys() != b.keys() or any(a[k] != b[k] for k in a if k != "waiting"):
        return False
    wa, wb = a.get("waiting") or [], b.get("waiting") or []
    if not isinstance(wa, list) or not isinstance(wb, list) or len(wa) != len(wb):
        return wa == wb
    for x, y in zip(wa, wb, strict=True):
        if not isinstance(x, Mapping) or not isinstance(y, Mapping) or x.keys() != y.keys():
            return False
        if any(x[k] != y[k] for k in x if k != "waited"):
            return False
        xw, yw = x.get("waited"), y.get("waited")
        if isinstance(xw, int | float) and isinstance(yw, int | float):
            if abs((a_at - xw) - (b_at - yw)) >= SINCE_TOLERANCE_S:
                return False
        elif xw != yw:
            return False
    return True


def _aged(queue: Item, seconds: float) -> Item:
    """``queue`` with its callers' ``waited`` ``seconds`` later (a copy: the
    engine's value is shared by every client)."""
    waiting = queue.get("waiting")
    if not isinstance(waiting, list):
        return queue
    return {**queue, "waiting": [
        {**c, "waited": round(c["waited"] + seconds, 1)}
        if isinstance(c, Mapping) and isinstance(c.get("waited"), int | float) else c
        for c in waiting]}


SAME: dict[str, Callable[[Stamped, Stamped], bool]] = {
    "agents": _same_item, "queues": _same_queue}


def diff_keyed(sent: dict[Any, Stamped], items: Any, key: str, at: float,
               same: Callable[[Stamped, Stamped], bool] = _same_item
               ) -> tuple[Message | None, dict[Any, Stamped]]:
    """The patch from ``sent`` (key -> what the client holds) to ``items``.

    Returns ``(patch, now_sent)``: ``patch`` is ``{"key", "set", "remove",
    "order"?}`` or ``None`` when the client is up to date; ``order`` (every
    key, in order) only when the sequence of keys changed. An item without
    its key, or a part that is not a list, gives ``{"key", "all": items}``:
    the whole value, as an old client would get it.
    """
    if not isinstance(items, list) or not all(
            isinstance(i, Mapping) and isinstance(i.get(key), str | int) for i in items):
        return {"key": key, "all": items}, {}
    now_sent: dict[Any, Stamped] = {}
    changed: list[Item] = []
    for item in items:
        k = item[key]
        if k in now_sent:  # a duplicate key: the client gets the whole list
            return {"key": key, "all": items}, {}
        new = (item, at)
        old = sent.get(k)
        if old is not None and same(old, new):
            now_sent[k] = old  # keep the stamp the client holds
        else:
            now_sent[k] = new
            changed.append(item)
    removed = [k for k in sent if k not in now_sent]
    reordered = list(sent) != list(now_sent)
    if not changed and not removed and not reordered:
        return None, now_sent
    patch: Message = {"key": key, "set": changed, "remove": removed}
    if reordered:
        patch["order"] = list(now_sent)
    return patch, now_sent


class FlowOutbox(Outbox):
    """An :class:`Outbox` with one state message in flight and keyed patches.

    ``take`` gives a delta only when the previous state message (the
    snapshot first, ``seq`` 0) is acknowledged; replies always go out.
    A delta is ``{"type": "delta", "now", "seq", "data": {whole parts},
    "patch": {part: keyed patch}}``; either of ``data`` and ``patch`` may be
    empty, and a delta with nothing changed is not sent at all.
    """

    def __init__(self, snapshot: Mapping[str, Any], now: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seq = 0
        self.acked = -1
        self._at: dict[str, float] = {}
        self._sent: dict[str, dict[Any, Stamped]] = {}
        for part, key in KEYED_PARTS.items():
            if part in snapshot:
                _, self._sent[part] = diff_keyed({}, snapshot[part], key, now)

    @property
    def in_flight(self) -> bool:
        return self.acked < self.seq

    def merge(self, delta: Mapping[str, Any], now: float = 0.0) -> None:
        super().merge(delta)
        for part in delta:
            self._at[part] = now

    def acknowledge(self, seq: int) -> bool:
        """The page drew ``seq``; True when a delta may go now."""
        if seq > self.acked:
            self.acked = min(seq, self.seq)
        return not self.in_flight and bool(self._pending)

    def take(self, now: float) -> list[Message]:
        out: list[Message] = []
        if self._pending and not self.in_flight:
            delta = self._delta(now)
            if delta is not None:
                out.append(delta)
        out.extend(self._replies)
        self._replies.clear()
        return out

    def _delta(self, now: float) -> Message | None:
        data: Message = {}
        patch: Message = {}
        for part, value in self._pending.items():
            key = KEYED_PARTS.get(part)
            if key is None:
                data[part] = value
                continue
            at = self._at.get(part, now)
            one, self._sent[part] = diff_keyed(self._sent.get(part, {}), value, key, at,
                                               SAME[part])
            if one is not None:
                if part == "queues" and "set" in one and now - at >= 0.05:
                    one["set"] = [_aged(q, now - at) for q in one["set"]]
                patch[part] = one
        self._pending = {}
        if not data and not patch:
            return None
        self.seq += 1
        message = delta_message(data, now)
        message["seq"] = self.seq
        if patch:
            message["patch"] = patch
        return message
