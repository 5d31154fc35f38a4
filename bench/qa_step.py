"""The workers' QA step per call: what scoring adds after a call's transcript is stored.

Issue 16, "Benchmark" (automatic scoring cost per call). Builds a store of
``--calls`` transcribed calls (``--words`` agent words each, facts from the
engine's events, both jobs done) and times :class:`bailanys.qa.scoring.QaStep`
on each: the readiness checks, reading the transcript and facts, the
scorecard cache, the score, and the one write transaction (score,
``qa.scored``, the queue rows with ``qa.queued``).

``--real`` uses the real modules (``scorecard``, ``select``, ``score``,
``acoustic``, ``cardstore``) over ``configs/scorecards`` and a ``--seconds``
long stereo WAV; without it the fakes of :mod:`tests.qa.scoringfakes` stand
in for the scorer and the acoustic pass, so the figure is the step's own
cost. One process, one core::

    PYTHONPATH=. .venv/bin/python bench/qa_step.py --calls 500 --words 400
    PYTHONPATH=. .venv/bin/python bench/qa_step.py --real --calls 200 --seconds 300
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from bailanys.analytics import jobs
from bailanys.analytics.facts import call_facts, upsert_call
from bailanys.analytics.model import Channel
from bailanys.analytics.steps import call_events
from bailanys.analytics.transcripts import write_channel
from bailanys.config import PROJECT_ROOT
from bailanys.qa.scoring import QaPorts, QaStep, real_ports
from bailanys.qa.settings import QaConfig
from bailanys.timezone import ALMATY
from tests.analytics.jobstore import add_jobs, new_store, write_wav
from tests.qa.scoringfakes import PORTS, add_call_events, agent_utterance


def build(store: str, wav: Path, calls: int, words: int) -> None:
    """``calls`` answered calls by 20 agents, each with ``words`` agent words."""
    utt = agent_utterance(*[(f"сөз{i}", i * 0.4, i * 0.4 + 0.3) for i in range(words)])
    for i in range(calls):
        add_call_events(store, f"c{i}", agent=f"a{i % 20}")
        add_jobs(store, f"{wav}#{i}", call_id=f"c{i}")
    with contextlib.closing(jobs.connect(store)) as conn:
        conn.execute("UPDATE analytics_jobs SET state = 'done'")
        for i in range(calls):
            with jobs.transaction(conn):
                write_channel(conn, f"c{i}", f"{wav}#{i}", Channel.AGENT, [utt])
                facts = call_facts(call_events(conn, f"c{i}"), ALMATY)
                assert facts is not None
                upsert_call(conn, facts, words)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--words", type=int, default=400, help="agent words per call")
    ap.add_argument("--seconds", type=float, default=300.0, help="recording length (--real)")
    ap.add_argument("--real", action="store_true", help="the real scorer and acoustic pass")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        wav = write_wav(d / "call.wav", args.seconds if args.real else 0.1)
        store = new_store(d / "s.db")
        build(store, wav, args.calls, args.words)
        base: QaPorts = real_ports() if args.real else PORTS
        ports = dataclasses.replace(base, measure=lambda _path: base.measure(wav))
        cards = PROJECT_ROOT / "configs" / "scorecards"
        if not args.real:
            cards = d / "cards"
            cards.mkdir()
            (cards / "default.yaml").write_text("1\n", encoding="utf-8")
        step = QaStep(QaConfig(scorecard_dir=str(cards)), ports)
        times: list[float] = []
        with contextlib.closing(jobs.connect(store)) as conn:
            for i in range(args.calls):
                started = time.perf_counter()
                if step(conn, f"c{i}") is None:
                    raise SystemExit(f"call c{i} was not scored")
                times.append((time.perf_counter() - started) * 1000)
    times.sort()
    median = statistics.median(times)
    print(f"{'real' if args.real else 'fake'} scorer: {args.calls} calls, {args.words} agent "
          f"words each: median {median:.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms, "
          f"max {times[-1]:.2f} ms per call; {1000 / median:.0f} calls/s per core")


if __name__ == "__main__":
    main()
