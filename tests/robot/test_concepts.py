"""Issue 18: key entities of long, flattened, code-switched turns (pure; a hash encoder).

The matcher's entity evidence is checked on its own (``Matcher._entities``),
with a stand-in encoder, so the test needs no model: the four confusions the
issue names are settled by the entities the caller names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bailanys.robot.concepts import LEXICON, ru_lemma, tag
from bailanys.robot.faq import load_kb
from bailanys.robot.matcher import Matcher, MatcherConfig
from bailanys.robot.text import stem, terms

REAL = Path(__file__).resolve().parents[2] / "knowledge" / "faq.yaml"


@pytest.mark.parametrize(("text", "concept"), [
    # one thing, many names: Kazakh, flattened, Russian, recognition slips
    ("э це пэ паролін ұмыттым", "#eds"),
    ("эцқ мерзімі бітті", "#eds"),
    ("электронды қолтаңба керек", "#eds"),
    ("цифровую подпись как получить", "#eds"),
    ("игов қа кіре алмаймын", "#egov"),
    ("e gov портал", "#egov"),
    ("жургизуши куалигим жок", "#dlicence"),
    ("водительские права поменять", "#dlicence"),
    ("права алғысы келеді", "#dlicence"),
    ("жеке куәлігім жоғалды", "#idcard"),
    ("удостоверениемди жогалттым", "#idcard"),
    ("туу туралы куәлік", "#birthcert"),
    ("көп балалы отбасы", "#largefam"),
    ("многодетная мать", "#largefam"),
    ("әскери есепке тұру", "#military"),
    ("военкомат куда идти", "#military"),
    ("пособие на рождение", "#birth"),
    ("бала туылды", "#birth"),
    ("декретные деньги", "#care"),
    ("атаулы әлеуметтік көмек", "#asp"),
    ("прописка жасату", "#propiska"),
    ("есептен шығару", "#dereg"),
    ("ипті жабу", "#business"),
    ("бірінші класқа", "#school"),
])
def test_concepts_named_many_ways(text: str, concept: str) -> None:
    assert concept in tag(text.split())


def test_longest_mention_first_and_no_false_friends() -> None:
    # a driving licence is no identity card; a birth certificate neither
    assert tag("жүргізуші куәлігі".split()) == ["#dlicence"]
    assert "#idcard" not in tag("туу туралы куәлік".split())
    # a mortgage is no sole trader (ип-), a lost cat no document
    assert "#business" not in tag("ипотекамды жапқым келеді".split())
    assert tag("мысығым жоғалып кетті".split()) == ["мысығым", "#lost", "кетті"]
    # Russian false friends: parents are no birth, "долго" no debt, Ukraine no
    # theft, signing a form no EDS, a right to a flat no driving licence
    for text in ("мои родители", "долго не приходит", "украина", "подписать заявление",
                 "уходит время", "аспирантура"):
        assert not any(t.startswith("#") for t in tag(text.split())), text
    assert tag("регистрация права на квартиру".split()) == ["регистрация", "#property"]
    # words outside the lexicon come back as they were (not flattened)
    assert tag("бала қатты ауырып қалды".split()) == ["бала", "қатты", "ауырып", "қалды"]
    assert all(c.startswith("#") for c in LEXICON)


def test_russian_lemmas_inside_kazakh() -> None:
    assert ru_lemma("пособия") == "пособие" and ru_lemma("справки") == "справка"
    assert ru_lemma("жогалттым") == "жогалттым"  # not Russian: as it is
    kk = terms("маған справки керек")
    ru = terms("мне нужна справка")
    assert "#certificate" in kk and "#certificate" in ru
    # a Russian word in a Kazakh sentence meets the same word in a Russian one
    assert stem("оформления", False) in terms("құжатты оформления үшін")
    # short flattened Kazakh words are not taken for Russian forms ("балам": бал?)
    assert terms("балам бар") == [stem("балам", True), stem("бар", True)]
    # stop words and fillers give no evidence
    assert terms("сәлеметсіз бе айтыңызшы қалай керек") == []


class _HashEncoder:
    def query(self, texts: list[str]) -> np.ndarray:
        return np.array([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(8)
                         for t in texts], dtype=np.float32)


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> Matcher:
    cache = tmp_path_factory.mktemp("emb") / "faq.npz"
    return Matcher(load_kb(REAL), MatcherConfig(cache=cache), encoder=_HashEncoder())


def test_every_entry_has_key_entities(matcher: Matcher) -> None:
    idx = matcher._idx
    for i, e in enumerate(matcher.kb.entries):
        assert idx.key[i].sum() >= 1, e.id
    keys = {e.id: {c for c, k in zip(idx.concepts, idx.key[i], strict=True) if k}
            for i, e in enumerate(matcher.kb.entries)}
    assert keys["eds_password"] >= {"#eds", "#password", "#forgot"}
    assert keys["egov_password"] >= {"#egov", "#password"}
    assert keys["military_registration"] == {"#military"}


@pytest.mark.parametrize(("text", "right", "wrong"), [
    # the typical confusions, in long code-switched turns (written for this test)
    ("кеше банкке бардым сосын э це пэ паролін ұмытып қалдым енді не істеймін",
     "eds_password", "egov_password"),
    ("келінім босанды немере туылды пособие на рождение қалай оформлять етеміз",
     "birth_allowance", "childcare_allowance"),
    ("жұмысым жоқ табысымыз аз атаулы көмекке өтініш қалай беремін",
     "social_assistance", "large_family_allowance"),
    ("балам он сегізге толды военкоматқа әскери есепке қою керек дейді",
     "military_registration", "id_card_get"),
    ("муж получил новые водительские права а старые испортились где поменять",
     "driving_licence_replace", "id_card_lost"),
])
def test_entities_settle_the_confusions(matcher: Matcher, text: str, right: str,
                                        wrong: str) -> None:
    ids = [e.id for e in matcher.kb.entries]
    ent = matcher._entities(terms(text))
    assert ent[ids.index(right)] > ent[ids.index(wrong)]
    assert ent[ids.index(right)] == ent.max()


def test_generic_words_alone_name_no_entry(matcher: Matcher) -> None:
    # "өтініш", "как", "нужно", an allowance of no kind: no entry stands out
    for text in ("өтініш қалай беремін керек", "как получить пособие нужно"):
        ent = matcher._entities(terms(text))
        assert ent.max() <= 0.0
