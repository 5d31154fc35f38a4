"""The TTS lexicon (bailanys.voice.lexicon): acronyms spelled for espeak-ng.

Language review 2026-12, item 36. The phoneme checks run the real espeak-ng
(``espeak-ng -q -x``, a few milliseconds each); the render check runs the
real worker, once with the acronym and once with the spelled text, and
expects the same audio.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bailanys.robot.faq import load_kb
from bailanys.voice.lexicon import LEXICON, spoken
from bailanys.voice.tts import PromptRenderer

REAL_FAQ = Path(__file__).resolve().parents[2] / "knowledge" / "faq.yaml"
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


@pytest.mark.parametrize(
    ("lang", "written", "said"),
    [
        ("ru", "Новый пароль задаётся с помощью ЭЦП.", "Новый пароль задаётся с помощью э цэ пэ."),
        ("ru", "Как получить ИИН", "Как получить и и эн"),
        ("ru", "Чтобы закрыть ИП, сначала", "Чтобы закрыть и пэ, сначала"),
        ("ru", "по ИИН, оканчивающемуся на", "по и и эн, оканчивающемуся на"),
        ("kk", "ЭЦҚ арқылы", "е це қа арқылы"),
        ("kk", "ЖСН бойынша", "же эс эн бойынша"),
        ("kk", "ЭЦҚ-ны", "е це қа-ны"),
        # Left alone: words said as words, lower case, parts of words, other languages.
        ("ru", "в ЦОН или в ЗАГС", "в ЦОН или в ЗАГС"),
        ("ru", "тип ИПОТЕКА, ип", "тип ИПОТЕКА, ип"),
        ("kk", "ЭЦП", "ЭЦП"),
        ("ru", "ЭЦҚ", "ЭЦҚ"),
        ("en", "ЭЦП", "ЭЦП"),
    ],
)
def test_spoken(lang: str, written: str, said: str) -> None:
    assert spoken(lang, written) == said


def test_every_acronym_in_the_faq_answers_is_spelled() -> None:
    """The entries the review names (egov_register, egov_password,
    property_certificate, iin_get, tax_debt, business_close) and every other
    spoken answer and clarify phrase: no lexicon acronym reaches espeak-ng."""
    kb = load_kb(REAL_FAQ)
    named = {"egov_register", "egov_password", "property_certificate", "iin_get", "tax_debt",
             "business_close"}
    changed = set()
    for entry in kb.entries:
        for lang, words in LEXICON.items():
            for text in (entry.answer[lang], entry.about[lang]):
                said = spoken(lang, text)
                assert not any(w in said.split() for w in words), (entry.id, said)
                if said != text:
                    changed.add(entry.id)
    assert named <= changed


def _phonemes(lang: str, text: str) -> str:
    out = subprocess.run(["espeak-ng", "-v", lang, "-q", "-x", text], capture_output=True,
                         text=True, timeout=10, check=True)
    return out.stdout.strip()


@needs_espeak
@pytest.mark.parametrize(
    ("lang", "acronym", "as_a_word", "spelled"),
    [  # espeak-ng 1.51 phonemes: before (read as a word) and after (letter by letter)
        ("ru", "ЭЦП", "'Etsp", "'e ts'E p'E"),
        ("ru", "ИИН", "'Iin_", "'i 'i 'En_"),
        ("ru", "ИП", "'Ip", "'i p'E"),
        ("kk", "ЭЦҚ", "'etsq", "'e ts'e q'A"),
        ("kk", "ЖСН", "Z@s@n'@", "Z'e 'es 'en"),
    ],
)
def test_espeak_says_the_letters(lang: str, acronym: str, as_a_word: str, spelled: str) -> None:
    assert _phonemes(lang, acronym) == as_a_word
    assert _phonemes(lang, spoken(lang, acronym)) == spelled


def test_the_cache_key_is_the_spoken_text(tmp_path: Path) -> None:
    r = PromptRenderer(tmp_path)
    assert r.key("ru", "получение ЭЦП") == r.key("ru", "получение э цэ пэ")
    assert r.key("ru", "получение ЦОН") != r.key("ru", "получение цэ о эн")


@pytest.mark.peer
@needs_espeak
async def test_the_worker_is_given_the_spoken_text(tmp_path: Path) -> None:
    async with PromptRenderer(tmp_path / "a") as a, PromptRenderer(tmp_path / "b") as b:
        written = await a.render("ru", "Номер вашего ИИН.")
        said = await b.render("ru", "Номер вашего и и эн.")
        assert written.read_bytes() == said.read_bytes()
