"""docs/events.md, rendered from the catalogue (``python -m bailanys.events``)."""

from __future__ import annotations

import inspect

from bailanys.events import DOMAINS
from bailanys.events.base import EventBase, fields_of

REGENERATE = "PYTHONPATH=. python -m bailanys.events > docs/events.md"

_HEAD = f"""\
# Events

<!-- Generated from bailanys/events/ by `{REGENERATE}`: do not edit;
     tests/test_events_doc.py fails when this file is stale. -->

The event log (`events` table: `id, ts, type, call_id, data`) is the spine of
Bailanys: the console, the KPIs (docs/kpi.md), the Asterisk `queue_log`
export, analytics, QA and the regulator's reports all read it. This page is
the contract: every type the engine writes, its fields and who writes it.

- `ts` is epoch seconds (UTC); `call_id` is the call the event belongs to
  (empty for events of no call); `data` is a JSON object of the fields below,
  under exactly the names shown.
- *optional* fields are left out of `data` when they do not apply; other
  fields are always present (`null` where the type says so).
- Durations are seconds (rounded to the millisecond unless said otherwise).
- Each type has a schema `version`; rows of version 1 carry no version key.
  A reader must keep rows of types it does not know and ignore keys it does
  not know: newer versions may add both (`bailanys.events.decode` returns
  `UnknownEvent` for them, and keeps unknown keys in `extra`).
- Personal data: phone numbers (`call.offered` `from`, `caller`,
  `display_name`; `queue.callback_requested` `number`) are stored for the
  callback and repeat-caller KPIs and shown only to who may read the event
  log; SMS numbers are masked; IINs, codes and passwords are never stored.

In code: `bailanys.events` holds one frozen dataclass per type (class name =
the type in CamelCase, e.g. `call.offered` -> `CallOffered`); write with
`EventLog.emit(event)`, read with `decode(stored_event)`.
"""


def render() -> str:
    """The whole of docs/events.md."""
    out = [_HEAD]
    out.append("## Types\n")
    for title, classes in DOMAINS:
        names = ", ".join(f"[`{c.type}`](#{_anchor(c.type)})" for c in classes)
        out.append(f"- {title}: {names}")
    out.append("")
    for title, classes in DOMAINS:
        out.append(f"## {title}\n")
        for cls in classes:
            out.append(_section(cls))
    return "\n".join(out).rstrip() + "\n"


def _anchor(type_: str) -> str:
    """GitHub's heading anchor of ``### `type` ``: dots dropped."""
    return type_.replace(".", "")


def _section(cls: type[EventBase]) -> str:
    doc = inspect.cleandoc(cls.__doc__ or "").replace("``", "`")  # reST -> Markdown
    lines = [f"### `{cls.type}`\n",
             f"Version {cls.version}. Class `{cls.__name__}`. Written by: "
             f"{cls.writer.replace('``', '`')}.\n",
             doc, ""]
    specs = fields_of(cls)
    if not specs:
        lines.append("No fields.\n")
        return "\n".join(lines)
    lines.append("| field | type | notes |")
    lines.append("|---|---|---|")
    for spec in specs:
        if spec.flatten:
            for k in spec.flatten:
                lines.append(f"| `{k}` | number \\| null | optional; in `{spec.name}` in code |")
            continue
        note = "optional" if spec.omit_none else ("" if spec.required else "may be absent")
        if spec.name != spec.key:
            note = (note + "; " if note else "") + f"`{spec.name}` in code"
        text = spec.type_text
        if spec.omit_none:  # never stored as null: left out instead
            text = text.removesuffix(" | null")
        lines.append(f"| `{spec.key}` | {text.replace('|', chr(92) + '|')} | {note} |")
    lines.append("")
    return "\n".join(lines)
