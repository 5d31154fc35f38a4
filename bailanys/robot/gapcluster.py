"""Clusters of unanswered questions: FAQ candidates for the knowledge base (issue 18).

Pure (numpy, no I/O). The questions the assistant kept
(:mod:`bailanys.robot.gaps`, masked) are grouped per language:

1. each question becomes its search terms (:func:`bailanys.analytics.morph.terms`:
   Kazakh suffixes cut, Russian Snowball, so «справканы», «справку»,
   «справка» are one term), less masks, numbers, function words
   (the matcher's :data:`~bailanys.robot.matcher.STOP_WORDS`) and the
   caller's politeness and context words (:data:`CONTEXT_WORDS`);
2. TF-IDF vectors (binary term frequency: a question is short; smoothed
   IDF over the questions and the FAQ's variants), over the terms at least
   two and at most half of the questions share, L2-normalised;
3. leader clustering by cosine (:data:`JOIN_COSINE`), then
   :data:`REFINE_PASSES` passes that reassign every question to its nearest
   centroid (a k-means step, which undoes the leader pass's dependence on
   order), then centroids closer than :data:`MERGE_COSINE` merged.
   Linear in questions x clusters: a quarter's few thousand turns take well
   under a second, where agglomerative clustering would be cubic.

Each cluster gets its size, the member nearest its centroid as the
representative, its top terms (shown as the word callers used most for
each), and the nearest FAQ entry in the same TF-IDF space (best cosine over
the entry's questions in that language): a high similarity means the entry
exists but misses these phrasings (new variants), a low one a new entry.

Why TF-IDF and not the robot's embeddings (``bench/faq_gaps_cluster.py``:
the 520 held-out phrasings of bench/data/faq_paraphrases.yaml, 52 topics,
each playing a missing one; adjusted Rand index, shared 2-core machine):
TF-IDF 0.23 kk / 0.31 ru at the defaults (the best of its grid), 0.1 s;
multilingual-e5-small with the same passes at its best join cosine 0.19 kk
(0.94, half the questions left alone) / 0.39 ru (0.92), plus ~25 ms a
question to embed and a model to load. Neither wins in both languages;
terms are free, deterministic, and their top terms explain a cluster to an
editor. Many "errors" are neighbouring entries joined (eds_get, eds_renew,
eds_password): one FAQ candidate for an editor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from bailanys.analytics.morph import term, tokens
from bailanys.analytics.pii import FILLERS, MASKS
from bailanys.robot.text import OPERATOR_WORDS, STOP_WORDS

F64 = npt.NDArray[np.float64]

#: Cosine to a cluster's centroid that joins it. Two paraphrases of one
#: question share one or two topic terms in 4-8 kept terms: cosines of
#: 0.3-0.6 on the test sets; unrelated questions sharing only a generic word
#: («получить», «алу») stay under 0.25.
JOIN_COSINE: Final = 0.3
#: Centroids this close are one cluster (after the passes).
MERGE_COSINE: Final = 0.5
#: Reassignment passes after the leader pass.
REFINE_PASSES: Final = 2
#: A term in more than this share of the questions does not cluster them
#: (see :func:`_df`); only from MAX_DF_FROM questions on, since three
#: paraphrases of one topic all share their topic word.
MAX_DF: Final = 0.5
MAX_DF_FROM: Final = 10
#: Top terms shown per cluster.
TOP_TERMS: Final = 5
#: Questions clustered at most (the newest kept beyond it are dropped by the
#: reader): a quarter of a busy robot; bounds time and memory (n x clusters).
MAX_QUESTIONS: Final = 20000
#: What callers say around a question on 1414: greetings, "tell me please",
#: "I wanted to know", "a question": no topic in them.
CONTEXT_WORDS: Final = frozenset((
    "здравствуйте добрый день вечер утро алло скажите подскажите пожалуйста хотел хотела "
    "хочу узнать вопрос спасибо девушка вот у меня такой такая можно ли ну это "
    "сәлеметсіз сәлем армысыз айтыңызшы айтып жіберіңізші білгім білейін келеді келіп "
    "сұрақ сұрағым бар еді едім рахмет қарындас ағай апай енді сосын анау мынау "
    "әлде бірақ туралы ғой ғана тағы арқылы"
).split())
_DROPPED: Final = frozenset(term(w) for w in STOP_WORDS | CONTEXT_WORDS | FILLERS)


@dataclass(frozen=True)
class Question:
    """One kept question (``text`` masked), with what the reader knows of it."""

    text: str
    lang: str
    call_id: str = ""
    outcome: str = ""


@dataclass(frozen=True)
class Nearest:
    """The FAQ entry closest to a cluster, and the cosine."""

    entry: str
    similarity: float


@dataclass(frozen=True)
class Cluster:
    lang: str
    members: tuple[int, ...]  # indices into the questions given, nearest the centroid first
    representative: str
    top_terms: tuple[str, ...]
    nearest: Nearest | None
    outcomes: Mapping[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.members)


def question_terms(text: str) -> list[str]:
    """The topic terms of a question: no masks, numbers, function or context words."""
    out = []
    for word in tokens(text):
        if word in MASKS or word[:1].isdigit():
            continue
        lw = word.lower()
        if lw.startswith(OPERATOR_WORDS):
            continue
        t = term(word)
        if len(t) >= 2 and t not in _DROPPED:
            out.append(t)
    return out


def _vectors(docs: Sequence[Sequence[str]], vocab: Mapping[str, int],
             idf: F64) -> F64:
    x = np.zeros((len(docs), len(vocab)), dtype=np.float64)
    for i, doc in enumerate(docs):
        cols = [vocab[t] for t in set(doc) if t in vocab]
        x[i, cols] = idf[cols]
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: F64 = x / np.maximum(norms, 1e-12)
    return out


def _fit(docs: Sequence[Sequence[str]]) -> tuple[dict[str, int], F64]:
    vocab: dict[str, int] = {}
    for doc in docs:
        for t in doc:
            vocab.setdefault(t, len(vocab))
    return vocab, _idf(docs, vocab)


def _df(docs: Sequence[Sequence[str]], vocab: Mapping[str, int]) -> F64:
    """Questions each term occurs in.

    A term one question has alone links it to nothing and only dilutes its
    cosines: clustering uses the terms with df >= 2 (on the test sets, the
    paraphrases' shared topic word drowned under their own words otherwise).
    A term most questions share (``MAX_DF``, scikit-learn's ``max_df``: «иин»
    when every caller dictated one) would join them all: left out too.
    """
    df = np.zeros(len(vocab))
    for doc in docs:
        for t in set(doc):
            df[vocab[t]] += 1
    return df


def _idf(docs: Sequence[Sequence[str]], vocab: Mapping[str, int]) -> F64:
    out: F64 = np.log((1.0 + len(docs)) / (1.0 + _df(docs, vocab))) + 1.0
    return out


def assign(x: F64, join: float = JOIN_COSINE, passes: int = REFINE_PASSES,
           merge: float = MERGE_COSINE) -> npt.NDArray[np.int64]:
    """Cluster labels of unit rows ``x`` (a zero row is its own cluster)."""
    n = len(x)
    labels = np.full(n, -1, dtype=np.int64)
    sums: list[F64] = []
    for i in range(n):  # leader pass
        if sums:
            c = np.stack(sums)
            sims = c @ x[i] / np.maximum(np.linalg.norm(c, axis=1), 1e-12)
            best = int(np.argmax(sims))
            if sims[best] >= join:
                labels[i] = best
                sums[best] = sums[best] + x[i]
                continue
        labels[i] = len(sums)
        sums.append(x[i].copy())
    for _ in range(passes):  # k-means steps: each question to its nearest centroid
        labels = _reassign(x, labels, join)
    return _merge(x, labels, merge)


def _centroids(x: F64, labels: npt.NDArray[np.int64]) -> F64:
    k = int(labels.max()) + 1
    c = np.zeros((k, x.shape[1]))
    np.add.at(c, labels, x)
    out: F64 = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    return out


def _relabel(labels: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    _, out = np.unique(labels, return_inverse=True)
    return out.astype(np.int64)


def _reassign(x: F64, labels: npt.NDArray[np.int64], join: float) -> npt.NDArray[np.int64]:
    sims = x @ _centroids(x, labels).T
    best = sims.argmax(axis=1)
    ok = sims[np.arange(len(x)), best] >= join
    new = np.where(ok, best, labels.max() + 1 + np.arange(len(x)))
    return _relabel(new)


def _merge(x: F64, labels: npt.NDArray[np.int64], merge: float) -> npt.NDArray[np.int64]:
    while True:
        c = _centroids(x, labels)
        sims = c @ c.T
        np.fill_diagonal(sims, -1.0)
        i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if len(c) < 2 or sims[i, j] < merge:
            return labels
        labels = _relabel(np.where(labels == j, i, labels))


def cluster(questions: Sequence[Question],
            faq: Mapping[str, Mapping[str, Sequence[str]]] | None = None, *,
            join: float = JOIN_COSINE, merge: float = MERGE_COSINE) -> list[Cluster]:
    """Clusters of ``questions`` per language, the largest first.

    ``faq``: entry id -> language -> its questions (for the nearest entry).
    ``join``, ``merge``: :func:`assign`'s cosines (the bench varies them).
    """
    out: list[Cluster] = []
    for lang in sorted({q.lang for q in questions}):
        idx = [i for i, q in enumerate(questions) if q.lang == lang][:MAX_QUESTIONS]
        out += _cluster_lang(lang, [questions[i] for i in idx], idx, faq or {}, join, merge)
    out.sort(key=lambda c: (-c.count, c.lang, c.representative))
    return out


def _cluster_lang(lang: str, qs: Sequence[Question], idx: Sequence[int],
                  faq: Mapping[str, Mapping[str, Sequence[str]]], join: float,
                  merge: float) -> list[Cluster]:
    docs = [question_terms(q.text) for q in qs]
    entry_docs = [(eid, question_terms(v)) for eid, by_lang in faq.items()
                  for v in by_lang.get(lang, ())]
    vocab, idf = _fit(docs + [d for _, d in entry_docs])
    # IDF over the questions and the FAQ's variants: a term common in the FAQ
    # («цон», «алу», «получить») weighs little. Clustering keeps the terms at
    # least two questions share and at most MAX_DF of them (:func:`_df`).
    df = _df(docs, vocab)
    keep = (df >= 2) & ((df <= MAX_DF * len(docs)) | (len(docs) < MAX_DF_FROM))
    whole = _vectors(docs, vocab, idf)
    shared = _vectors(docs, vocab, idf * keep)
    labels = assign(shared, join=join, merge=merge)
    ex = _vectors([d for _, d in entry_docs], vocab, idf)
    out = []
    for label in range(int(labels.max()) + 1 if len(labels) else 0):
        members = np.flatnonzero(labels == label)
        # a cluster is what its questions share; a question alone, all its words
        x = shared if len(members) > 1 else whole
        centroid = x[members].sum(axis=0)
        centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-12)
        order = members[np.argsort(-(x[members] @ centroid), kind="stable")]
        out.append(Cluster(
            lang=lang, members=tuple(int(idx[i]) for i in order),
            representative=qs[int(order[0])].text,
            top_terms=_top_terms(centroid, vocab, [qs[int(i)].text for i in members]),
            nearest=_nearest(centroid, ex, [e for e, _ in entry_docs]),
            outcomes=dict(Counter(qs[int(i)].outcome for i in members if qs[int(i)].outcome))))
    return out


def _top_terms(centroid: F64, vocab: Mapping[str, int], texts: Iterable[str]) -> tuple[str, ...]:
    """The centroid's heaviest terms, each as the word form callers used most."""
    names = {col: t for t, col in vocab.items()}
    surface: dict[str, Counter[str]] = {}
    for text in texts:
        for word in tokens(text):
            surface.setdefault(term(word), Counter())[word.lower()] += 1
    top = [int(c) for c in np.argsort(-centroid, kind="stable")[:TOP_TERMS] if centroid[c] > 0]
    return tuple(surface[names[c]].most_common(1)[0][0] if names[c] in surface else names[c]
                 for c in top)


def _nearest(centroid: F64, entries: F64, ids: Sequence[str]) -> Nearest | None:
    if not ids:
        return None
    sims = entries @ centroid
    best = int(np.argmax(sims))
    if sims[best] <= 0.0:  # not one term in common with any entry
        return None
    return Nearest(ids[best], round(float(sims[best]), 3))
