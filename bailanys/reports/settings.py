"""``[reports]``: the regulator's reports (issue 17).

A frozen dataclass like the other config sections (``bailanys.config`` lists
it in ``SECTIONS``); only int, str and bool fields, so that
``BAILANYS_REPORTS_<KEY>`` overrides work like everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from bailanys.errors import ConfigError

#: The topic classifier: a YAML tree of topics with kk/ru names.
DEFAULT_TOPICS = "configs/topics.yaml"
#: The organisation's profile: the static rows of the semi-annual form.
DEFAULT_ORGANISATION = "configs/organisation.toml"
#: Appendix 2: the form is due "by the 15th of the month after the half-year".
DEFAULT_DUE_DAY = 15
#: The methodology: a topic that grew by more than 30 % against the previous
#: period needs an information campaign.
DEFAULT_GROWTH_FLAG_PCT = 30


@dataclass(frozen=True)
class ReportsConfig:
    """``[reports]``: where the classifier and the organisation profile are."""

    topics: str = DEFAULT_TOPICS
    organisation: str = DEFAULT_ORGANISATION
    due_day: int = DEFAULT_DUE_DAY
    growth_flag_pct: int = DEFAULT_GROWTH_FLAG_PCT

    def __post_init__(self) -> None:
        if not 1 <= self.due_day <= 28:
            raise ConfigError(f"expected an integer between 1 and 28, got {self.due_day!r}",
                              key="reports.due_day")
        if not 1 <= self.growth_flag_pct <= 1000:
            raise ConfigError(f"expected an integer between 1 and 1000, got "
                              f"{self.growth_flag_pct!r}", key="reports.growth_flag_pct")
