"""Running replications on a Dask cluster: ``--scheduler ADDRESS`` or ``CCPLAN_SCHEDULER``.

The engines take any ``concurrent.futures.Executor``; this module turns a scheduler address into
one (``distributed.Client(address).get_executor()``) and closes it afterwards. What moves over the
network: the frozen scenario (a few KB) and the seed to each task, and each replication's compact
metric tables (and its call log only when asked for) back. Same seed, same numbers as a local run.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor
from contextlib import contextmanager
from typing import Iterator

ENV_VAR = "CCPLAN_SCHEDULER"
CONNECT_TIMEOUT_S = 10


class ClusterError(RuntimeError):
    """A cluster that cannot be used (not installed, not answering); the message says what to do."""


def scheduler_address(option: str | None) -> str | None:
    """The address to use: the option, else ``CCPLAN_SCHEDULER``, else None (run locally)."""
    value = option if option else os.environ.get(ENV_VAR, "")
    return value.strip() or None


@contextmanager
def cluster_executor(address: str | None) -> Iterator[Executor | None]:
    """An executor on the Dask cluster at ``address`` (None: yields None, the engines run locally)."""
    if address is None:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--scheduler needs Dask's distributed: pip install -e '.[cluster]'") from None
    try:
        client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT_S} s "
                           f"({type(exc).__name__}: {exc})") from None
    try:
        if not client.scheduler_info().get("workers"):
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError):
        client.close()
        raise ClusterError(f"the Dask scheduler at {address} has no workers (start some with: "
                           f"dask worker {address})") from None
    try:
        yield client.get_executor(pure=False)  # no hashing of the scenario per task
    finally:
        client.close()
