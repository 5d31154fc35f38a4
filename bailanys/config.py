"""Configuration: one TOML file -> frozen dataclasses, validated at load.

``load_config(path, env)`` reads ``configs/default.toml`` (or the given file),
applies ``BAILANYS_<SECTION>_<KEY>`` environment overrides and returns a
``Config``: one frozen dataclass per component (``sip``, ``media``, ``store``,
``voice``, ``registrar``, ``auth``, ``engine``, ``analytics``
(in :mod:`bailanys.analytics.settings`), ``qa`` (in :mod:`bailanys.qa.settings`),
``reports`` (in :mod:`bailanys.reports.settings`), ``cases`` (in
:mod:`bailanys.cases.settings`), ``desk`` (in :mod:`bailanys.desk.settings`),
``log``). Every value is checked here,
once, at the edge; a bad one raises ``ConfigError`` naming the file (or the
environment variable), the ``section.key`` and what was expected, in one line.

Relative paths in the file (``store.path``, ``media.record_dir``,
``voice.prompt_dir``) are relative to the working directory.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bailanys import authguard, tomlcheck
from bailanys.analytics.settings import AnalyticsConfig
from bailanys.cases.settings import CasesFileConfig
from bailanys.cluster.proxy import ClusterConfig  # issue 22: [cluster]
from bailanys.desk.settings import DeskConfig
from bailanys.errors import ConfigError
from bailanys.monitor.settings import MonitorConfig
from bailanys.ops.settings import BackupConfig, RetentionConfig
from bailanys.qa.settings import QaConfig
from bailanys.reports.settings import ReportsConfig
from bailanys.storeurl import StoreUrl, parse_store_url
from bailanys.tomlcheck import Kind
from bailanys.transfers.settings import TransfersConfig

#: ``configs/default.toml`` next to the package (the project root).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = PROJECT_ROOT / "configs" / "default.toml"
ENV_PREFIX = "BAILANYS_"

# --- defaults, each with where the number comes from --------------------------

#: RFC 3261 §18.1.1 / §19.1.2: 5060 is SIP's registered port; loopback until
#: an operator opens it up on purpose.
DEFAULT_LISTEN = "127.0.0.1:5060"
#: RFC 3261 §18: UDP and TCP are the two transports every element MUST support.
DEFAULT_TRANSPORTS = ("udp", "tcp")
DEFAULT_USER_AGENT = "Bailanys/0.1"
#: Flood guard: a busy PBX trunk peaks at a few new calls per second; 20/s from
#: one IP is a dialler gone wrong or a scanner (SIPVicious sends hundreds).
DEFAULT_MAX_NEW_CALLS_PER_SOURCE = 20
#: Capacity target: 2000 concurrent G.711 calls is ~200 Mbit/s of RTP, what
#: one engine node on one loop is sized for (bench/ measures it).
DEFAULT_MAX_CALLS = 2000

#: Asterisk's rtp.conf default range, minus the top; even ports for RTP and
#: the next odd one for RTCP (RFC 3550 §11).
DEFAULT_RTP_PORTS = "20000-29999"
#: RFC 3551 §4.5: G.711's default packetisation is 20 ms.
DEFAULT_PTIME_MS = 20
#: 3 frames = 60 ms of prefetch, the usual fixed jitter buffer for LAN/VPN.
DEFAULT_JITTER_PREFETCH = 3
# Seconds without RTP before a call is hung up (Asterisk's rtptimeout is often 60).
DEFAULT_RTP_TIMEOUT_S = 60
DEFAULT_RECORD_DIR = "var/recordings"

DEFAULT_STORE_PATH = "var/bailanys.db"
#: 50 ms batches: 20 commits/s keeps SQLite's fsync cost low in WAL mode while
#: the console still sees events well under the 0.1 s "instant" threshold.
DEFAULT_BATCH_MS = 50
#: Upper bound per transaction; one executemany of 1000 rows takes ~2 ms.
DEFAULT_BATCH_MAX = 1000

DEFAULT_PROMPT_DIR = "voice_models/prompts"
#: espeak-ng / pyttsx3 speak at ~175 words/min by default; 150 is clearer on
#: narrow-band (8 kHz) telephone audio.
DEFAULT_VOICE_RATE = 150

#: Asterisk's minexpiry (60 s) and RFC 3261 §10.2.1.1's default of 3600 s.
DEFAULT_MIN_EXPIRES = 60
DEFAULT_MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600
#: A digest nonce lives 5 minutes (RFC 7616 §3.3 leaves it to the server).
DEFAULT_NONCE_TTL = 300

#: The demo number answered by the demo IVR (a short service number).
DEFAULT_NUMBERS = ("1499",)
#: The two languages the contact centre serves (DOMAIN.md).
DEFAULT_LANGUAGES = ("kk", "ru")
#: One hour cap per call so a stuck leg cannot hold a channel forever.
DEFAULT_MAX_CALL_SECONDS = 3600
#: Silence (no DTMF, no speech) before the IVR repeats or gives up.
DEFAULT_NO_INPUT_SECONDS = 15
# Ring before answering, in ms (0 = answer at once; a test rings to exercise CANCEL).
DEFAULT_ANSWER_DELAY_MS = 0
#: Seconds a stop (SIGTERM) gives the callers on the line to hear that the
#: service is restarting (requirements item 34) before the BYE: the notice
#: lasts 9.0 s in Kazakh and 7.3 s in Russian at 150 words a minute (measured),
#: both when the caller chose no language; systemd's default TimeoutStopSec
#: (90 s) leaves room for the rest of the stop.
DEFAULT_DRAIN_SECONDS = 20

DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_FLOW_DIR = "ivr_flows"
#: Flow files are checked for changes this often (a stat per file: cheap).
DEFAULT_FLOW_RELOAD_SECONDS = 2
DEFAULT_MODEL_DIR = "voice_models"
DEFAULT_QUEUE_FILE = "configs/queues.toml"
DEFAULT_CONSOLE_LISTEN = "127.0.0.1:8080"
DEFAULT_ROBOT_DEMO_DB = "var/robot-demo.db"
#: The quarterly analysis of requests compares a quarter with the one before
#: (kz-methodology-request-analysis-2024: "период, предшествующий отчетному")
#: and its FAQ candidates are read against the same quarter a year back: a
#: year plus the month the report is prepared in (due by the 15th) is ~400 days.
DEFAULT_GAPS_RETENTION_DAYS = 400
DEFAULT_SESSION_TTL_S = 8 * 3600  # one shift
DEFAULT_SERVICE_LEVEL_S = 20  # the usual 80/20 service level
#: Announcements are due on whole seconds; a quarter second keeps them on time.
DEFAULT_QUEUE_TICK_MS = 250
#: Two decoding threads: the CI machine has two cores and media needs one.
DEFAULT_ASR_WORKERS = 2
#: Vosk word confidences of in-grammar words in quiet speech are near 100;
#: noise forced onto a keyword scores lower (measured in tests/voice/test_asr.py).
DEFAULT_ASR_MIN_CONFIDENCE = 60

TRANSPORTS = ("udp", "tcp")
LANGUAGES = ("kk", "ru")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _invalid(key: str, message: str) -> ConfigError:
    return ConfigError(message, key=key)


def _check_range(key: str, value: int, lo: int, hi: int | None = None) -> None:
    if value < lo or (hi is not None and value > hi):
        expected = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise _invalid(key, f"expected an integer {expected}, got {value!r}")


def split_host_port(value: str, key: str = "sip.listen") -> tuple[str, int]:
    """``"127.0.0.1:5060"`` or ``"[::1]:5060"`` -> (host, port), validated."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.\-]+):(\d{1,5})", value)
    if m is None:
        raise _invalid(key, f"expected host:port such as '127.0.0.1:5060', got {value!r}")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 1 <= port <= 65535:
        raise _invalid(key, f"expected a port between 1 and 65535, got {port} in {value!r}")
    return host, port


