"""How much work a simulation job is, said before it starts: calls x replications x variants, the time that
takes and the memory one replication needs. Above a threshold the CLI asks for ``--yes`` (the app for a
click); what cannot fit in memory is refused.

The rates are measured on this project's 2-core reference machine (``python -m benchmarks sim``) and kept
conservative: about 150,000 simulated calls per CPU-second (metrics included) and about 450 bytes per call
of one replication, on top of ~250 MB for the worker's imports.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ccplan.scenario import Scenario

CALLS_PER_CPU_S = 150_000.0
BYTES_PER_CALL = 450.0
WORKER_BASE_BYTES = 250e6
CONFIRM_CALLS = 50_000_000  # policy: about 3 minutes on 2 cores; above it, ask first


class WorkloadError(ValueError):
    """A job too large to start without confirmation, or too large to fit (one message with the estimate)."""


@dataclass(frozen=True)
class Workload:
    """The size of a simulation job."""

    calls_per_replication: float  # the largest variant's expected offered calls (first attempts)
    replications: int
    variants: int
    workers: int

    @property
    def total_calls(self) -> float:
        return self.calls_per_replication * self.replications * self.variants

    @property
    def seconds(self) -> float:
        """Expected wall time on ``workers`` cores, seconds."""
        return self.total_calls / CALLS_PER_CPU_S / max(1, self.workers)

    @property
    def bytes_per_worker(self) -> float:
        """Peak memory of one worker running one replication, bytes."""
        return WORKER_BASE_BYTES + BYTES_PER_CALL * self.calls_per_replication

    def describe(self) -> str:
        return (f"about {self.total_calls:,.0f} calls ({self.variants} variant(s) x {self.replications} replications "
                f"x {self.calls_per_replication:,.0f} calls), roughly {_duration(self.seconds)} on {self.workers} "
                f"core(s), {self.bytes_per_worker / 1e9:.1f} GB per worker")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def expected_calls(scenario: Scenario) -> float:
    """Expected first-attempt calls in one simulated day (retries come on top, bounded by max_retrials)."""
    return float(sum(scenario.calls_per_interval(s).sum() for s in scenario.segments))


def estimate(scenarios: list[Scenario], replications: int, workers: int | None = None) -> Workload:
    """The workload of simulating every scenario ``replications`` times."""
    return Workload(max(expected_calls(s) for s in scenarios), int(replications), len(scenarios),
                    workers or min(os.cpu_count() or 1, int(replications) * len(scenarios)))


def available_memory_bytes() -> float | None:
    """Memory the system can still give (MemAvailable), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check(work: Workload, yes: bool, memory_bytes: float | None = None) -> None:
    """Refuse a job whose workers cannot fit in memory; ask (``yes``) for one above :data:`CONFIRM_CALLS`."""
    mem = available_memory_bytes() if memory_bytes is None else memory_bytes
    need = work.bytes_per_worker * max(1, min(work.workers, work.replications * work.variants))
    if mem is not None and need > mem:
        raise WorkloadError(f"this job needs {work.describe()}: {need / 1e9:.1f} GB in all, more than the "
                            f"{mem / 1e9:.1f} GB available; simulate a smaller day or fewer workers")
    if work.total_calls > CONFIRM_CALLS and not yes:
        raise WorkloadError(f"this job is large: {work.describe()}. Pass --yes to go ahead (the threshold is "
                            f"{CONFIRM_CALLS:,} calls, a limit ccplan sets)")
