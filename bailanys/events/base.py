"""The event catalogue's machinery: the base class, the codec, the registry.

Every event type is a frozen dataclass deriving :class:`EventBase` with a
``type`` class constant (the stored ``type`` column) and a schema
``version``. Its fields are the keys of the stored ``data`` JSON object,
spelt as they always were (a Python keyword such as ``from`` is a field
with another name and :func:`key` metadata naming the stored key).

``call_id``: every event carries the call it belongs to as the field
``call_id`` (None for events of no call: an agent's state, an SMS, an
authentication failure...). The store maps it to the row's ``call_id``
column; it is never a key of ``data``. A pure core that does not know the
call id (the IVR runner, the robot) leaves it None and its adapter sets it
with :meth:`EventBase.for_call`.

Encoding (:func:`encode`) gives exactly the ``data`` object the string
``append(type, call_id, **fields)`` wrote before the catalogue: same keys,
same order, lists for tuples, ``null`` where a producer wrote None, and a key left out where
a producer left it out (fields made with :func:`optional` are omitted when
None). Decoding (:func:`decode`) never raises: a type this version does not
know, or a row whose fields do not fit its class, comes back as
:class:`UnknownEvent` with its fields untouched and the reason; keys a
class does not know (written by a newer version) are kept in ``extra`` and
written back by :func:`encode`.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

__all__ = [
    "AnyEvent",
    "EventBase",
    "FieldSpec",
    "Stored",
    "UnknownEvent",
    "decode",
    "decode_parts",
    "encode",
    "fields_of",
    "flattened",
    "key",
    "optional",
    "register",
    "registry",
]

_KEY = "bailanys.event.key"
_OMIT_NONE = "bailanys.event.omit_none"
_FLATTEN = "bailanys.event.flatten"


def key(name: str, *, omit_none: bool = False) -> Any:
    """A required field stored under the JSON key ``name`` (``from``, ...)."""
    return field(metadata={_KEY: name, _OMIT_NONE: omit_none})


def optional(*, stored_as: str | None = None) -> Any:
    """A field that defaults to None and is left out of ``data`` when None
    (the producer adds the key only sometimes)."""
    meta: dict[str, object] = {_OMIT_NONE: True}
    if stored_as is not None:
        meta[_KEY] = stored_as
    return field(default=None, metadata=meta)


def flattened(*keys: str) -> Any:
    """A mapping whose items are stored as top-level keys of ``data`` (the
    ``call.ended`` quality figures); None or empty: none of them stored."""
    return field(default=None, metadata={_FLATTEN: keys})


@dataclass(frozen=True, slots=True, kw_only=True)
class EventBase:
    """One event of the catalogue (subclasses: one per type)."""

    #: The stored ``type`` column, e.g. ``"call.offered"``.
    type: ClassVar[str] = ""
    #: Schema version of this class; a stored row of version 1 carries none.
    version: ClassVar[int] = 1
    #: Who writes it, for docs/events.md (the docstring says when and why).
    writer: ClassVar[str] = ""

    #: The call the event belongs to (the row's ``call_id`` column).
    call_id: str | None = None
    #: Stored keys this version does not know (from a newer one): kept.
    extra: Mapping[str, Any] = field(default_factory=dict)

    def for_call(self, call_id: str | None) -> typing.Self:
        """This event for ``call_id`` (what an adapter adds to a core's event)."""
        return dataclasses.replace(self, call_id=call_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """A stored event this version cannot type: a newer type, or a row whose
    fields do not fit its class. Kept as stored, never dropped."""

    version: ClassVar[int] = 0

    type: str
    call_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    #: Why it is not typed ("unknown type", "field 'queue': ...").
    reason: str = ""

    def for_call(self, call_id: str | None) -> UnknownEvent:
        return dataclasses.replace(self, call_id=call_id)


#: What :func:`decode` returns and :func:`encode` takes.
AnyEvent = EventBase | UnknownEvent


class Stored(Protocol):
    """What :func:`decode` reads: the store's ``Event`` has these."""

    @property
    def type(self) -> str: ...
    @property
    def call_id(self) -> str | None: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


# --------------------------------------------------------------- field specs


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of an event class: how it is stored and checked."""

    name: str  # the Python attribute
    key: str  # the stored JSON key
    hint: Any  # the resolved type annotation
    required: bool  # no default: a stored row must have it
    omit_none: bool  # left out of ``data`` when None
    flatten: tuple[str, ...]  # a mapping stored as these top-level keys

    @property
    def type_text(self) -> str:
        return _type_text(self.hint)


_SPECS: dict[type[EventBase], tuple[FieldSpec, ...]] = {}
_BASE_FIELDS = frozenset({"call_id", "extra"})


def fields_of(cls: type[EventBase]) -> tuple[FieldSpec, ...]:
    """The stored fields of ``cls`` in their stored order (cached)."""
    specs = _SPECS.get(cls)
    if specs is None:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            if f.name in _BASE_FIELDS:
                continue
            required = (f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING)
            out.append(FieldSpec(
                name=f.name,
                key=str(f.metadata.get(_KEY, f.name)),
                hint=hints[f.name],
                required=required,
                omit_none=bool(f.metadata.get(_OMIT_NONE, False)),
                flatten=tuple(f.metadata.get(_FLATTEN, ())),
            ))
        specs = _SPECS[cls] = tuple(out)
    return specs


# ------------------------------------------------------------------ registry

_REGISTRY: dict[str, type[EventBase]] = {}


def register(*classes: type[EventBase]) -> None:
    """Add catalogue classes (each domain module registers its own)."""
    for cls in classes:
        if not cls.type:
            raise TypeError(f"{cls.__name__} has no type")
        if _REGISTRY.get(cls.type, cls) is not cls:
            raise TypeError(f"event type {cls.type!r} registered twice")
        _REGISTRY[cls.type] = cls
        fields_of(cls)  # fail at import on a bad annotation, not at the first decode


def registry() -> Mapping[str, type[EventBase]]:
    """type -> class, every type of the catalogue."""
    return dict(_REGISTRY)


# --------------------------------------------------------------------- codec


def encode(event: AnyEvent) -> tuple[str, str | None, dict[str, Any]]:
    """``(type, call_id, data)`` as the store writes them (module docs)."""
    if isinstance(event, UnknownEvent):
        return event.type, event.call_id, dict(event.fields)
    data: dict[str, Any] = {}
    for spec in fields_of(type(event)):
        value = getattr(event, spec.name)
        if spec.flatten:
            if value:
                data.update(value)
        elif isinstance(value, tuple):
            data[spec.key] = list(value)  # as JSON holds it, and as producers wrote it
        elif value is not None or not spec.omit_none:
            data[spec.key] = value
    if event.extra:
        for k, v in event.extra.items():
            data.setdefault(k, v)
    return event.type, event.call_id, data


def decode(stored: Stored) -> AnyEvent:
    """The typed event of a stored row; :class:`UnknownEvent` when it cannot be
    typed (module docs). Never raises."""
    return decode_parts(stored.type, stored.call_id, stored.data)


def decode_parts(type_: str, call_id: str | None, data: Mapping[str, Any]) -> AnyEvent:
    """:func:`decode` from the row's parts."""
    if not isinstance(data, Mapping):
        return UnknownEvent(type=str(type_), call_id=_call_id(call_id), fields={},
                            reason=f"data is {type(data).__name__}, not an object")
    cls = _REGISTRY.get(type_) if isinstance(type_, str) else None
    if cls is None:
        return UnknownEvent(type=str(type_), call_id=_call_id(call_id), fields=dict(data),
                            reason="unknown type")
    try:
        return _typed(cls, call_id, data)
    except (TypeError, ValueError) as exc:
        return UnknownEvent(type=type_, call_id=_call_id(call_id), fields=dict(data),
                            reason=str(exc))


def _call_id(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _typed(cls: type[EventBase], call_id: object, data: Mapping[str, Any]) -> EventBase:
    if call_id is not None and not isinstance(call_id, str):
        raise TypeError(f"call_id: expected str, got {type(call_id).__name__}")
    kwargs: dict[str, Any] = {}
    seen: set[str] = set()
    for spec in fields_of(cls):
        if spec.flatten:
            part = {k: data[k] for k in spec.flatten if k in data}
            seen.update(part)
            if part:
                kwargs[spec.name] = _check(spec, part)
            continue
        if spec.key not in data:
            if spec.required:
                raise ValueError(f"field {spec.key!r} missing")
            continue
        seen.add(spec.key)
        kwargs[spec.name] = _check(spec, data[spec.key])
    extra = {k: v for k, v in data.items() if k not in seen}
    return cls(call_id=call_id, extra=extra, **kwargs)


def _check(spec: FieldSpec, value: Any) -> Any:
    ok, out = _conform(spec.hint, value)
    if not ok:
        raise TypeError(f"field {spec.key!r}: expected {spec.type_text}, "
                        f"got {type(value).__name__}")
    return out


def _conform(hint: Any, value: Any) -> tuple[bool, Any]:
    """(fits, the value as the class holds it): JSON lists become tuples."""
    if hint is Any or hint is object:
        return True, value
    if hint is type(None):
        return value is None, value
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            ok, out = _conform(arm, value)
            if ok:
                return True, out
        return False, value
    if origin is tuple:
        (item, _dots) = typing.get_args(hint)
        if not isinstance(value, list | tuple):
            return False, value
        items = [_conform(item, v) for v in value]
        return all(ok for ok, _ in items), tuple(v for _, v in items)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return isinstance(value, Mapping), value
    check = _SCALARS.get(hint)
    if check is None:
        raise TypeError(f"unsupported annotation {hint!r}")
    return check(value), value


_SCALARS: dict[Any, Callable[[Any], bool]] = {
    str: lambda v: isinstance(v, str),
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _type_text(hint: Any) -> str:
    """A short, readable rendering of an annotation (for docs and errors)."""
    if hint is type(None):
        return "null"
    if hint is Any or hint is object:
        return "any"
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_text(a) for a in typing.get_args(hint))
    if origin is tuple:
        return f"list of {_type_text(typing.get_args(hint)[0])}"
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        return f"object of {_type_text(typing.get_args(hint)[1])}"
    return {str: "string", bool: "boolean", int: "integer", float: "number"}.get(
        hint, getattr(hint, "__name__", str(hint)))
