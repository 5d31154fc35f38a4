"""A new request as the desktop or another system asks for it (issue 19).

Issue 19: "A request created from a call (or by API)". Both ways send the
same body (``cases/deskapi.py`` ``POST /desk/api/cases`` from a call;
``cases/api.py`` ``POST /api/ext/cases`` from a system such as the state's
appeals portal): ``topic``, ``description``, ``questions`` (each further
one a question of its own, :meth:`~bailanys.cases.store.CaseStore.split`),
``kind``, ``category``, ``iin`` (kept only as its salted hash), ``language``;
the desktop names the ``call_id`` (the number comes from the call, never
typed), a system the citizen's ``phone``. :func:`parse_new` checks it (an
:class:`~bailanys.errors.InputError` names the first mistake, never
echoing the IIN); :func:`register` writes it (blocking: in a thread).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from bailanys.cases.model import Case, Citizen, Kind, iin_hash
from bailanys.cases.store import LANGS, CaseStore
from bailanys.errors import InputError
from bailanys.events.base import EventBase
from bailanys.phone import ANONYMOUS, is_number, normalise

#: Questions in one request beyond the description: a call's worth, not a list.
MAX_QUESTIONS: Final = 10
#: A SIP Call-ID is a token of a few dozen characters (RFC 3261 §8.1.1.4).
MAX_CALL_ID: Final = 256


@dataclass(frozen=True, slots=True)
class NewCase:
    """A request asked for, checked (the IIN already hashed): from a call
    (``call_id``) or with the citizen's number (``phone``, normalised)."""

    call_id: str | None
    phone: str | None
    topic: str
    description: str
    questions: tuple[str, ...]
    kind: Kind
    category: str | None
    iin_hash: str | None
    lang: str


def _text(body: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(f"{key} must be a non-empty text")
    return value.strip()


def _source(body: Mapping[str, Any], by_phone: bool) -> tuple[str | None, str | None]:
    """``(call_id, phone)``: the call's id, or the citizen's normalised number."""
    if not by_phone:
        call_id = cast(str, _text(body, "call_id"))
        if len(call_id) > MAX_CALL_ID:
            raise InputError("call_id is too long")
        return call_id, None
    phone = normalise(cast(str, _text(body, "phone")).replace(" ", ""))
    if phone == ANONYMOUS or not is_number(phone) or not 11 <= len(phone) <= 15:
        raise InputError("phone must be the citizen's number (E.164 digits)")
    return None, phone


def parse_new(body: Mapping[str, Any], salt: bytes, *, by_phone: bool = False) -> NewCase:
    """The body checked: a ``call_id`` (the desktop) or, ``by_phone``, the
    citizen's ``phone`` (another system)."""
    call_id, phone = _source(body, by_phone)
    questions = body.get("questions", [])
    if questions is None:
        questions = []
    if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
        raise InputError("questions must be a list of texts")
    questions = [q for q in questions if q.strip()]
    if len(questions) > MAX_QUESTIONS:
        raise InputError(f"at most {MAX_QUESTIONS} questions")
    try:
        kind = Kind(body.get("kind") or Kind.REQUEST.value)
    except ValueError:
        raise InputError("kind must be request or complaint") from None
    lang = body.get("language")
    if lang not in LANGS:
        raise InputError("language must be kk or ru")
    iin = body.get("iin")
    if iin is not None and not isinstance(iin, str):
        raise InputError("iin must be a text or null")
    hashed = iin_hash(iin, salt) if iin and iin.strip() else None
    return NewCase(call_id, phone, cast(str, _text(body, "topic")),
                   _text(body, "description", required=False) or "",
                   tuple(questions), kind, _text(body, "category", required=False) or None,
                   hashed, cast(str, lang))


def register(store: CaseStore, new: NewCase, citizen: Citizen, user: str,
             now: datetime) -> tuple[Case, list[EventBase], bool]:
    """Write ``new`` (or link it to the citizen's open one on the topic):
    the request, the events to emit, whether it was linked (blocking)."""
    res = store.create(citizen=citizen, topic=new.topic, description=new.description,
                       user=user, now=now, kind=new.kind, category=new.category,
                       call_id=new.call_id)
    events, case = list(res.events), res.case
    if not res.linked:
        for text in new.questions:
            more = store.split(case.id, text=text, topic=new.topic, user=user, now=now)
            events += more.events
            case = more.case
    return case, events, res.linked
