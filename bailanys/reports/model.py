"""The reports' shared vocabulary and the ``contacts`` fact row (issue 17).

Sources: the 2023 requirements' Appendix 2 (row 14: contacts per channel;
row 20: confirmed complaints about the centre), the 2024 methodology of
request analysis (counts by region — the oblasts, the cities of republican
significance and the capital —, by topic, and the social portrait: age
bands 18-30 ... 81-90, sex, social status) and the feedback procedure
(contacts and complaints per channel). ``domain/`` in the shared folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class ContactChannel(StrEnum):
    """How a contact came and was served (Appendix 2 row 14; issue 17)."""

    IVR = "ivr"  # a call that ended in the voice menu (no robot answer, no operator)
    ROBOT = "robot"  # a call the voice robot served to the end (self-service completed)
    OPERATOR = "operator"  # a call an operator answered
    CALLBACK = "callback"  # a callback the centre made and an operator answered
    SMS = "sms"
    # imported from CSV (other channels of the centre)
    CHAT = "chat"
    EMAIL = "email"
    LETTER = "letter"
    OTHER = "other"


#: The channels the engine itself sees; the rest come from imports.
ENGINE_CHANNELS: Final = (ContactChannel.IVR, ContactChannel.ROBOT, ContactChannel.OPERATOR,
                          ContactChannel.CALLBACK, ContactChannel.SMS)


class TopicSource(StrEnum):
    """Who set a contact's topic, most trusted first (issue 17)."""

    DISPOSITION = "disposition"  # the operator's wrap-up
    ROBOT = "robot"  # the robot's FAQ entry that answered
    IVR = "ivr"  # the voice-menu choice
    IMPORT = "import"


TOPIC_TRUST: Final = (TopicSource.DISPOSITION, TopicSource.ROBOT, TopicSource.IVR)


class RegionSource(StrEnum):
    FLOW = "flow"  # the caller chose it in the flow (a flow variable)
    NUMBER = "number"  # the caller's landline area code
    BACKEND = "backend"  # the self-service back end, from the caller's IIN
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    kk: str
    ru: str


#: The 17 oblasts and the 3 cities of republican significance (Astana the
#: capital, Almaty, Shymkent), as the administrative division stands since
#: 2022 (Abai, Zhetisu and Ulytau oblasts created 8 June 2022).
REGIONS: Final = (
    Region("astana", "Астана қаласы", "город Астана"),
    Region("almaty_city", "Алматы қаласы", "город Алматы"),
    Region("shymkent", "Шымкент қаласы", "город Шымкент"),
    Region("abai", "Абай облысы", "область Абай"),
    Region("akmola", "Ақмола облысы", "Акмолинская область"),
    Region("aktobe", "Ақтөбе облысы", "Актюбинская область"),
    Region("almaty", "Алматы облысы", "Алматинская область"),
    Region("atyrau", "Атырау облысы", "Атырауская область"),
    Region("east_kz", "Шығыс Қазақстан облысы", "Восточно-Казахстанская область"),
    Region("zhambyl", "Жамбыл облысы", "Жамбылская область"),
    Region("zhetisu", "Жетісу облысы", "область Жетісу"),
    Region("west_kz", "Батыс Қазақстан облысы", "Западно-Казахстанская область"),
    Region("karaganda", "Қарағанды облысы", "Карагандинская область"),
    Region("kostanay", "Қостанай облысы", "Костанайская область"),
    Region("kyzylorda", "Қызылорда облысы", "Кызылординская область"),
    Region("mangystau", "Маңғыстау облысы", "Мангистауская область"),
    Region("pavlodar", "Павлодар облысы", "Павлодарская область"),
    Region("north_kz", "Солтүстік Қазақстан облысы", "Северо-Казахстанская область"),
    Region("turkestan", "Түркістан облысы", "Туркестанская область"),
    Region("ulytau", "Ұлытау облысы", "область Ұлытау"),
)
REGION_IDS: Final = frozenset(r.id for r in REGIONS)
#: What a contact's region is when no source told it (reported as a share).
UNKNOWN_REGION: Final = "unknown"

#: The methodology's age bands (inclusive years); callers outside them
#: (under 18, over 90) are counted as "other".
AGE_BANDS: Final = ("18-30", "31-40", "41-50", "51-60", "61-70", "71-80", "81-90")
OTHER_AGE: Final = "other"


class Sex(StrEnum):
    FEMALE = "f"
    MALE = "m"


class SocialStatus(StrEnum):
    """The methodology's social statuses (what a back end may return)."""

    EMPLOYEE = "employee"
    SELF_EMPLOYED = "self_employed"  # individual entrepreneur or private practice
    PENSIONER = "pensioner"
    DISABILITY = "disability"
    LARGE_FAMILY = "large_family"
    STUDENT = "student"
    EDUCATED = "educated"
    NO_EDUCATION = "no_education"
    UNEMPLOYED = "unemployed"  # registered as unemployed


@dataclass(frozen=True, slots=True)
class Contact:
    """One row of ``contacts`` (schema v6): one contact, folded from its
    call's events (``contacts.contact_of``) or imported (``call_id`` None)."""

    started: float  # epoch seconds
    day: str  # local date YYYY-MM-DD (engine.timezone)
    channel: ContactChannel
    call_id: str | None = None
    language: str | None = None
    queue: str | None = None
    agent: str | None = None
    topic: str | None = None  # a topic id of configs/topics.yaml
    topic_source: TopicSource | None = None
    region: str = UNKNOWN_REGION
    region_source: RegionSource | None = None
    age_band: str | None = None  # AGE_BANDS or OTHER_AGE
    sex: Sex | None = None
    social_status: SocialStatus | None = None
    answered: bool = False  # an operator answered
    abandoned: bool = False  # lost: hung up in a queue before an operator
    resolved: bool | None = None  # the disposition's verdict
    complaint: bool = False  # a complaint about the centre's service
    complaint_confirmed: bool | None = None  # a supervisor's verdict on it
    survey_score: int | None = None
    wait_s: float | None = None
    handle_s: float | None = None  # talk + hold + wrap-up
    #: seconds from the contact to its answer (imports: registration to
    #: answer; calls: the wait), for the feedback analysis
    answer_s: float | None = None
    import_batch: int | None = None  # contact_imports.id of an imported row
    #: schema v8 (issue 19, the screen pop): the caller's salted number hash
    #: (``desk.pop.caller_key``; None: anonymous, imported, no salt) and the
    #: disposition's outcome (``queue.outcome.Outcome``; None: none given)
    caller_key: str | None = None
    outcome: str | None = None
