"""The Bailanys exception tree.

Every exception class defined in ``bailanys/`` is drawn here, with the
module that defines it when that is not this one (``tests/test_errors_tree.py``
fails when a class is missing, drawn under the wrong parent or in the wrong
module)::

    BailanysError
    ├── ConfigError            a bad config file, key or value (names file, key)
    │   ├── CalendarError      (bailanys.cases.calendar) a working-day calendar file is
    │   │                      wrong, or a date lies outside the years loaded
    │   ├── CasesConfigError   (bailanys.cases.deadlines) configs/cases.yaml has
    │   │                      problems (``problems``)
    │   ├── FaqError           (bailanys.robot.faq) the FAQ file has problems;
    │   │                      ``problems`` lists them, one file:line a line
    │   ├── RepliesError       (bailanys.cases.replies) the reply templates have
    │   │                      problems (``problems``, one file:line a line)
    │   ├── ScorecardError     (bailanys.qa.scorecard) a QA scorecard has problems
    │   │                      or changed without a new version (``problems``)
    │   └── TopicsError        (bailanys.reports.topics) the topic classifier has
    │                          problems (``problems``)
    ├── StoreError             the event store cannot be opened or migrated
    │   └── BackupError        (bailanys.ops.backup) a store could not be copied, or
    │                          its copy failed ``PRAGMA integrity_check``
    ├── StartupError           the engine cannot start (an address in use)
    ├── SipError
    │   ├── SipParseError      a malformed SIP message from the network
    │   │                      (``status`` says which response to send, if any)
    │   └── SipTransactionError   a local misuse of a transaction
    ├── SdpError               a malformed SDP body (answered with 400/488)
    │   └── NoCommonCodec      (bailanys.sip.offer_answer) no codec in common
    │                          (RFC 3264 §6: answered with 488)
    ├── MediaError
    │   └── RtpParseError      a malformed RTP/RTCP packet (dropped)
    ├── VoiceError             a prompt cannot be rendered, a speech model not used
    │   ├── TranscriptionError   a recording cannot be transcribed (not a WAV,
    │   │                        truncated, no model); ``reason`` says why
    │   └── AcousticError      a recording cannot be measured by QA's acoustic
    │                          pass (not a WAV, truncated); ``reason`` says why
    ├── InputError             a caller's or user's value is not valid (also a ValueError)
    │   ├── InvalidIinError    (bailanys.iin) not an IIN; ``reason`` says why
    │   ├── QueryError         (bailanys.analytics.query) an analyst's search cannot be
    │   │                      read; ``code`` is what the page translates
    │   ├── ParamError         (bailanys.analytics.pageparams) a parameter of the
    │   │                      analysts' page (a date, a page number) is not valid
    │   ├── IntradayParamError (bailanys.intraday.web) a parameter of the supervisors'
    │   │                      intraday APIs (a date, a period, a queue) is not valid
    │   ├── PeriodError        (bailanys.robot.gapreport) a ``--period`` that is not
    │   │                      START..END or YYYY-Qn
    │   ├── TransitionRefused  (bailanys.cases.store) a request's status change
    │   │                      the lifecycle refuses; the message says why
    │   ├── ReviewError        (bailanys.qa.answers) a QA review action refused (another
    │   │                      reviewer's draft, a final review, an override with no
    │   │                      reason...); ``code`` is what the page translates
    │   ├── ImportProblems     (bailanys.reports.imports) a CSV of other channels'
    │   │                      contacts cannot be imported; ``problems`` lists them
    │   ├── NoSuchCase         (bailanys.cases.api) no request has this number (404)
    │   ├── PromptImportError  (bailanys.prompts.audio) a recording refused (not
    │   │                      audio, silent, too long, unknown key); ``code``
    │   └── MoveHeaderError    (bailanys.ownership.moveheaders) a moved call's
    │                          X-Bailanys-* headers are not valid (answered 400)
    ├── DrawError              (bailanys.ivr.draw) a flow diagram cannot be written
    ├── QueueError             (bailanys.queue.agents) a queue call the state does not allow
    │   └── AgentStateError    (bailanys.queue.agents) an agent event its state table refuses
    ├── BackendError           (bailanys.robot.backend) a self-service back end failed
    │   │                      (``retryable``); never holds personal data
    │   ├── BackendTimeout     (bailanys.robot.backend) no answer within the timeout
    │   └── SlotTakenError     (bailanys.robot.backend) the booked slot is gone
    ├── KannelError            (bailanys.robot.kannel) the SMS gateway refused or is down
    ├── ActionError            (bailanys.console.api) the engine refuses a console action
    ├── ActionRefused          (bailanys.desk.service) the engine refuses an operator's
    │                          desktop action; ``code`` is a protocol error code
    ├── TransferError          (bailanys.transfers.targets) a transfer the engine refuses
    │                          (unknown target, no such call); the operator reads it
    ├── MonitorRefused         (bailanys.monitor.refusals) a listen, whisper or barge
    │                          the engine refuses; ``code`` is what the page translates
    ├── QaRefused              (bailanys.qa.web) the reviewers' store refuses an action;
    │                          ``code`` for the page, ``status`` the HTTP answer
    ├── ProtocolError          (bailanys.console.protocol) a console client's message is
    │                          not valid (answered with an ``error`` message)
    ├── ReportError            (bailanys.reports.produce) a regulator's report cannot be
    │                          made (a profile with problems, a part missing); ``code``
    │                          is what the page translates, ``problems`` the lines
    └── BodyError              (bailanys.web.limits) an HTTP request body cannot be
                               read (no length, too long, too slow); ``status`` is
                               the answer to send

    Exception
    └── CommandError           (bailanys.cliutil) ends a CLI command with one line on
                               stderr and an exit status; caught by ``main()``
                               only, so it is not a BailanysError

Problems in flow files are not exceptions: the loader returns them as
:class:`~bailanys.yamlsrc.Problem` lines (file, line, field, message).

Errors caused by the remote side (``SipParseError``, ``RtpParseError``) become
protocol answers or dropped packets; they never escape to the event loop.
Errors caused locally (``ConfigError``) become one clear line for the user.
"""

