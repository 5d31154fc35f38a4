"""The headers of a call moved to its queue's owner, and of a fenced agent ring.

A move (docs/architecture.md, "Moving a call to the owner") is an INVITE
from the engine that answered the call (the anchor) to the owner of the
queue's group, through Kamailio, carrying:

=====================  ======================================================
``X-Bailanys-Call``    the call id of the events (one call in the shared log)
``X-Bailanys-Queue``   the queue the flow chose
``X-Bailanys-Waited``  seconds since the caller reached a queue node on the
                       anchor (its monotonic clock): the owner's line is by
                       first arrival
``X-Bailanys-Lang``    the caller's language (``kk``/``ru``), if chosen
``X-Bailanys-Skills``  the skills the flow asked for, comma-separated
``X-Bailanys-Prio``    the priority (an integer, higher first)
=====================  ======================================================

An owner's INVITE to an agent carries ``X-Bailanys-Lease: <group>;epoch=<n>``
so that Kamailio can refuse a stale owner's ring (the fencing token, same
section, "Split brain").

Extension headers (RFC 3261 §7.3, ``X-`` by custom; Kamailio passes them
on). A value from the network is checked here: anything else is a
:class:`~bailanys.errors.MoveHeaderError` for a 400 answer. Pure: header
values in, a dataclass out, and back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from bailanys.errors import InputError

CALL = "X-Bailanys-Call"
QUEUE = "X-Bailanys-Queue"
WAITED = "X-Bailanys-Waited"
LANG = "X-Bailanys-Lang"
SKILLS = "X-Bailanys-Skills"
PRIO = "X-Bailanys-Prio"
LEASE = "X-Bailanys-Lease"

#: A call id: visible ASCII without separators, as the engine's own are.
_CALL_ID = re.compile(r"[A-Za-z0-9._~@:+\-]{1,200}")
#: Queue, skill and group names: the queue file's names.
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_LANGS = frozenset({"kk", "ru"})
#: A wait longer than a day is no wait: a broken or hostile value.
MAX_WAITED_S = 86_400.0
_LEASE = re.compile(r"(?P<group>[A-Za-z0-9_\-]{1,64});epoch=(?P<epoch>[1-9][0-9]{0,17})")


class MoveHeaderError(InputError):
    """A moved call's headers are not valid; the message names the header."""


@dataclass(frozen=True, slots=True)
class MoveRequest:
    call_id: str
    queue: str
    waited: float
    language: str | None = None
    skills: tuple[str, ...] = ()
    priority: int = 0

    def headers(self) -> list[tuple[str, str]]:
        out = [(CALL, self.call_id), (QUEUE, self.queue), (WAITED, f"{self.waited:.3f}")]
        if self.language is not None:
            out.append((LANG, self.language))
        if self.skills:
            out.append((SKILLS, ",".join(self.skills)))
        if self.priority:
            out.append((PRIO, str(self.priority)))
        return out


Header = Callable[[str], str | None]


def read_move(header: Header) -> MoveRequest | None:
    """The move an INVITE's headers ask for (``header(name)``: its value or
    None); None when it is no move (no ``X-Bailanys-Call``)."""
    call_id = header(CALL)
    if call_id is None:
        return None
    call_id = _match(_CALL_ID, CALL, call_id)
    queue = _match(_NAME, QUEUE, _required(header, QUEUE))
    waited = _waited(_required(header, WAITED))
    lang = header(LANG)
    if lang is not None and lang.strip() not in _LANGS:
        raise MoveHeaderError(f"{LANG}: expected kk or ru, got {lang!r}")
    skills_value = header(SKILLS)
    skills = tuple(_match(_NAME, SKILLS, s) for s in skills_value.split(",")) \
        if skills_value and skills_value.strip() else ()
    prio = header(PRIO)
    priority = 0
    if prio is not None:
        try:
            priority = int(prio.strip())
        except ValueError:
            raise MoveHeaderError(f"{PRIO}: expected an integer, got {prio!r}") from None
        if not -1000 <= priority <= 1000:
            raise MoveHeaderError(f"{PRIO}: expected -1000..1000, got {priority}")
    return MoveRequest(call_id, queue, waited, None if lang is None else lang.strip(),
                       skills, priority)


def lease_header(group: str, epoch: int) -> tuple[str, str]:
    return LEASE, f"{group};epoch={epoch}"


def read_lease(value: str) -> tuple[str, int]:
    """``X-Bailanys-Lease``'s group and epoch."""
    m = _LEASE.fullmatch(value.strip())
    if m is None:
        raise MoveHeaderError(f"{LEASE}: expected <group>;epoch=<n>, got {value!r}")
    return m["group"], int(m["epoch"])


def _required(header: Header, name: str) -> str:
    value = header(name)
    if value is None:
        raise MoveHeaderError(f"{name}: missing")
    return value


def _match(pattern: re.Pattern[str], name: str, value: str) -> str:
    value = value.strip()
    if pattern.fullmatch(value) is None:
        raise MoveHeaderError(f"{name}: not a valid value: {value[:80]!r}")
    return value


def _waited(value: str) -> float:
    try:
        waited = float(value.strip())
    except ValueError:
        raise MoveHeaderError(f"{WAITED}: expected seconds, got {value[:40]!r}") from None
    if not math.isfinite(waited) or not 0 <= waited <= MAX_WAITED_S:
        raise MoveHeaderError(f"{WAITED}: expected 0..{MAX_WAITED_S:.0f} s, got {value!r}")
    return waited
