"""``python -m bailanys.events``: print docs/events.md."""

from bailanys.events.doc import render

print(render(), end="")
