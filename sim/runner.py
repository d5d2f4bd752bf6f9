"""Replications of a scenario: seeds, executors, aggregation with confidence intervals.

``simulate(scenario, replications, seed, executor=...)`` runs independent
replications. Replication r of seed S uses the random streams derived from
(S, r, segment name, purpose) (see :mod:`sim.arrivals`), so two scenarios run
with the same seed see the same callers (common random numbers), and the same
seed always gives identical numbers, whatever the executor or the number of workers.

Any :class:`concurrent.futures.Executor` can run the replications (a process pool
on all cores by default; a Dask or other cluster executor plugs in unchanged).
Workers return per-replication summaries, and the call log only when asked. Short replications go a few
to a task (:func:`task_batches`), and a task's answer travels as one pickled buffer (:func:`packed`).
"""

from __future__ import annotations

import os
import pickle
import signal
import weakref
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd

from ccplan.scenario import Scenario
from sim.metrics import frames, interval_counts, log_frame, replication_columns, summarise, window_upper_bounds
from sim.model import CallCenterModel, log_from_columns, merge_coupled

TABLES = ("segments", "intervals", "groups", "group_intervals", "segment_groups", "day")
_KEYS = {"segments": ["segment"], "intervals": ["interval", "segment"], "groups": ["group"],
         "group_intervals": ["interval", "group"], "segment_groups": ["segment", "group"], "day": []}


@dataclass
class SimulationResult:
    """Results of R replications.

    ``per_replication[name]``: one row per replication (and key) for each table in
    TABLES; ``summary[name]``: mean and 95% CI (``X``, ``X_ci_low``, ``X_ci_high``) of
    every metric across replications; ``call_log``: one row per call attempt (all
    replications) when requested, else None.
    """

    scenario: Scenario
    replications: int
    seed: int
    per_replication: dict[str, pd.DataFrame]
    summary: dict[str, pd.DataFrame]
    call_log: pd.DataFrame | None = None
    violations: list[str] = field(default_factory=list)

    @property
    def segments(self) -> pd.DataFrame:
        """Per segment, over every replication: each metric's estimate and 95% CI (``service_level``,
        ``service_level_ci_low``, ``service_level_ci_high``: long-run ratios as shares; times in seconds)."""
        return self.summary["segments"]

    @property
    def groups(self) -> pd.DataFrame:
        """Per agent group: occupancy, busy and available agents, with 95% CIs."""
        return self.summary["groups"]

    @property
    def intervals(self) -> pd.DataFrame:
        """Per interval and segment: service level, ASA (seconds), abandonment, with 95% CIs."""
        return self.summary["intervals"]


def run_replication(scenario: Scenario, replication: int, seed: int, keep_log: bool = False,
                    check_invariants: bool = False) -> dict:
    """Simulate one replication; return its metric tables as numpy columns (and its call log when asked)."""
    model = CallCenterModel(scenario, replication=replication, seed=seed, check_invariants=check_invariants).run()
    log = model.log_arrays()
    out: dict = replication_columns(log, scenario, model.overtime_s(), replication, model.finishing_s())
    out["violations"] = model.violations
    if keep_log:
        out["call_log"] = log_frame(log, scenario, replication)
    return out


def run_replications(scenario: Scenario, replications: list[int], seed: int, keep_log: bool = False,
                     check_invariants: bool = False) -> list[dict]:
    """Several replications in one task (:func:`run_replication` each): one submission, one pickled scenario
    and one answer for the lot, where a replication is too short to pay for a task of its own."""
    return [run_replication(scenario, r, seed, keep_log, check_invariants) for r in replications]


def run_counts_many(scenario: Scenario, available, replications: list[int], seed: int) -> list[dict]:
    """:func:`run_counts` for several replications in one task."""
    return [run_counts(scenario, available, r, seed) for r in replications]


def packed(fn: Callable, /, *args, **kwargs) -> bytes:
    """``fn(*args, **kwargs)`` pickled into one bytes object (:func:`unpack`): what the engines submit to an
    executor. A cluster then moves one buffer per task, where Dask would serialise each of an answer's
    hundreds of small arrays on its own (that cost the client 0.7 CPU-s in ``compare`` of 400 telecom
    replications, 15 % of the run's wall time on 2 cores)."""
    return pickle.dumps(fn(*args, **kwargs), protocol=pickle.HIGHEST_PROTOCOL)


