"""Clustering the unanswered questions (bailanys.robot.gapcluster, issue 18)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from bailanys.robot.faq import load_kb
from bailanys.robot.gapcluster import Question, assign, cluster, question_terms
from tests.robot.gapset import GAPS

FAQ = load_kb("knowledge/faq.yaml")
ENTRIES = {e.id: e.questions for e in FAQ.entries}


def _set(lang: str | None = None) -> tuple[list[Question], list[str]]:
    qs, key = [], []
    for la, topics in GAPS.items():
        if lang not in (None, la):
            continue
        for topic, lines in topics.items():
            for line in lines:
                qs.append(Question(line, la, f"{la}-{topic}-{len(qs)}", "no_match"))
                key.append(f"{la}:{topic}")
    return qs, key


def test_paraphrases_of_one_missing_topic_cluster_together_and_topics_stay_apart() -> None:
    qs, key = _set()
    clusters = cluster(qs, ENTRIES)
    for c in clusters:  # no cluster mixes two topics (or two languages)
        assert len({key[i] for i in c.members}) == 1, [qs[i].text for i in c.members]
    for topic, total in Counter(key).items():
        biggest = max(c.count for c in clusters if key[c.members[0]] == topic)
        assert biggest >= total - 1, (topic, [(c.count, c.representative) for c in clusters])
    assert sum(c.count for c in clusters) == len(qs)
    counts = [c.count for c in clusters]
    assert counts == sorted(counts, reverse=True)


def test_a_cluster_shows_its_topic_word_and_the_nearest_entry() -> None:
    qs, key = _set("ru")
    fines = next(c for c in cluster(qs, ENTRIES) if key[c.members[0]] == "ru:fines")
    assert fines.count == 5 and fines.top_terms[0].startswith("штраф")
    assert fines.representative in [q.text for q in qs]
    assert fines.outcomes == {"no_match": 5}
    kk, kkey = _set("kk")
    grant = next(c for c in cluster(kk, ENTRIES) if kkey[c.members[0]] == "kk:grant")
    assert grant.top_terms[0].startswith("шәкіртақы")


def test_questions_the_faq_covers_find_their_entry() -> None:
    lost = [Question(t, "ru") for t in (
        "я потерял удостоверение личности что теперь делать",
        "у меня украли удостоверение личности куда идти",
        "потеряла удостоверение как восстановить",
    )]
    (c,) = cluster(lost, ENTRIES)
    assert c.count == 3 and c.nearest is not None
    assert c.nearest.entry == "id_card_lost" and c.nearest.similarity > 0.4


def test_masks_numbers_and_politeness_are_not_terms() -> None:
    text = "здравствуйте девушка мой иин [IIN] штраф 2026 подскажите"
    assert question_terms(text) == ["иин", "штраф"]
    assert question_terms("сәлеметсіз бе [PHONE] айыппұл") == ["айыппұл"]
    assert question_terms("оператормен сөйлесейін") == ["сөйлес"]


def test_edge_cases() -> None:
    assert cluster([]) == []
    (only,) = cluster([Question("здравствуйте", "ru")])  # no terms: its own cluster
    assert only.count == 1 and only.top_terms == () and only.nearest is None
    x = np.eye(3)
    assert sorted(assign(x).tolist()) == [0, 1, 2]
    same = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    labels = assign(same)
    assert labels[0] == labels[1] != labels[2]


@pytest.mark.parametrize("n", [600])
def test_a_quarter_of_questions_clusters_fast(n: int) -> None:
    import time

    qs, _ = _set()
    many = [Question(f"{q.text} {i % 7}", q.lang) for i in range(n // len(qs) + 1) for q in qs]
    started = time.perf_counter()
    clusters = cluster(many[:n], ENTRIES)
    assert time.perf_counter() - started < 5.0
    assert sum(c.count for c in clusters) == n
