"""The questions callers asked operators, read from the transcripts, for the FAQ candidates.

Issue 17, the quarterly analysis: "candidate FAQ entries (frequent questions
the robot could not answer, from the robot's hand-overs and transcripts)".
The robot's own unanswered turns are :mod:`bailanys.robot.gaps`; this module
adds the calls that reached an operator and were transcribed (issue 15,
``analytics_calls`` and ``utterances``, schema v3), so that both are
clustered together by :mod:`bailanys.robot.gapcluster`.

**A call's question**, precisely:

1. the call: an ``analytics_calls`` row of the period (its local ``day``)
   whose ``outcome`` is ``answered`` (an operator took it);
2. the bridge: the start of the agent channel's first utterance (the
   operator's greeting). The recording may hold the IVR part before it
   (``media.record_calls``), so the recording's start is not the bridge; a
   call with no agent speech has no known bridge and gives no question;
3. the caller channel's first :data:`FIRST_UTTERANCES` utterances that start
   at or after the greeting's start and at most :data:`QUESTION_WINDOW_S`
   after it;
4. of those, the first with at least :data:`MIN_TERMS` topic terms
   (:func:`bailanys.robot.gapcluster.question_terms`: greetings, "I wanted to
   ask", function words, masks and numbers do not count), as stored: masked
   (personal data never leaves the store in the clear), numbers as digits.

The reading is one SQL statement, bounded: the newest :data:`MAX_CALLS`
calls of the period (on the ``analytics_calls_started`` index), each
call's utterances on ``utterances_call``; Python only counts the terms of
at most three utterances a call.

Each question is a :class:`~bailanys.robot.gapcluster.Question` whose
``outcome`` is :data:`FROM_CALL`, so a cluster's ``outcomes`` tell how many
of its questions came from operator calls (the rest are the robot's).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Final

from bailanys.robot.faq import load as load_faq
from bailanys.robot.gapcluster import Cluster, Question, question_terms
from bailanys.robot.matcher import Action, Matcher, MatcherConfig
from bailanys.store.syncdb import SyncConnection, has_tables

log = logging.getLogger(__name__)

#: ``Question.outcome`` of a question read from an operator call's transcript.
FROM_CALL: Final = "call"
#: Seconds after the greeting's start in which the caller's question is sought:
#: a 1414 operator greets in 5-10 s ("1414, сәлеметсіз бе, менің атым ...");
#: a caller states the question in the first exchange; a minute covers a
#: "hello, can you hear me" and a repeat without reaching the conversation's body.
QUESTION_WINDOW_S: Final = 60.0
#: Caller utterances looked at per call: the first is often "алло, здравствуйте".
FIRST_UTTERANCES: Final = 3
#: Topic terms that make an utterance a question (one term is "да", a name,
#: "справка" alone: too little to tell a FAQ entry).
MIN_TERMS: Final = 2
#: Calls read at most per period, the newest first: half of the clustering's
#: MAX_QUESTIONS (20,000), the other half left to the robot's own questions.
MAX_CALLS: Final = 10000
#: Clusters the matcher is asked about at most per report (~25 ms each on one
#: core: 2.5 s), should the largest clusters all be questions the FAQ answers.
MAX_ASKED: Final = 100
#: Margin in seconds around the period's UTC bounds for the index range
#: (``day`` is the engine's local date: UTC+5 for Kazakhstan, at most +14).
_MARGIN_S: Final = 2 * 86400.0

_SQL: Final = """
WITH calls AS (
    SELECT c.call_id,
           (SELECT min(a.start) FROM utterances a
             WHERE a.call_id = c.call_id AND a.channel = 'agent') AS greet
      FROM analytics_calls c
     WHERE c.started BETWEEN ? AND ? AND c.day BETWEEN ? AND ? AND c.outcome = 'answered'
     ORDER BY c.started DESC LIMIT ?
), said AS (
    SELECT u.call_id, u.language, u.text,
           ROW_NUMBER() OVER (PARTITION BY u.call_id ORDER BY u.start, u.id) AS n
      FROM calls JOIN utterances u ON u.call_id = calls.call_id
     WHERE u.channel = 'caller' AND u.start >= calls.greet AND u.start <= calls.greet + ?
)
SELECT call_id, language, text FROM said WHERE n <= ? ORDER BY call_id, n
"""


def has_transcripts(conn: SyncConnection) -> bool:
    """Whether the store has the analytics tables (schema v3)."""
    return has_tables(conn, "analytics_calls", "utterances")


def call_questions(conn: SyncConnection, first: date, last: date,
                   limit: int = MAX_CALLS) -> list[Question]:
    """The operator calls' questions from ``first`` to ``last`` (local days, both
    included), one per call at most (module docstring); none without the tables."""
    if limit <= 0 or not has_transcripts(conn):
        return []
    lo = datetime.combine(first, time(), UTC).timestamp() - _MARGIN_S
    hi = datetime.combine(last, time(), UTC).timestamp() + 86400.0 + _MARGIN_S
    rows = conn.execute(_SQL, (lo, hi, first.isoformat(), last.isoformat(), limit,
                               QUESTION_WINDOW_S, FIRST_UTTERANCES))
    return pick(rows)


def pick(rows: Iterable[Any]) -> list[Question]:
    """Per call (rows grouped by call, in speaking order), the first utterance with
    :data:`MIN_TERMS` topic terms (pure)."""
    out: list[Question] = []
    done = ""
    for call_id, lang, text in rows:
        if call_id == done:
            continue
        if len(question_terms(str(text))) >= MIN_TERMS:
            out.append(Question(str(text), str(lang), str(call_id), FROM_CALL))
            done = str(call_id)
    return out


def from_calls(c: Cluster) -> int:
    """How many of a cluster's questions came from operator calls."""
    return c.outcomes.get(FROM_CALL, 0)


