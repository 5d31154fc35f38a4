"""Prompts of the demo flow, in Kazakh and Russian.

Wording. Pressing a key is "басу" (imperative "басыңыз", as in Kazakh bank
IVR menus: "Қазақ тілінде ақпарат алу үшін 2 батырмасын басыңыз",
https://crmai.kz/blog/dinamicheskiy-ivr-crm-personalizaciya-scenarii-ekonomika).
Keying in a sequence of digits is "теру", so the digit prompt says "теріп".
Numbers are written as words for espeak-ng (see :mod:`.keypad`).
"""

from __future__ import annotations

from typing import Final

from bailanys.voice.phrases.languages import check_lang

#: Prompts of the demo flow: prompt id -> language -> text.
DEMO_PROMPTS: Final[dict[str, dict[str, str]]] = {
    # Played once, Kazakh first (the state language), then Russian.
    "greeting": {
        "kk": "Бірыңғай байланыс орталығына қош келдіңіз.",
        "ru": "Добро пожаловать в единый контакт-центр.",
    },
    # Played one after the other: each line in its own language.
    "choose_language": {
        "kk": "Қазақ тілі үшін бірді басыңыз.",
        "ru": "Для русского языка нажмите два.",
    },
    "enter_digits": {
        "kk": "Сандарды теріп, соңында тор белгісін басыңыз.",
        "ru": "Введите цифры и в конце нажмите решётку.",
    },
    "goodbye": {
        "kk": "Қоңырауыңызға рахмет. Сау болыңыз!",
        "ru": "Спасибо за звонок. До свидания!",
    },
    "invalid_choice": {
        "kk": "Қате таңдау. Қайтадан көріңіз.",
        "ru": "Неверный выбор. Попробуйте ещё раз.",
    },
}


def demo_prompt(prompt_id: str, lang: str) -> str:
    """The text of demo prompt ``prompt_id`` in ``lang``."""
    check_lang(lang)
    try:
        return DEMO_PROMPTS[prompt_id][lang]
    except KeyError:
        raise ValueError(f"unknown demo prompt {prompt_id!r}") from None
