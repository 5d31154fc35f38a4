"""Search benchmark (issue 15): p95 < 20 ms over a fixed mix of 1,000 queries.

    PYTHONPATH=. .venv/bin/python bench/search_index.py --calls 200000
    PYTHONPATH=. .venv/bin/python bench/search_index.py --calls 1000000   # the full size

Builds, in a temporary directory, a schema v3 store of synthetic calls:
dialogues made of the FAQ's phrasings and answers (knowledge/faq.yaml) and
the templates below, Kazakh, Russian and code-switched Kazakh lines, about
300 words per answered call on two channels (lost/robot/IVR calls: the
caller's side only), with facts spread like a 1414 quarter (agents, queues
by topic, 90 days, outcomes). Rows go in by bulk insert with the FTS
trigger dropped, then one FTS5 'rebuild' and 'optimize'. It prints the build
rate and the index size, then runs the fixed query mix through
:func:`bailanys.analytics.search.search` (the page's own call) and prints
min / median / p95 / p99 / max per query class and overall.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from bailanys.analytics import morph
from bailanys.analytics.facts import CallFacts, fact_row, local_day
from bailanys.analytics.model import Channel
from bailanys.analytics.search import search
from bailanys.analytics.searchtypes import Filters, SearchQuery, Sort
from bailanys.analytics.transcripts import channel_base
from bailanys.robot.faq import Entry, load_kb
from bailanys.store.migrations import SCHEMA_V3_ANALYTICS
from bailanys.timezone import ALMATY

ROOT = Path(__file__).resolve().parents[1]
QUARTER_START = 1_727_740_800.0  # 2024-10-01 00:00 UTC
DAYS = 90
AGENTS = [f"agent{i:03d}" for i in range(150)]
WORDS_PER_CALL = 300
WORDS_PER_UTTERANCE = 25  # a Vosk utterance: speech between pauses, 5-40 words
TARGET_P95_MS = 20.0

GREET = {
    "ru": ["здравствуйте", "добрый день", "алло здравствуйте у меня вопрос",
           "добрый вечер подскажите пожалуйста"],
    "kk": ["сәлеметсіз бе", "қайырлы күн", "сәлеметсіз бе менің сұрағым бар",
           "армысыз айтыңызшы"],
}
AGENT_OPEN = {
    "ru": ["единый контакт центр здравствуйте меня зовут оператор слушаю вас",
           "добрый день контакт центр один четыре один четыре чем могу помочь"],
    "kk": ["бірыңғай байланыс орталығы сәлеметсіз бе тыңдап тұрмын",
           "қайырлы күн байланыс орталығы сізге қалай көмектесе аламын"],
}
CALLER_DETAIL = {
    "ru": ["мой иин [IIN] проверьте пожалуйста", "я звоню из города {city}",
           "я уже был в цоне но мне отказали", "заявление подавал {n} дней назад",
           "мой номер телефона [PHONE] перезвоните", "а сколько это будет стоить",
           "а можно это сделать через егов", "у меня нет интернета дома",
           "я не понял повторите пожалуйста", "а какие документы нужно взять с собой"],
    "kk": ["менің жсн [IIN] тексеріңізші", "мен {city} қаласынан хабарласып тұрмын",
           "халыққа қызмет көрсету орталығына бардым бірақ қабылдамады",
           "өтінішті {n} күн бұрын бердім", "телефон нөмірім [PHONE] қайта хабарласыңыз",
           "бұл қанша тұрады", "мұны егов арқылы жасауға бола ма",
           "үйде интернет жоқ", "түсінбедім қайталап айтыңызшы",
           "қандай құжаттарды алып бару керек"],
    # Kazakh lines with Russian words, as callers say them (code-switching)
    "mix": ["менің удостоверение жоғалып қалды не істеу керек",
            "справка керек еді пенсия бойынша", "цонға бардым очередь өте үлкен",
            "заявление бердім бірақ ответ жоқ", "егов арқылы оформить етуге бола ма",
            "пособие қашан түседі", "документтерді скан жасап жіберу керек пе"],
}
AGENT_DETAIL = {
    "ru": ["минуточку я проверю информацию", "подскажите ваш иин пожалуйста",
           "спасибо за ожидание", "вам придет смс с номером заявки {n}",
           "обратитесь в ближайший цон в городе {city}", "есть ли у вас еще вопросы"],
    "kk": ["бір минут ақпаратты тексеремін", "жсн айтыңызшы", "күткеніңізге рахмет",
           "сізге {n} нөмірлі өтінім туралы смс келеді",
           "{city} қаласындағы жақын халыққа қызмет көрсету орталығына барыңыз",
           "тағы сұрақтарыңыз бар ма"],
}
CLOSE = {"ru": ["спасибо до свидания", "всего доброго"],
         "kk": ["рахмет сау болыңыз", "сау болыңыз"]}
CITIES = ["Алматы", "Астана", "Шымкент", "Караганда", "Актобе", "Тараз", "Павлодар",
          "Усть-Каменогорск", "Семей", "Атырау", "Костанай", "Кызылорда", "Уральск",
          "Петропавловск", "Актау", "Темиртау", "Туркестан", "Талдыкорган", "Экибастуз",
          "Жезказган", "Балхаш", "Кокшетау", "Сатпаев", "Рудный", "Жанаозен", "Аркалык"]


@dataclass
class Sentence:
    text: str
    terms: str
    words: list[tuple[str, float]]  # (JSON-escaped word, seconds)


class Corpus:
    """Pre-cut sentences (text, terms, word durations), so a call is only joins."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cache: dict[str, Sentence] = {}
        self.surface: dict[str, str] = {}  # term -> a word that gives it (for queries)
        kb = load_kb(ROOT / "knowledge/faq.yaml")
        self.entries = list(kb.entries)
        weights = [1.0 / (i + 1) ** 0.8 for i in range(len(self.entries))]  # Zipf-like topics
        rng.shuffle(weights)
        self.weights = weights
        self.queues = {e.topic: f"q_{e.topic}" for e in self.entries}

    def sentence(self, text: str) -> Sentence:
        s = self.cache.get(text)
        if s is None:
            toks = morph.tokens(text)
            terms = [morph.term(t) for t in toks]
            for tok, term in zip(toks, terms, strict=True):
                self.surface.setdefault(term, tok)
            words = [(json.dumps(t, ensure_ascii=False), 0.18 + 0.06 * len(t)) for t in toks]
            s = self.cache[text] = Sentence(" ".join(toks), " ".join(terms), words)
        return s

    def fill(self, template: str) -> str:
        return template.replace("{city}", self.rng.choice(CITIES)).replace(
            "{n}", str(self.rng.randint(2, 40)))

    def dialogue(self, lang: str, agent_side: bool,
                 entry: Entry | None = None) -> list[tuple[str, list[Sentence]]]:
        """(channel, sentences) turns of one call: ~300 words when an agent answers."""
        rng, base = self.rng, ("kk" if lang == "mix" else lang)
        entry = entry or rng.choices(self.entries, self.weights)[0]
        turns: list[tuple[str, list[str]]] = []
        if agent_side:
            turns.append(("agent", [rng.choice(AGENT_OPEN[base])]))
        turns.append(("caller", [rng.choice(GREET[base]), rng.choice(entry.questions[base])]))
        budget = WORDS_PER_CALL if agent_side else WORDS_PER_CALL // 3
        words = 12
        while words < budget:
            if agent_side:
                a = [entry.answer[base], self.fill(rng.choice(AGENT_DETAIL[base]))]
                turns.append(("agent", a))
                words += sum(len(x.split()) for x in a)
            pool = CALLER_DETAIL["mix"] if lang == "mix" and rng.random() < 0.5 else \
                CALLER_DETAIL[base]
            c = [self.fill(rng.choice(pool)), rng.choice(entry.questions[base])]
            turns.append(("caller", c))
            words += sum(len(x.split()) for x in c)
            if rng.random() < 0.3:  # a second question in the same call
                entry = rng.choices(self.entries, self.weights)[0]
        turns.append(("caller", [rng.choice(CLOSE[base])]))
        return [(ch, [self.sentence(t) for t in texts]) for ch, texts in turns]