#: Addresses that mean "every interface": never to be advertised to a peer.
WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]")


def _check_advertised(key: str, value: str) -> None:
    """A host we tell peers to send to: a name or an address, never a wildcard."""
    if value in WILDCARD_HOSTS:
        raise _invalid(key, f"expected the address peers reach this machine at, got {value!r} "
                       "(a wildcard means every interface, not an address to send to)")
    if not re.fullmatch(r"[A-Za-z0-9.\-]+|[0-9A-Fa-f:.]+", value):
        raise _invalid(key, f"expected a host name or an IP address, got {value!r}")


def parse_port_range(value: str, key: str = "media.rtp_ports") -> tuple[int, int]:
    """``"20000-29999"`` -> (20000, 29999); 1024..65535, lo < hi, lo even."""
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
    expected = "expected 'LO-HI' with 1024 <= LO < HI <= 65535 and LO even"
    if m is None:
        raise _invalid(key, f"{expected}, got {value!r}")
    lo, hi = int(m.group(1)), int(m.group(2))
    if not (1024 <= lo < hi <= 65535) or lo % 2:
        raise _invalid(key, f"{expected}, got {value!r}")
    return lo, hi


# --- sections -------------------------------------------------------------------


@dataclass(frozen=True)
class SipConfig:
    """``[sip]``: where and how the engine speaks SIP (RFC 3261)."""

    #: host:port bound for both UDP and TCP.
    listen: str = DEFAULT_LISTEN
    #: Transports opened on ``listen``: any of "udp", "tcp".
    transports: tuple[str, ...] = DEFAULT_TRANSPORTS
    #: Our SIP domain; empty means the listen host.
    domain: str = ""
    #: Sent in User-Agent and Server headers.
    user_agent: str = DEFAULT_USER_AGENT
    #: New INVITEs per second from one source IP beyond which we answer 503.
    max_new_calls_per_source_per_second: int = DEFAULT_MAX_NEW_CALLS_PER_SOURCE
    #: Concurrent calls beyond which new INVITEs get 503.
    max_calls: int = DEFAULT_MAX_CALLS
    #: The host our Contact and Via name (the address a trunk or SBC reaches
    #: us at); empty: the listen host, or ``media.rtp_host`` when the listen
    #: host is a wildcard (0.0.0.0, ::).
    advertise: str = ""

    def __post_init__(self) -> None:
        split_host_port(self.listen, "sip.listen")
        if self.advertise:
            _check_advertised("sip.advertise", self.advertise)
        if not self.transports:
            raise _invalid("sip.transports", "expected at least one of 'udp', 'tcp', got []")
        for t in self.transports:
            if t not in TRANSPORTS:
                raise _invalid("sip.transports", f"expected 'udp' or 'tcp', got {t!r}")
        if len(set(self.transports)) != len(self.transports):
            raise _invalid("sip.transports", f"duplicate transport in {list(self.transports)}")
        if not self.user_agent.strip():
            raise _invalid("sip.user_agent", "expected a non-empty string, got ''")
        _check_range(
            "sip.max_new_calls_per_source_per_second", self.max_new_calls_per_source_per_second, 1
        )
        _check_range("sip.max_calls", self.max_calls, 1)

    @property
    def host(self) -> str:
        return split_host_port(self.listen)[0]

    @property
    def port(self) -> int:
        return split_host_port(self.listen)[1]

    @property
    def wildcard(self) -> bool:
        """The engine listens on every interface (0.0.0.0 or ::)."""
        return self.host in WILDCARD_HOSTS

    @property
    def effective_domain(self) -> str:
        """``domain``, or ``advertise``, or the listen host."""
        return self.domain or self.advertise or self.host


