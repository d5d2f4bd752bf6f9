"""What a probe of ``roster`` and ``--scheduler`` found, run as a user runs the CLI (3 GB address space, a timeout):
a roster not found in time, a model too large to build, and a Dask cluster that is misnamed or dies mid-run. Each
ends with exit 0, 1 or 2, one message, no traceback, within its stated time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from ccplan.scenario import dump, from_dict, load, presets, to_dict
from tests.conftest import ROOT
from tests.hostile.test_corpus import _limited, run

TELECOM = str(presets()["telecom"])


def clean(r: subprocess.CompletedProcess) -> None:
    assert r.returncode in (0, 1, 2), (r.returncode, r.stderr[-500:])
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr[-800:]


def _fine_grained(tmp_path: Path, step: int, groups: int = 3) -> Path:
    """Telecom with ``groups`` groups and shift starts and break starts every ``step`` minutes."""
    d = to_dict(load(TELECOM))
    while len(d["agent_groups"]) < groups:
        extra = dict(d["agent_groups"][-1])
        extra["name"] = f"team{len(d['agent_groups'])}"
        d["agent_groups"].append(extra)
    d["agent_groups"] = d["agent_groups"][:groups]
    for sh in d["shifts"]:
        sh["start_every_minutes"] = step
        for b in sh.get("breaks", []):
            b["start_every_minutes"] = step
    p = tmp_path / f"every_{step}_min_{groups}_groups.toml"
    dump(from_dict(d), p)
    return p


# ---------------------------------------------------------------- 1. no roster within the time limit


def test_a_roster_not_found_in_time_writes_nothing_and_says_to_raise_the_time_limit(tmp_path):
    big = _fine_grained(tmp_path, 2)  # 76k variables: building alone takes longer than 0.01 s
    to, out = tmp_path / "rostered.toml", tmp_path / "roster"
    r = run("roster", str(big), "--time-limit", "0.01", "--to", str(to), "--out", str(out))
    clean(r)
    assert r.returncode == 1
    assert "no roster found within the time limit of 0.01 s" in r.stderr and "raise --time-limit" in r.stderr
    assert "nan" not in r.stdout + r.stderr
    assert not to.exists() and not out.exists() and sorted(os.listdir(tmp_path)) == [big.name]


def test_a_roster_not_found_in_time_is_a_json_status_with_exit_1(tmp_path):
    big = _fine_grained(tmp_path, 2)
    to = tmp_path / "rostered.toml"
    r = run("roster", str(big), "--time-limit", "0.01", "--json", "--to", str(to))
    clean(r)
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert out["status"] == "no roster in time" and "raise --time-limit" in out["message"]
    assert out["shifts"] == [] and out["cost"] is None and not to.exists()


def test_a_roster_stopped_by_the_time_limit_is_reported_with_a_finite_gap_or_not_at_all():
    # telecom needs about a second to prove optimality: at 0.3 s HiGHS has a roster (with a gap) or none
    r = run("roster", TELECOM, "--time-limit", "0.3")
    clean(r)
    assert "nan" not in r.stdout + r.stderr
    if r.returncode == 0 and "time limit" in r.stdout:
        assert "gap " in r.stdout and "%" in r.stdout
    elif r.returncode == 1:
        assert "raise --time-limit" in r.stderr


# ---------------------------------------------------------------- 2. a model too large to build


def test_one_minute_starts_and_breaks_in_three_groups_are_refused_before_building(tmp_path):
    p = _fine_grained(tmp_path, 1)  # 298k variables, 1.0M nonzeros
    t0 = time.perf_counter()
    r = run("roster", str(p), "--time-limit", "5")
    assert time.perf_counter() - t0 < 15  # refused from the shift rules' arithmetic, nothing built
    clean(r)
    assert r.returncode == 1
    assert "298,413 integer variables" in r.stderr and "limit of 200,000 variables" in r.stderr
    assert "shift 'full'" in r.stderr and "start_every_minutes (now 1)" in r.stderr


def test_a_model_just_under_the_bound_keeps_to_the_time_limit_and_the_memory_limit(tmp_path):
    p = _fine_grained(tmp_path, 1, groups=2)  # 199k variables: built, then HiGHS for what is left of 2 s
    t0 = time.perf_counter()
    r = run("roster", str(p), "--time-limit", "2", "--json")
    elapsed = time.perf_counter() - t0
    clean(r)
    assert elapsed < 25  # start-up, 2 s, and what HiGHS takes to notice its limit (a few s on this model)
    out = json.loads(r.stdout)
    assert out["status"] in ("time limit", "no roster in time")
    assert (r.returncode == 0) == (out["status"] == "time limit")


# ---------------------------------------------------------------- 3. a cluster misnamed or dying mid-run


@pytest.mark.parametrize("address,words", [
    ("tls://127.0.0.1:8786", "tls:// needs certificates"),
    ("ucx://127.0.0.1:8786", "the protocol 'ucx' is not supported"),
    ("127.0.0.1", "is not tcp://HOST:PORT (or HOST:PORT) (no port)"),
    ("tcp://[::1", "is not tcp://HOST:PORT"),
])
def test_an_unsupported_or_malformed_scheduler_address_is_one_message_at_once(address, words):
    pytest.importorskip("distributed")
    t0 = time.perf_counter()
    r = run("simulate", "scenarios/trainer.toml", "-r", "2", "--scheduler", address)
    assert time.perf_counter() - t0 < 15  # no 20 s wait for a half-made client's clean-up
    clean(r)
    assert r.returncode == 1 and words in r.stderr and "tcp://HOST:PORT" in r.stderr
    assert "Exception ignored" not in r.stderr


def test_a_port_that_accepts_but_never_answers_as_a_scheduler_is_a_clear_error_within_the_stated_time():
    pytest.importorskip("distributed")
    from ccplan.cluster import CONNECT_TIMEOUT_S, HANDSHAKE_S

    with socket.socket() as silent:  # a listening socket: the kernel completes the connection, nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        t0 = time.perf_counter()
        r = run("simulate", "scenarios/trainer.toml", "-r", "2", "--scheduler", address)
        elapsed = time.perf_counter() - t0
    clean(r)
    assert r.returncode == 1 and "accepted the connection but did not answer as a Dask scheduler" in r.stderr
    assert elapsed < CONNECT_TIMEOUT_S + HANDSHAKE_S + 10  # it used to wait for ever


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _dask_cluster():
    """A scheduler and one worker (with its nanny) on 127.0.0.1, as separate process groups; all killed after."""
    distributed = pytest.importorskip("distributed")
    dask = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    assert dask, "the dask command comes with the cluster extra"
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    procs = {"scheduler": subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", port,
                                            "--no-dashboard"], **quiet)}
    try:
        procs["worker"] = subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                            "--no-dashboard"], **quiet)
        with distributed.Client(address, timeout="20s") as client:
            client.wait_for_workers(1, timeout=30)
        yield address, procs
    finally:
        for p in procs.values():
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for p in procs.values():
            p.wait(timeout=20)


def _busy(address: str) -> None:
    """Wait until the cluster is running replications (at most 30 s)."""
    import distributed

    with distributed.Client(address, timeout="10s") as client:
        deadline = time.monotonic() + 30
        while not any(client.processing().values()):
            assert time.monotonic() < deadline, "the run never reached the cluster"
            time.sleep(0.2)


def _run_and_kill(address: str, kill) -> tuple[subprocess.CompletedProcess, float]:
    """Start a long simulate on the cluster and call ``kill()`` once it runs: the run, and the s from kill to exit."""
    cmd = [sys.executable, "-m", "ccplan", "simulate", TELECOM, "-r", "2000", "--json", "--scheduler", address]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_limited)
    try:
        _busy(address)
        kill()
        t0 = time.perf_counter()
        out, err = proc.communicate(timeout=60)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err), time.perf_counter() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_scheduler_killed_mid_run_is_a_clear_error_within_ten_seconds():
    with _dask_cluster() as (address, procs):
        r, after = _run_and_kill(address, lambda: os.killpg(procs["scheduler"].pid, signal.SIGKILL))
    clean(r)
    assert r.returncode == 1 and f"lost the connection to the Dask scheduler at {address} mid-run" in r.stderr
    assert after < 10  # Dask cancels a lost connection's tasks at once; then 1 s to close the client
    assert r.stdout == ""


def test_every_worker_killed_mid_run_is_a_clear_error_within_the_stated_time():
    from ccplan.cluster import NO_WORKER_S

    with _dask_cluster() as (address, procs):
        r, after = _run_and_kill(address, lambda: os.killpg(procs["worker"].pid, signal.SIGKILL))
    clean(r)
    assert r.returncode == 1
    assert f"no Dask worker has been connected to the scheduler at {address} for {NO_WORKER_S:g} s" in r.stderr
    assert NO_WORKER_S - 1 < after < NO_WORKER_S + 10  # the stated bound, polled every 0.5 s
    assert r.stdout == ""
