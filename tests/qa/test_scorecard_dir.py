"""A directory of scorecards (``scorecard.load_dir``): the checks between cards
(issue 16: one card per queue or topic, one default, ids unique)."""

from __future__ import annotations

from pathlib import Path

from bailanys.qa import scorecard
from tests.qa.cards import CARD_DIR, card_text, write


def test_the_centre_cards_load_without_problems() -> None:
    cards, problems = scorecard.load_dir(CARD_DIR)
    assert problems == []
    assert "default" in {c.id for c in cards}
    assert all(c.path.endswith(".yaml") and len(c.digest) == 64 for c in cards)


def test_good_cards_load_beside_a_broken_one(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_text("a"))
    write(tmp_path, "b.yml", card_text("b", applies_to="{queues: [egov]}"))
    write(tmp_path, "c.yaml", card_text("c", version=0, applies_to="{queues: [x]}"))
    write(tmp_path, "notes.txt", "not a card")
    cards, problems = scorecard.load_dir(tmp_path)
    assert [c.id for c in cards] == ["a", "b"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'c.yaml'}:2: version: a whole number from 1 to 9999, got 0"]


def test_a_second_default_card_is_a_problem_and_left_out(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_text("a"))
    write(tmp_path, "b.yaml", card_text("b"))
    cards, problems = scorecard.load_dir(tmp_path)
    assert [c.id for c in cards] == ["a"]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}:1: id: a second default card (no applies_to): "
        f"{tmp_path / 'a.yaml'} is the default; give this one applies_to"]


def test_a_queue_or_topic_claimed_twice(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_text("a", applies_to="{queues: [egov], topics: [tax]}"))
    write(tmp_path, "b.yaml", card_text("b", applies_to="{queues: [general, egov]}"))
    write(tmp_path, "c.yaml", card_text("c", applies_to="{topics: [pension, tax]}"))
    write(tmp_path, "d.yaml", card_text("d", applies_to="{queues: [tax], topics: [egov]}"))
    cards, problems = scorecard.load_dir(tmp_path)
    assert [c.id for c in cards] == ["a", "d"]  # a queue and a topic may share a name
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}:4: applies_to.queues[1]: 'egov' is already claimed by a "
        f"({tmp_path / 'a.yaml'})",
        f"{tmp_path / 'c.yaml'}:4: applies_to.topics[1]: 'tax' is already claimed by a "
        f"({tmp_path / 'a.yaml'})"]


def test_an_id_used_twice(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", card_text("same"))
    write(tmp_path, "b.yaml", card_text("same", applies_to="{queues: [egov]}"))
    cards, problems = scorecard.load_dir(tmp_path)
    assert [c.path for c in cards] == [str(tmp_path / "a.yaml")]
    assert [str(p) for p in problems] == [
        f"{tmp_path / 'b.yaml'}:1: id: scorecard id 'same' is also the id of "
        f"{tmp_path / 'a.yaml'}"]


def test_no_directory_and_an_empty_one(tmp_path: Path) -> None:
    assert scorecard.load_dir(tmp_path) == ([], [])
    cards, problems = scorecard.load_dir(tmp_path / "missing")
    assert cards == [] and [str(p) for p in problems] == [
        f"{tmp_path / 'missing'}: no such directory"]
