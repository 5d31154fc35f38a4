"""``[desk]``: the operators' desktop (issue 19, "Operators' desktop").

A frozen dataclass like the other config sections (``bailanys.config`` lists
it in ``SECTIONS``); only bool, int and tuple-of-str fields, so that
``BAILANYS_DESK_<KEY>`` overrides work like everywhere else.

The break reasons an operator may pick are ids of :data:`BREAK_LABELS`
(their Kazakh and Russian names live here, not in the config: a typo in
the config is an error, not an unnamed break on the supervisors' console).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from bailanys.errors import ConfigError

#: Issue 19: "previous contacts (last 90 days)".
DEFAULT_HISTORY_DAYS: Final = 90
#: A year: past that, a contact is not "history" the operator needs on a ring.
MAX_HISTORY_DAYS: Final = 366
#: The breaks a 1414 operator takes (the supervisors' console offers the same
#: words): lunch, training, a technical problem, personal time.
BREAK_LABELS: Final[dict[str, dict[str, str]]] = {
    "lunch": {"kk": "Түскі ас", "ru": "Обед", "en": "Lunch"},
    "training": {"kk": "Оқу", "ru": "Обучение", "en": "Training"},
    "technical": {"kk": "Техникалық ақау", "ru": "Техническая неполадка",
                  "en": "Technical problem"},
    "personal": {"kk": "Жеке себеп", "ru": "Личное время", "en": "Personal"},
    "meeting": {"kk": "Жиналыс", "ru": "Совещание", "en": "Meeting"},
}
DEFAULT_BREAK_REASONS: Final = ("lunch", "training", "technical", "personal")
#: Digits of the caller's number an operator sees when the number is masked
#: (issue 19: "masked to the last 4 digits for roles that must not see it").
VISIBLE_DIGITS: Final = 4


@dataclass(frozen=True)
class DeskConfig:
    """``[desk]``: the operators' desktop."""

    #: Serve ``/desk`` and its websocket on the console's port.
    enabled: bool = True
    #: Days of the caller's past contacts the screen pop shows.
    history_days: int = DEFAULT_HISTORY_DAYS
    #: The breaks offered to operators (ids of :data:`BREAK_LABELS`).
    break_reasons: tuple[str, ...] = DEFAULT_BREAK_REASONS
    #: Operators see the caller's whole number; false (the default): only
    #: the last :data:`VISIBLE_DIGITS` digits (supervisors always see it whole).
    show_number: bool = False
    #: "Ready" does not end a wrap-up before the call's topic and outcome are
    #: given (the wrap-up timer still ends it).
    require_disposition: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.history_days <= MAX_HISTORY_DAYS:
            raise ConfigError(f"expected an integer between 1 and {MAX_HISTORY_DAYS}, got "
                              f"{self.history_days!r}", key="desk.history_days")
        if not self.break_reasons:
            raise ConfigError("expected at least one break reason", key="desk.break_reasons")
        for reason in self.break_reasons:
            if reason not in BREAK_LABELS:
                raise ConfigError(f"unknown break reason {reason!r} (known: "
                                  f"{', '.join(BREAK_LABELS)})", key="desk.break_reasons")
        if len(set(self.break_reasons)) != len(self.break_reasons):
            raise ConfigError("a break reason is listed twice", key="desk.break_reasons")

    def reasons(self) -> list[dict[str, str]]:
        """The break reasons with their names, for the desktop's ``hello``."""
        return [{"id": r, **BREAK_LABELS[r]} for r in self.break_reasons]


def operator_problems(users: Mapping[str, str], agents: Collection[str],
                      source: str, queue_file: str) -> list[str]:
    """Issue 19, "login bound to the SIP user": every ``[console.users]``
    entry of role ``operator`` must be an agent of ``queue.file``
    (``agents``; none when ``queue_file`` is empty).
    One line per operator that is not, naming the config file and the key."""
    out = []
    for login, value in users.items():
        if value.partition(":")[0] != "operator":
            continue
        if login not in agents:
            where = queue_file or 'none (queue.file = "")'
            out.append(f"{source}: console.users.{login}: an operator's login must be the "
                       f"SIP user of an agent ([agents.{login}] in {where})")
    return out