@dataclass(frozen=True)
class MediaConfig:
    """``[media]``: RTP ports, packetisation, recording, DTMF detection."""

    #: "LO-HI": even ports carry RTP, the next odd port RTCP (RFC 3550 §11).
    rtp_ports: str = DEFAULT_RTP_PORTS
    #: Address advertised in SDP c= lines; empty means the SIP host.
    rtp_host: str = ""
    #: Packetisation time in milliseconds (RFC 4566 a=ptime).
    ptime_ms: int = DEFAULT_PTIME_MS
    #: Frames the jitter buffer holds before playout starts.
    jitter_prefetch: int = DEFAULT_JITTER_PREFETCH
    #: Where WAV recordings go.
    record_dir: str = DEFAULT_RECORD_DIR
    #: Record every call.
    record_calls: bool = False
    #: Also detect DTMF tones in the audio (Goertzel), not only RFC 4733.
    inband_dtmf: bool = True
    #: Send RTP back to where the peer's RTP comes from (RFC 4961 symmetric
    #: RTP, "comedia" latching), not to the SDP address: right behind NAT.
    symmetric_rtp: bool = True
    #: Hang up a call whose peer sent no RTP for this many seconds (0 = never);
    #: a caller who vanished without BYE must not hold a line for an hour.
    rtp_timeout_s: int = DEFAULT_RTP_TIMEOUT_S

    def __post_init__(self) -> None:
        parse_port_range(self.rtp_ports, "media.rtp_ports")
        if self.rtp_host:
            _check_advertised("media.rtp_host", self.rtp_host)
        if self.ptime_ms % 10 or not 10 <= self.ptime_ms <= 200:
            raise _invalid(
                "media.ptime_ms",
                f"expected a multiple of 10 between 10 and 200, got {self.ptime_ms!r}",
            )
        # 1..16: the jitter buffer holds 16 frames (bailanys.media.session).
        _check_range("media.jitter_prefetch", self.jitter_prefetch, 1, 16)
        _check_range("media.rtp_timeout_s", self.rtp_timeout_s, 0, 86_400)
        if not self.record_dir:
            raise _invalid("media.record_dir", "expected a directory path, got ''")

    @property
    def port_range(self) -> tuple[int, int]:
        return parse_port_range(self.rtp_ports)


