"""Which card scores a call (issue 16: "per queue or topic"): the topic's,
else the queue's, else the default, else none."""

from __future__ import annotations

import pytest

from bailanys.qa.model import Names, Scorecard
from bailanys.qa.select import choose, is_default

N = Names("kk", "ru", "en")


def card(card_id: str, queues: tuple[str, ...] = (), topics: tuple[str, ...] = ()) -> Scorecard:
    return Scorecard(card_id, 1, N, (), queues=queues, topics=topics)


CARDS = (card("complaints", queues=("complaints",), topics=("complaint",)),
         card("egov", queues=("egov",)),
         card("default"),
         card("pension", topics=("pension", "benefits")))


@pytest.mark.parametrize(("queue", "topic", "expected"), [
    (None, None, "default"),
    ("", "", "default"),
    ("egov", None, "egov"),
    ("egov", "unknown", "egov"),
    ("egov", "complaint", "complaints"),  # a topic's card wins over the queue's
    ("complaints", "pension", "pension"),
    ("complaints", "other", "complaints"),
    ("general", "benefits", "pension"),
    (None, "complaint", "complaints"),
    ("general", None, "default"),
    ("Egov", "Complaint", "default"),  # names are compared as written
])
def test_choose(queue: str | None, topic: str | None, expected: str) -> None:
    found = choose(CARDS, queue, topic)
    assert found is not None and found.id == expected


def test_no_default_card() -> None:
    without = [c for c in CARDS if not is_default(c)]
    assert choose(without, "general", "other") is None
    assert choose(without, "egov", None) is CARDS[1]
    assert choose([], "egov", "complaint") is None


def test_the_first_card_wins_when_two_claim_the_same() -> None:
    first, second = card("first", queues=("egov",)), card("second", queues=("egov",))
    assert choose([first, second], "egov", None) is first
    assert choose([second, first], "egov", None) is second
