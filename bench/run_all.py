"""``make bench``: every benchmark in ``bench/``, figures printed.

The engine's capacity against the uvloop UDP echo and call-setup bursts
(engine_capacity.py, with udp_echo.py), the sustained
setup rate (sip_setup.py: 400 calls/s for 60 s, issue 20), then the
same load against the engine and a minimal pyVoIP app (compare_pyvoip.py),
the wait estimates, the console's latency, the FAQ's accuracy, hostile
input against the parsers and a running engine (hostile.py), and quality
assurance (phrase criteria, the acoustic pass, the worker's QA step), and
the operators' desktop's screen-pop latency (desk_pop.py), and the cluster
(store_events.py, cluster.py, lease_takeover.py; issue 22).
Benchmarks print figures; they never assert timings (shared, noisy machines).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS = [
    # issue 20: a fresh engine per run, 3 runs per level (min/median/max), the
    # uvloop UDP echo anchor in the same minutes, the console on a free port
    ["engine_capacity.py", "--calls", "500,1000,1500", "--hold", "20", "--runs", "3",
     "--ramp", "200", "--setup-rates", "200,300,400", "--setup-calls", "2000"],
    # issue 20: 400 call setups/s sustained for 60 s, fresh engine per run
    ["sip_setup.py", "--rate", "400", "--seconds", "60", "--runs", "3"],
    ["compare_pyvoip.py", "--calls", "10,25,50", "--duration", "10"],
    ["ewt.py"],
    ["ewt_oracle.py"],
    ["console_latency.py", "--seconds", "10", "--clients", "20"],
    # issue 21: the supervisors' page in Chromium, 500 agents, 20 queues,
    # 200 waiting callers at 1,000 events/s, 3 fresh processes
    ["console_latency.py", "--page", "--seconds", "10"],
    ["faq_accuracy.py"],
    ["hostile.py", "--seconds", "20"],
    ["auth_guessing.py", "--rate", "800", "--seconds", "10", "--sources", "10"],
    # quality assurance (issue 16): phrase criteria precision/recall and cost,
    # the acoustic pass's speed and boundary errors, the worker's QA step
    ["qa_phrases.py", "--seed", "16", "--card", "configs/scorecards/default.yaml",
     "--sweep", "10"],
    ["qa_acoustic.py"],
    ["qa_step.py", "--real", "--calls", "100", "--seconds", "300"],
    # the operators' desktop (issue 19): INVITE -> screen pop at 500 operators,
    # 5 and 30 new calls/s for 60 s, 3 fresh engines each (~15 min)
    ["desk_pop.py", "--agents", "500", "--rates", "5,30", "--seconds", "60", "--runs", "3"],
    # beyond one machine (issue 22): event writes on PostgreSQL vs SQLite; two
    # engines vs one behind Kamailio (set-up rate, concurrent calls, failover);
    # a queue group's lease taken over after its owner's death. The search p95
    # at 1,000,000 calls (search_pg.py) builds its data for about half an hour
    # on the first run (cached in /tmp): run it on its own.
    ["store_events.py", "--events", "100000", "--runs", "3"],
    ["cluster.py", "--runs", "3", "--rate", "800", "--seconds", "4", "--concurrent", "300",
     "--hold-s", "8"],
    ["lease_takeover.py", "--runs", "3"],
]


def main() -> int:
    status = 0
    for script, *args in RUNS:
        print(f"\n=== {script} {' '.join(args)}", flush=True)
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}  # benches import tests' helpers
        rc = subprocess.call([sys.executable, str(HERE / script), *args], cwd=HERE.parent,
                             env=env)
        status = status or rc
    return status


if __name__ == "__main__":
    raise SystemExit(main())