@dataclass(frozen=True)
class StoreConfig:
    """``[store]``: the event store (SQLite, or PostgreSQL through ``url``)."""

    #: SQLite file (":memory:" for tests); its directory is created.
    path: str = DEFAULT_STORE_PATH
    #: The event writer commits every this many milliseconds.
    batch_ms: int = DEFAULT_BATCH_MS
    #: At most this many events per transaction.
    batch_max: int = DEFAULT_BATCH_MAX
    #: Issue 22: ``sqlite:///PATH`` or a plain path (sets ``path``), or
    #: ``postgresql://USER@HOST:PORT/DBNAME``; "" keeps ``path`` (SQLite).
    url: str = ""

    def __post_init__(self) -> None:
        if not self.path:
            raise _invalid("store.path", "expected a file path, got ''")
        _check_range("store.batch_ms", self.batch_ms, 1, 60_000)
        _check_range("store.batch_max", self.batch_max, 1)
        if self.url:
            try:
                parsed = parse_store_url(self.url)
            except ValueError as exc:
                raise _invalid("store.url", str(exc)) from None
            if parsed.backend == "sqlite":  # the SQLite-only readers keep using path
                object.__setattr__(self, "path", parsed.target)

    @property
    def location(self) -> StoreUrl:
        """Where the store is: ``url`` when set, else the SQLite ``path``."""
        return parse_store_url(self.url) if self.url else StoreUrl("sqlite", self.path)


@dataclass(frozen=True)
class VoiceConfig:
    """``[voice]``: text-to-speech prompts."""

    #: Rendered prompt cache.
    prompt_dir: str = DEFAULT_PROMPT_DIR
    #: Speech rate in words per minute.
    rate: int = DEFAULT_VOICE_RATE
    #: TTS voice for Kazakh.
    voice_kk: str = "kk"
    #: TTS voice for Russian.
    voice_ru: str = "ru"
    #: Recorded prompts (issue 21, ``bailanys prompts import``): they win over TTS.
    recorded_dir: str = "var/prompts"

    def __post_init__(self) -> None:
        if not self.recorded_dir:
            raise _invalid("voice.recorded_dir", "expected a directory path, got ''")
        if not self.prompt_dir:
            raise _invalid("voice.prompt_dir", "expected a directory path, got ''")
        _check_range("voice.rate", self.rate, 50, 500)
        for key in ("voice_kk", "voice_ru"):
            if not getattr(self, key):
                raise _invalid(f"voice.{key}", "expected a voice name, got ''")


def _empty_users() -> Mapping[str, str]:
    return types.MappingProxyType({})


@dataclass(frozen=True)
class RegistrarConfig:
    """``[registrar]``: REGISTER for operators' phones (RFC 3261 §10)."""

    #: Digest realm; empty means the SIP domain.
    realm: str = ""
    #: Shorter Expires get 423 Interval Too Brief (RFC 3261 §10.3 step 7).
    min_expires: int = DEFAULT_MIN_EXPIRES
    #: Longer Expires are cut down to this.
    max_expires: int = DEFAULT_MAX_EXPIRES
    #: Used when the REGISTER names no expiry.
    default_expires: int = DEFAULT_EXPIRES
    #: Seconds a digest nonce stays valid.
    nonce_ttl: int = DEFAULT_NONCE_TTL
    #: ``[registrar.users]``: SIP user -> password.
    users: Mapping[str, str] = field(default_factory=_empty_users)

    def __post_init__(self) -> None:
        _check_range("registrar.min_expires", self.min_expires, 1)
        if self.max_expires < self.min_expires:
            raise _invalid(
                "registrar.max_expires",
                f"expected at least min_expires ({self.min_expires}), got {self.max_expires}",
            )
        if not self.min_expires <= self.default_expires <= self.max_expires:
            raise _invalid(
                "registrar.default_expires",
                f"expected between min_expires ({self.min_expires}) and max_expires "
                f"({self.max_expires}), got {self.default_expires}",
            )
        _check_range("registrar.nonce_ttl", self.nonce_ttl, 1)
        for user, password in self.users.items():
            if not re.fullmatch(r"[A-Za-z0-9._~+\-]+", user):
                raise _invalid(
                    f"registrar.users.{user}",
                    f"expected a SIP user name of letters, digits and ._~+-, got {user!r}",
                )
            if not isinstance(password, str) or not password:
                raise _invalid(
                    f"registrar.users.{user}", f"expected a non-empty password, got {password!r}"
                )
        object.__setattr__(self, "users", types.MappingProxyType(dict(self.users)))


