"""A small study end to end: ``ccplan simulate`` against what a user would write with SimPy
(``python -m benchmarks study [--quick]``).

The trainer day: 50 agents, gold and silver callers with strict priority, exponential handle times of
300 s and patience of 600 s, 8 half-hours (about 2,200 calls). Both run as a command in a fresh process
(start-up and imports included) on 2 cores, with 20 and with 120 replications, and report per segment the
service level (20 s), ASA and abandonment with 95% confidence intervals:

- ccplan: ``ccplan simulate scenarios/trainer.toml -r R --json`` (its process pool on 2 cores);
- idiomatic SimPy: one process per call, a ``PriorityResource`` of agents, ``request | timeout(patience)``
  for abandonment, replications on a ``multiprocessing.Pool(2)``, summaries with numpy and scipy.stats.

CPU time is the command's and its workers' (user + system). "Whole command" is calls per CPU-second at
120 replications; "per marginal replication" is (CPU at 120 - CPU at 20) / 100 replications.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIMPY_STUDY = r'''
import sys
from multiprocessing import Pool

import numpy as np
import simpy
from scipy import stats

AGENTS, AHT_S, PATIENCE_S, INTERVAL_S, INTERVALS = 50, 300.0, 600.0, 1800.0, 8
RATES = {"gold": 108 / INTERVAL_S, "silver": 162 / INTERVAL_S}
PRIO = {"gold": 1, "silver": 2}


def replication(r):
    rng = np.random.default_rng(1000 + r)
    env = simpy.Environment()
    agents = simpy.PriorityResource(env, capacity=AGENTS)
    log = []

    def caller(seg, service, patience):
        arrive = env.now
        with agents.request(priority=PRIO[seg]) as req:
            res = yield req | env.timeout(patience)
            if req in res:
                log.append((seg, env.now - arrive, True))
                yield env.timeout(service)
            else:
                log.append((seg, env.now - arrive, False))

    def source(seg):
        while True:
            yield env.timeout(rng.exponential(1 / RATES[seg]))
            if env.now >= INTERVALS * INTERVAL_S:
                return
            env.process(caller(seg, rng.exponential(AHT_S), rng.exponential(PATIENCE_S)))

    for seg in RATES:
        env.process(source(seg))
    env.run()
    out = {}
    for seg in RATES:
        rows = [(w, a) for s, w, a in log if s == seg]
        wait = np.array([w for w, _ in rows])
        ans = np.array([a for _, a in rows])
        out[seg] = (float(np.mean(ans & (wait <= 20))), float(wait[ans].mean()), float(1 - ans.mean()), len(rows))
    return out


if __name__ == "__main__":
    reps = int(sys.argv[1])
    with Pool(2) as pool:
        results = pool.map(replication, range(reps))
    calls = 0
    for seg in RATES:
        for k, name in enumerate(("service_level", "asa_s", "abandon_rate")):
            v = np.array([r[seg][k] for r in results])
            half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
            print(seg, name, round(v.mean(), 4), "+-", round(half, 4))
        calls += sum(r[seg][3] for r in results)
    print("CALLS", calls)
'''


def _run(cmd: list[str]) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def _ccplan(reps: int) -> tuple[float, int]:
    cpu, out = _run([sys.executable, "-m", "ccplan", "simulate", "scenarios/trainer.toml", "-r", str(reps),
                     "--json", "--yes"])
    data = json.loads(out)
    calls = sum(s["offered"] for s in data["segments"].values()) if isinstance(data["segments"], dict) else \
        sum(s["offered"] for s in data["segments"])
    return cpu, int(round(calls * reps))


def _simpy(reps: int) -> tuple[float, int]:
    cpu, out = _run([sys.executable, "-c", SIMPY_STUDY, str(reps)])
    calls = int(next(line.split()[1] for line in out.splitlines() if line.startswith("CALLS")))
    return cpu, calls


def main(quick: bool = False) -> None:
    lo, hi = (10, 40) if quick else (20, 120)
    rows = {}
    for name, fn in (("ccplan simulate", _ccplan), ("idiomatic SimPy", _simpy)):
        cpu_lo, calls_lo = fn(lo)
        cpu_hi, calls_hi = fn(hi)
        marginal = (calls_hi - calls_lo) / max(cpu_hi - cpu_lo, 1e-9)
        rows[name] = (cpu_hi, calls_hi, calls_hi / cpu_hi, marginal, cpu_lo)
    print(f"\nA small study end to end: the trainer day (50 agents, 2 priority segments, abandonment), {hi} "
          "replications on 2 cores, start-up included")
    print(f"{'command':<18} {'CPU s (' + str(hi) + ')':>12} {'CPU s (' + str(lo) + ')':>11} {'calls':>9} "
          f"{'calls/CPU-s':>12} {'marginal calls/CPU-s':>21}")
    for name, (cpu, calls, whole, marginal, cpu_lo) in rows.items():
        print(f"{name:<18} {cpu:>12.2f} {cpu_lo:>11.2f} {calls:>9,} {whole:>12,.0f} {marginal:>21,.0f}")
    a, b = rows["ccplan simulate"], rows["idiomatic SimPy"]
    print(f"ccplan / SimPy: whole command {a[2] / b[2]:.1f}x, per marginal replication {a[3] / b[3]:.1f}x")


if __name__ == "__main__":
    main("--quick" in sys.argv)
