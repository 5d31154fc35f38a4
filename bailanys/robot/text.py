"""The FAQ matcher's text side: normalising, stemming and the lexical terms of a turn.

A light stemmer (Russian endings; for Kazakh, agglutinative, up to one case
or verb ending, then one possessive, then one plural suffix, in the reverse
of the order they attach, and the final consonant alternation к/г, қ/ғ, п/б
undone; stems truncated to :data:`STEM_LEN` characters, which also absorbs
small ASR errors at word ends).  Function and question words
(:data:`STOP_WORDS`: "как", "қалай", "керек" ...) are left out of the
lexical evidence.  :func:`terms` is that evidence: concept tokens
(:mod:`bailanys.robot.concepts`) and content-word stems, Russian words
reduced to their lemma first.  :func:`core_text` and :func:`clauses` give
the texts the embedding side sees (a turn without its fillers, its last
clauses).  Pure functions; :mod:`bailanys.robot.matcher` scores with them.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable

from bailanys.robot.concepts import ru_lemma, tag

#: A Kazakh cut leaves at least this many letters ("бала", "неке" keep their vowel).
KK_KEEP = 4
STEM_LEN = 6  # truncation stemming; 5-6 is the usual sweet spot for Russian (measured: 6)
OPERATOR_WORDS = ("оператор", "operator", "маманмен", "специалист")


_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)


def _longest_first(endings: set[str]) -> tuple[str, ...]:
    return tuple(sorted(endings, key=len, reverse=True))


_RU = {
    "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими", "ией", "ием", "иях", "ях", "ах",
    "ов", "ев", "ей", "ой", "ий", "ый", "ая", "яя", "ое", "ее", "ые", "ие", "ую", "юю",
    "ом", "ем", "ам", "ям", "ть", "ться", "ется", "ится", "ешь", "ишь", "ет", "ит",
    "ют", "ут", "ат", "ят", "ла", "ло", "ли", "сь", "ся", "ии", "ия", "ью",
    "а", "я", "о", "е", "ы", "и", "у", "ю", "ь", "й",
}
_RU_ENDINGS = _longest_first(_RU)
# Kazakh suffixes attach as stem + plural + possessive + case (a verb takes its
# tense/person ending instead of the case); they are cut in the reverse order,
# at most one per slot.  Russian endings share the first slot, for the Russian
# words callers use inside Kazakh sentences ("справканы", "пособие").
_KK_CASE = {
    "ның", "нің", "дың", "дің", "тың", "тің",  # genitive
    "ны", "ні", "ды", "ді", "ты", "ті", "н",  # accusative (-н after a possessive)
    "ға", "ге", "қа", "ке", "а", "е",  # dative (-на/-не: after a possessive, below)
    "да", "де", "та", "те", "нда", "нде",  # locative
    "дағы", "дегі", "тағы", "тегі", "ндағы", "ндегі",  # -ғы/-гі after the locative
    "дан", "ден", "тан", "тен", "нан", "нен",  # ablative
    "мен", "бен", "пен",  # instrumental
    # third-person possessive with a case after it (баласын, құжатына, емханасында)
    "сы", "сі", "сын", "сін", "сына", "сіне", "сында", "сінде", "сынан", "сінен",
    "сының", "сінің", "ына", "іне", "ында", "інде", "ынан", "інен", "ының", "інің",
    "ымды", "імді", "ымның", "імнің", "ыма", "іме", "ымда", "імде",  # first person + case
}
_KK_VERB = {
    "у", "уға", "уге", "уды", "уді", "уы", "уі",  # verbal noun (тіркеу, тіркеуге)
    "ған", "ген", "қан", "кен", "ғанда", "генде", "қанда", "кенде",  # participle
    "мын", "мін", "сың", "сің", "сыз", "сіз", "мыз", "міз",  # personal endings
    "ймын", "ймін", "амын", "емін", "аймын", "еймін", "ймыз", "йміз", "амыз", "еміз",
    "йды", "йді", "ады", "еді", "ды", "ді",  # present, third person
    "дым", "дім", "тым", "тім", "дық", "дік", "тық", "тік",  # past
    "ып", "іп", "сам", "сем", "сақ", "сек", "а", "е", "й",  # converbs, conditional
    # The question particle (ма/ба/па) is a word of its own in a transcript, and
    # the intention -ғым/-гім would eat куәлігім, салығым: neither is cut.
    "мақ", "мек",  # intention (алмақ)
}
_KK_POSSESSIVE = {
    "ым", "ім", "м", "ың", "ің", "ы", "і", "сы", "сі",  # (-ң: flattened, the accusative -н)
    "мыз", "міз", "ымыз", "іміз", "ңыз", "ңіз", "ыңыз", "іңіз",
}
_KK_PLURAL = {"лар", "лер", "дар", "дер", "тар", "тер"}
def _flat_set(endings: set[str]) -> set[str]:
    return {e.translate(str.maketrans("қғүұөіәңһ", "кгууоианх")) for e in endings}  # = flatten


_KK_SLOTS = (
    # single vowels are not cut here: the final vowel goes after all cuts
    # (анықтама/анықтаманы, тіркеу/тіркеуде), see stem()
    _longest_first({e for e in _flat_set(_KK_CASE | _KK_VERB) | _RU if len(e) > 1}),
    _longest_first(_flat_set(_KK_POSSESSIVE)),
    _longest_first(_flat_set(_KK_PLURAL)),
)
# A stem-final voiced consonant is the voiceless one before a vowel suffix
# (куәлік -> куәлігі, салық -> салығы, кітап -> кітабы): write it voiceless.
_VOWELS = frozenset("аеыиоуэюя")
_KK_DEVOICE = {"г": "к", "б": "п"}  # (flattened: ғ/қ are г/к)
_KK_LETTERS = set("әғқңөұүһі")
# Function and question words: they tell no topic apart.  Only the lexical
# scorer drops them (the embedding sees the whole sentence).
STOP_WORDS = frozenset((
    # Russian
    "как каким какие какой какая какое каком где куда когда сколько что чтобы ли не нет "
    "и или а же то в во на по за с со из от до для о об у к при через я мне меня мой моя "
    "мои мое мы нас вы вас его ее их это можно нужно надо нужна нужен нужны есть быть если "
    # Kazakh
    "қалай қайда қайдан қашан не неше қанша қандай ма ме ба бе па пе бола болады болса "
    "керек үшін және мен немесе деп осы бұл ол сол менің біз сіз маған бізге "
    # greetings and fillers a caller puts before the question (issue 18)
    "здравствуйте подскажите пожалуйста скажите алло девушка добрый день хотела хотел "
    "сәлеметсіз бе айтыңызшы еді едім екен ғой енді жатыр жатырмын деген "
    # "ету", the light verb of a Russian infinitive ("оформлять ету", issue 18)
    "ету етемін етеміз етеді етесіз етіп етуге етті етем етейін етсем етсе етеди"
).split())
_FLAT_STOP = str.maketrans("қғүұөіәңһ", "кгууоианх")
STOP_WORDS = frozenset(STOP_WORDS | {w.translate(_FLAT_STOP) for w in STOP_WORDS})


#: Kazakh letters as a recogniser without them writes them (issue 18: "куэлик",
#: "калай", "ушин"); the lexical scorer flattens both sides, so a flattened
#: transcript and the knowledge base's proper spelling meet.
_FLAT = _FLAT_STOP
#: Kazakh words that tell a flattened Kazakh sentence (no Kazakh letters left)
#: from a Russian one, after flattening.
_KK_MARKERS = frozenset((
    "керек калай кайда кайдан кашан канша кандай ушин бола болады ма ме ба бе па пе "
    "аламын алам береди бар жок деп жатыр жатырмын тиркелу туралы немесе мен"
).split())


#: Words a caller wraps the question in (greetings, address, "tell me"): they
#: say nothing about the topic, yet in a long turn they pull the sentence's
#: embedding towards every other greeting.  Dropped from the embedded text.
FILLERS = frozenset((
    "здравствуйте алло девушка подскажите пожалуйста скажите добрый день вечер "
    "сәлеметсіз салеметсиз сәлем айтыңызшы айтынызшы"
).split())


def core_text(text: str) -> str:
    """The normalised turn without its fillers ("сәлеметсіз бе", "подскажите пожалуйста")."""
    words = normalize(text).split()
    out = [w for i, w in enumerate(words)
           if w not in FILLERS and not (w in ("бе", "ба") and i and words[i - 1] in FILLERS)]
    return " ".join(out) if len(out) >= 2 else " ".join(words)


#: Words that start a new clause in a caller's turn ("... жоғалттым енді не
#: істеймін", "... продал машину а налог все еще приходит").
CLAUSE_STARTS = frozenset("енди енді сосын бірақ бирак ал а но теперь потом".split())
CLAUSE_MIN_WORDS = 3


def clauses(norm: str) -> list[str]:
    """A normalised turn's clauses, split before :data:`CLAUSE_STARTS` words.

    Only a turn of two or more clauses of :data:`CLAUSE_MIN_WORDS` words or
    more gives any (a short turn is its own single clause: nothing to add);
    at most the last two, where the question usually is.
    """
    words = norm.split()
    out: list[list[str]] = [[]]
    for w in words:
        if w in CLAUSE_STARTS and len(out[-1]) >= CLAUSE_MIN_WORDS:
            out.append([])
        out[-1].append(w)
    if len(out) < 2 or len(out[-1]) < CLAUSE_MIN_WORDS:
        return []
    return [" ".join(c) for c in out[-2:]]


def flatten(text: str) -> str:
    """Kazakh-only letters to their Russian look-alikes (қ->к, ә->а, і->и ...)."""
    return text.translate(_FLAT)


def is_kazakh(words: list[str]) -> bool:
    """A sentence is Kazakh when it has a Kazakh letter or a (flattened) Kazakh function word."""
    return any(_KK_LETTERS & set(w) or flatten(w) in _KK_MARKERS for w in words)


def normalize(text: str) -> str:
    """Lower case, ё -> е, words only (a Vosk transcript already looks like this)."""
    return " ".join(_WORD.findall(text.lower().replace("ё", "е")))


def _cut(word: str, endings: tuple[str, ...], keep: int = 3) -> str:
    for end in endings:
        if word.endswith(end) and len(word) - len(end) >= keep:
            return word[: -len(end)]
    return word


#: Voiceless consonants (flattened): a Kazakh suffix starting with т or қ/к
#: follows one of them only (құжат-ты, куәлік-ке; after a vowel or a voiced
#: consonant it is -ны/-ды, -ға/-ге), so "құжаты" is құжат-ы, not құжа-ты, and
#: "справка" has no dative -ка (issue 18).
_VOICELESS = frozenset("кпстфхцчшщ")


def _cut_kk(word: str, endings: tuple[str, ...]) -> str:
    for end in endings:
        if word.endswith(end) and len(word) - len(end) >= KK_KEEP:
            if end[0] in "тк" and word[-len(end) - 1] not in _VOICELESS:
                continue
            return word[: -len(end)]
    return word


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str, kazakh: bool | None = None) -> str:
    """Cut inflections, keep at least three letters, truncate to :data:`STEM_LEN`.

    ``kazakh``: the sentence's language; None: the word's own letters decide.
    Russian: one or two endings.  Kazakh: one suffix per slot (case or verb
    ending, possessive, plural), then the consonant alternation undone.
    """
    if kazakh is None:
        kazakh = bool(_KK_LETTERS & set(word))
    kazakh = kazakh or bool(_KK_LETTERS & set(word))
    word = flatten(word)
    if kazakh:
        for endings in _KK_SLOTS:
            word = _cut_kk(word, endings)
        # a stem-final vowel goes (емхана/емханаға, тіркеу/тіркеуде: the cut
        # endings may have taken it or not)
        if word[-1:] in _VOWELS and len(word) > KK_KEEP:
            word = word[:-1]
        if word[-1:] == "ь":  # a Russian word's soft sign goes before a suffix (пароль/паролі)
            word = word[:-1]
        if word[-1:] in _KK_DEVOICE:
            word = word[:-1] + _KK_DEVOICE[word[-1]]
    else:
        for _ in range(2):
            cut = _cut(word, _RU_ENDINGS)
            if cut == word:
                break
            word = cut
    return word[:STEM_LEN]


def stems(text: str, drop_stop_words: bool = False) -> list[str]:
    """Stems of ``text``; a Kazakh sentence stems its Russian words the Kazakh way too."""
    words = normalize(text).split()
    kazakh = is_kazakh(words)
    return [stem(w, kazakh) for w in words
            if not (drop_stop_words and flatten(w) in STOP_WORDS)]


#: A word without Kazakh letters in a Kazakh sentence is taken for Russian
#: (lemma, Russian stem) when the Russian dictionary knows it and it has at least
#: this many letters: short flattened Kazakh words are often Russian forms too
#: ("балам", "ету").
RU_IN_KK_MIN = 6


def terms(text: str) -> list[str]:
    """The lexical scorer's evidence: concept tokens and content-word stems (issue 18).

    Mentions of documents, services and life events become one concept token
    each (:func:`bailanys.robot.concepts.tag`: "э це пэ" and "электронды
    қолтаңба" are both ``#eds``); the other words lose their stop words and
    are stemmed.  A Russian word (no Kazakh letter, known to the Russian
    dictionary) is first reduced to its lemma, in a Kazakh sentence too, so
    that it meets the same word in a Russian phrasing.
    """
    words = normalize(text).split()
    kazakh = is_kazakh(words)
    out: list[str] = []
    for w in tag(words):
        if w.startswith("#"):
            out.append(w)
            continue
        if flatten(w) in STOP_WORDS:
            continue
        if _KK_LETTERS & set(w):
            out.append(stem(w, True))
            continue
        if kazakh and len(w) < RU_IN_KK_MIN:
            out.append(stem(w, True))  # "балам", "ету": Kazakh, whatever Russian says
            continue
        lemma = ru_lemma(w).replace("ё", "е")
        # a known Russian word is stemmed the Russian way, in either language;
        # an unknown one (a flattened Kazakh word) as its sentence says
        out.append(stem(lemma, False) if lemma != w or not kazakh else stem(w, True))
    return out


def guess_lang(text: str) -> str:
    return "kk" if _KK_LETTERS & set(text.lower()) else "ru"


def wants_operator(text: str) -> bool:
    """"оператор", "операторға", "operator": the caller asks for a person."""
    return any(w.startswith(OPERATOR_WORDS) for w in normalize(text).split())


class Respeller:
    """Kazakh letters put back into a turn a recogniser wrote without them (issue 18).

    A recogniser without Kazakh letters writes "жеке куалик жогалып кетти"
    for "жеке куәлік жоғалып кетті".  The lexical scorer flattens both sides
    (:func:`flatten`), but the embedding model reads "куалик" as another
    word.  A Respeller knows the Kazakh words of a vocabulary (the knowledge
    base's phrasings, titles and answers); in a Kazakh sentence
    (:func:`is_kazakh`, or two words or more to respell), a word with no
    Kazakh letter is written as the vocabulary's most frequent word that
    flattens to it ("кол" -> қол before көл; "алам" and Russian words, which
    no Kazakh word outnumbers, stay).
    """

    def __init__(self, texts: Iterable[str]) -> None:
        counts = Counter(w for t in texts for w in normalize(t).split())
        # flattened form -> its most frequent spelling (a flattened phrasing in
        # the vocabulary itself does not outvote the proper one)
        self._kazakh: dict[str, str] = {}
        for w, _ in counts.most_common():
            self._kazakh.setdefault(flatten(w), w)

    def __len__(self) -> int:
        return len(self._kazakh)

    def __call__(self, norm: str) -> str:
        """``norm`` (a :func:`normalize`\\ d turn) with its flattened Kazakh words respelt."""
        words = norm.split()
        out = [w if _KK_LETTERS & set(w) else self._kazakh.get(w, w) for w in words]
        respelt = sum(a != b for a, b in zip(words, out, strict=True))
        # a flattened sentence may have no Kazakh function word ("жеке куалик
        # жогалып кетти"): two respelt words make it Kazakh too
        if respelt >= 2 or (respelt and is_kazakh(words)):
            return " ".join(out)
        return norm
