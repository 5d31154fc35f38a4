"""The types quality assurance shares: scorecards, results, evidence, reviews.

Issue 16, "Scorecards as data": a scorecard has sections of criteria, each
with a weight, a kind and an optional **critical** flag (failing a critical
criterion fails the contact for the regulator's KPI 2 — Appendix 1 item 2,
"contacts with accurate, complete information and every step followed" —
whatever the total). Automatic kinds are computed from the transcript and
the stereo recording; manual ones are filled by a reviewer.

Everything here is a frozen value with a JSON form (``to_json`` /
``from_json``) that is what schema v5 stores (``qa_scores.results``,
``qa_reviews.answers``) and what the reviewers' page reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from bailanys.analytics.model import Utterance


class Kind(StrEnum):
    """How a criterion is judged (issue 16's list of automatic criteria)."""

    #: A phrase of ``variants`` said on ``channel`` within the window.
    SAID = "said"
    #: No phrase of ``variants`` said on ``channel`` (forbidden words).
    NOT_SAID = "not_said"
    #: The agent did not read personal data aloud (a masked IIN, card,
    #: number... on the agent's channel).
    NO_PERSONAL_DATA = "no_personal_data"
    #: Before each silence (or hold) longer than ``min_silence_s``, the agent
    #: said a hold phrase (``variants``) within ``lookback_s``.
    HOLD_ETIQUETTE = "hold_etiquette"
    #: An acoustic measure (:class:`Measure`) within ``min`` / ``max``.
    ACOUSTIC = "acoustic"
    #: An outcome of the call (:class:`Measure`) within ``min`` / ``max``.
    OUTCOME = "outcome"
    #: Filled by a reviewer (``scale``: yes/no/n.a. or 1-5).
    MANUAL = "manual"


AUTOMATIC_KINDS: Final = frozenset(Kind) - {Kind.MANUAL}


class Measure(StrEnum):
    """What an ``acoustic`` or ``outcome`` criterion compares."""

    # acoustic (``acoustic.py``: energy/VAD pass over both channels)
    TALK_RATIO = "talk_ratio"  # agent talk / (agent + caller talk), 0-1
    LONGEST_SILENCE_S = "longest_silence_s"  # neither channel speaking, seconds
    OVERTALK_S = "overtalk_s"  # both channels speaking, seconds in all
    OVERTALK_RATIO = "overtalk_ratio"  # overtalk / call length, 0-1
    SPEECH_RATE = "speech_rate"  # the agent's syllables per second of speech
    # outcome (the call's facts: analytics_calls)
    ANSWER_S = "answer_s"  # wait in queue before an agent, seconds
    DISPOSITION_SET = "disposition_set"  # 1 when a disposition was set, else 0
    SURVEY_SCORE = "survey_score"  # the caller's survey score 1-5


ACOUSTIC_MEASURES: Final = frozenset({
    Measure.TALK_RATIO, Measure.LONGEST_SILENCE_S, Measure.OVERTALK_S,
    Measure.OVERTALK_RATIO, Measure.SPEECH_RATE})
OUTCOME_MEASURES: Final = frozenset(Measure) - ACOUSTIC_MEASURES


class Scale(StrEnum):
    """A manual criterion's answers."""

    YES_NO = "yes_no"  # yes / no / n.a.
    ONE_TO_FIVE = "1-5"  # 1..5 (or n.a.); 3 or more passes


class Outcome(StrEnum):
    """A criterion's result."""

    PASS = "pass"
    FAIL = "fail"
    #: Not applicable: the call had no occasion (no hold, no survey, no
    #: transcript for a phrase criterion); left out of the total.
    NA = "na"
    #: A manual criterion not yet answered.
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Names:
    """A display name in each console language (kk, ru, en)."""

    kk: str
    ru: str
    en: str

    def to_json(self) -> dict[str, str]:
        return {"kk": self.kk, "ru": self.ru, "en": self.en}


@dataclass(frozen=True, slots=True)
class Window:
    """Where in the call a phrase counts, in seconds of the recording:
    ``start``..``end`` from its beginning; ``last`` (when set) means the last
    ``last`` seconds of the recording instead (a closing phrase)."""

    start: float = 0.0
    end: float | None = None
    last: float | None = None


@dataclass(frozen=True, slots=True)
class Criterion:
    """One line of a scorecard. Only the fields of its kind are set."""

    id: str  # unique in the scorecard, [a-z0-9_]+
    kind: Kind
    names: Names
    weight: float = 1.0  # > 0
    critical: bool = False
    channel: str = "agent"  # caller / agent (phrases)
    window: Window = field(default_factory=Window)
    #: language -> accepted phrasings (kk, ru; any language a model has)
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: personal-data masks that fail ``no_personal_data`` (``analytics.pii``)
    masks: tuple[str, ...] = ()
    min_silence_s: float | None = None  # hold_etiquette
    lookback_s: float | None = None  # hold_etiquette
    measure: Measure | None = None  # acoustic / outcome
    min: float | None = None
    max: float | None = None
    scale: Scale | None = None  # manual
    line: int = 0  # where it was written (for messages)


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    names: Names
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True, slots=True)
class Scorecard:
    """One scorecard file (``configs/scorecards/<id>.yaml``)."""

    id: str
    version: int  # >= 1; a changed file must carry a higher version
    names: Names
    sections: tuple[Section, ...]
    #: Applies to calls of these queues / topics (both empty: the default).
    queues: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    #: sha256 of the file's canonical JSON (``scorecard.digest``).
    digest: str = ""
    path: str = ""

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        return tuple(c for s in self.sections for c in s.criteria)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a result is what it is: the words and their time on a channel,
    or a measured value (``value``, with ``at`` when it has a moment)."""

    channel: str | None = None
    text: str = ""  # the matched words (masked transcript text)
    start: float | None = None  # seconds of the recording
    end: float | None = None
    value: float | None = None
    note: str = ""  # a machine note ("no transcript", "no hold phrase before")

    def to_json(self) -> dict[str, Any]:
        pairs = (("channel", self.channel), ("text", self.text), ("start", self.start),
                 ("end", self.end), ("value", self.value), ("note", self.note))
        return {k: v for k, v in pairs if v not in (None, "")}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Evidence:
        return Evidence(channel=data.get("channel"), text=str(data.get("text", "")),
                        start=data.get("start"), end=data.get("end"),
                        value=data.get("value"), note=str(data.get("note", "")))


@dataclass(frozen=True, slots=True)
class Result:
    """A criterion's result on one call."""

    criterion: str
    outcome: Outcome
    evidence: tuple[Evidence, ...] = ()
    #: a manual 1-5 answer, or an acoustic/outcome measure
    value: float | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"criterion": self.criterion, "outcome": str(self.outcome)}
        if self.evidence:
            out["evidence"] = [e.to_json() for e in self.evidence]
        if self.value is not None:
            out["value"] = self.value
        return out

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Result:
        return Result(criterion=str(data["criterion"]), outcome=Outcome(data["outcome"]),
                      evidence=tuple(Evidence.from_json(e) for e in data.get("evidence", ())),
                      value=data.get("value"))