@dataclass(frozen=True)
class AuthConfig:
    """``[auth]``: throttling of wrong passwords, SIP REGISTER and console login alike.

    The policy and where each default comes from: :mod:`bailanys.authguard`.
    """

    #: Wrong passwords from one address (IPv6: one /64) within ``window_s``
    #: before it is banned (fail2ban's maxretry).
    source_failures: int = authguard.DEFAULT_SOURCE_FAILURES
    #: Wrong passwords for one account, from addresses that have not logged
    #: in as it, within ``window_s`` before the account is banned for them.
    account_failures: int = authguard.DEFAULT_ACCOUNT_FAILURES
    #: The failures above drain over this many seconds (fail2ban's findtime).
    window_s: int = authguard.DEFAULT_WINDOW_S
    #: First ban in seconds; each later ban of the same key doubles it...
    ban_s: int = authguard.DEFAULT_BAN_S
    #: ...up to this many seconds.
    max_ban_s: int = authguard.DEFAULT_MAX_BAN_S
    #: Seconds without failures after which a key's earlier bans are forgotten.
    forget_s: int = authguard.DEFAULT_FORGET_S
    #: Seconds an address that logged in as an account stays exempt from that
    #: account's ban (so an attack cannot lock the operator out).
    trust_s: int = authguard.DEFAULT_TRUST_S
    #: Addresses and names remembered at once (least recently failed go first).
    max_entries: int = authguard.DEFAULT_MAX_ENTRIES

    def __post_init__(self) -> None:
        _check_range("auth.source_failures", self.source_failures, 1, 1000)
        _check_range("auth.account_failures", self.account_failures, 1, 10_000)
        _check_range("auth.window_s", self.window_s, 1, 86_400)
        _check_range("auth.ban_s", self.ban_s, 1, 86_400)
        _check_range("auth.max_ban_s", self.max_ban_s, self.ban_s, 30 * 86_400)
        _check_range("auth.forget_s", self.forget_s, 1, 365 * 86_400)
        _check_range("auth.trust_s", self.trust_s, 1, 365 * 86_400)
        _check_range("auth.max_entries", self.max_entries, 100, 10_000_000)

    @property
    def limits(self) -> authguard.Limits:
        return authguard.Limits(**dataclasses.asdict(self))


@dataclass(frozen=True)
class EngineConfig:
    """``[engine]``: which calls the engine answers and how long they may last."""

    #: Dialled numbers answered by the built-in demo (keys read back), unless
    #: a flow in ``ivr.flow_dir`` claims them.
    numbers: tuple[str, ...] = DEFAULT_NUMBERS
    #: Languages offered, first is the default.
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    #: A call is hung up after this many seconds.
    max_call_seconds: int = DEFAULT_MAX_CALL_SECONDS
    #: Seconds of no input before the IVR reprompts.
    no_input_seconds: int = DEFAULT_NO_INPUT_SECONDS
    #: Milliseconds to ring (180) before answering (200).
    answer_delay_ms: int = DEFAULT_ANSWER_DELAY_MS
    #: On a stop, seconds at most to tell the callers on the line that the
    #: service is restarting before hanging up (0: hang up at once).
    drain_seconds: int = DEFAULT_DRAIN_SECONDS

    def __post_init__(self) -> None:
        for n in self.numbers:
            if not re.fullmatch(r"\+?[0-9*#]+", n):
                raise _invalid("engine.numbers", f"expected dialled digits, got {n!r}")
        if not self.languages:
            raise _invalid("engine.languages", "expected at least one of 'kk', 'ru', got []")
        for lang in self.languages:
            if lang not in LANGUAGES:
                raise _invalid("engine.languages", f"expected 'kk' or 'ru', got {lang!r}")
        _check_range("engine.max_call_seconds", self.max_call_seconds, 1)
        _check_range("engine.no_input_seconds", self.no_input_seconds, 1)
        _check_range("engine.answer_delay_ms", self.answer_delay_ms, 0, 60_000)
        _check_range("engine.drain_seconds", self.drain_seconds, 0, 600)


@dataclass(frozen=True)
class IvrConfig:
    """``[ivr]``: the IVR flows (``ivr_flows/*.yaml``)."""

    #: Directory of flow files; a flow's ``numbers`` say which calls it answers.
    flow_dir: str = DEFAULT_FLOW_DIR
    #: Seconds between checks for changed flow files (0 = load once at start).
    reload_seconds: int = DEFAULT_FLOW_RELOAD_SECONDS

    def __post_init__(self) -> None:
        _check_range("ivr.reload_seconds", self.reload_seconds, 0, 3600)


@dataclass(frozen=True)
class QueueFileConfig:
    """``[queue]``: the queues and agents (their own file: ``configs/queues.toml``)."""

    #: TOML file with ``[queues.NAME]`` and ``[agents.USER]`` tables; one that
    #: does not exist stops the engine (``bailanys.configcheck``); "" runs
    #: without queues on purpose (queue nodes take their fallback).
    file: str = DEFAULT_QUEUE_FILE
    #: Record every call bridged to an agent (stereo WAV: caller left, agent right).
    record: bool = True
    #: Seconds between the queue manager's clock ticks (announcements, timeouts).
    tick_ms: int = DEFAULT_QUEUE_TICK_MS

    def __post_init__(self) -> None:
        _check_range("queue.tick_ms", self.tick_ms, 50, 5000)


