"""What a caller hears when the service is interrupted (requirements item 34:
callers are informed of interruptions of the service).

Said by the engine itself, whatever the caller was doing (menu, queue, a
conversation), before it hangs up on a stop (SIGTERM): the service is being
restarted, call back in a few minutes, the call is free. "Қоңырау тегін." /
"Звонок бесплатный." as the queue says it (:mod:`.queue`), so a caller
knows calling back costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from bailanys.voice.phrases.languages import check_lang

#: The engine stops: ru "Sorry, the service is being restarted. Please call
#: back in a few minutes."; kk the same, "қайта іске қосылып жатыр" (is being
#: started again, progressive) and "бірнеше минуттан кейін" (after a few minutes).
SERVICE_RESTARTING: Final[Mapping[str, str]] = {
    "kk": "Кешіріңіз, қызмет қайта іске қосылып жатыр. Бірнеше минуттан кейін қайта "
    "қоңырау шалыңыз. Қоңырау тегін.",
    "ru": "Извините, служба перезапускается. Пожалуйста, перезвоните через несколько минут. "
    "Звонок бесплатный.",
}


def text(table: Mapping[str, str], lang: str) -> str:
    check_lang(lang)
    return table[lang]


def texts(languages: Sequence[str]) -> list[tuple[str, str]]:
    """Every (language, text) of this module, for the prompt library to render at start."""
    return [(lang, text(SERVICE_RESTARTING, lang)) for lang in languages]
