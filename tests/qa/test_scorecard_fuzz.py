"""Hostile scorecard files: whatever the bytes, reading a card gives a card or
problems, never another exception, and every card read round-trips through
its canonical JSON (``tests/fuzzing.py``'s mutations of the small card, one
criterion of each kind; 5,000 mutations of the centre's cards too found
nothing more: ``fuzz(Target(..., ALL_SEEDS, ...), inputs=5000)`` repeats that)."""

from __future__ import annotations

from bailanys.qa import cardcheck, scorecard
from bailanys.qa.scorecard import ScorecardError
from bailanys.yamlsrc import load
from tests.fuzzing import Target, fuzz
from tests.qa.cards import CARD_DIR, SMALL

SEEDS = [SMALL.encode()]
ALL_SEEDS = [*SEEDS, *(p.read_bytes() for p in sorted(CARD_DIR.glob("*.yaml")))]


def run(data: bytes) -> None:
    src = load(data.decode("utf-8", errors="replace"), "fuzz.yaml")
    card = cardcheck.build(src)
    if card is None:
        assert src.problems, "no card and no problem"
        return
    again = scorecard.from_json(scorecard.to_json(card))
    assert scorecard.to_json(again) == scorecard.to_json(card)


def test_mutated_cards_never_escape() -> None:
    report = fuzz(Target("scorecard", SEEDS, run, (ScorecardError,)), inputs=250)
    assert report.escapes == 0, report.examples
