"""Running replications on a Dask cluster: ``--scheduler ADDRESS`` or ``CCPLAN_SCHEDULER``.

The engines take any ``concurrent.futures.Executor``; this module turns a scheduler address into
one (``distributed.Client(address).get_executor()``) and closes it afterwards. What moves over the
network: the frozen scenario (a few KB) and the seed to each task, and each replication's compact
metric tables (and its call log only when asked for) back. Same seed, same numbers as a local run.

Addresses are ``tcp://HOST:PORT`` or ``HOST:PORT`` (IPv6 hosts in brackets); other protocols are
refused with a message (TLS needs certificates ccplan does not configure, UCX a library it does not
install). A scheduler gets :data:`CONNECT_TIMEOUT_S` s to accept the connection and :data:`HANDSHAKE_S` s
more to answer. While work is outstanding, a lost connection to the scheduler ends the run at once, and a
watchdog ends it when the scheduler has not answered for :data:`SCHEDULER_LOST_S` s or no worker has been
connected for :data:`NO_WORKER_S` s, instead of waiting for ever; each is one :class:`ClusterError`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

ENV_VAR = "CCPLAN_SCHEDULER"
CONNECT_TIMEOUT_S = 10
HANDSHAKE_S = 5  # after connecting, the scheduler has this long (s) to answer
#: The run ends with a ClusterError when the scheduler has not answered for this long (s) mid-run. A scheduler
#: that dies closes its connections and ends the run at once (Dask cancels every task of a lost connection);
#: this bounds one that hangs or sits behind a dead network without closing them.
SCHEDULER_LOST_S = 15
#: The run ends with a ClusterError when no worker has been connected for this long (s) while tasks are
#: outstanding (a killed worker's nanny restarts it within a few seconds).
NO_WORKER_S = 15
WATCH_EVERY_S = 0.5
ASK_TIMEOUT_S = 5  # one question to the scheduler (how many workers) waits this long (s) at most
CLOSE_TIMEOUT_S = 5  # closing the client waits this long (s) at most, 1 s after a failure
SUPPORTED = "tcp://HOST:PORT (or HOST:PORT)"
_QUIET = ("distributed", "tornado", "asyncio")  # their tracebacks of a lost connection are ours to report


class ClusterError(RuntimeError):
    """A cluster that cannot be used (not installed, not answering); the message says what to do."""


def scheduler_address(option: str | None) -> str | None:
    """The address to use: the option, else ``CCPLAN_SCHEDULER``, else None (run locally)."""
    value = option if option else os.environ.get(ENV_VAR, "")
    return value.strip() or None


def check_address(address: str) -> str:
    """``address`` as ``tcp://host:port``, or :class:`ClusterError` naming what is wrong and the supported form."""
    scheme, sep, rest = address.partition("://")
    scheme = scheme.lower() if sep else "tcp"
    rest = rest if sep else address
    where = f"the scheduler address {address!r} (--scheduler or ${ENV_VAR})"
    if scheme == "tls":
        raise ClusterError(f"{where}: tls:// needs certificates, which ccplan does not configure; use {SUPPORTED} "
                           f"(for encryption, reach the scheduler through an SSH tunnel or a VPN)")
    if scheme != "tcp":
        raise ClusterError(f"{where}: the protocol {scheme!r} is not supported; use {SUPPORTED}, "
                           f"e.g. tcp://10.0.0.5:8786")
    try:
        parts = urlsplit(f"tcp://{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
        parts = None
    if parts is None or not host or port is None or port == 0 or parts.path or parts.query or parts.fragment \
            or parts.username is not None:
        missing = " (no port)" if parts is not None and host and port is None and not parts.path else ""
        raise ClusterError(f"{where} is not {SUPPORTED}{missing}, e.g. tcp://10.0.0.5:8786")
    return f"tcp://[{host}]:{port}" if ":" in host else f"tcp://{host}:{port}"


class WatchedExecutor(Executor):
    """A Dask client's executor whose futures end with a :class:`ClusterError` when the cluster fails mid-run:
    the connection to the scheduler lost (Dask cancels the tasks at once), no answer from the scheduler for
    :data:`SCHEDULER_LOST_S` s (each question waits :data:`ASK_TIMEOUT_S` s at most), no worker connected for
    :data:`NO_WORKER_S` s, or a task that killed its workers. Its futures are its own, settled from the
    client's, so the engines wait on them as on any executor's."""

    def __init__(self, client: Any, address: str, no_worker_s: float = NO_WORKER_S,
                 scheduler_lost_s: float = SCHEDULER_LOST_S) -> None:
        self._client = client
        self._address = address
        self._inner = client.get_executor(pure=False)  # no hashing of the scenario per task
        self._no_worker_s = no_worker_s
        self._scheduler_lost_s = scheduler_lost_s
        self._pending: dict[Future, Future] = {}  # ours -> the client's
        self._lock = threading.Lock()
        self._failure: str | None = None
        self._stop = threading.Event()
        self._watch_thread = threading.Thread(target=self._watch, name="ccplan-cluster-watchdog", daemon=True)
        self._watch_thread.start()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:  # type: ignore[override]
        if self._failure is not None:
            raise ClusterError(self._failure)
        ours: Future = Future()
        theirs = self._inner.submit(fn, *args, **kwargs)
        with self._lock:
            self._pending[ours] = theirs
        theirs.add_done_callback(lambda f: self._settle(ours, f))
        ours.add_done_callback(lambda f: _cancel_quietly(theirs) if f.cancelled() else None)
        return ours

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the watchdog (the client is closed by :func:`cluster_executor`)."""
        self._stop.set()
        if cancel_futures:
            with self._lock:
                pending = list(self._pending)
            for f in pending:
                f.cancel()

    @property
    def failed(self) -> bool:
        """The cluster failed mid-run (futures ended with a ClusterError)."""
        return self._failure is not None

    def _lost(self) -> str:
        return (f"lost the connection to the Dask scheduler at {self._address} mid-run (it stopped, or the network "
                f"failed); nothing was written: check the scheduler and run again")

    def _settle(self, ours: Future, theirs: Future) -> None:
        with self._lock:
            self._pending.pop(ours, None)
            if ours.done():
                return
            if theirs.cancelled():
                self._failure = self._failure or self._lost()
                ours.set_exception(ClusterError(self._lost()))
                return
            exc = theirs.exception()
            if exc is None:
                ours.set_result(theirs.result())
            elif type(exc).__name__ == "KilledWorker":
                ours.set_exception(ClusterError(
                    f"a task killed the Dask workers that ran it, several times ({exc}); check the workers' memory "
                    f"and logs at {self._address} and run again"))
            else:
                ours.set_exception(exc)

    def _fail(self, message: str) -> None:
        with self._lock:
            self._failure = message
            pending, self._pending = list(self._pending.items()), {}
            for ours, _ in pending:
                if not ours.done():
                    ours.set_exception(ClusterError(message))
        for _, theirs in pending:
            _cancel_quietly(theirs)

    def _workers(self) -> int | None:
        """Workers connected to the scheduler now, or None when it does not answer within ASK_TIMEOUT_S s."""
        try:
            info = self._client.sync(self._client.scheduler.identity, n_workers=0, callback_timeout=ASK_TIMEOUT_S)
            n = info.get("n_workers")
            return int(n) if n is not None else len(info.get("workers", {}))
        except Exception:
            return None

    def _watch(self) -> None:
        no_worker_since = lost_since = None
        while not self._stop.wait(WATCH_EVERY_S):
            if not self._pending:
                no_worker_since = lost_since = None
                continue
            asked = time.monotonic()
            n = self._workers() if self._client.status == "running" else None
            now = time.monotonic()
            if n is None:
                lost_since = lost_since or asked
                if now - lost_since > self._scheduler_lost_s:
                    self._fail(f"the Dask scheduler at {self._address} has not answered for "
                               f"{self._scheduler_lost_s:g} s mid-run; nothing was written: check the scheduler "
                               f"and run again")
                    return
                continue
            lost_since = None
            if n == 0:
                no_worker_since = no_worker_since or now
                if now - no_worker_since > self._no_worker_s:
                    self._fail(f"no Dask worker has been connected to the scheduler at {self._address} for "
                               f"{self._no_worker_s:g} s while replications were waiting (every worker died or "
                               f"left); nothing was written: start workers (dask worker {self._address}) and run "
                               f"again")
                    return
            elif n:
                no_worker_since = None


def _cancel_quietly(theirs: Future) -> None:
    """Cancel a client's future; a client already closed (every worker or the scheduler lost, the run ended)
    raises ClosedClientError from a future's callback, which Python would print as a traceback: the run's
    failure is already reported once, as a ClusterError, so nothing is left to cancel or say."""
    try:
        theirs.cancel()
    except Exception:  # noqa: BLE001 - a closed client: its tasks are gone with it
        pass


def _quiet_logs() -> Callable[[], None]:
    """Silence Dask's and Tornado's loggers (a lost scheduler or worker is reported once, as a ClusterError);
    returns the function that restores them."""
    names = set(_QUIET) | {n for n in logging.root.manager.loggerDict if n.split(".")[0] in _QUIET}
    loggers = [logging.getLogger(name) for name in sorted(names)]  # Dask's config sets some children's levels
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)

    def restore() -> None:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)

    return restore


def _connect(client_class: Any, target: str, address: str) -> Any:
    """``Client(target)``, given :data:`CONNECT_TIMEOUT_S` to connect and :data:`HANDSHAKE_S` more to answer.
    Dask bounds the connection but not the scheduler's answer to it: a server that accepts the connection and
    never answers (a dashboard's or any other service's port) would hold ``Client()`` for ever, so it runs
    in a thread of its own that is abandoned (a daemon) when it does not return in time."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["client"] = client_class(target, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
        except BaseException as exc:  # handed to the calling thread
            box["error"] = exc

    th = threading.Thread(target=work, name="ccplan-dask-connect", daemon=True)
    th.start()
    th.join(CONNECT_TIMEOUT_S + HANDSHAKE_S)
    if th.is_alive():
        raise ClusterError(f"{address} accepted the connection but did not answer as a Dask scheduler within "
                           f"{CONNECT_TIMEOUT_S + HANDSHAKE_S} s: is it the scheduler's port (8786 by default), "
                           f"not its dashboard's or another service's?")
    if "error" in box:
        raise box["error"]
    return box["client"]


def _close(client: Any, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
    try:
        client.close(timeout=timeout_s)
    except Exception:  # a scheduler already gone: nothing left to release
        pass


@contextmanager
def cluster_executor(address: str | None) -> Iterator[Executor | None]:
    """An executor on the Dask cluster at ``address`` (None: yields None, the engines run locally).

    Raises :class:`ClusterError` for an unsupported or malformed address, a scheduler not answering within
    :data:`CONNECT_TIMEOUT_S` s or without workers, and mid-run failures (see :class:`WatchedExecutor`).
    """
    if address is None:
        yield None
        return
    target = check_address(address)
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--scheduler needs Dask's distributed: pip install -e '.[cluster]'") from None
    restore_logs = _quiet_logs()
    try:
        client = _connect(Client, target, address)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        restore_logs()
        raise ClusterError(f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT_S} s "
                           f"({type(exc).__name__}: {exc})") from None
    except ClusterError:
        restore_logs()
        raise
    try:
        if not client.scheduler_info().get("workers"):
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except (TimeoutError, OSError):
        _close(client)
        restore_logs()
        raise ClusterError(f"the Dask scheduler at {address} has no workers (start some with: "
                           f"dask worker {address})") from None
    ex = WatchedExecutor(client, address)
    try:
        yield ex
    finally:
        ex.shutdown(wait=False)
        _close(client, 1 if ex.failed else CLOSE_TIMEOUT_S)
        if not ex.failed:  # after a lost scheduler, Dask's reconnection task logs the loss again as the closed
            restore_logs()  # client cancels it, on its own thread: its loggers stay silent
