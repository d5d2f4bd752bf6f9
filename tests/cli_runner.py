"""Run ``python -m ccplan ARGS`` as a user does, without paying Python's and pandas' start-up on every call.

A test that runs the CLI wants a fresh process: its own exit code, stdout, stderr, signal handlers, limits and
working directory. Starting one costs about 0.6 CPU-s of imports (pandas alone 0.25 s), and the suite runs the CLI
a few hundred times. So each pytest worker starts one *fork server* (a single-threaded process that has imported
ccplan's modules once) and asks it for each call: the server forks a child, which sets its limits, redirects
stdin/stdout/stderr, and runs ``ccplan/__main__.py`` exactly as ``python -m ccplan`` would (``runpy``); the
child's exit status is the call's. Forking a single-threaded process is safe; the pytest worker itself (which
runs execnet threads) never forks.

``CCPLAN_TEST_SUBPROCESS=1`` turns it off: every call is then a real ``subprocess.run``, as before. A test in
``tests/ccplan/test_cli_runner.py`` checks that both give the same output.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_SERVER = r'''
import json, os, resource, runpy, sys
os.environ.setdefault("MPLBACKEND", "Agg")
import ccplan.cli  # noqa: F401  (the imports every call needs, paid once)
for mod in ("ccplan.verification", "ccplan.charts", "ccplan.forecasting", "ccplan.backtesting", "ccplan.week",
            "ccplan.capacity", "ccplan.comparison", "sim.runner", "planner.staffing", "planner.roster",
            "planner.forecast", "matplotlib.pyplot", "statsmodels.tsa.exponential_smoothing.ets", "holidays"):
    try:
        __import__(mod)
    except Exception:
        pass
ready = sys.stdout
ready.write("ready\n"); ready.flush()
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:  # the call: a fresh process as `python -m ccplan ARGS` would be
        try:
            os.setsid()
            os.chdir(job["cwd"])
            fd_in = os.open(os.devnull, os.O_RDONLY)
            fd_out = os.open(job["out"], os.O_WRONLY | os.O_TRUNC)
            fd_err = os.open(job["err"], os.O_WRONLY | os.O_TRUNC)
            os.dup2(fd_in, 0); os.dup2(fd_out, 1); os.dup2(fd_err, 2)
            for fd in (fd_in, fd_out, fd_err):
                os.close(fd)
            sys.stdin = open(0, closefd=False)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False, buffering=1)
            sys.__stdout__, sys.__stderr__ = sys.stdout, sys.stderr
            if job.get("limit_as"):
                resource.setrlimit(resource.RLIMIT_AS, (job["limit_as"], job["limit_as"]))
            os.environ.clear(); os.environ.update(job["env"])
            sys.argv = [os.path.join(job["root"], "ccplan", "__main__.py"), *job["args"]]
            code = 0
            try:
                runpy.run_module("ccplan", run_name="__main__", alter_sys=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                if exc.code is not None and not isinstance(exc.code, int):
                    sys.stderr.write(f"{exc.code}\n")
            except BaseException:
                import traceback
                traceback.print_exc()
                code = 1
            try:
                sys.stdout.flush(); sys.stderr.flush()
            except BaseException:
                pass
            os._exit(code)
        except BaseException:
            os._exit(120)
    ready.write(f"pid {pid}\n"); ready.flush()
    _, status = os.waitpid(pid, 0)
    ready.write(f"status {os.waitstatus_to_exitcode(status)}\n"); ready.flush()
'''


class _ForkServer:
    """One server per pytest worker, started on first use."""

    def __init__(self) -> None:
        env = dict(os.environ, MPLBACKEND=os.environ.get("MPLBACKEND", "Agg"))
        self.proc = subprocess.Popen([sys.executable, "-c", _SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=ROOT, env=env, bufsize=0)
        self.lock = threading.Lock()
        self.buffer = b""
        first = self._line(120)
        if first != "ready":
            raise RuntimeError(f"the CLI fork server did not start: {first!r}")

    def _line(self, timeout: float) -> str | None:
        """The server's next line, or None after ``timeout`` seconds (its own buffer: select() on a buffered
        file would miss a line already read into it)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return ""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().strip()

    def run(self, args: list[str], timeout: float, cwd: Path, limit_as: int | None) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory(prefix="ccplan-cli-") as tmp:
            out, err = Path(tmp) / "out", Path(tmp) / "err"
            out.touch()
            err.touch()
            job = {"args": args, "cwd": str(cwd), "out": str(out), "err": str(err), "limit_as": limit_as,
                   "env": dict(os.environ), "root": str(ROOT)}
            assert self.proc.stdin is not None
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
            pid_line = self._line(60)
            if not pid_line or not pid_line.startswith("pid "):
                raise RuntimeError(f"the CLI fork server did not answer: {pid_line!r}")
            pid = int(pid_line.split()[1])
            status = self._line(timeout)
            if status is None:  # as subprocess.run: kill the call, then raise TimeoutExpired
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._line(60)
                raise subprocess.TimeoutExpired([sys.executable, "-m", "ccplan", *args], timeout,
                                                out.read_text(errors="replace"), err.read_text(errors="replace"))
            code = int(status.split()[1])
            return subprocess.CompletedProcess([sys.executable, "-m", "ccplan", *args], code,
                                               out.read_text(errors="replace"), err.read_text(errors="replace"))


_server: _ForkServer | None = None
_server_lock = threading.Lock()


def run_cli(*args: str, timeout: float = 600, cwd: Path = ROOT, limit_as: int | None = None
            ) -> subprocess.CompletedProcess:
    """``python -m ccplan ARGS`` in ``cwd`` (text output captured, ``timeout`` in seconds, an optional
    address-space limit in bytes), through the worker's fork server; a real subprocess when
    ``CCPLAN_TEST_SUBPROCESS`` is set or another call is running in this worker at the same time."""
    args_s = [str(a) for a in args]
    global _server
    if not os.environ.get("CCPLAN_TEST_SUBPROCESS"):
        with _server_lock:
            if _server is None or _server.proc.poll() is not None:
                _server = _ForkServer()
            server = _server
        if server.lock.acquire(blocking=False):
            try:
                return server.run(args_s, timeout, cwd, limit_as)
            finally:
                server.lock.release()

    def limited() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    return subprocess.run([sys.executable, "-m", "ccplan", *args_s], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, preexec_fn=limited if limit_as else None)
