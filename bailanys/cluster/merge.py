"""The live states of several engines as one console state (issue 22, pure).

Each engine serves its own live parts on ``/cluster/state``
(:mod:`bailanys.cluster.livestate`): ``queues`` (the callers waiting now)
and ``agents``. :func:`merge_live` folds what every peer answered into the
console's ``queues`` and ``agents`` parts (PROTOCOL.md) plus an ``engines``
part that says which engine answered:

* a queue (by name) lists the callers of every engine, longest wait first,
  each with its ``engine``; ``position`` is renumbered across engines and
  ``agents_available`` summed;
* an agent (by user) appears once: the engine where it is busy (ringing,
  on a call, in wrap-up) wins over one where it is merely logged in, which
  wins over logged out; ``engine`` says whose state it is;
* ``engines``: one row per peer, ``up`` or not, with ``waiting`` (its
  callers now) and the error when down. A down peer's callers are not in
  the totals: ``partial`` says that the totals lack a part, so the page
  marks them instead of showing a silently smaller number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Agent states, the strongest first (whose engine the merged agent shows).
_STATE_RANK = {"on_call": 0, "ringing": 1, "wrap_up": 2, "available": 3, "break": 4,
               "paused": 4, "logged_out": 9}


@dataclass(frozen=True)
class PeerState:
    """One engine's answer: ``state`` None when it did not answer (``error`` says why)."""

    name: str
    url: str
    state: Mapping[str, Any] | None
    error: str = ""
    #: When it last answered (epoch seconds); None: never.
    seen: float | None = None


def _rank(agent: Mapping[str, Any]) -> int:
    return _STATE_RANK.get(str(agent.get("state", "")), 5)


def merge_queues(peers: Sequence[PeerState]) -> list[dict[str, Any]]:
    """Every queue of every engine that answered, in first-seen order."""
    merged: dict[str, dict[str, Any]] = {}
    for peer in peers:
        if peer.state is None:
            continue
        for queue in peer.state.get("queues") or ():
            if not isinstance(queue, Mapping) or not isinstance(queue.get("name"), str):
                continue
            into = merged.setdefault(queue["name"], {
                **{k: v for k, v in queue.items() if k not in ("waiting", "agents_available")},
                "agents_available": 0, "waiting": []})
            available = queue.get("agents_available")
            if isinstance(available, int):
                into["agents_available"] += available
            for caller in queue.get("waiting") or ():
                if isinstance(caller, Mapping):
                    into["waiting"].append({**caller, "engine": peer.name})
    for queue in merged.values():
        queue["waiting"].sort(key=lambda c: -float(c.get("waited") or 0.0))
        for i, caller in enumerate(queue["waiting"], 1):
            caller["position"] = i
    return list(merged.values())


def merge_agents(peers: Sequence[PeerState]) -> list[dict[str, Any]]:
    """Each agent once, with the state of the engine it is busiest on."""
    merged: dict[str, dict[str, Any]] = {}
    for peer in peers:
        if peer.state is None:
            continue
        for agent in peer.state.get("agents") or ():
            if not isinstance(agent, Mapping) or not isinstance(agent.get("user"), str):
                continue
            old = merged.get(agent["user"])
            if old is None or _rank(agent) < _rank(old):
                merged[agent["user"]] = {**agent, "engine": peer.name}
    return list(merged.values())


def engines_part(peers: Sequence[PeerState]) -> list[dict[str, Any]]:
    """One row per engine for the page: up, its callers waiting now, the error."""
    rows = []
    for peer in peers:
        waiting = 0
        if peer.state is not None:
            waiting = sum(len(q.get("waiting") or ()) for q in peer.state.get("queues") or ()
                          if isinstance(q, Mapping))
        rows.append({"name": peer.name, "url": peer.url, "up": peer.state is not None,
                     "waiting": waiting, "error": peer.error, "seen": peer.seen})
    return rows


def merge_live(peers: Sequence[PeerState]) -> dict[str, Any]:
    """The console's ``queues``, ``agents`` and ``engines`` parts, and ``partial``."""
    return {"queues": merge_queues(peers), "agents": merge_agents(peers),
            "engines": engines_part(peers),
            "partial": any(p.state is None for p in peers)}
