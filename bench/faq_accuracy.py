"""FAQ matcher accuracy on held-out caller phrasings (bench/data/faq_paraphrases.yaml).

    .venv/bin/python bench/faq_accuracy.py

Prints, per language: top-1 accuracy; the share answered (confidence >=
threshold); the share confidently wrong (answered, wrong entry); the share
sent to clarify or handover.  The threshold comes from the matcher's own
leave-one-out fit on knowledge/faq.yaml; the held-out set never tunes it.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import yaml

from bailanys.robot.faq import load_kb
from bailanys.robot.matcher import Action, Matcher

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    kb = load_kb(ROOT / "knowledge/faq.yaml")
    m = Matcher(kb)
    data = yaml.safe_load((ROOT / "bench/data/faq_paraphrases.yaml").read_text("utf-8"))
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses = []
    for eid, by_lang in data.items():
        assert kb.get(eid) is not None, eid
        for lang, texts in by_lang.items():
            for text in texts:
                r = m.match(text)
                d = m.decide(r)
                s = stats[lang]
                s["n"] += 1
                ok = r.best.entry.id == eid
                s["top1"] += ok
                s["top2"] += eid in {c.entry.id for c in r.candidates[:2]}
                s[d.action.value] += 1
                if d.action is Action.ANSWER and not ok:
                    s["wrong"] += 1
                if not ok:
                    misses.append((lang, eid, text, r.best.entry.id, r.best.confidence))
    print(f"entries={len(kb)}  T={m.temperature:.4f}  threshold={m.threshold:.2f} "
          f"(fitted leave-one-out on the entries' variants; loo top-1={m.train_accuracy:.3f})")
    print("lang     n  top1   top2  answer  conf.wrong  clarify  handover")
    for lang in sorted(stats):
        s = stats[lang]
        n = s["n"]
        print(f"{lang:4} {n:5}  {s['top1'] / n:5.1%} {s['top2'] / n:5.1%}  {s['answer'] / n:6.1%}"
              f"  {s['wrong'] / n:9.1%}  {s['clarify'] / n:7.1%}  {s['handover'] / n:8.1%}")
    if "-v" in sys.argv:
        for miss in misses:
            print("MISS", *miss)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
