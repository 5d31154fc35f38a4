"""What the self-service robot says, in Kazakh and Russian, and the spoken forms of dates,
times and digits (numbers as words for espeak-ng). Split from
:mod:`bailanys.robot.services`, which decides when each is said.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time
from typing import Final

from bailanys.robot.backend import DocumentState, RequestStatus
from bailanys.voice.phrases import numbers_kk, numbers_ru
from bailanys.voice.phrases.keypad import digit_word

_T: Final[Mapping[str, Mapping[str, str]]] = {
    "ask_iin": {"kk": "Жеке сәйкестендіру нөміріңізді, он екі цифрды теріңіз.",
                "ru": "Введите ваш ИИН, двенадцать цифр."},
    "bad_iin": {"kk": "Нөмір қате терілді.", "ru": "Номер введён неверно."},
    "no_input": {"kk": "Сіз ештеңе термедіңіз.", "ru": "Вы ничего не ввели."},
    "bad_choice": {"kk": "Мұндай таңдау жоқ.", "ru": "Такого варианта нет."},
    "press": {"kk": "{what}: {key} батырмасын басыңыз.", "ru": "{what}: нажмите {key}."},
    "unavailable": {"kk": "Қызмет уақытша қолжетімсіз.", "ru": "Сервис временно недоступен."},
    "handover": {"kk": "Сізді операторға қосамын.", "ru": "Соединяю с оператором."},
    "bye": {"kk": "Хабарласқаныңызға рахмет. Сау болыңыз.",
            "ru": "Спасибо за обращение. До свидания."},
    "iin_tail": {"kk": "соңғы цифрлары {d} болып аяқталатын ЖСН бойынша",
                 "ru": "по ИИН, оканчивающемуся на {d},"},
    "doc_none": {"kk": "{who} құжат табылмады.", "ru": "{who} документ не найден."},
    "doc_ready": {"kk": "Құжатыңыз дайын. Алу орны: {branch}.",
                  "ru": "Ваш документ готов. Место получения: {branch}."},
    "doc_progress": {"kk": "Құжатыңыз әзірленуде.", "ru": "Ваш документ в работе."},
    "doc_due": {"kk": "Болжамды дайын болу күні: {date}.",
                "ru": "Ожидаемая дата готовности: {date}."},
    "doc_issued": {"kk": "Құжатыңыз бұрын берілген.", "ru": "Ваш документ уже выдан."},
    "doc_rejected": {"kk": "Өтінішіңіз бойынша бас тартылды. Толығырақ оператордан біле аласыз.",
                     "ru": "В выдаче отказано. Подробности можно узнать у оператора."},
    "ask_action": {"kk": "Жазылу үшін бірді, жазылудан бас тарту үшін екіні басыңыз.",
                   "ru": "Чтобы записаться, нажмите один. Чтобы отменить запись, нажмите два."},
    "ask_branch": {"kk": "Халыққа қызмет көрсету орталығын таңдаңыз.",
                   "ru": "Выберите центр обслуживания населения."},
    "ask_day": {"kk": "Күнді таңдаңыз.", "ru": "Выберите день."},
    "no_slots": {"kk": "Бұл күнге бос уақыт жоқ.", "ru": "На этот день свободного времени нет."},
    "ask_slot": {"kk": "Уақытты таңдаңыз.", "ru": "Выберите время."},
    "slot_taken": {"kk": "Бұл уақыт енді бос емес.", "ru": "Это время уже занято."},
    "booked": {"kk": "Сіз {date}, {time} жазылдыңыз. Жазылу нөмірі: {id}. "
                     "Растау SMS арқылы жіберіледі.",
               "ru": "Вы записаны на {date}, {time}. Номер записи: {id}. "
                     "Подтверждение придёт по SMS."},
    "sms_booked": {"kk": "1414: Жазылу: {branch}, {day}, {time}. Жазылу нөмірі {id}.",
                   "ru": "1414: вы записаны в {branch}, {day} {time}. Номер записи {id}."},
    "ask_booking_id": {"kk": "Жазылу нөмірін теріп, торды басыңыз.",
                       "ru": "Введите номер записи и нажмите решётку."},
    "cancelled": {"kk": "Жазылуыңыз жойылды.", "ru": "Запись отменена."},
    "sms_cancelled": {"kk": "1414: {id} нөмірлі жазылу жойылды.",
                      "ru": "1414: запись номер {id} отменена."},
    "no_booking": {"kk": "Мұндай жазылу табылмады.", "ru": "Такая запись не найдена."},
    "ask_kind": {"kk": "Психиатриялық диспансердің анықтамасы үшін бірді, "
                       "наркологиялық диспансердің анықтамасы үшін екіні басыңыз.",
                 "ru": "Справка психиатрического диспансера: нажмите один. "
                       "Справка наркологического диспансера: нажмите два."},
    "code_sent": {"kk": "Растау коды SMS арқылы жіберілді. Алты таңбалы кодты теріңіз.",
                  "ru": "Код подтверждения отправлен по SMS. Введите шестизначный код."},
    "sms_code": {"kk": "1414: растау коды {code}. Оны ешкімге айтпаңыз.",
                 "ru": "1414: код подтверждения {code}. Никому его не сообщайте."},
    "bad_code": {"kk": "Код қате. Қайта теріңіз.", "ru": "Неверный код. Попробуйте ещё раз."},
    "code_blocked": {"kk": "Код тым көп рет қате терілді.",
                     "ru": "Код введён неверно слишком много раз."},
    "code_expired": {"kk": "Кодтың мерзімі өтті.", "ru": "Срок действия кода истёк."},
    "rate_limited": {"kk": "Код тым жиі сұралды. Кейінірек қайта хабарласыңыз.",
                     "ru": "Код запрашивался слишком часто. Позвоните позже."},
    "sms_failed": {"kk": "SMS жіберу мүмкін болмады.", "ru": "Не удалось отправить SMS."},
    "cert_sent": {"kk": "Анықтамаға сілтеме SMS арқылы жіберілді.",
                  "ru": "Ссылка на справку отправлена по SMS."},
    "sms_cert": {"kk": "1414: анықтама: {link}", "ru": "1414: справка: {link}"},
    "ask_service": {"kk": "Қызметті таңдаңыз.", "ru": "Выберите услугу."},
    "docs_sent": {"kk": "Қажетті құжаттар тізімі SMS арқылы жіберілді.",
                  "ru": "Список необходимых документов отправлен по SMS."},
    "req_none": {"kk": "{who} ашық өтініштер жоқ.", "ru": "{who} открытых обращений нет."},
    "req_count": {"kk": "Сізде {n} ашық өтініш бар.", "ru": "У вас {n}."},
    "req_one": {"kk": "Нөмірі {d} болып аяқталатын өтініш: {status}.",
                "ru": "Обращение с номером, оканчивающимся на {d}: {status}."},
    "req_due": {"kk": "Жауап беру мерзімі: {date}.", "ru": "Срок ответа: {date}."},
}

_DOC_STATE_KEY: Final = {
    DocumentState.READY: "doc_ready", DocumentState.IN_PROGRESS: "doc_progress",
    DocumentState.ISSUED: "doc_issued", DocumentState.REJECTED: "doc_rejected",
}
_REQUEST_STATUS: Final[Mapping[RequestStatus, Mapping[str, str]]] = {
    RequestStatus.REGISTERED: {"kk": "тіркелді", "ru": "зарегистрировано"},
    RequestStatus.IN_PROGRESS: {"kk": "қаралуда", "ru": "на рассмотрении"},
    RequestStatus.ANSWERED: {"kk": "жауап берілді", "ru": "дан ответ"},
    RequestStatus.OVERDUE: {"kk": "қарау мерзімі өтіп кетті", "ru": "срок рассмотрения истёк"},
    RequestStatus.ESCALATED: {"kk": "басшының бақылауында", "ru": "на контроле у руководителя"},
}
_OPEN_REQUEST_RU: Final = numbers_ru.Noun(
    "открытое обращение", "открытых обращения", "открытых обращений", numbers_ru.Gender.NEUT)
_MONTHS: Final[Mapping[str, tuple[str, ...]]] = {
    "kk": ("қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз",
           "қыркүйек", "қазан", "қараша", "желтоқсан"),
    "ru": ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря"),
}


def date_words(lang: str, d: date, *, dative: bool = False) -> str:
    """14 March -> kk "он төртінші наурыз", ru "четырнадцатое марта".

    ``dative``: the Kazakh date a booking is made for, "он төртінші
    наурызға" (language review 2026-12, item 11); Russian says "на
    четырнадцатое марта" with the same words.
    """
    month = _MONTHS[lang][d.month - 1]
    if lang == "kk":
        return f"{numbers_kk.ordinal(d.day)} {numbers_kk.dative(month) if dative else month}"
    return f"{numbers_ru.ordinal(d.day, numbers_ru.Gender.NEUT)} {month}"


def time_words(lang: str, t: time, *, dative: bool = False) -> str:
    """10:30 -> kk "сағат он отыз", ru "десять часов тридцать минут".

    ``dative``: kk "сағат он отызға" (the time a booking is made for, item
    11 of the language review); Russian is unchanged.
    """
    if lang == "kk":
        words = f"сағат {numbers_kk.cardinal(t.hour)}"
        if t.minute:
            words += f" {numbers_kk.cardinal(t.minute)}"
        if dative:
            head, _, last = words.rpartition(" ")
            words = f"{head} {numbers_kk.dative(last)}"
        return words
    words = numbers_ru.count_phrase(t.hour, numbers_ru.HOUR)
    if t.minute:
        words += " " + numbers_ru.count_phrase(t.minute, numbers_ru.MINUTE)
    return words


def digits_words(lang: str, digits: str) -> str:
    """Digit by digit: "1234" -> ru "один два три четыре"."""
    return " ".join(digit_word(lang, ch) for ch in digits)


# ------------------------------------------------------------------ the machine
