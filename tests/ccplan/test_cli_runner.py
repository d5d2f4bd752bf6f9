"""The tests' fork server (tests/cli_runner.py) gives what a real ``python -m ccplan`` process gives: the same
exit code, stdout and stderr, on success, bad input, a usage error, help, an address-space limit and a timeout."""

import json
import os
import subprocess
import sys

import pytest

from tests.cli_runner import ROOT, run_cli

CASES = [
    ("validate", "scenarios/trainer.toml"),
    ("validate", "no/such/file.toml"),
    ("simulate", "scenarios/trainer.toml", "-r", "2", "--json"),
    ("staff", "scenarios/trainer.toml", "--no-such-flag"),
    ("erlang", "--help"),
    ("erlang", "--calls", "100", "--aht-s", "180", "--json"),
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c[:2]) for c in CASES])
def test_the_fork_server_gives_what_a_real_process_gives(args):
    real = subprocess.run([sys.executable, "-m", "ccplan", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    forked = run_cli(*args, timeout=120)
    assert (forked.returncode, forked.stdout, forked.stderr) == (real.returncode, real.stdout, real.stderr)
    if args[-1] == "--json":
        json.loads(forked.stdout)


def test_each_call_is_a_process_of_its_own(tmp_path):
    a = run_cli("validate", str(ROOT / "scenarios" / "trainer.toml"), cwd=tmp_path)
    b = run_cli("validate", "trainer.toml", cwd=tmp_path)  # relative to its own working directory
    assert a.returncode == 0 and b.returncode == 1 and "trainer.toml" in b.stderr
    assert os.getcwd() != str(tmp_path)


def test_a_call_past_its_timeout_is_killed_and_raises_as_subprocess_does():
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli("simulate", "scenarios/telecom.toml", "-r", "400", timeout=1)
    assert run_cli("validate", "scenarios/trainer.toml").returncode == 0  # the server still serves


def test_an_address_space_limit_applies_to_the_call_only():
    try:  # 64 MB cannot hold a simulation: it fails (or, starved of memory, never ends and is killed)
        assert run_cli("simulate", "scenarios/trainer.toml", "-r", "2", limit_as=64 * 2**20, timeout=5).returncode
    except subprocess.TimeoutExpired:
        pass
    assert run_cli("simulate", "scenarios/trainer.toml", "-r", "2").returncode == 0