@dataclass(frozen=True)
class RobotConfig:
    """``[robot]``: the voice robot's self-service back end and SMS (Kannel)."""

    #: SQLite file of the demo back end (sample documents, branches, slots).
    demo_db: str = DEFAULT_ROBOT_DEMO_DB
    #: Kannel smsbox's sendsms interface "host:port"; empty: no SMS (services
    #: that need one hand the caller to an operator).
    kannel: str = ""
    kannel_user: str = "bailanys"
    kannel_password: str = ""
    #: The sender shown to the citizen.
    sms_sender: str = "1414"
    #: host:port where Kannel's delivery reports are received; empty: none.
    dlr_listen: str = ""
    #: The FAQ the voice assistant answers from (bailanys.robot.faq); empty:
    #: no questions, the assistant offers the self-services by key only.
    faq: str = "knowledge/faq.yaml"
    #: Cache of the FAQ's sentence embeddings (keyed by the FAQ's content).
    faq_cache: str = "var/faq_embeddings.npz"
    #: Days the assistant's unanswered questions (masked) are kept for
    #: ``bailanys faq gaps`` (issue 18); 0 keeps none (see the constant).
    gaps_retention_days: int = DEFAULT_GAPS_RETENTION_DAYS

    def __post_init__(self) -> None:
        if not self.demo_db:
            raise _invalid("robot.demo_db", "expected a file path, got ''")
        for key in ("kannel", "dlr_listen"):
            value = getattr(self, key)
            if value:
                split_host_port(value, f"robot.{key}")
        _check_range("robot.gaps_retention_days", self.gaps_retention_days, 0, 3660)


CONSOLE_ROLES = ("supervisor", "analyst", "qa", "admin", "operator")


@dataclass(frozen=True)
class ConsoleConfig:
    """``[console]``: the supervisors' live console (HTTP + websockets)."""

    #: host:port of the console; keep it on loopback or behind a TLS proxy.
    #: Empty: no console.
    listen: str = DEFAULT_CONSOLE_LISTEN
    #: Seconds a login session lasts without activity.
    session_ttl_s: int = DEFAULT_SESSION_TTL_S
    #: Service-level threshold T in seconds (share answered within T).
    service_level_s: int = DEFAULT_SERVICE_LEVEL_S
    #: KPI 1 of every caller who left the queue, not only the answered
    #: (docs/kpi.md, "Readings": false is the requirement's reading).
    kpi_wait_of_all: bool = False
    #: FCR per call with a disposition, not per request (docs/kpi.md).
    kpi_fcr_per_call: bool = False
    #: ``[console.users]``: user = "ROLE:HASH", ROLE one of supervisor, analyst,
    #: qa, admin, operator (an operator's login is its SIP user in
    #: ``[queue.agents]``); HASH from ``bailanys console hash-password`` (scrypt).
    users: Mapping[str, str] = field(default_factory=_empty_users)
    #: PEM certificate (chain) and private key: the console serves HTTPS and
    #: WSS, its cookies are ``Secure`` and it sends HSTS. Both or neither;
    #: ``bailanys config check`` reads them (files there, key matches).
    tls_cert: str = ""
    tls_key: str = ""

    def __post_init__(self) -> None:
        if self.listen:
            split_host_port(self.listen, "console.listen")
        if bool(self.tls_cert) != bool(self.tls_key):
            given, missing = (("tls_cert", "tls_key") if self.tls_cert
                              else ("tls_key", "tls_cert"))
            raise _invalid(f"console.{missing}", f"expected a PEM file to go with "
                           f"console.{given} (HTTPS needs both), got ''")
        _check_range("console.session_ttl_s", self.session_ttl_s, 60, 7 * 86400)
        _check_range("console.service_level_s", self.service_level_s, 1, 600)
        for user, value in self.users.items():
            key = f"console.users.{user}"
            if not isinstance(value, str) or ":" not in value:
                raise _invalid(key, 'expected "ROLE:HASH" (bailanys console hash-password)')
            role, _, hashed = value.partition(":")
            if role not in CONSOLE_ROLES:
                raise _invalid(key, f"expected a role among {', '.join(CONSOLE_ROLES)}, "
                               f"got {role!r}")
            if not hashed.startswith("scrypt$"):
                raise _invalid(key, "expected a scrypt hash (bailanys console hash-password)")
        object.__setattr__(self, "users", types.MappingProxyType(dict(self.users)))

    @property
    def tls(self) -> bool:
        """The console serves HTTPS (``tls_cert`` and ``tls_key`` set)."""
        return bool(self.tls_cert)

    @property
    def host(self) -> str:
        return split_host_port(self.listen, "console.listen")[0]

    @property
    def port(self) -> int:
        return split_host_port(self.listen, "console.listen")[1]


