"""Kazakh inflection chains, generated from the attachment rules (pure tables).

Kazakh is agglutinative: a noun takes ``plural + possessive + case`` and a
verb ``negation + tense/mood + person`` in that order, each suffix choosing
its form by the sound it follows (consonant assimilation) and by the word's
last vowel (vowel harmony, back а ы о ұ / front е і ә ө ү).  Rather than
cutting one suffix per slot without looking at its neighbours (the robot
matcher's light stemmer, :func:`bailanys.robot.text.stem`, which this
extends), every well-formed chain is generated here once, with the set of
stem-final sounds it may follow, so that :mod:`bailanys.analytics.morph`
cuts the longest chain that fits in one dictionary look-up per length.

Rules as in «Қазақ грамматикасы» (Астана, 2002), морфология: көптік жалғау,
тәуелдік жалғау, септік жалғау, етістіктің шақ/жақ жалғаулары (cited, not
copied); the allomorph choice is the textbook one:

* after a vowel: -лар, -ның, -ны, -ға, -да, -дан, -мен, possessive -м/-ң/-сы;
* after л р й у: -лар (р й у) / -дар (л), -дың, -ды, -ға, -да, -дан, -мен;
* after м н ң: -дар, -ның, -ды, -ға, -да, -нан, -мен;
* after ж з: -дар, -дың, -ды, -ға, -да, -дан, -бен;
* after a voiceless consonant (к қ п с т ш ф х ц ч щ, and б в г д at the
  end of Russian loans, pronounced voiceless): -тар, -тың, -ты, -қа, -та,
  -тан, -пен;
* after a 3rd-person possessive: -ның, -н, -на, -нда, -нан, -мен;
  after -м / -ң of the 1st / 2nd person singular: dative -а.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

VOWELS: Final = frozenset("аәеиоөуұүыіэюяё")
#: Stem-final sound classes a chain may follow.
V, SON, NAS, ZH, VL = "vowel", "sonorant", "nasal", "zh", "voiceless"
_CLASS: Final = {
    **{c: SON for c in "лрйу"},
    **{c: NAS for c in "мнң"},
    **{c: ZH for c in "жз"},
    **{c: VL for c in "кқпстшфхцчщбвгд"},
}


def sound_class(letter: str) -> str:
    """The class of a stem-final letter for suffix choice (у is a glide: a sonorant)."""
    if letter in _CLASS:
        return _CLASS[letter]
    return V if letter in VOWELS else VL


# Suffix templates: A = а/е, Y = ы/і, G = ғ/г, Q = қ/к (back/front).
def _harm(template: str, back: bool) -> str:
    table = {"A": "ае", "Y": "ыі", "G": "ғг", "Q": "қк"}
    return "".join(table[c][0 if back else 1] if c in table else c for c in template)


def _after(cls: str, forms: dict[str, str]) -> str:
    """The allomorph for a preceding class; ``forms`` maps class letters to templates."""
    return forms[{V: "v", SON: "s", NAS: "n", ZH: "z", VL: "t"}[cls]]


_PLURAL: Final = {"v": "лAр", "s": "лAр", "n": "дAр", "z": "дAр", "t": "тAр"}
_GEN: Final = {"v": "нYң", "s": "дYң", "n": "нYң", "z": "дYң", "t": "тYң"}
_ACC: Final = {"v": "нY", "s": "дY", "n": "дY", "z": "дY", "t": "тY"}
_DAT: Final = {"v": "GA", "s": "GA", "n": "GA", "z": "GA", "t": "QA"}
_LOC: Final = {"v": "дA", "s": "дA", "n": "дA", "z": "дA", "t": "тA"}
_ABL: Final = {"v": "дAн", "s": "дAн", "n": "нAн", "z": "дAн", "t": "тAн"}
_INS: Final = {"v": "мен", "s": "мен", "n": "мен", "z": "бен", "t": "пен"}
_LOC_ADJ: Final = {"v": "дAGY", "s": "дAGY", "n": "дAGY", "z": "дAGY", "t": "тAQY"}
_CASES: Final = (_GEN, _ACC, _DAT, _LOC, _ABL, _INS, _LOC_ADJ)
# After a 3rd-person possessive (-ы/-і/-сы/-сі): the pronominal n.
_CASES_POSS3: Final = ("нYң", "н", "нA", "ндA", "нAн", "мен", "ндAGY")


def _possessives(cls: str) -> list[tuple[str, bool]]:
    """(possessive template, is 3rd person) after a stem of class ``cls``."""
    if cls == V:
        return [("м", False), ("ң", False), ("сY", True), ("мYз", False), ("ңYз", False)]
    return [("Yм", False), ("Yң", False), ("Y", True), ("YмYз", False), ("YңYз", False)]


def _last(template: str) -> str:
    return template[-1] if template else ""


def _noun_chains(cls: str) -> Iterator[str]:
    """Noun chain templates after a stem of class ``cls`` (the empty chain excluded)."""
    for plural in ("", _after(cls, _PLURAL)):
        head_cls = SON if plural else cls  # -лар/-дар/-тар end in р
        poss_list: list[tuple[str, bool]] = [("", False), *_possessives(head_cls)]
        if plural:
            poss_list.append(("Y", True))  # -лары: their
        for poss, third in poss_list:
            chain = plural + poss
            if chain:
                yield chain
            if third:
                yield from (chain + c for c in _CASES_POSS3)
                continue
            if poss in ("Yм", "Yң"):
                yield chain + "A"  # паспортыма, паспортыңа (not after a vowel:
                # анықта+ма would cut every noun in -ма)
            end = _last(chain)
            end_cls = sound_class(_harm(end, True)) if end else cls
            for case in _CASES:
                if poss in ("м", "ң", "Yм", "Yң") and case is _DAT:
                    continue
                yield chain + _after(end_cls, case)


_PERSON_PRESENT: Final = ("мYн", "сYң", "сYз", "дY", "мYз", "сYздAр")
_PERSON_PAST: Final = ("м", "ң", "ңYз", "Q", "", "ңYздAр")


def _verb_chains(cls: str) -> Iterator[str]:
    """Verb chain templates after a verb stem of class ``cls`` (a few common forms)."""
    vowel = cls == V
    yield "у"  # verbal noun: тіркеу, жазу
    for case in _CASES:
        yield "у" + _after(SON, case)  # тіркеуге, тіркеуді
    for poss in ("Yм", "Yң", "Y", "YмYз", "YңYз"):
        yield "у" + poss  # тіркеуім (керек)
    neg = {"v": "мA", "s": "мA", "n": "бA", "z": "бA", "t": "пA"}
    neg_forms = ["", _after(cls, neg)]
    for n in neg_forms:
        stem_v = vowel or bool(n)  # after the negation the stem ends in a vowel
        present = "й" if stem_v else "A"
        for person in _PERSON_PRESENT:
            yield n + present + person  # жазамын, тіркеймін, жазбаймын
        past = "д" if stem_v or cls in (SON, NAS, ZH) else "т"
        for person in _PERSON_PAST:
            yield n + past + "Y" + person  # жаздым, тіркедім, жазбадым
        part = "G" if stem_v or cls in (SON, NAS, ZH) else "Q"
        for tail in ("", "дA", "Yм", "мYн", "мYз", "сYз", "Yн", "дAй"):
            yield n + part + "Aн" + tail  # тіркеген, алғанда, тіркегенмін
        yield n + ("ңYз" if stem_v else "YңYз")  # тіркеңіз, жазыңыз
        yield n + ("п" if stem_v else "Yп")  # тіркеп, жазып
        for person in ("м", "ң", "ңYз", "Q", ""):
            yield n + "сA" + person  # тіркесем, жазсаңыз
        yield n + ("йYн" if stem_v else "AйYн")  # тіркейін, жазайын
        yield n + ("мAQ" if stem_v or cls in (SON, NAS) else "бAQ")  # алмақ


def build_chains() -> dict[str, frozenset[str]]:
    """Every chain (both harmonies) -> the stem-final classes it may follow."""
    out: dict[str, set[str]] = {}
    for cls in (V, SON, NAS, ZH, VL):
        for gen in (_noun_chains, _verb_chains):
            for template in gen(cls):
                for back in (True, False):
                    out.setdefault(_harm(template, back), set()).add(cls)
    for bare in ("", "м", "ң"):
        out.pop(bare, None)  # төле+м or төлем? a bare -м/-ң is too often the stem's own
    return {k: frozenset(v) for k, v in out.items()}


#: chain -> classes of the stem-final sound it may follow.
CHAINS: Final = build_chains()
#: Longest chain, in letters.
MAX_CHAIN: Final = max(map(len, CHAINS))
#: Chains whose vowels are back (they follow a stem whose last vowel is back).
BACK_VOWELS: Final = frozenset("аоұыяю")
FRONT_VOWELS: Final = frozenset("әеөүіэи")
#: Letters only Kazakh writes (Cyrillic): a word with one is Kazakh.
KK_LETTERS: Final = frozenset("әғқңөұүһі")