from __future__ import annotations


class BailanysError(Exception):
    """Base of every error raised by Bailanys on purpose."""


class ConfigError(BailanysError):
    """A configuration file, key or value is wrong.

    The message names the file, the key and what is wrong, in one line.
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        parts = [p for p in (path, key) if p]
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.path = path
        self.key = key


class StoreError(BailanysError):
    """The store cannot be opened, migrated or written."""


class StartupError(BailanysError):
    """The engine cannot start for a reason outside its config (a port in use).

    The message names the setting and the address, in one line.
    """


class SipError(BailanysError):
    """Base of SIP protocol errors."""


class SipParseError(SipError):
    """A SIP message could not be parsed.

    ``status`` is the response code a server should answer with (400 by
    default; 505 for an unsupported version) when enough of the request was
    read to form a response; ``None`` means drop the message silently.
    """

    def __init__(self, message: str, status: int | None = 400) -> None:
        super().__init__(message)
        self.status = status


class SipTransactionError(SipError):
    """A transaction was driven in a way RFC 3261 §17 does not allow."""


class SdpError(BailanysError):
    """An SDP body is malformed (RFC 4566)."""


class MediaError(BailanysError):
    """Base of media errors."""


class RtpParseError(MediaError):
    """An RTP or RTCP packet is malformed (RFC 3550 §5.1, §6.4)."""


class VoiceError(BailanysError):
    """A prompt could not be rendered or loaded."""


class TranscriptionError(VoiceError):
    """A recording's channel cannot be transcribed (issue 15, "Per channel, per language").

    ``reason`` is a short plain message for ``transcript.failed`` and
    ``bailanys analytics status``: "not a WAV file", "truncated WAV",
    "no model for kk". It never holds personal data (no words heard).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AcousticError(VoiceError):
    """A recording cannot be measured by QA's acoustic pass (issue 16, "acoustic").

    ``reason`` is a short plain message ("not a WAV file", "truncated WAV",
    "not 8 or 16 kHz (44100 Hz)"): the call is scored with its acoustic
    criteria not applicable. It never holds personal data.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InputError(BailanysError, ValueError):
    """A value typed or said by a caller, or given by a user, is not valid."""