@dataclass(frozen=True)
class AsrConfig:
    """``[asr]``: Vosk speech recognition for menus (grammar mode)."""

    #: Where models are looked for: ``<model_dir>/<lang>/`` (VOSK_MODEL_KK and
    #: VOSK_MODEL_RU override it).
    model_dir: str = DEFAULT_MODEL_DIR
    #: Decoding threads (Vosk releases the GIL while decoding).
    workers: int = DEFAULT_ASR_WORKERS
    #: Results under this confidence (mean word confidence, 0-100) count as no match.
    min_confidence: int = DEFAULT_ASR_MIN_CONFIDENCE

    def __post_init__(self) -> None:
        _check_range("asr.workers", self.workers, 1, 64)
        _check_range("asr.min_confidence", self.min_confidence, 0, 100)


@dataclass(frozen=True)
class LogConfig:
    """``[log]``: Python logging."""

    #: DEBUG, INFO, WARNING, ERROR or CRITICAL.
    level: str = DEFAULT_LOG_LEVEL
    #: Write the log to this file instead of stderr, reopened when logrotate
    #: moves it (``deploy/logrotate.conf``); empty: stderr (journald).
    file: str = ""

    def __post_init__(self) -> None:
        if self.level.upper() not in LOG_LEVELS:
            raise _invalid(
                "log.level", f"expected one of {', '.join(LOG_LEVELS)}, got {self.level!r}"
            )
        object.__setattr__(self, "level", self.level.upper())


