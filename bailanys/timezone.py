"""Kazakhstan's civil time zone: the one the KPIs, the queues and the flows count in.

Asia/Almaty in the IANA database: UTC+5 since 1 March 2024, when the whole
country moved to one zone; UTC+6 before (the database knows both). Days and
quarter-hour KPI intervals (:mod:`bailanys.metrics.windows`), the wait
estimator's day profile and a flow's default ``timezone`` are local to it.
"""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

#: The IANA name, as a flow file's ``timezone`` spells it.
ALMATY_NAME: Final = "Asia/Almaty"
#: The zone itself.
ALMATY: Final = ZoneInfo(ALMATY_NAME)
