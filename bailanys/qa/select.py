"""Which scorecard scores a call: its topic's, else its queue's, else the default.

Issue 16, "Scorecards as data": a scorecard applies "per queue or topic". A
topic is the more specific fact (a complaint can reach any queue; the
complaints queue also answers other questions), so a card that names the
call's topic wins over one that names its queue; a card with no
``applies_to`` is the centre's default. Cards are looked at in the order
given (``scorecard.load_dir``: file-name order; it refuses two cards that
claim the same queue or topic, so the order only matters for cards that did
not come from it). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from bailanys.qa.model import Scorecard


def choose(cards: Sequence[Scorecard], queue: str | None, topic: str | None
           ) -> Scorecard | None:
    """The card of ``topic``, else of ``queue``, else the default, else None."""
    if topic:
        for card in cards:
            if topic in card.topics:
                return card
    if queue:
        for card in cards:
            if queue in card.queues:
                return card
    for card in cards:
        if is_default(card):
            return card
    return None


def is_default(card: Scorecard) -> bool:
    """A card for every call that has no card of its own (no ``applies_to``)."""
    return not card.queues and not card.topics