@dataclass(frozen=True)
class Config:
    """The whole configuration, one frozen dataclass per section."""

    sip: SipConfig = field(default_factory=SipConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    registrar: RegistrarConfig = field(default_factory=RegistrarConfig)
    auth: AuthConfig = field(default_factory=AuthConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    ivr: IvrConfig = field(default_factory=IvrConfig)
    queue: QueueFileConfig = field(default_factory=QueueFileConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    robot: RobotConfig = field(default_factory=RobotConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    analytics: AnalyticsConfig = field(default_factory=AnalyticsConfig)
    qa: QaConfig = field(default_factory=QaConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    cases: CasesFileConfig = field(default_factory=CasesFileConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)
    transfers: TransfersConfig = field(default_factory=TransfersConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    log: LogConfig = field(default_factory=LogConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    #: The file it was read from (None: built-in defaults).
    source: str | None = None

    @property
    def rtp_host(self) -> str:
        """Address advertised in SDP: ``media.rtp_host`` or the SIP host."""
        return self.media.rtp_host or self.sip.host

    @property
    def contact_host(self) -> str:
        """The host in our Contact and Via: ``sip.advertise``; else, on a
        wildcard listen, ``media.rtp_host``; else the listen host."""
        if self.sip.advertise:
            return self.sip.advertise
        return self.media.rtp_host if self.sip.wildcard and self.media.rtp_host else self.sip.host

    @property
    def sip_domain(self) -> str:
        """The SIP domain: ``sip.domain``, else the contact host."""
        return self.sip.domain or self.contact_host

    @property
    def realm(self) -> str:
        """Digest realm: ``registrar.realm`` or the SIP domain."""
        return self.registrar.realm or self.sip_domain


def advertise_problem(config: Config) -> ConfigError | None:
    """SIP on a wildcard (0.0.0.0, ::) with no ``media.rtp_host``: the SDP
    would tell the peer to send RTP to 0.0.0.0 (RFC 2543's hold address),
    so no caller would be heard. Refused by ``load_config`` and at start."""
    if not config.sip.wildcard or config.media.rtp_host:
        return None
    return ConfigError(
        f"sip.listen {config.sip.listen} listens on every interface, so it names no address "
        "to advertise: set media.rtp_host to this machine's address that the trunk or SBC "
        "sends RTP to (also put in Contact and Via unless sip.advertise says otherwise)",
        path=config.source or "<defaults>", key="media.rtp_host")


SECTIONS: dict[str, type[Any]] = {
    "sip": SipConfig,
    "media": MediaConfig,
    "store": StoreConfig,
    "voice": VoiceConfig,
    "registrar": RegistrarConfig,
    "auth": AuthConfig,
    "engine": EngineConfig,
    "ivr": IvrConfig,
    "queue": QueueFileConfig,
    "console": ConsoleConfig,
    "robot": RobotConfig,
    "asr": AsrConfig,
    "analytics": AnalyticsConfig,
    "qa": QaConfig,
    "reports": ReportsConfig,
    "cases": CasesFileConfig,
    "desk": DeskConfig,
    "transfers": TransfersConfig,
    "monitor": MonitorConfig,
    "backup": BackupConfig,
    "retention": RetentionConfig,
    "log": LogConfig,
    "cluster": ClusterConfig,
}


# --- loading --------------------------------------------------------------------


def _field_types(cls: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _from_toml(tp: Any, value: Any) -> Any:
    """Check a TOML value against a field type; raise ValueError if wrong."""
    kind = tomlcheck.kind_of(tp)
    # The only tables in the config are Mapping[str, str] ([registrar.users]).
    return tomlcheck.check(kind, value, "a table of strings" if kind is Kind.TABLE else None)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _from_env(tp: Any, text: str) -> Any:
    """Convert an environment string to a field type; raise ValueError if wrong."""
    if tp is bool:
        if text.strip().lower() in _TRUE:
            return True
        if text.strip().lower() in _FALSE:
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if tp is int:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if tp is str:
        return text
    if typing.get_origin(tp) is tuple:
        return tuple(p.strip() for p in text.split(",") if p.strip())
    users: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        user, sep, password = item.partition("=")
        if not sep:
            raise ValueError(f"expected user=password,user=password, got {text!r}")
        users[user.strip()] = password
    return users


def _suggest(name: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _env_key(var: str) -> tuple[str, str] | None:
    """``BAILANYS_SIP_MAX_CALLS`` -> ("sip", "max_calls"), or None."""
    rest = var[len(ENV_PREFIX) :].lower()
    for section, cls in SECTIONS.items():
        if rest.startswith(section + "_"):
            key = rest[len(section) + 1 :]
            if key in _field_types(cls):
                return section, key
    return None


def _env_suggestion(var: str) -> str:
    """Closest valid variable, compared without the shared prefix."""
    names = [f"{s.upper()}_{k.upper()}" for s, cls in SECTIONS.items() for k in _field_types(cls)]
    close = difflib.get_close_matches(var[len(ENV_PREFIX) :], names, n=1)
    return f" (did you mean '{ENV_PREFIX}{close[0]}'?)" if close else ""


def read_toml(file: Path) -> dict[str, Any]:
    """A TOML file's tables; any problem is one :class:`ConfigError` line naming the file."""
    where = str(file)
    try:
        with file.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError("no such file", path=where) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, expected a TOML file", path=where) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=where) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"TOML syntax error: {exc}", path=where) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", path=where) from None


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read, override from ``env`` (default ``os.environ``) and validate.

    ``path`` None means ``configs/default.toml`` in the project root, or the
    built-in defaults when that file is missing. Raises ``ConfigError``.
    """
    if env is None:
        env = os.environ
    if path is None:
        file: Path | None = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
    else:
        file = Path(path)
    where = str(file) if file is not None else "<defaults>"
    data: dict[str, Any] = read_toml(file) if file is not None else {}

    values: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    origin: dict[str, tuple[str, str]] = {}  # "section.key" -> (where, key as named there)

    for section, table in data.items():
        if section not in SECTIONS:
            raise ConfigError(
                f"unknown section [{section}]{_suggest(section, list(SECTIONS))}",
                path=where,
                key=section,
            )
        if not isinstance(table, dict):
            raise ConfigError(
                f"expected a [{section}] table, got {table!r}", path=where, key=section
            )
        types_ = _field_types(SECTIONS[section])
        for key, value in table.items():
            dotted = f"{section}.{key}"
            if key not in types_:
                hint = _suggest(dotted, [f"{section}.{k}" for k in types_])
                raise ConfigError(f"unknown key{hint}", path=where, key=dotted)
            try:
                values[section][key] = _from_toml(types_[key], value)
            except ValueError as exc:
                raise ConfigError(str(exc), path=where, key=dotted) from None
            origin[dotted] = (where, dotted)

    for var in sorted(env):
        if not var.startswith(ENV_PREFIX):
            continue
        found = _env_key(var)
        if found is None:
            raise ConfigError(f"unknown setting{_env_suggestion(var)}", path="environment", key=var)
        section, key = found
        try:
            values[section][key] = _from_env(_field_types(SECTIONS[section])[key], env[var])
        except ValueError as exc:
            raise ConfigError(str(exc), path="environment", key=var) from None
        origin[f"{section}.{key}"] = ("environment", var)

    sections: dict[str, Any] = {}
    for section, cls in SECTIONS.items():
        try:
            sections[section] = cls(**values[section])
        except ConfigError as exc:
            dotted = exc.key or section
            base = dotted if dotted in origin else ".".join(dotted.split(".")[:2])
            src, named = origin.get(base, (where, dotted))
            if named != base:  # named by an environment variable
                dotted = named
            message = str(exc).split(": ", 1)[1] if exc.key else str(exc)
            raise ConfigError(message, path=src, key=dotted) from None
    config = Config(**sections, source=str(file) if file is not None else None)
    problem = advertise_problem(config)
    if problem is not None:
        raise problem
    return config
