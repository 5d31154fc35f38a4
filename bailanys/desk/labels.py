"""Names an operator reads in the screen pop instead of the flow's and the FAQ's ids (issue 19).

Issue 19: the pop shows "what the caller chose, what the robot answered".
The events name a menu's node and the key pressed (``ivr.input``) and the
FAQ entry's id (``robot.faq``); :class:`PopLabels` turns them into what
the caller heard: the chosen option's first keyword in each language (the
words the menu also recognises when spoken, e.g. «оператор») and the FAQ
entry's title. Both come from what the engine serves now (the current
flows, the robot's knowledge base), read through getters so that a flow
reloaded while the caller waits is the one named. Pure lookups: a flow, a
node or an entry that is not (or no longer) there gives None, and the page
shows the id as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from bailanys.ivr.model import Flow, Menu
from bailanys.robot.faq import KnowledgeBase

#: A name in each language: ``{"kk": ..., "ru": ...}``.
Names = Mapping[str, str]


class PopLabels:
    """The option and FAQ names for :func:`bailanys.desk.pop.screen_pop`."""

    def __init__(self, flows: Callable[[], Iterable[Flow]],
                 faq: Callable[[], KnowledgeBase | None]) -> None:
        self._flows = flows
        self._faq = faq

    def option(self, flow: str | None, node: str | None, value: str | None) -> Names | None:
        """The menu option of ``flow``'s ``node`` chosen by the key ``value``."""
        if not (flow and node and value):
            return None
        found = next((f for f in self._flows() if f.name == flow), None)
        menu = found.nodes.get(node) if found is not None else None
        if not isinstance(menu, Menu):
            return None
        for option in menu.options:
            if option.key == value:
                names = {lang: words[0] for lang, words in option.words.items() if words}
                return names or None
        return None

    def faq(self, entry: str | None) -> Names | None:
        """The FAQ entry's title in each language."""
        kb = self._faq() if entry else None
        found = kb.get(entry) if kb is not None and entry else None
        return dict(found.title) if found is not None and found.title else None