def utterance_rows(key: int, call_id: str, rec: str, lang: str,
                   turns: list[tuple[str, list[Sentence]]]) -> tuple[list[tuple[object, ...]], int]:
    """The call's utterance rows, ids as transcripts.write_channel numbers them."""
    rows: list[tuple[object, ...]] = []
    t, total = 0.5, 0
    next_id = {ch.value: channel_base(key, ch) for ch in Channel}
    for channel, sentences in turns:
        start = t
        texts, terms, packed = [], [], []
        for s in sentences:
            texts.append(s.text)
            terms.append(s.terms)
            for w, d in s.words:
                packed.append(f"[{w},{t:.2f},{t + d:.2f},0.9]")
                t += d + 0.05
        total += len(packed)
        uid = next_id[channel]
        next_id[channel] += 1
        rows.append((uid, call_id, rec, channel, round(start, 2), round(t, 2), lang,
                     " ".join(texts), "[" + ",".join(packed) + "]", " ".join(terms)))
        t += 0.6
    return rows, total


def call_facts_for(rng: random.Random, corpus: Corpus, i: int, calls: int,
                   lang: str) -> tuple[CallFacts, bool, Entry]:
    day = i * DAYS // calls  # calls are transcribed (so keyed) in about the order they end
    started = QUARTER_START + day * 86400 + rng.uniform(3 * 3600, 15 * 3600)  # 08-20 Almaty
    entry = rng.choices(corpus.entries, corpus.weights)[0]
    outcome = rng.choices(("answered", "lost", "robot", "ivr"), (80, 8, 9, 3))[0]
    answered = outcome == "answered"
    facts = CallFacts(
        call_id=f"call-{i:08d}", started=started, day=local_day(started, ALMATY),
        outcome=outcome, queue=corpus.queues[entry.topic] if outcome in ("answered", "lost")
        else None, agent=rng.choice(AGENTS) if answered else None,
        language="kk" if lang == "mix" else lang, topic=entry.topic,
        disposition=rng.choice(("resolved", "resolved", "unresolved")) if answered else None,
        duration=rng.uniform(60, 600) if answered else rng.uniform(10, 200),
        wait=rng.uniform(0, 120) if answered else None,
        survey_score=rng.randint(1, 5) if answered and rng.random() < 0.3 else None,
        recording=f"/rec/{i:08d}.wav",
    )
    return facts, answered, entry


