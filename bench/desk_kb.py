"""The desktop's knowledge-base search: top-1/top-3 per kind of query, and its latency.

Issue 19, "Knowledge base": the operator-style queries of
``tests/desk/data/kb_queries.yaml`` (kk and ru: short keywords, typos, mixed,
the other language, whole questions, Kazakh typed on a Russian keyboard,
titles) through :meth:`bailanys.desk.kb.KnowledgeBase.search`, against the
robot's matcher alone (:meth:`Matcher.match` over the same FAQ), then the
time of one search (the query's embedding dominates), one at a time.

Run: ``.venv/bin/python bench/desk_kb.py [--faq knowledge/faq.yaml]``.
Prints figures, asserts nothing (``tests/desk/test_kb.py`` holds the floors).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bailanys.config import RobotConfig  # noqa: E402
from bailanys.desk.kb import KnowledgeBase  # noqa: E402

QUERIES = ROOT / "tests" / "desk" / "data" / "kb_queries.yaml"


def _rank(ids: list[str], expect: str) -> int:
    return ids.index(expect) if expect in ids else 99


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faq", default=str(ROOT / "knowledge" / "faq.yaml"))
    ap.add_argument("--cache", default=str(ROOT / "var" / "faq_embeddings.npz"))
    ap.add_argument("--queries", default=str(QUERIES))
    args = ap.parse_args()
    started = time.perf_counter()
    kb = KnowledgeBase.load(RobotConfig(faq=args.faq, faq_cache=args.cache))
    if kb is None:
        sys.exit(f"no knowledge base from {args.faq}")
    print(f"loaded {len(kb.entries)} entries in {time.perf_counter() - started:.1f} s")
    queries = yaml.safe_load(Path(args.queries).read_text("utf-8"))["queries"]
    desk: dict[str, list[int]] = collections.defaultdict(list)
    alone: dict[str, list[int]] = collections.defaultdict(list)
    times: list[float] = []
    missed: list[str] = []
    for q in queries:
        t0 = time.perf_counter()
        hits = kb.search(q["q"], q["lang"], limit=20)
        times.append(time.perf_counter() - t0)
        rank = _rank([h.faq_id for h in hits], q["expect"])
        found = kb.matcher.match(q["q"], top=len(kb.entries)).candidates
        for kind in (q["kind"], "all"):
            desk[kind].append(rank)
            alone[kind].append(_rank([c.entry.id for c in found], q["expect"]))
        if rank:
            missed.append(f"  {q['q']!r} ({q['lang']}): {q['expect']} ranked {rank + 1}, "
                          f"first {hits[0].faq_id if hits else None}")
    print(f"{'kind':6} {'n':>4}  {'desk top-1':>10} {'top-3':>6}   {'matcher top-1':>13} "
          f"{'top-3':>6}")
    for kind in sorted(desk, key=lambda k: (k == "all", k)):
        d, a = desk[kind], alone[kind]
        n = len(d)
        print(f"{kind:6} {n:4}  {sum(r < 1 for r in d) / n:10.1%} {sum(r < 3 for r in d) / n:6.1%}"
              f"   {sum(r < 1 for r in a) / n:13.1%} {sum(r < 3 for r in a) / n:6.1%}")
    print("not first:", *missed, sep="\n")
    ms = sorted(t * 1000 for t in times)
    print(f"search latency over {len(ms)} queries: median {statistics.median(ms):.1f} ms, "
          f"p90 {ms[int(0.9 * len(ms)) - 1]:.1f} ms, max {ms[-1]:.1f} ms")


if __name__ == "__main__":
    main()
