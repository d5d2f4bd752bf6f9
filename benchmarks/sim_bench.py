"""Simulated calls per second on one core: ccplan's SimPy dispatcher against the peers.

Model: the trainer scenario scaled up (volumes and agents x20, 96 half-hour
intervals): two priority classes (gold first), exponential handle times of 300 s
and exponential patience of 600 s, 1,000 agents, ~518,000 calls in one replication.

Engines, each in its own fresh process (so peak memory is its own):
- ccplan: ``sim.model.CallCenterModel`` (events with callbacks, per-segment queues),
  including building the call log arrays;
- idiomatic SimPy: one process per call, a ``PriorityResource`` of agents and
  ``request | timeout(patience)`` for abandonment (written here as the baseline);
- Ciw (priority classes + reneging), if installed.
A peer that would take too long runs a shorter horizon; calls per second is the
comparable figure.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import time

SCALE = 20
INTERVALS = 96
AHT_S, PATIENCE_S = 300.0, 600.0
GOLD_PER_INTERVAL, SILVER_PER_INTERVAL = 108 * SCALE, 162 * SCALE
AGENTS = 50 * SCALE
INTERVAL_S = 1800.0


def _scenario(intervals: int):
    from ccplan.scenario import from_dict, load, presets, to_dict

    data = to_dict(load(presets()["trainer"]))
    data["segments"][0]["calls_per_interval"] = [GOLD_PER_INTERVAL] * intervals
    data["segments"][1]["calls_per_interval"] = [SILVER_PER_INTERVAL] * intervals
    data["agent_groups"][0]["agents"] = AGENTS
    return from_dict(data)


def run_ccplan(intervals: int) -> int:
    from sim.model import CallCenterModel

    model = CallCenterModel(_scenario(intervals), seed=1).run()
    return len(model.log_arrays()["arrival_s"])


def run_simpy(intervals: int) -> int:
    import numpy as np
    import simpy

    rng = np.random.default_rng(1)
    env = simpy.Environment()
    agents = simpy.PriorityResource(env, capacity=AGENTS)
    log: list[tuple[float, float, bool]] = []
    horizon = intervals * INTERVAL_S

    def caller(prio: int, service: float, patience: float):
        arrive = env.now
        with agents.request(priority=prio) as req:
            res = yield req | env.timeout(patience)
            if req in res:
                log.append((arrive, env.now - arrive, True))
                yield env.timeout(service)
            else:
                log.append((arrive, env.now - arrive, False))

    def source(prio: int, rate_per_s: float):
        while True:
            yield env.timeout(rng.exponential(1 / rate_per_s))
            if env.now >= horizon:
                return
            env.process(caller(prio, rng.exponential(AHT_S), rng.exponential(PATIENCE_S)))

    env.process(source(1, GOLD_PER_INTERVAL / INTERVAL_S))
    env.process(source(2, SILVER_PER_INTERVAL / INTERVAL_S))
    env.run()
    return len(log)


def run_ciw(intervals: int) -> int:
    import ciw

    lam_g, lam_s = GOLD_PER_INTERVAL / INTERVAL_S, SILVER_PER_INTERVAL / INTERVAL_S
    net = ciw.create_network(
        arrival_distributions={"gold": [ciw.dists.Exponential(rate=lam_g)],
                               "silver": [ciw.dists.Exponential(rate=lam_s)]},
        service_distributions={"gold": [ciw.dists.Exponential(rate=1 / AHT_S)],
                               "silver": [ciw.dists.Exponential(rate=1 / AHT_S)]},
        number_of_servers=[AGENTS],
        priority_classes={"gold": 0, "silver": 1},
        reneging_time_distributions={"gold": [ciw.dists.Exponential(rate=1 / PATIENCE_S)],
                                     "silver": [ciw.dists.Exponential(rate=1 / PATIENCE_S)]},
    )
    ciw.seed(1)
    q = ciw.Simulation(net)
    q.simulate_until_max_time(intervals * INTERVAL_S)
    return len(q.get_all_records())


ENGINES = {"ccplan": run_ccplan, "idiomatic SimPy": run_simpy, "Ciw": run_ciw}


PRELOAD = {"ccplan": ("sim.model", "ccplan.scenario"), "idiomatic SimPy": ("simpy", "numpy"), "Ciw": ("ciw",)}


def _child(name: str, intervals: int, conn) -> None:
    import importlib

    try:
        for mod in PRELOAD[name]:  # imports are not part of the measurement
            importlib.import_module(mod)
        t0 = time.perf_counter()
        calls = ENGINES[name](intervals)
        elapsed = time.perf_counter() - t0
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send(("ok", calls, elapsed, peak_mb))
    except Exception as exc:  # report, do not crash the table
        conn.send(("error", f"{type(exc).__name__}: {exc}", 0.0, 0.0))
    finally:
        conn.close()


def measure(name: str, intervals: int, timeout_s: float = 900.0) -> tuple:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, intervals, child))
    proc.start()
    child.close()
    if parent.poll(timeout_s):
        out = parent.recv()
    else:
        proc.kill()
        out = ("error", f"timed out after {timeout_s:.0f} s", 0.0, 0.0)
    proc.join()
    return out


def main(quick: bool = False) -> None:
    full = 8 if quick else INTERVALS
    print(f"\n== Simulation speed: trainer x{SCALE} (gold/silver priority, patience {PATIENCE_S:g} s, "
          f"{AGENTS} agents), one replication on one core ==")
    plan = [("ccplan", full), ("idiomatic SimPy", full), ("Ciw", max(2, full // 12))]
    rows = []
    for name, intervals in plan:
        status, calls, secs, peak = measure(name, intervals)
        rows.append((name, intervals, status, calls, secs, peak))
    base = next((c / s for n, _, st, c, s, _ in rows if n == "ccplan" and st == "ok" and s > 0), None)
    head = f"{'engine':<18} {'intervals':>9} {'calls':>9} {'seconds':>9} {'calls/s':>10} {'peak MB':>8} {'ccplan speed-up':>16}"
    print(head)
    print("-" * len(head))
    for name, intervals, status, calls, secs, peak in rows:
        if status != "ok":
            print(f"{name:<18} {intervals:>9} {'-':>9} {'-':>9} {'-':>10} {'-':>8} {'':>16}  {calls}")
            continue
        rate = calls / secs
        ratio = f"{base / rate:.1f}x" if base and name != "ccplan" else "-"
        print(f"{name:<18} {intervals:>9} {calls:>9,} {secs:>9.2f} {rate:>10,.0f} {peak:>8.0f} {ratio:>16}")
    print("speed-up = ccplan calls/s / engine calls/s, measured in this run; peak MB = the process's max RSS.")
