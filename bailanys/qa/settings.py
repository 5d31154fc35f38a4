"""``[qa]``: quality assurance (issue 16): scorecards, scoring, the review queue.

A frozen dataclass like the other config sections (``bailanys.config`` lists
it in ``SECTIONS``); only int, str and bool fields, so that
``BAILANYS_QA_<KEY>`` overrides work like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from bailanys.errors import ConfigError

#: Where the scorecards are (``configs/scorecards/*.yaml``).
DEFAULT_SCORECARD_DIR = "configs/scorecards"
#: The random sample per agent per week (issue 16: "a random sample per agent
#: per week (configurable, e.g. 5 calls)"). Contact centres review 1-3 % of
#: calls by hand; at 500 operators and ~100 calls each per week, 5 is ~5 %.
DEFAULT_SAMPLE_PER_AGENT_WEEK = 5
#: A survey score at or below this sends the call to review (1-5 scale: the
#: 1414 profile's CDI counts 1-2 as dissatisfied).
DEFAULT_LOW_SURVEY_SCORE = 2
#: Disposition topics that are complaints about the service (a call whose
#: disposition names one of these goes to review), comma-separated.
DEFAULT_COMPLAINT_TOPICS = "complaint"


@dataclass(frozen=True)
class QaConfig:
    """``[qa]``: automatic scoring of transcribed calls and the review queue."""

    #: Score every transcribed call with its scorecard (the workers do it).
    enabled: bool = True
    #: Directory of scorecard YAML files.
    scorecard_dir: str = DEFAULT_SCORECARD_DIR
    #: Calls per agent per ISO week drawn at random into the review queue (0: none).
    sample_per_agent_week: int = DEFAULT_SAMPLE_PER_AGENT_WEEK
    #: Survey scores at or below this go to review (0: none).
    low_survey_score: int = DEFAULT_LOW_SURVEY_SCORE
    #: Disposition topics that are complaints, comma-separated ("": none).
    complaint_topics: str = DEFAULT_COMPLAINT_TOPICS

    def __post_init__(self) -> None:
        if not 0 <= self.sample_per_agent_week <= 1000:
            raise ConfigError(f"expected an integer between 0 and 1000, got "
                              f"{self.sample_per_agent_week!r}", key="qa.sample_per_agent_week")
        if not 0 <= self.low_survey_score <= 5:
            raise ConfigError(f"expected an integer between 0 and 5, got "
                              f"{self.low_survey_score!r}", key="qa.low_survey_score")

    @property
    def complaints(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.complaint_topics.split(",") if t.strip())
