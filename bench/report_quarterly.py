"""How long the quarterly analysis takes for a 1414-sized quarter (issue 17, "Benchmark").

    .venv/bin/python bench/report_quarterly.py [--per-day 50000] [--runs 3] [--gaps 20000]
                                               [--transcripts 5] [--store PATH] [--keep]

Generates into a fresh store (the real schema: ``store.migrations.migrate``)
two quarters of ``contacts``: 2026-Q1 (90 days) and 2026-Q2, the quarter
analysed (91 days: 50,000 contacts a day x 91 = 4.55 million rows), with a
skewed spread of 120 topics (5 % unclassified), the 20 regions (40 % not
determined, as mobile numbers encode none), a social portrait for 15 % of
the contacts, and ``--gaps`` unanswered robot questions in the quarter
(20,000: the most ``faq gaps`` clusters, a busy robot's quarter) phrased
from bench/data/faq_paraphrases.yaml, and with ``--transcripts PCT`` that
share of the quarter's contacts transcribed (``analytics_calls`` +
``utterances``: the operator's greeting, the caller's "hello", the caller's
question phrased from the same file, a thank-you, the operator's answer),
whose operator calls give the FAQ candidates their transcribed questions
(:mod:`bailanys.robot.gapcalls`). The rows are made by one SQL
``INSERT ... SELECT`` over a recursive counter (a hash of the row number
picks each field), so generating takes seconds per million, not Python
time.

Then, ``--runs`` times, a fresh process (``--child``) opens the store
read-only, times ``quarterly.build`` (SQL aggregates, the FAQ read for the
candidates' nearest entries, the transcripts' questions, clustering, the
FAQ matcher on the clusters with calls, three charts, the text; on one
core: the child pins itself to one CPU and BLAS to one thread) and prints
the peak RSS, and times the transcripts' questions alone. The parent prints
min/median/max. Target: under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
QUARTER = "2026-Q2"
FIRST_DAY = "2026-01-01"  # 2026-Q1 (90 days) then 2026-Q2 (91 days)
DAYS = 90 + 91
TOPICS = 120
REGION_IDS = ("astana", "almaty_city", "shymkent", "abai", "akmola", "aktobe", "almaty",
              "atyrau", "east_kz", "zhambyl", "zhetisu", "west_kz", "karaganda", "kostanay",
              "kyzylorda", "mangystau", "pavlodar", "north_kz", "turkestan", "ulytau")


def _case(expr: str, values: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({expr}) % {len(values)} {whens} END"


#: Three 31-bit hashes of the row number i (LCG steps; products stay below 2^63).
_HASHES = ("SELECT i, h1, (h1 * 1103515245 + 12345) % 2147483648 AS h2,"
           " ((h1 * 1103515245 + 12345) % 2147483648 * 1103515245 + 12345) % 2147483648 AS h3"
           " FROM (SELECT i, (i * 2654435761 + 97) % 2147483648 AS h1 FROM n)")


def _insert_sql(per_day: int) -> str:
    day_s = 86400.0 / per_day
    topic = (f"CASE WHEN (h1 >> 7) % 100 < 5 THEN NULL ELSE printf('topic_%03d', "
             f"CAST(((h2 >> 4) % 1000) * ((h2 >> 4) % 1000) * {TOPICS} / 1000000 AS INT)) END")
    region = (f"CASE WHEN (h3 >> 5) % 100 < 40 THEN 'unknown' ELSE "
              f"{_case('(h3 >> 12)', REGION_IDS)} END")
    portrait = "(h1 >> 11) % 100 < 15"
    ages = ("18-30", "31-40", "41-50", "51-60", "61-70", "71-80", "81-90", "other")
    statuses = ("employee", "self_employed", "pensioner", "disability", "large_family",
                "student", "educated", "no_education", "unemployed")
    channel = ("CASE WHEN (h2 >> 9) % 100 < 55 THEN 'operator' WHEN (h2 >> 9) % 100 < 75"
               " THEN 'robot' WHEN (h2 >> 9) % 100 < 95 THEN 'ivr' WHEN (h2 >> 9) % 100 < 98"
               " THEN 'callback' ELSE 'sms' END")
    return (
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)"
        " INSERT INTO contacts (call_id, started, day, channel, topic, topic_source, region,"
        " region_source, age_band, sex, social_status, answered, wait_s, handle_s, answer_s)"
        f" SELECT printf('c%09d', i), 1767207600 + i * {day_s},"
        f" date('{FIRST_DAY}', '+' || (i / {per_day}) || ' days'), {channel}, {topic},"
        " 'disposition', " + region + ", CASE WHEN (h3 >> 5) % 100 < 40 THEN NULL ELSE 'number'"
        f" END, CASE WHEN {portrait} THEN {_case('(h2 >> 14)', ages)} END,"
        f" CASE WHEN {portrait} THEN CASE (h3 >> 16) % 2 WHEN 0 THEN 'f' ELSE 'm' END END,"
        f" CASE WHEN {portrait} AND (h3 >> 18) % 2 = 0 THEN {_case('(h1 >> 16)', statuses)} END,"
        " (h2 >> 9) % 100 < 55, (h1 >> 3) % 60, 120 + (h2 >> 3) % 300, (h1 >> 3) % 60"
        f" FROM ({_HASHES})"
    )


def _gap_rows(n: int, seed: int) -> list[tuple[object, ...]]:
    phrasings = _phrasings()
    rng = random.Random(seed)
    rows: list[tuple[object, ...]] = []
    for i in range(n):
        lang, text = rng.choice(phrasings)
        day = f"2026-{4 + i * 3 // n:02d}-{1 + rng.randrange(28):02d}"
        rows.append((1775000000.0 + i, day, f"g{i:08d}", lang, text, text, "[]", "no_match", 1))
    return rows


def _transcript_sql(pct: int) -> tuple[str, ...]:
    """``pct`` % of 2026-Q2's contacts transcribed: one ``analytics_calls`` row each
    and five utterances (ids as ``analytics.transcripts`` packs them)."""
    picked = f"((rowid * 2654435761 + 7) % 2147483648 >> 8) % 100 < {pct}"
    outcome = ("CASE WHEN channel IN ('operator', 'callback') THEN 'answered'"
               " WHEN channel = 'robot' THEN 'robot' ELSE 'ivr' END")
    utt = ("INSERT INTO utterances (id, call_id, recording, channel, start, end, language, text,"
           " words, terms) SELECT (c.id << 16) | {bits}, c.call_id, 'r.wav', '{ch}', {start},"
           " {start} + 2.5, {lang}, {text}, '[]', '' FROM analytics_calls c")
    phrase = ("(SELECT {col} FROM phr WHERE phr.i = (c.id * 2654435761 % 2147483648) %"
              " (SELECT count(*) FROM phr))")
    return (
        "INSERT INTO analytics_calls (id, call_id, started, day, outcome, agent, words)"
        f" SELECT rowid, call_id, started, day, {outcome}, 'a1', 40 FROM contacts"
        f" WHERE day BETWEEN '2026-04-01' AND '2026-06-30' AND {picked}",
        utt.format(bits="(1 << 15)", ch="agent", start=1.0, lang="'ru'",
                   text="'1414 здравствуйте меня зовут айгерим слушаю вас'"),
        utt.format(bits="0", ch="caller", start=3.0, lang="'ru'", text="'алло здравствуйте'"),
        utt.format(bits="1", ch="caller", start=5.0, lang=phrase.format(col="lang"),
                   text=phrase.format(col="text")),
        utt.format(bits="2", ch="caller", start=20.0, lang="'ru'",
                   text="'спасибо большое до свидания'"),
        utt.format(bits="(1 << 15) | 1", ch="agent", start=9.0, lang="'ru'",
                   text="'вам нужно обратиться в центр обслуживания населения'"),
    )


def _phrasings() -> list[tuple[str, str]]:
    data = yaml.safe_load((ROOT / "bench/data/faq_paraphrases.yaml").read_text("utf-8"))
    return [(lang, t) for by in data.values() for lang in ("kk", "ru") for t in by.get(lang, ())]


async def _migrate(path: Path) -> None:
    from bailanys.store.db import Database
    from bailanys.store.migrations import migrate

    db = await Database.open(path)
    try:
        await migrate(db)
    finally:
        await db.close()


def generate(path: Path, per_day: int, gaps: int, transcripts: int = 0) -> None:
    asyncio.run(_migrate(path))
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        started = time.perf_counter()
        with conn:
            conn.execute(_insert_sql(per_day), (per_day * DAYS,))
            conn.executemany(
                "INSERT INTO faq_gaps (ts, day, call_id, language, text, terms, candidates,"
                " outcome, attempt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _gap_rows(gaps, 17))
            if transcripts > 0:
                conn.execute("CREATE TEMP TABLE phr (i INTEGER PRIMARY KEY, lang TEXT, text TEXT)")
                conn.executemany("INSERT INTO phr VALUES (?, ?, ?)",
                                 [(i, la, t) for i, (la, t) in enumerate(_phrasings())])
                for sql in _transcript_sql(transcripts):
                    conn.execute(sql)
        calls = conn.execute("SELECT count(*) FROM analytics_calls").fetchone()[0]
        conn.execute("ANALYZE")
        size = path.stat().st_size / 2**30
        print(f"generated {per_day * DAYS:,} contacts ({per_day:,}/day x {DAYS} days) and "
              f"{gaps:,} robot questions, {calls:,} transcribed calls in "
              f"{time.perf_counter() - started:.0f} s; "
              f"store {size:.2f} GiB", flush=True)
    finally:
        conn.close()


def child(path: str) -> int:
    """One timed build in this (fresh) process; prints JSON."""
    from bailanys.config import Config
    from bailanys.reports import quarterly
    from bailanys.reports.quarterlyfigures import figures, parse_quarter
    from bailanys.robot.gapcalls import call_questions

    if hasattr(os, "sched_setaffinity"):  # one core, as the target says
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    config = Config()
    started = time.perf_counter()
    doc = quarterly.build(conn, QUARTER, "ru", None, config)
    took = time.perf_counter() - started
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sql_started = time.perf_counter()
    fig = figures(conn, parse_quarter(QUARTER))  # the SQL and clustering part alone (warm)
    sql_s = time.perf_counter() - sql_started
    q = parse_quarter(QUARTER)
    calls_started = time.perf_counter()
    calls = call_questions(conn, q.first, q.last)  # the transcripts' questions alone (warm)
    calls_s = time.perf_counter() - calls_started
    print(json.dumps({"build_s": took, "figures_again_s": sql_s, "peak_rss_mib": rss_mib,
                      "calls_s": calls_s, "call_questions": len(calls),
                      "total": fig.total, "previous": fig.previous_total,
                      "blocks": len(doc.blocks)}))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-day", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gaps", type=int, default=20000)
    ap.add_argument("--transcripts", type=int, default=0,
                    help="percent of the quarter's contacts transcribed (e.g. 5)")
    ap.add_argument("--store", type=Path, default=None, help="reuse this store (else fresh)")
    ap.add_argument("--keep", action="store_true", help="keep the generated store")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child)
    tmp = Path(tempfile.mkdtemp(prefix="bailanys-quarterly-"))
    path = args.store or tmp / "bench.db"
    if not path.exists():
        generate(path, args.per_day, args.gaps, args.transcripts)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    results = []
    for run in range(args.runs):
        out = subprocess.run([sys.executable, __file__, "--child", str(path)], env=env, cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        results.append(r)
        print(f"run {run + 1}: build {r['build_s']:.1f} s (figures again, warm: "
              f"{r['figures_again_s']:.1f} s), peak RSS {r['peak_rss_mib']:.0f} MiB, "
              f"{r['total']:,} contacts vs {r['previous']:,}; transcripts' questions "
              f"{r['call_questions']:,} read in {r['calls_s']:.2f} s", flush=True)
    times = sorted(r["build_s"] for r in results)
    print(f"quarterly.build {QUARTER}: min {times[0]:.1f} s, median "
          f"{statistics.median(times):.1f} s, max {times[-1]:.1f} s; peak RSS max "
          f"{max(r['peak_rss_mib'] for r in results):.0f} MiB (target < 60 s)")
    if args.keep:
        print(f"kept {path}")
    else:
        shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