_INSERT_U = ("INSERT INTO utterances (id, call_id, recording, channel, start, end, language,"
             " text, words, terms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_C = ("INSERT INTO analytics_calls (id, call_id, started, day, ended, queue, agent,"
             " language, topic, disposition, outcome, duration, wait, survey_score, recording,"
             " words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


def build(path: Path, calls: int, seed: int) -> Corpus:
    rng = random.Random(seed)
    corpus = Corpus(rng)
    conn = sqlite3.connect(path)
    conn.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                       " PRAGMA cache_size=-1000000; PRAGMA temp_store=MEMORY;")
    for sql in SCHEMA_V3_ANALYTICS:
        conn.execute(sql)
    conn.execute("DROP TRIGGER utterances_ai")  # bulk: one 'rebuild' at the end is faster
    t0, words, chunk = time.perf_counter(), 0, 5000
    for lo in range(0, calls, chunk):
        urows: list[tuple[object, ...]] = []
        crows: list[tuple[object, ...]] = []
        for i in range(lo, min(calls, lo + chunk)):
            lang = rng.choices(("kk", "ru", "mix"), (45, 45, 10))[0]
            facts, answered, entry = call_facts_for(rng, corpus, i, calls, lang)
            rows, n = utterance_rows(i + 1, facts.call_id, facts.recording or "", lang,
                                     [(c, s) for c, s in corpus.dialogue(lang, answered, entry)
                                      if answered or c == "caller"])
            urows.extend(rows)
            crows.append((i + 1, *fact_row(facts, n)))
            words += n
        conn.executemany(_INSERT_U, urows)
        conn.executemany(_INSERT_C, crows)
        conn.commit()
        if lo and lo % 50000 == 0:
            print(f"  {lo} calls, {time.perf_counter() - t0:.0f} s", flush=True)
    t1 = time.perf_counter()
    conn.execute("INSERT INTO utterances_fts (utterances_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO utterances_fts (utterances_fts) VALUES ('optimize')")
    conn.execute(SCHEMA_V3_ANALYTICS[[i for i, s in enumerate(SCHEMA_V3_ANALYTICS)
                                      if "utterances_ai" in s][0]])
    conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    t2 = time.perf_counter()
    n_utt = conn.execute("SELECT count(*) FROM utterances").fetchone()[0]
    fts = conn.execute("SELECT sum(length(block)) FROM utterances_fts_data").fetchone()[0]
    conn.close()
    size = path.stat().st_size
    print(f"built {calls} calls, {n_utt} utterances, {words} words in {t2 - t0:.0f} s "
          f"(rows {t1 - t0:.0f} s, FTS rebuild+optimize {t2 - t1:.0f} s): "
          f"{calls / (t2 - t0):.0f} calls/s, {words / (t2 - t0) / 1e6:.2f} M words/s")
    print(f"store {size / 2**30:.2f} GiB ({size / calls / 1024:.1f} KiB/call), "
          f"FTS5 index {fts / 2**30:.2f} GiB ({fts / words:.1f} bytes/word)")
    return corpus


def query_mix(conn: sqlite3.Connection, corpus: Corpus, n: int,
              seed: int) -> list[tuple[str, SearchQuery]]:
    """The fixed mix: (class, query); the same for a given store and seed."""
    rng = random.Random(seed)
    conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, utterances_fts, 'row')")
    vocab = [(str(t), int(d)) for t, d in conn.execute(
        "SELECT term, doc FROM temp.vocab ORDER BY doc DESC") if str(t) in corpus.surface]
    common = [corpus.surface[t] for t, _ in vocab[20:300]]
    rare = [corpus.surface[t] for t, d in vocab if 1 <= d <= max(20, vocab[0][1] // 2000)]
    rare = rare or [corpus.surface[t] for t, _ in vocab[-200:]]
    phrases = [s for s in corpus.cache.values() if len(s.words) >= 4]
    week = 7 * 86400

    def phrase() -> str:
        s = rng.choice(phrases).text.split()
        k = rng.randint(2, 3)
        i = rng.randrange(len(s) - k + 1)
        return '"' + " ".join(s[i:i + k]) + '"'

    def near() -> str:
        s = rng.choice(phrases).text.split()
        i, j = sorted(rng.sample(range(len(s)), 2))
        return f"NEAR({s[i]} {s[j]}, 5)"

    def period() -> Filters:
        since = QUARTER_START + rng.randrange(DAYS - 7) * 86400
        return Filters(since=since, until=since + week)

    c, r = rng.choice, rng.choice
    classes: list[tuple[str, int, object]] = [
        ("common word", 120, lambda: SearchQuery(c(common))),
        ("rare word", 150, lambda: SearchQuery(r(rare))),
        ("phrase", 150, lambda: SearchQuery(phrase())),
        ("AND", 60, lambda: SearchQuery(" ".join(rng.sample(rng.choice(phrases).text.split(),
                                                           2)))),
        ("OR", 50, lambda: SearchQuery(f"{r(rare)} OR {c(common)}")),
        ("NOT", 40, lambda: SearchQuery(f"{c(common)} NOT {c(common)}")),
        ("NEAR", 80, lambda: SearchQuery(near())),
        ("period", 100, lambda: SearchQuery(c(common), filters=period())),
        ("agent", 100, lambda: SearchQuery(c(common), filters=Filters(agent=r(AGENTS)))),
        ("queue+period", 50, lambda: SearchQuery(c(common), filters=replace(
            period(), queue=r(sorted(set(corpus.queues.values())))))),
        ("channel", 60, lambda: SearchQuery(f"caller: {c(common)}")),
        ("newest", 40, lambda: SearchQuery(c(common), sort=Sort.NEWEST)),
    ]
    total = sum(k for _, k, _ in classes)
    out: list[tuple[str, SearchQuery]] = []
    for name, k, make in classes:
        for _ in range(round(k * n / total)):
            out.append((name, make()))  # type: ignore[operator]
    rng.shuffle(out)
    return out


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run_mix(path: Path, corpus: Corpus, n: int, seed: int) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size=-500000")
    mix = query_mix(conn, corpus, n, seed)
    for _, q in mix[:50]:  # warm the page cache as a running server's would be
        search(conn, q)
    times: dict[str, list[float]] = defaultdict(list)
    matched: dict[str, list[int]] = defaultdict(list)
    partial: dict[str, int] = defaultdict(int)
    for name, q in mix:
        t0 = time.perf_counter()
        result = search(conn, q)
        times[name].append((time.perf_counter() - t0) * 1000)
        matched[name].append(result.total)
        partial[name] += result.partial
        assert result.error is None, (q, result.error)
    everything = [t for ts in times.values() for t in ts]
    print(f"\n{len(mix)} queries (ms)      n    min median    p95    p99    max  matched calls"
          " (median)  partial")
    for name in sorted(times, key=lambda k: -pct(times[k], 95)):
        ts = times[name]
        print(f"  {name:<16} {len(ts):4d} {min(ts):6.1f} {statistics.median(ts):6.1f} "
              f"{pct(ts, 95):6.1f} {pct(ts, 99):6.1f} {max(ts):6.1f}  "
              f"{statistics.median(matched[name]):>8.0f}  {partial[name]:>11d}")
    p95 = pct(everything, 95)
    print(f"  {'overall':<16} {len(everything):4d} {min(everything):6.1f} "
          f"{statistics.median(everything):6.1f} {p95:6.1f} {pct(everything, 99):6.1f} "
          f"{max(everything):6.1f}")
    print(f"p95 {p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms): "
          f"{'PASS' if p95 < TARGET_P95_MS else 'FAIL'}")
    conn.close()
    return p95


def run_counts(path: Path, corpus: Corpus, n: int, seed: int) -> None:
    """The exact counts the page asks for after a partial answer (every match:
    ``search(..., complete=True)``), over the first ``n`` partial queries of the mix."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size=-500000")
    partial = [(name, q) for name, q in query_mix(conn, corpus, 10 * n, seed)
               if search(conn, q).partial][:n]
    times: dict[str, list[float]] = defaultdict(list)
    for name, q in partial:
        t0 = time.perf_counter()
        result = search(conn, replace(q, page=1, per_page=1), complete=True)
        times[name].append((time.perf_counter() - t0) * 1000)
        assert result.error is None and not result.partial, (q, result.error)
    everything = [t for ts in times.values() for t in ts]
    print(f"\nexact counts of {len(everything)} partial queries (ms): median "
          f"{statistics.median(everything):.0f}, p95 {pct(everything, 95):.0f}, "
          f"max {max(everything):.0f}")
    conn.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--dir", type=Path, default=None, help="where to build (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the store (and reuse it next time)")
    ap.add_argument("--counts", type=int, default=0, metavar="N",
                    help="also time the exact counts (every match) of N partial queries")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bailanys-search-", dir=args.dir) as tmp:
        base = args.dir if args.keep and args.dir else Path(tmp)
        path = base / f"search-{args.calls}-{args.seed}.sqlite"
        print(f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, store {path}")
        if path.exists():
            corpus = Corpus(random.Random(args.seed))
            for _ in range(2000):  # the sentences (and words) queries are drawn from
                corpus.dialogue(corpus.rng.choice(("kk", "ru", "mix")), True)
        else:
            corpus = build(path, args.calls, args.seed)
        p95 = run_mix(path, corpus, args.queries, args.seed)
        if args.counts:
            run_counts(path, corpus, args.counts, args.seed)
    return 0 if p95 < TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())
