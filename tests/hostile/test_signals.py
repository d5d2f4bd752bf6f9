"""Ctrl-C and SIGTERM on a real `ccplan simulate`: prompt, exit 130, 'interrupted', no worker left alive, and a
second Ctrl-C never deadlocks. Each case is repeated (CCPLAN_SIGNAL_REPEATS, default 3) because the races it
guards against are intermittent."""

import os
import signal
import subprocess
import sys
import time

import pytest

from ccplan.scenario import presets
from tests.conftest import ROOT

REPEATS = int(os.environ.get("CCPLAN_SIGNAL_REPEATS", "3"))


def _start(tmp_path, *extra: str) -> subprocess.Popen:
    # its own session, so the test can signal the whole process group the way a terminal does
    return subprocess.Popen([sys.executable, "-m", "ccplan", "simulate", str(presets()["telecom"]), "-r", "400",
                             *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _members(pgid: int) -> list[int]:
    """Live processes of a process group, from /proc (zombies excluded)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(d))
    return pids


def _wait_workers(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Until the process pool's workers exist (the run is under way)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if len(_members(proc.pid)) >= 3:  # the main process and two workers
            time.sleep(0.3)
            return
        time.sleep(0.05)
    pytest.fail("the simulation's workers did not start")


@pytest.mark.parametrize("how", ["ctrl-c", "double ctrl-c", "sigterm"])
@pytest.mark.parametrize("repeat", range(REPEATS))
def test_an_interrupt_stops_promptly_with_no_orphan(tmp_path, how, repeat):
    proc = _start(tmp_path, "--out", str(tmp_path / "res"))
    _wait_workers(proc)
    t0 = time.monotonic()
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)  # to the main process only, as a service manager does
    else:
        os.killpg(proc.pid, signal.SIGINT)  # to the whole group, as the terminal does
        if how == "double ctrl-c":
            time.sleep(0.05)
            os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:  # pragma: no cover - the failure this test exists for
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"{how}: still running 20 s after the signal (deadlock)")
    took = time.monotonic() - t0
    deadline = time.monotonic() + 5
    while _members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _members(proc.pid), f"{how}: a worker outlived the main process"
    assert proc.returncode == 130, (proc.returncode, err)
    assert "interrupted" in err and "Traceback" not in err
    assert took < 5, f"{how}: took {took:.1f} s to stop"
    assert not (tmp_path / "res").exists()  # nothing partial
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
