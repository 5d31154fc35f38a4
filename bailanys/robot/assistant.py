"""The voice assistant's conversation: questions answered from the FAQ, services by key.

What a caller meets at a flow's ``robot`` node without a ``service`` (the
1414 robot of DOMAIN.md, day and night)::

    "Ask your question in your own words, or press: 1 document readiness,
     2 booking, 3 certificate, 4 documents list by SMS, 5 your requests,
     0 an operator."

* a question (a Vosk transcript of the turn) is matched against the FAQ
  (:mod:`bailanys.robot.matcher`); a confident match is answered, and an
  entry with an SMS text offers it ("press 1 to get it by SMS");
* not confident: the first time, the top two are offered ("if your
  question is ..., press 1; if ..., press 2") or, when nothing is close,
  the caller is asked once to say it in other words (a question none of
  the entries fits, :attr:`~bailanys.robot.matcher.MatchResult.in_scope`
  False, goes to an operator at once: one FAQ gap); a second miss, a
  wrong key there, or the word "operator" hands the call over with the
  topic guessed (the node's ``fallback`` runs; the flow can route the
  ``topic`` variable to a queue);
* keys 1-5 run a self-service (:class:`~bailanys.robot.services.ServiceMachine`),
  after which the caller may ask again; 0 hands over;
* turn-taking (:mod:`bailanys.robot.turns`): the caller's sustained speech
  cuts an answer as a key does, and the cut answer is logged with the
  seconds heard (:class:`~bailanys.robot.turns.Interrupted`, step
  ``answer``); a turn cut by noise (nothing recognised, or too little voice)
  gets one "sorry, I did not catch that, please repeat", then the usual
  path ("say it in other words", then an operator);
* silence twice hands over too (the flow's fallback decides: an operator
  by day, the closing message at night); after :data:`MAX_TURNS` turns the
  assistant says goodbye and ends the call.

Sans-IO, like the services: :class:`AssistantMachine` gets inputs with the
time and returns actions; the engine's adapter (``bailanys.engine.robot``)
plays, listens, matches (the matcher is CPU work, so the adapter runs it
off the loop and passes the :class:`~bailanys.robot.matcher.MatchResult` in
:class:`Heard`), runs services and sends SMS. Each ``Listen`` is answered by
one :class:`Heard`, :class:`~bailanys.robot.services.Digits` or
:class:`~bailanys.robot.services.NoInput`, after an
:class:`~bailanys.robot.turns.Interrupted` for each prompt the caller cut;
each ``Collect`` by ``Digits`` or ``NoInput``; each ``RunService`` by
:class:`ServiceDone`; each ``SendSms`` by
:class:`~bailanys.robot.services.SmsResult`.

Privacy: events carry the entry id, the decision and the confidence, never
the caller's words (a transcript can hold an IIN or a name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from bailanys.events import CallTopic, RobotFaq
from bailanys.reports.model import TopicSource
from bailanys.robot.faq import Entry
from bailanys.robot.matcher import CLARIFY_FLOOR, Action, MatchResult, clarify_prompt, decide
from bailanys.robot.service_io import (
    Collect,
    Digits,
    Emit,
    End,
    HungUp,
    NoInput,
    Say,
    SendSms,
    SmsResult,
)
from bailanys.robot.services import (
    Service,
)
from bailanys.robot.turns import Interrupted
from bailanys.voice.phrases.languages import check_lang

#: Questions and services in one call before the assistant says goodbye.
MAX_TURNS: Final = 8
#: Silences in a row before the caller is handed over.
MAX_SILENCES: Final = 2
#: Seconds of silence before a turn counts as no input.
LISTEN_TIMEOUT_S: Final = 8.0
#: The longest question: the turn is cut there and decoded as it is.
MAX_QUESTION_S: Final = 15.0
EVENT: Final = RobotFaq.type

#: Keys of the self-services, in the order the menu says them.
SERVICE_KEYS: Final[Mapping[str, Service]] = {
    "1": Service.DOCUMENT_STATUS,
    "2": Service.BOOKING,
    "3": Service.CERTIFICATE,
    "4": Service.REQUIRED_DOCUMENTS,
    "5": Service.OPEN_REQUESTS,
}
OPERATOR_KEY: Final = "0"
SMS_KEY: Final = "1"

_T: Final[Mapping[str, Mapping[str, str]]] = {
    "intro": {
        "kk": "Мен дауыстық көмекшімін. Сұрағыңызды өз сөзіңізбен қойыңыз.",
        "ru": "Я голосовой помощник. Задайте вопрос своими словами.",
    },
    "menu": {
        "kk": "Немесе қызмет нөмірін басыңыз: бір – құжаттардың дайындығы; екі – орталыққа"
              " жазылу; үш – анықтама алу; төрт – құжаттар тізімі хабарламамен; бес –"
              " өтініштеріңіз; нөл – оператор.",
        "ru": "Или нажмите: один, готовность документов; два, запись в центр обслуживания;"
              " три, получить справку; четыре, список документов сообщением; пять, ваши"
              " обращения; ноль, оператор.",
    },
    "more": {
        "kk": "Тағы сұрағыңыз болса, қойыңыз немесе қызмет нөмірін басыңыз. Оператор үшін нөлді"
              " басыңыз.",
        "ru": "Если есть ещё вопрос, задайте его или нажмите номер услуги. Оператор: ноль.",
    },
    "more_keys": {
        "kk": "Қызмет нөмірін басыңыз. Оператор үшін нөлді басыңыз.",
        "ru": "Нажмите номер услуги. Оператор: ноль.",
    },
    "rephrase": {
        "kk": "Кешіріңіз, сұрағыңызды түсінбедім. Басқаша айтып беріңізші.",
        "ru": "Извините, я не понял вопрос. Пожалуйста, скажите его другими словами.",
    },
    "reask": {
        "kk": "Кешіріңіз, естімей қалдым. Қайталап айтыңызшы.",
        "ru": "Извините, не расслышал. Повторите, пожалуйста.",
    },
    "silence": {"kk": "Сізді естімей тұрмын.", "ru": "Я вас не слышу."},
    "bad_key": {"kk": "Мұндай таңдау жоқ.", "ru": "Такого варианта нет."},
    "sms_offer": {
        "kk": "Мұны хабарламамен алу үшін бірді басыңыз.",
        "ru": "Чтобы получить это сообщением, нажмите один.",
    },
    "sms_sent": {"kk": "Хабарлама жіберілді.", "ru": "Сообщение отправлено."},
    "sms_failed": {
        "kk": "Хабарламаны жіберу мүмкін болмады.",
        "ru": "Сообщение отправить не удалось.",
    },
    "bye": {
        "kk": "Қоңырауыңызға рахмет. Сау болыңыз.",
        "ru": "Спасибо за звонок. До свидания.",
    },
}


class Phase(StrEnum):
    MENU = "menu"  # listening for a question or a key
    CLARIFY = "clarify"  # one key: 1 or 2
    SMS_OFFER = "sms_offer"  # listening: key 1 sends the SMS, a question starts over
    SERVICE = "service"  # a self-service runs
    SMS = "sms"  # an SMS is being queued
    DONE = "done"


# ------------------------------------------------------------------ inputs and actions


@dataclass(frozen=True)
class Heard:
    """One spoken turn: the transcript and its match (None: nothing recognised);
    ``noise``: the adapter found too little voice in it to be a question."""

    text: str
    result: MatchResult | None
    noise: bool = False


@dataclass(frozen=True)
class ServiceDone:
    outcome: str  # the service's outcome ("completed", "handed_over:...", "hung_up")
    handed_over: bool = False


@dataclass(frozen=True)
class Listen:
    """Listen for a spoken question or a key."""

    timeout_s: float = LISTEN_TIMEOUT_S
    max_s: float = MAX_QUESTION_S


@dataclass(frozen=True)
class RunService:
    service: Service


@dataclass(frozen=True)
class Transfer:
    """Hand the caller over; ``topic`` is the FAQ topic guessed, if any."""

    reason: str
    topic: str | None = None


Input = Heard | Digits | NoInput | ServiceDone | SmsResult | HungUp | Interrupted
AssistantAction = Say | Listen | Collect | RunService | SendSms | Transfer | End | Emit


class AssistantMachine:
    """One caller's conversation with the voice assistant (see the module docstring).

    ``speech`` is False when no speech model serves the language: the menu
    then offers keys only and ``Listen`` waits for keys.
    """

    def __init__(
        self,
        lang: str,
        *,
        threshold: float,
        clarify_floor: float = CLARIFY_FLOOR,
        speech: bool = True,
        max_turns: int = MAX_TURNS,
    ) -> None:
        check_lang(lang)
        self.lang = lang
        self.threshold = threshold
        self.clarify_floor = clarify_floor
        self.speech = speech
        self.max_turns = max_turns
        self.phase = Phase.MENU
        self.outcome: str | None = None
        self.turns = 0
        self._attempt = 1  # 2 after one "say it in other words" or one clarification
        self._silences = 0
        self._options: tuple[Entry, ...] = ()  # CLARIFY: the entries of keys 1, 2
        self._topic: str | None = None  # the best guess so far
        self._sms: str | None = None  # SMS_OFFER: the text to send
        self._reasked = False  # this question was re-asked once after noise
        self._answering: Entry | None = None  # the last answer said

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    # ------------------------------------------------------------ entry points

    def start(self, now: float) -> list[AssistantAction]:
        out: list[AssistantAction] = []
        self._event(out, "start", "started")
        if self.speech:
            self._say(out, "intro")
        self._say(out, "menu")
        out.append(Listen())
        return out

    def handle(self, inp: Input, now: float) -> list[AssistantAction]:
        out: list[AssistantAction] = []
        if self.done:
            return out
        if isinstance(inp, HungUp):
            self._event(out, self.phase.value, "hung_up")
            self._finish("hung_up")
            return out
        if isinstance(inp, Interrupted):
            self._interrupted(inp, out)
            return out
        phase = self.phase
        if phase is Phase.SERVICE:
            if isinstance(inp, ServiceDone):
                self._service_done(inp, out)
        elif phase is Phase.SMS:
            if isinstance(inp, SmsResult):
                self._say(out, "sms_sent" if inp.sent else "sms_failed")
                self._event(out, "sms", "sent" if inp.sent else "failed")
                self._next_turn(out)
        elif isinstance(inp, NoInput):
            self._silence(out)
        elif isinstance(inp, Heard):
            self._silences = 0
            self._heard(inp, out)
        elif isinstance(inp, Digits):
            self._silences = 0
            self._key(inp.text[:1], out)
        return out

    # ------------------------------------------------------------ inputs

    def _heard(self, inp: Heard, out: list[AssistantAction]) -> None:
        result = inp.result
        if inp.noise or not inp.text.strip():
            self._noise(out)
            return
        if result is None or not result.candidates:
            self._event(out, "question", "not_recognised")
            self._miss(out, None)
            return
        d = decide(result, self.threshold, self.clarify_floor, self._attempt)
        best = result.best
        fields: dict[str, Any] = {"entry": best.entry.id,
                                  "confidence": round(best.confidence, 3),
                                  "attempt": self._attempt}
        if result.operator:
            self._event(out, "question", "operator", **fields)
            self._transfer(out, "operator_asked", d.topic)
            return
        if d.action is Action.ANSWER and d.entry is not None:
            self._event(out, "question", "answered", **fields)
            self._answer(out, d.entry)
        elif d.action is Action.CLARIFY:
            self._event(out, "question", "clarify", **fields)
            self._topic = best.entry.topic
            self._options = d.options
            self._attempt = 2
            out.append(Say(clarify_prompt(d, self.lang), self.lang))
            out.append(Collect(1))
            self.phase = Phase.CLARIFY
        elif not result.in_scope:
            # None of the entries fits (the matcher's calibrated "none of
            # these"): saying it again in other words finds no entry either,
            # so an operator at once, and the question is one gap, not two.
            self._event(out, "question", "no_match", **fields)
            self._transfer(out, "not_understood", None)
        else:
            self._event(out, "question", "no_match", **fields)
            self._miss(out, d.topic)

    def _noise(self, out: list[AssistantAction]) -> None:
        """A turn cut by noise: once "please repeat" (the phase stays), then a miss."""
        if self._reasked:
            self._event(out, "question", "not_recognised")
            self._miss(out, None)
            return
        self._reasked = True
        self._event(out, "question", "noise", attempt=self._attempt)
        self._say(out, "reask")
        out.append(Listen())

    def _interrupted(self, inp: Interrupted, out: list[AssistantAction]) -> None:
        """A prompt the caller cut: logged when it was an answer (how much was heard)."""
        entry = self._answering
        if entry is None or inp.text != entry.answer[self.lang]:
            return
        self._event(out, "answer", f"interrupted:{inp.by}", entry=entry.id,
                    played_s=round(inp.played_s, 2), length_s=round(inp.length_s, 2))

    def _miss(self, out: list[AssistantAction], topic: str | None) -> None:
        """Not understood: once "say it in other words", then an operator."""
        if topic is not None:
            self._topic = topic
        if self._attempt == 1:
            self._attempt = 2
            self._say(out, "rephrase")
            out.append(Listen())
            self.phase = Phase.MENU
        else:
            self._transfer(out, "not_understood", self._topic)

    def _key(self, key: str, out: list[AssistantAction]) -> None:
        if self.phase is Phase.CLARIFY:
            if key in ("1", "2") and int(key) <= len(self._options):
                entry = self._options[int(key) - 1]
                self._event(out, "clarified", "answered", entry=entry.id)
                self._answer(out, entry)
            else:
                self._event(out, "clarified", "no_choice")
                self._transfer(out, "not_understood", self._topic)
            return
        if self.phase is Phase.SMS_OFFER and key == SMS_KEY and self._sms is not None:
            out.append(SendSms(self._sms))
            self._sms = None
            self.phase = Phase.SMS
            return
        if key == OPERATOR_KEY:
            self._transfer(out, "operator_key", self._topic)
        elif key in SERVICE_KEYS:
            service = SERVICE_KEYS[key]
            self._event(out, "service", service.value)
            self.turns += 1
            self.phase = Phase.SERVICE
            out.append(RunService(service))
        else:
            self._say(out, "bad_key")
            self._say(out, "menu")
            out.append(Listen())
            self.phase = Phase.MENU

    def _silence(self, out: list[AssistantAction]) -> None:
        if self.phase is Phase.CLARIFY:
            self._event(out, "clarified", "no_input")
            self._transfer(out, "not_understood", self._topic)
            return
        if self.phase is Phase.SMS_OFFER:  # no SMS wanted: that turn is over
            self._sms = None
            self.phase = Phase.MENU
            self._event(out, "turn", "no_input")
            self._next_turn(out)
            return
        self._silences += 1
        self._event(out, "turn", "no_input")
        if self._silences >= MAX_SILENCES:
            self._transfer(out, "no_input", self._topic)
            return
        self._say(out, "silence")
        self._say(out, "menu")
        out.append(Listen())

    def _service_done(self, inp: ServiceDone, out: list[AssistantAction]) -> None:
        if inp.outcome == "hung_up":
            self._finish("hung_up")
        elif inp.handed_over:
            self._transfer(out, "service", self._topic)
        else:
            self._next_turn(out)

    # ------------------------------------------------------------ outputs

    def _answer(self, out: list[AssistantAction], entry: Entry) -> None:
        self._topic = entry.topic
        # Issue 17: the topic at the source, the answering FAQ entry's.
        out.append(Emit(CallTopic(topic=entry.topic, source=TopicSource.ROBOT.value)))
        self._attempt = 1
        self._reasked = False
        self._answering = entry
        self.turns += 1
        out.append(Say(entry.answer[self.lang], self.lang))
        if entry.sms is not None and entry.sms.get(self.lang):
            self._sms = entry.sms[self.lang]
            self._say(out, "sms_offer")
            out.append(Listen())
            self.phase = Phase.SMS_OFFER
            return
        self._next_turn(out)

    def _next_turn(self, out: list[AssistantAction]) -> None:
        """"Anything else?" — or goodbye after :attr:`max_turns`."""
        if self.turns >= self.max_turns:
            self._say(out, "bye")
            self._finish("completed")
            out.append(End("completed"))
            return
        self._attempt = 1
        self._reasked = False
        self._say(out, "more" if self.speech else "more_keys")
        out.append(Listen())
        self.phase = Phase.MENU

    def _transfer(self, out: list[AssistantAction], reason: str, topic: str | None) -> None:
        self._event(out, "handover", reason, topic=topic or "")
        self._finish(f"handed_over:{reason}")
        out.append(Transfer(reason, topic))

    def _finish(self, outcome: str) -> None:
        self.phase = Phase.DONE
        self.outcome = outcome

    def _say(self, out: list[AssistantAction], key: str) -> None:
        out.append(Say(_T[key][self.lang], self.lang))

    def _event(self, out: list[AssistantAction], step: str, outcome: str,
               **fields: Any) -> None:
        out.append(Emit(RobotFaq(step=step, outcome=outcome, **fields)))


def texts() -> Mapping[str, Mapping[str, str]]:
    """Every fixed sentence, for pre-rendering and the both-languages test."""
    return _T