def from_robot(c: Cluster) -> int:
    """How many of a cluster's questions are the robot's own (``faq_gaps``)."""
    return c.count - from_calls(c)


#: Whether the FAQ answers a question confidently (the matcher's ANSWER
#: decision): :class:`MatcherAnswers` is the real one.
Answers = Callable[[str], bool]


class MatcherAnswers:
    """The robot's matcher as :data:`Answers`, built on the first question asked
    (loading the model and the FAQ's embeddings takes seconds; a report whose
    clusters have no operator calls never pays it). A FAQ that cannot be loaded
    or a matcher that cannot be built answers nothing (logged): the candidates
    are then listed unfiltered, which the report still shows."""

    def __init__(self, faq: str, cache: str) -> None:
        self._faq = faq
        self._cache = cache
        self._matcher: Matcher | None = None
        self._failed = not faq

    def __call__(self, text: str) -> bool:
        matcher = self._get()
        if matcher is None:
            return False
        return matcher.decide(matcher.match(text)).action is Action.ANSWER

    def _get(self) -> Matcher | None:
        if self._matcher is None and not self._failed:
            kb, problems = load_faq(Path(self._faq))
            try:
                if problems:
                    raise ValueError(f"{len(problems)} problem(s)")
                self._matcher = Matcher(kb, MatcherConfig(cache=Path(self._cache)))
            except Exception as exc:  # no model, a broken FAQ: candidates unfiltered
                log.warning("%s: no FAQ matcher for the candidates (%s)", self._faq, exc)
                self._failed = True
        return self._matcher


def candidates(clusters: Sequence[Cluster], questions: Sequence[Question],
               answers: Answers | None, n: int) -> tuple[list[Cluster], int]:
    """The ``n`` largest clusters that are FAQ candidates, and how many were left out
    because the FAQ already answers them.

    A cluster with operator calls' questions is left out when ``answers``
    confidently answers its calls' representative (the call question nearest
    its centroid): the FAQ has that answer, the caller just asked a person.
    Asked per cluster, not per question: the matcher embeds each question
    (~25 ms on one core), a quarter's 10,000 calls would take minutes. A
    robot-only cluster is always a candidate: the robot already asked the
    same matcher and was not confident. The matcher is asked at most
    :data:`MAX_ASKED` times: past that, the list ends (shorter than ``n``)
    rather than list clusters nobody checked.
    """
    out: list[Cluster] = []
    answered = asked = 0
    for c in clusters:
        if len(out) == n:
            break
        call = next((questions[i].text for i in c.members
                     if questions[i].outcome == FROM_CALL), None)
        if answers is not None and call is not None:
            if asked == MAX_ASKED:
                break
            asked += 1
            if answers(call):
                answered += 1
                continue
        out.append(c)
    return out, answered
