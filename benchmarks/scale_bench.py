"""Scale benchmark: ``compare`` of 8 variants x 50 replications on a process pool and on a local Dask cluster
of 2 worker processes (``python -m benchmarks scale [--quick]``): wall time, identical numbers, overhead per task;
then ``staff --verify`` of the multi-group example on both.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ccplan.comparison import compare
from ccplan.verification import verify
from ccplan.scenario import load, presets
from sim.runner import replications_per_task

ROOT = Path(__file__).resolve().parent.parent


def main(quick: bool = False) -> None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("\nscale: Dask's distributed is not installed (pip install -e '.[cluster]')")
        return
    base = load(presets()["telecom"])
    multigroup = load(ROOT / "examples" / "multigroup_overflow.toml")
    reps = 10 if quick else 50
    variants = [(f"overflow {n}", base.with_changes({"agent_groups.overflow.agents": n})) for n in range(6, 14)]
    per_task = [replications_per_task(sc, reps) for _, sc in variants]
    tasks = sum(-(-reps // k) for k in per_task)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        local = compare(variants, replications=reps, seed=7, executor=pool)
        t_pool = time.perf_counter() - t0
        t0 = time.perf_counter()
        v_local = verify(multigroup, executor=pool)
        tv_pool = time.perf_counter() - t0
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    t_start = time.perf_counter() - t0
    runs = []
    try:
        with Client(cluster) as client:
            for _ in range(2):  # cold: the workers import ccplan on their first task; then warm
                t1 = time.perf_counter()
                remote = compare(variants, replications=reps, seed=7, executor=client.get_executor(pure=False))
                runs.append((time.perf_counter() - t1,
                             local.table.equals(remote.table) and local.differences.equals(remote.differences)))
            t1 = time.perf_counter()
            v_remote = verify(multigroup, executor=client.get_executor(pure=False))
            tv_dask = time.perf_counter() - t1
    finally:
        cluster.close()
    print(f"\nScale: compare, {len(variants)} variants x {reps} replications of the telecom preset "
          f"({len(variants) * reps} replications in {tasks} tasks of {min(per_task)}-{max(per_task)}), 2 workers")
    head = f"{'executor':<40} {'wall s':>8} {'ms per replication':>19} {'vs pool':>8} {'identical':>10}"
    print(head)
    print("-" * len(head))
    n = len(variants) * reps
    print(f"{'process pool (2 processes)':<40} {t_pool:8.2f} {1000 * t_pool / n:19.1f} {'1.00x':>8} {'-':>10}")
    for label, (t, same) in zip(("Dask LocalCluster, first run (cold)", "Dask LocalCluster, again (warm)"), runs):
        print(f"{label:<40} {t:8.2f} {1000 * t / n:19.1f} {t / t_pool:7.2f}x {str(same):>10}")
    cold, warm = runs[0][0], runs[1][0]
    print(f"cluster start-up {t_start:.2f} s (not in the wall times); overhead per task, warm: "
          f"{1000 * (warm - t_pool) / tasks:+.1f} ms; the workers' first imports: {cold - warm:.2f} s")
    same_v = v_local.groups.equals(v_remote.groups) and v_local.segments.equals(v_remote.segments)
    print(f"staff --verify on multigroup_overflow ({v_local.evaluations} staffings simulated): process pool "
          f"{tv_pool:.2f} s, Dask (warm) {tv_dask:.2f} s ({tv_dask / tv_pool:.2f}x), identical: {same_v}")