def unpack(answer: bytes):
    """The answer of a :func:`packed` task."""
    return pickle.loads(answer)


#: Replications per task are grouped to about this much simulation, and at most an eighth of a scenario's
#: replications go in one task, so every worker still gets several tasks (balance, progress, retries).
TASK_TARGET_S = 0.2
_S_PER_CALL = 4e-6  # a conservative simulation cost per call (``python -m benchmarks percall``: 2.4-2.9 us)


def replications_per_task(scenario: Scenario, replications: int, keep_log: bool = False) -> int:
    """How many replications of ``scenario`` one task runs: 1 when call logs are kept (each is streamed
    as it arrives), else enough for about :data:`TASK_TARGET_S` seconds of simulation, at most an eighth
    of the replications. The numbers do not depend on it: each replication has its own seeds."""
    if keep_log:
        return 1
    calls = sum(float(scenario.calls_per_interval(s).sum()) for s in scenario.segments)
    per_rep_s = 1e-3 + _S_PER_CALL * calls
    return int(max(1, min(TASK_TARGET_S // per_rep_s, -(-replications // 8))))


def task_batches(scenario: Scenario, replications: int, keep_log: bool = False) -> list[list[int]]:
    """The replications 0..R-1 cut into the tasks :func:`replications_per_task` sizes."""
    k = replications_per_task(scenario, replications, keep_log)
    return [list(range(r, min(r + k, replications))) for r in range(0, replications, k)]


def run_counts(scenario: Scenario, available, replication: int, seed: int) -> dict:
    """Simulate one replication with ``available`` agents (groups x intervals) replacing the scenario's;
    return only compact per-interval counts (:func:`sim.metrics.interval_counts`)."""
    model = CallCenterModel(scenario, replication=replication, seed=seed, available=available).run()
    return interval_counts(model.log_arrays(), scenario)


def run_counts_removals(scenario: Scenario, available, removals: list[tuple[int, int]], replication: int,
                        seed: int, horizon: int | None = None) -> tuple[dict | None, list[dict]]:
    """Counts of one replication at ``available`` staffing and at each single removal (group, interval)
    from it. The simulation up to each removal's interval is shared (the model is copied there and
    goes on with one agent less), so a removal late in the day costs only the rest of the day; the
    numbers are identical to separate runs with the same seed.

    With ``horizon`` each copy runs only to the end of interval ``t + horizon - 1`` and returns
    :func:`sim.metrics.window_upper_bounds` instead (and no base counts): enough to rule a removal
    out when even the best outcome of the calls still waiting misses a target.
    """
    import copy

    base = CallCenterModel(scenario, replication=replication, seed=seed, available=available)
    base.start()
    n_int = scenario.n_intervals
    couple = horizon is None and base.can_couple()
    if couple:
        # the base day, run ahead on a copy, with its state at every boundary: a removal's copy that reaches
        # the same state at a boundary (the queue it built has cleared) has the base's future from there on
        probe = copy.deepcopy(base)
        keys = {}
        for b in range(1, n_int):
            probe.run_until_interval(b)
            keys[b] = probe.state_key(b)
        probe.env.run()
        base_cols = probe.raw_columns()
    results: dict[tuple[int, int], dict] = {}
    for g, t in sorted(removals, key=lambda gt: (gt[1], gt[0])):
        base.run_until_interval(t)
        m = copy.deepcopy(base)
        m.avail[g, t] -= 1
        if horizon is None:
            cols = None
            if couple:
                for b in range(t + 1, n_int):
                    m.run_until_interval(b)
                    if m.state_key(b) == keys[b]:
                        cols = merge_coupled(m.raw_columns(), base_cols)
                        break
            if cols is None:
                m.env.run()
                cols = m.raw_columns()
            results[(g, t)] = interval_counts(log_from_columns(cols), scenario)
        else:
            stop = min(t + horizon, n_int)
            m.run_until_interval(stop)
            results[(g, t)] = window_upper_bounds(m.log_arrays(), scenario, m.env.now)
    if horizon is not None:
        return None, [results[gt] for gt in removals]
    if couple:
        return interval_counts(log_from_columns(base_cols), scenario), [results[gt] for gt in removals]
    base.env.run()
    return interval_counts(base.log_arrays(), scenario), [results[gt] for gt in removals]


class InlineExecutor(Executor):
    """Runs submitted work in the calling process (for one worker, tests and debugging)."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        from concurrent.futures import Future

        fut: Future = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - passed to the caller through the future
            fut.set_exception(exc)
        return fut


_POOLS: "weakref.WeakSet[ProcessPoolExecutor]" = weakref.WeakSet()


def _worker_init() -> None:
    """Workers ignore Ctrl-C (the terminal sends it to the whole process group): the main process decides,
    and ends them itself (:func:`kill_workers`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers leave interrupts to the main process, registered for :func:`kill_workers`."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_init)
    _POOLS.add(pool)
    return pool


def kill_workers() -> None:
    """End every worker process of every live pool at once (on an interrupt: no waiting, no orphans)."""
    for pool in list(_POOLS):
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except Exception:  # already gone
                pass


def default_executor(replications: int) -> Executor:
    """A process pool on all cores (inline when there is one replication or one core)."""
    workers = min(os.cpu_count() or 1, replications)
    return InlineExecutor() if workers <= 1 else process_pool(workers)


def simulate(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    keep_log: bool = False,
    progress: Callable[[int, int], None] | None = None,
    check_invariants: bool = False,
    log_sink: Callable[[int, pd.DataFrame], None] | None = None,
) -> SimulationResult:
    """Run ``replications`` (default: the scenario's) replications and aggregate them.

    ``progress(done, total)`` is called after each finished replication; ``log_sink(replication,
    call_log)`` takes each call log as it arrives instead of keeping them (see :func:`simulate_many`).
    """
    reps = scenario.simulation.replications if replications is None else int(replications)
    seed = scenario.simulation.seed if seed is None else int(seed)
    sink = None if log_sink is None else (lambda _i, r, log: log_sink(r, log))
    return simulate_many([scenario], reps, seed, executor, keep_log, progress, check_invariants, sink)[0]


def simulate_many(
    scenarios: list[Scenario],
    replications: int,
    seed: int,
    executor: Executor | None = None,
    keep_log: bool = False,
    progress: Callable[[int, int], None] | None = None,
    check_invariants: bool = False,
    log_sink: Callable[[int, int, pd.DataFrame], None] | None = None,
) -> list[SimulationResult]:
    """Every scenario x replication submitted at once (so a cluster's workers stay busy across variants),
    short replications grouped a few to a task (:func:`replications_per_task`), then aggregated per
    scenario. Same seed, same numbers, whatever the executor and the grouping.

    ``log_sink(scenario_index, replication, call_log)`` takes each replication's call log as it arrives
    (in completion order) and the log is not kept: memory then holds the logs in flight, not all of them
    (``ccplan simulate --out`` streams them to Parquet this way)."""
    if log_sink is not None:
        keep_log = True
    reps = int(replications)
    if reps < 1:
        raise ValueError("replications must be >= 1")
    total = reps * len(scenarios)
    own = executor is None
    ex = default_executor(total) if own else executor
    results: dict[tuple[int, int], dict] = {}
    try:
        futures = {}
        for i, sc in enumerate(scenarios):
            for batch in task_batches(sc, reps, keep_log):
                futures[ex.submit(packed, run_replications, sc, batch, seed, keep_log, check_invariants)] = (i, batch)
        done = 0
        for fut in as_completed(futures):
            i, batch = futures.pop(fut)
            outs = unpack(fut.result())
            del fut  # the future holds the worker's answer: let it go with the log
            for r, out in zip(batch, outs):
                if log_sink is not None:
                    log_sink(i, r, out.pop("call_log"))
                results[(i, r)] = out
            done += len(batch)
            if progress is not None:
                progress(done, total)
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
    out = []
    for i, sc in enumerate(scenarios):
        ordered = [results[(i, r)] for r in range(reps)]
        per_rep = frames([{name: o[name] for name in TABLES} for o in ordered])
        summary = {name: summarise(per_rep[name], _KEYS[name]) for name in TABLES}
        log = pd.concat([o["call_log"] for o in ordered], ignore_index=True) if keep_log and log_sink is None \
            else None
        violations = [v for o in ordered for v in o["violations"]]
        out.append(SimulationResult(sc, reps, seed, per_rep, summary, log, violations))
    return out
