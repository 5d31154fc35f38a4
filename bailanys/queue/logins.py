"""When will a logged-out agent log in?  Learnt from the last few days.

Pure numpy, no clock: times are (local day number, seconds since local
midnight) pairs the caller computes.  :class:`bailanys.queue.estimator.WaitEstimator`
uses it so that a caller waiting at 12:55 is told about the shift that
starts at 13:00: without it every login is a surprise, and the error of
the announcements made just before a shift starts is the largest of the
day (bench/ewt.py).

The model is a bootstrap over days.  Each past day the centre was open (some
agent logged in) is one equally likely picture of today; on that day, an
agent logged out now at ``second`` logs in at its first login after
``second``, or not at all.  One past day is drawn per future, the same for
all agents, so a whole shift arrives together in a future or not at all,
and a day an agent did not work counts as "does not come".  There is no
parametric profile, no weekday rule and no roster: an agent who logs in at
13:00 every day is expected at 13:00; one who came at 13:00 on one day out of
five is expected with probability 1/5.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]

#: Past days a picture of today is drawn from.
DAYS = 14
#: Logins kept per agent per day (a phone re-registering all day must not
#: grow memory).
PER_DAY = 8


class LoginHabits:
    """Agents' logins over the last :data:`DAYS` days the centre was open."""

    __slots__ = ("days", "_open", "_logins", "_cache")

    def __init__(self, days: int = DAYS) -> None:
        if days < 1:
            raise ValueError(f"days must be at least 1, got {days!r}")
        self.days = days
        self._open: deque[int] = deque(maxlen=days)  # days with a login, ascending
        self._logins: dict[str, dict[int, list[float]]] = {}
        # today -> (user -> row, (users + 1, past days, PER_DAY) login
        # seconds, inf-padded; the last row for users never seen): the past
        # does not change during a day.
        self._cache: tuple[int, dict[str, int], Array] | None = None

    def record(self, user: str, day: int, second: float) -> None:
        """``user`` logged in on ``day`` at ``second`` (local time)."""
        if not 0.0 <= second < 86_400.0 + 3_600.0:  # a DST day may be 25 h long
            raise ValueError(f"second must be within the day, got {second!r}")
        if self._open and day < self._open[-1]:
            return  # the clock went back a day: keep what was learnt
        if not self._open or self._open[-1] != day:
            self._open.append(day)
        days = self._logins.setdefault(user, {})
        for old in [d for d in days if d < self._open[0]]:
            del days[old]
        seen = days.setdefault(day, [])
        if len(seen) < PER_DAY:
            seen.append(second)
        if self._cache is not None and day < self._cache[0]:
            self._cache = None  # a late record for a past day

    def past_days(self, today: int) -> list[int]:
        """The days before ``today`` the centre was open, oldest first."""
        return [d for d in self._open if d < today]

    def next_logins(
        self, users: Sequence[str], today: int, second: float, horizon: float
    ) -> Array:
        """(past days, users): seconds from ``second`` to each user's first
        login after it on each past day; ``inf`` when none came within
        ``horizon``.  No rows before the centre has a past day."""
        rows, table = self._table(today)
        if table.shape[1] == 0:
            return np.full((0, len(users)), np.inf)
        index = np.array([rows.get(u, -1) for u in users], dtype=np.int64)
        seconds = table[index]  # row -1: the all-inf row of users never seen
        later = np.where(seconds > second, seconds, np.inf).min(axis=2) - second
        later[later > horizon] = np.inf
        return np.asarray(later.T, dtype=np.float64)

    def _table(self, today: int) -> tuple[dict[str, int], Array]:
        if self._cache is not None and self._cache[0] == today:
            return self._cache[1], self._cache[2]
        past = self.past_days(today)
        rows = {user: i for i, user in enumerate(self._logins)}
        table = np.full((len(rows) + 1, len(past), PER_DAY), np.inf)  # + the unknown's
        for user, i in rows.items():
            days = self._logins[user]
            for j, day in enumerate(past):
                seen = days.get(day, ())
                table[i, j, : len(seen)] = seen
        self._cache = (today, rows, table)
        return rows, table
