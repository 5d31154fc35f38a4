"""Why the engine refuses a listen, whisper or barge (issue 21).

Each refusal has a ``code`` the console's page translates (``err_<code>``
in ``console/static/i18n.js``, Kazakh, Russian and English) and an English
message with the particulars for the log and the page.
"""

from __future__ import annotations

from typing import Final

from bailanys.errors import BailanysError

#: The agent (or the call) is not talking to a caller now.
NOT_IN_CALL: Final = "not_in_call"
#: The supervisor's phone ([monitor.phones]) is not registered.
PHONE_NOT_REGISTERED: Final = "phone_not_registered"
#: Someone listens to that call already.
ALREADY_MONITORED: Final = "already_monitored"
#: The supervisor has no phone in [monitor.phones].
NO_PHONE: Final = "no_phone"
#: The supervisor is monitoring another call (one at a time).
MONITOR_BUSY: Final = "monitor_busy"
#: monitor.mode or monitor.stop while not monitoring.
NOT_MONITORING: Final = "not_monitoring"
#: A mode other than listen, whisper, barge; neither agent nor call given.
BAD_REQUEST: Final = "bad_field"

CODES: Final = (NOT_IN_CALL, PHONE_NOT_REGISTERED, ALREADY_MONITORED, NO_PHONE, MONITOR_BUSY,
                NOT_MONITORING)


class MonitorRefused(BailanysError):
    """A listen, whisper or barge the engine refuses; ``code`` is what the page
    translates, the message says why in English."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