@dataclass(frozen=True, slots=True)
class Score:
    """A scorecard applied to one call (automatic criteria only; manual ones
    are PENDING): the row of ``qa_scores`` and the ``qa.scored`` event."""

    call_id: str
    scorecard: str
    version: int
    results: tuple[Result, ...]
    #: weighted share of passed among the passed + failed, 0-100; None: none
    total: float | None
    #: ids of failed critical criteria (empty: passes KPI 2 automatically)
    critical_failed: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.critical_failed


@dataclass(frozen=True, slots=True)
class Answer:
    """A reviewer's answer to one criterion: a manual one's value, or the
    override of an automatic result (``reason`` required then)."""

    criterion: str
    outcome: Outcome
    value: float | None = None
    comment: str = ""
    override: bool = False
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"criterion": self.criterion, "outcome": str(self.outcome)}
        for k, v in (("value", self.value), ("comment", self.comment),
                     ("reason", self.reason)):
            if v not in (None, ""):
                out[k] = v
        if self.override:
            out["override"] = True
        return out

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Answer:
        return Answer(criterion=str(data["criterion"]), outcome=Outcome(data["outcome"]),
                      value=data.get("value"), comment=str(data.get("comment", "")),
                      override=bool(data.get("override", False)),
                      reason=str(data.get("reason", "")))


class QueueReason(StrEnum):
    """Why a call is in the review queue (issue 16, "Scoring and sampling")."""

    SAMPLE = "sample"  # the random sample per agent per week
    CRITICAL = "critical"  # an automatic critical criterion failed
    SURVEY = "survey"  # the caller's survey score was low
    COMPLAINT = "complaint"  # a complaint disposition (topic in [qa] complaint_topics)
    FLAG = "flag"  # a supervisor flagged it
    CALIBRATION = "calibration"  # a second reviewer asked for, to measure agreement


@dataclass(frozen=True, slots=True)
class Acoustics:
    """The acoustic pass over a stereo recording (``acoustic.measure``):
    speech found by an energy/VAD pass on each channel, no ASR needed.
    Times in seconds of the recording; spans are (start, end)."""

    duration_s: float
    caller_talk_s: float
    agent_talk_s: float
    #: both channels speaking at once, and where
    overtalk_s: float
    overtalk: tuple[tuple[float, float], ...]
    #: stretches where neither channel speaks, longest first is not implied:
    #: in time order, every one at least ``acoustic.MIN_SILENCE_S`` long
    silences: tuple[tuple[float, float], ...]
    longest_silence_s: float
    longest_silence_at: float | None
    #: the agent's syllable nuclei per second of the agent's speech (0: none)
    agent_speech_rate: float

    @property
    def talk_ratio(self) -> float | None:
        """Agent talk over both sides' talk (None when nobody spoke)."""
        talk = self.caller_talk_s + self.agent_talk_s
        return self.agent_talk_s / talk if talk > 0 else None

    def measures(self) -> dict[str, float | None]:
        """Measure name -> value, for ``acoustic`` criteria and storage."""
        return {
            Measure.TALK_RATIO: self.talk_ratio,
            Measure.LONGEST_SILENCE_S: self.longest_silence_s,
            Measure.OVERTALK_S: self.overtalk_s,
            Measure.OVERTALK_RATIO: (self.overtalk_s / self.duration_s
                                     if self.duration_s > 0 else None),
            Measure.SPEECH_RATE: self.agent_speech_rate or None,
        }


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """What ``outcome`` criteria read: the call's facts (``analytics_calls``)."""

    wait_s: float | None = None  # in queue before an agent (None: not queued)
    disposition: str | None = None  # resolved / unresolved; None: not set
    topic: str | None = None
    survey_score: int | None = None


@dataclass(frozen=True, slots=True)
class CallInputs:
    """Everything the automatic criteria of one call read (``score.score_call``)."""

    call_id: str
    #: both channels' utterances, masked words with times (``analytics.model``)
    utterances: tuple[Utterance, ...]
    #: None when the recording could not be read (acoustic criteria: n.a.)
    acoustics: Acoustics | None
    outcome: CallOutcome
    language: str | None = None
    #: the recording's length (seconds); ``Window.last`` counts back from it
    duration_s: float = 0.0
