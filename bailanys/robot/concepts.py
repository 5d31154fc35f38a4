"""Key entities of a caller's turn: documents, services, life events, bodies (issue 18).

The FAQ matcher's lexical scorer compares word stems; a caller names the same
thing in many ways: "ЭЦП", "ЭЦҚ", "э це пэ", "электронды қолтаңба",
"цифровая подпись"; "права", "водительское удостоверение", "жүргізуші
куәлігі"; "прописка", "тұрғылықты жері бойынша тіркелу".  :func:`terms`
rewrites each such mention as one concept token (``"#eds"``, ``"#dlicence"``,
``"#propiska"``) before the rest is stemmed, on both sides: the knowledge
base's phrasings and titles, and the caller's turn.  An entry's title's
concepts are its key entities (``Matcher``: an entry whose key entities the
caller names beats one that matches generic words only).

Patterns are matched on the flattened, lower-case words
(:func:`bailanys.robot.text.flatten`: a recogniser without Kazakh letters
writes "куалик" for "куәлік"), each word of a pattern a regular expression
matched against the whole word, longest patterns first ("жүргізуші
куәлігі" is a driving licence before "куәлік" is an identity card).

Russian words inside a Kazakh sentence ("пособие на рождение оформлять ету")
and Russian sentences are reduced to their dictionary form by pymorphy3
(:func:`ru_lemma`) before they are stemmed, so that "пособия", "пособием",
"пособие" meet; the analyser is loaded once, its lemmas cached.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any, Final

log = logging.getLogger(__name__)

_W = r"\w*"

#: concept -> patterns; a pattern is a space-separated sequence of word regexes
#: on flattened words (қ->к, ғ->г, ү/ұ->у, ө->о, і->и, ә->а, ң->н, һ->х).
LEXICON: Final[dict[str, tuple[str, ...]]] = {
    # documents
    "#dlicence": (f"водительск{_W} удостоверени{_W}", f"водительск{_W} прав{_W}",
                  f"жургизуш{_W} куали{_W}", f"жургизуш{_W} удостоверени{_W}",
                  f"водительск{_W}", "прав(а|ы|ам|ами|аны|амды|ага|асы|асын|амнын|ым|ымды)?",
                  f"жургизуш{_W}"),
    "#birthcert": (f"туу туралы куали{_W}", f"свидетельств{_W} о рождени{_W}",
                   f"метрик{_W}"),
    "#idcard": (f"жеке куали{_W}", f"куали{_W}", f"удостоверени{_W}", f"удик{_W}",
                f"удв{_W}"),
    "#passport": (f"паспорт{_W}", f"толкужат{_W}", f"загран{_W}", f"заграничн{_W}"),
    "#eds": (f"электрон{_W} колтанб{_W}", f"электрон{_W} подпис{_W}",
             f"цифрл{_W} колтанб{_W}", f"цифров{_W} подпис{_W}",
             "э ц(е|э)? п(е|э)?", "е ц(е|э)? п(е|э)?", f"эцп{_W}", f"эцк{_W}", f"эсп{_W}",
             f"колтанб{_W}", f"ключ{_W} подпис{_W}"),
    "#password": (f"парол{_W}", f"пороль{_W}", f"купиясоз{_W}", f"купия соз{_W}"),
    "#egov": (f"egov{_W}", f"e gov{_W}", f"егов{_W}", f"игов{_W}", f"(е|и) гов{_W}",
              f"электрон{_W} правительств{_W}", f"электрон{_W} укимет{_W}"),
    "#con": (f"цон{_W}", f"тсон{_W}", f"хкко{_W}", f"халыкка кызмет корсету орталыг{_W}",
             f"центр{_W} обслуживани{_W} населени{_W}"),
    "#addrcert": (f"адресн{_W} справк{_W}", f"мекенжай{_W} аныктама{_W}",
                  f"адрес{_W} справк{_W}", f"справк{_W} с места жительств{_W}"),
    "#criminal": (f"несудим{_W}", f"судимост{_W}", f"сотталмаган{_W}", f"соттылы{_W}"),
    "#medcert": (f"медсправк{_W}", f"нарколог{_W}", f"психиатр{_W}", f"психдиспансер{_W}",
                 f"наркодиспансер{_W}", f"мед справк{_W}"),
    "#stazh": (f"трудов{_W} стаж{_W}", f"енбек отил{_W}", f"стаж{_W}", f"отил{_W}"),
    "#certificate": (f"справк{_W}", f"аныктам{_W}"),
    "#iin": (f"иин{_W}", f"жсн{_W}", "ин"),
    # benefits and life events
    "#asp": (f"атаулы алеуметтик комек{_W}", f"адресн{_W} социальн{_W} помощ{_W}",
             f"атаулы{_W}", "асп(ка|ке|ты|ти|ны|ни|га|ге|а|у|ом|е)?", f"малоимущ{_W}",
             f"малообеспеч{_W}", f"кедей{_W}",
             f"аз камтамасыз{_W}", f"аз камтылган{_W}"),
    "#largefam": (f"коп балал{_W}", f"копбалал{_W}", f"многодет{_W}", f"много дет{_W}"),
    "#care": (f"декрет{_W}", "уход(а|у|ом|е)?", f"кутим{_W}", f"кутуге{_W}", f"бала кут{_W}"),
    "#birth": (f"туу{_W}", f"туыл{_W}", f"тугандыг{_W}", f"рожд{_W}", "родил(а|ся|ась|ись|о|ось)?",
               f"родив{_W}", f"новорожд{_W}", f"босан{_W}", "роды", "родах"),
    "#allowance": (f"пособи{_W}", f"жардемак{_W}", f"выплат{_W}", f"толем{_W}"),
    "#pension": (f"пенси{_W}", f"зейнет{_W}"),
    "#savings": (f"енпф{_W}", f"бжзк{_W}", f"накоплен{_W}", f"жинак{_W}"),
    "#military": (f"аскери есеп{_W}", f"корганыс{_W}", f"воинск{_W} учет{_W}", f"аскер{_W}",
                  f"военкомат{_W}", f"воинск{_W}", f"военн{_W}", f"арми{_W}",
                  f"призыв{_W}", f"приписн{_W}"),
    "#propiska": (f"тургылыкты{_W}", f"мекенжай{_W} тиркел{_W}", f"адрес{_W} тиркел{_W}",
                  f"прописк{_W}", f"прописа{_W}", f"пропиш{_W}", f"прописыв{_W}",
                  f"прописан{_W}"),
    "#temporary": (f"временн{_W}", f"уакытша{_W}"),
    "#divorce": (f"некени буз{_W}", f"неке буз{_W}", f"расторж{_W} брак{_W}",
                 f"развод{_W}", f"развест{_W}", f"ажыра{_W}"),
    "#marriage": (f"неке{_W}", f"брак{_W}", f"женит{_W}", f"замуж{_W}", f"уйлен{_W}",
                  f"турмыска{_W}", f"загс{_W}", f"роспис{_W}", f"азаж{_W}"),
    "#death": (f"кайтыс{_W}", f"смерт{_W}", f"умер{_W}", f"скончал{_W}", f"олим{_W}",
               f"кайтыс бол{_W}"),
    "#disability": (f"инвалид{_W}", f"мугедек{_W}", f"мсэ{_W}"),
    "#unemployed": (f"жумыссыз{_W}", f"безработ{_W}", f"жумыстан шык{_W}",
                    f"жумыстан айыр{_W}", f"потер{_W} работ{_W}", f"уволи{_W}",
                    f"сократи{_W}", f"сокращени{_W}"),
    # property, vehicles, business, taxes
    "#dereg": (f"снят{_W} с учет{_W}", f"сниму с учет{_W}", f"есептен шыгар{_W}",
               f"есептен шыг{_W}", "есептен", f"с учет{_W}", f"учеттан{_W}", f"учеттен{_W}"),
    "#car": (f"машин{_W}", f"автомобил{_W}", "авто", f"колик{_W}", f"колиг{_W}",
             f"авток{_W}", f"тачк{_W}"),
    "#property": (f"жылжымайтын мулик{_W}", f"жылжымайтын{_W}", f"недвижим{_W}",
                  f"прав{_W} собственност{_W}", f"собственност{_W}", f"кукык{_W}",
                  f"прав{_W} на (недвиж|квартир|дом|жиль|имуществ|земл|участ){_W}"),
    "#business": (f"жеке касипкер{_W}", f"касипкер{_W}",
                  "ип(ти|ты|ке|ка|ге|га|ни|ны|тин|тын|тен|тан|ым|им|имди|ымды)?",
                  f"ипэ{_W}", f"ипш{_W}", f"предприним{_W}", f"бизнес{_W}"),
    "#tax": (f"налог{_W}", f"салык{_W}", f"салыг{_W}"),
    "#debt": (f"задолжен{_W}", "долг(а|и|ов|у|ом|ами|ам)?", f"карыз{_W}", f"берешег{_W}",
              f"берешек{_W}", f"недоимк{_W}"),
    # queues, schools, health, civil status
    "#kinder": (f"балабакш{_W}", f"садик{_W}", f"детск{_W} сад{_W}", f"детсад{_W}"),
    "#school": (f"мектеп{_W}", f"мектеб{_W}", f"школ{_W}", f"первоклас{_W}",
                f"сынып{_W}", f"клас{_W}"),
    "#housing": (f"тургын уй{_W}", f"жиль{_W}", f"жилищ{_W}", f"баспана{_W}"),
    "#clinic": (f"емхана{_W}", f"поликлиник{_W}", f"аурухана{_W}", f"прикреп{_W}",
                f"участков{_W}"),
    "#insurance": (f"страхов{_W}", f"сактандыр{_W}", f"осмс{_W}", "омс"),
    "#surname": (f"фамили{_W}", "теги", f"тегим{_W}"),
    "#citizenship": (f"гражданств{_W}", f"азаматтыг{_W}", f"азаматтык{_W}"),
    "#status": (f"статус{_W}", f"мартебе{_W}"),
    "#hotline": ("1414", f"колл центр{_W}", f"контакт центр{_W}", f"байланыс орталыг{_W}",
                 f"горяч{_W} лини{_W}"),
    "#booking": (f"алдын ала жазыл{_W}", f"электронн{_W} очеред{_W}", f"талон{_W}"),
    # what the caller wants done with it
    "#lost": (f"потер{_W}", f"утер{_W}", f"утрат{_W}", f"украл{_W}", f"украд{_W}", f"украден{_W}",
              f"жогал{_W}", f"жогалт{_W}", f"урла{_W}", f"урлат{_W}", f"выронил{_W}", f"посеял{_W}",
              f"пропал{_W}"),
    "#forgot": (f"забыл{_W}", f"забыт{_W}", f"умыт{_W}", f"есимнен шыг{_W}",
                f"не помн{_W}", f"есимде жок{_W}"),
    "#renew": (f"мерзим{_W} (от|бит|аякт|шык){_W}", f"срок{_W} (действ|истек|закончил|вышел)"
               f"{_W}", f"продл{_W}", f"жанарт{_W}", f"узарт{_W}", f"просроч{_W}",
               f"истек{_W}", f"истёк{_W}", f"замен{_W}", f"ауыстыр{_W}", f"поменя{_W}",
               f"обмен{_W}", f"дубликат{_W}", f"испорт{_W}", f"переоформ{_W}"),
    "#change": (f"смен{_W}", f"озгерт{_W}", f"измен{_W}"),
    "#hours": (f"жумыс уакыт{_W}", f"жумыс кестес{_W}", f"час{_W} работ{_W}",
               f"режим{_W} работ{_W}", f"график{_W}", f"выходн{_W}", f"суббот{_W}",
               f"воскресен{_W}", f"сенби{_W}", f"жексенби{_W}"),
}

#: Concepts that say what is wanted or which kind of paper, not about what:
#: an entry's key concept of this kind counts only with one of its other key
#: concepts ("мысығым жоғалып кетті" names #lost, yet is no lost identity card).
GENERIC: Final = frozenset(("#lost", "#forgot", "#renew", "#change", "#allowance",
                            "#certificate", "#status", "#con", "#egov"))
#: Where or how, not what: "цонға барамын ба әлде игов арқылы" is said about
#: any service; not counted against an entry whose phrasings lack it.
CONTEXT: Final = frozenset(("#con", "#egov"))

_Pattern = tuple[re.Pattern[str], ...]


def _compile() -> list[tuple[_Pattern, str]]:
    out = [(tuple(re.compile(w) for w in p.split()), c)
           for c, pats in LEXICON.items() for p in pats]
    # longest first; a stable sort keeps the table's order among equals
    out.sort(key=lambda pc: -len(pc[0]))
    return out


_PATTERNS: Final = _compile()


@functools.lru_cache(maxsize=65536)
def _starting(word: str) -> tuple[int, ...]:
    """The patterns (longest first) whose first word matches ``word``."""
    return tuple(i for i, (pat, _) in enumerate(_PATTERNS) if pat[0].fullmatch(word))


_FLAT: Final = str.maketrans("қғүұөіәңһ", "кгууоианх")  # = text.flatten


def tag(words: Sequence[str]) -> list[str]:
    """``words`` (normalised) with each concept mention replaced by its token.

    Matched on the flattened words; the other words are returned as they are.
    """
    flat = [w.translate(_FLAT) for w in words]
    out: list[str] = []
    i = 0
    n = len(words)
    while i < n:
        for pi in _starting(flat[i]):
            pat, concept = _PATTERNS[pi]
            k = len(pat)
            if i + k <= n and all(p.fullmatch(flat[i + j]) for j, p in enumerate(pat)):
                out.append(concept)
                i += k
                break
        else:
            out.append(words[i])
            i += 1
    return out


# -- Russian lemmas -------------------------------------------------------------

_Analyzer = Callable[[str], str]


@functools.cache
def _analyzer() -> _Analyzer | None:
    try:
        import pymorphy3  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a dependency; the stems still work without it
        log.warning("pymorphy3 is not installed: Russian words are stemmed without lemmas")
        return None
    morph: Any = pymorphy3.MorphAnalyzer(lang="ru")

    def lemma(word: str) -> str:
        if not morph.word_is_known(word):
            return word
        return str(morph.parse(word)[0].normal_form)

    return lemma


@functools.lru_cache(maxsize=65536)
def ru_lemma(word: str) -> str:
    """The dictionary form of a Russian word ("пособия" -> "пособие"); unknown words as they are."""
    f = _analyzer()
    return f(word) if f is not None else word
