"""A small valid scorecard (one criterion of every kind) for the QA card tests.

The line numbers of :data:`SMALL` are what the validation table of
``test_scorecard_check.py`` names: keep them when editing.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CARD_DIR = ROOT / "configs" / "scorecards"
DEFAULT_CARD = CARD_DIR / "default.yaml"

SMALL = """\
id: small
version: 1
names: {kk: Шағын парақ, ru: Малый лист, en: Small card}
sections:
  - id: greeting
    names: {kk: Сәлемдесу, ru: Приветствие, en: Greeting}
    criteria:
      - id: greeting
        kind: said
        names: {kk: Амандасты, ru: Поздоровался, en: Greeted}
        window: {end: 10}
        variants:
          kk: [сәлеметсіз бе]
          ru: [здравствуйте]
      - id: pii
        kind: no_personal_data
        names: {kk: Деректер, ru: Данные, en: Data}
        critical: true
        masks: [IIN]
      - id: hold
        kind: hold_etiquette
        names: {kk: Күту, ru: Удержание, en: Hold}
        min_silence_s: 20
        lookback_s: 15
        variants: {kk: [күте тұрыңыз], ru: [оставайтесь на линии]}
      - id: ratio
        kind: acoustic
        names: {kk: Үлес, ru: Доля, en: Ratio}
        measure: talk_ratio
        min: 0.25
        max: 0.8
      - id: answered
        kind: outcome
        names: {kk: Жауап, ru: Ответ, en: Answer}
        measure: answer_s
        max: 60
      - id: accurate
        kind: manual
        names: {kk: Дұрыс, ru: Верно, en: Accurate}
        weight: 5
        critical: true
        scale: yes_no
"""


def card_text(card_id: str = "small", *, version: int = 1, applies_to: str = "") -> str:
    """:data:`SMALL` under another id / version, with an ``applies_to`` line."""
    text = SMALL.replace("id: small", f"id: {card_id}", 1)
    text = text.replace("version: 1", f"version: {version}", 1)
    if applies_to:
        text = text.replace("sections:\n", f"applies_to: {applies_to}\nsections:\n", 1)
    return text


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
