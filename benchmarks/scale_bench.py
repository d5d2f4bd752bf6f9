"""Scale benchmark: ``compare`` of 8 variants x 50 replications on a process pool and on a local Dask cluster
of 2 worker processes (``python -m benchmarks scale [--quick]``): wall time, identical numbers, overhead per task.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

from ccplan.compare import compare
from ccplan.scenario import load, presets


def main(quick: bool = False) -> None:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        print("\nscale: Dask's distributed is not installed (pip install -e '.[cluster]')")
        return
    base = load(presets()["telecom"])
    reps = 10 if quick else 50
    variants = [(f"overflow {n}", base.with_changes({"agent_groups.overflow.agents": n})) for n in range(6, 14)]
    tasks = reps * len(variants)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        local = compare(variants, replications=reps, seed=7, executor=pool)
    t_pool = time.perf_counter() - t0
    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    t_start = time.perf_counter() - t0
    try:
        with Client(cluster) as client:
            t1 = time.perf_counter()
            remote = compare(variants, replications=reps, seed=7, executor=client.get_executor(pure=False))
            t_dask = time.perf_counter() - t1
    finally:
        cluster.close()
    same = local.table.equals(remote.table) and local.differences.equals(remote.differences)
    print(f"\nScale: compare, {len(variants)} variants x {reps} replications of the telecom preset ({tasks} tasks), "
          "2 workers")
    head = f"{'executor':<34} {'wall s':>8} {'per task ms':>12} {'identical':>10}"
    print(head)
    print("-" * len(head))
    print(f"{'process pool (2 processes)':<34} {t_pool:8.2f} {1000 * t_pool / tasks:12.1f} {'-':>10}")
    print(f"{'Dask LocalCluster (2 processes)':<34} {t_dask:8.2f} {1000 * t_dask / tasks:12.1f} {str(same):>10}")
    print(f"cluster start-up {t_start:.2f} s (not in the wall time); overhead per task "
          f"{1000 * (t_dask - t_pool) / tasks:+.1f} ms")
