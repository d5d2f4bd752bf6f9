import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.cli_runner import run_cli

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def root() -> Path:
    return ROOT


def ccplan(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the CLI as a user does (``python -m ccplan ...``, a process of its own), capturing its output (through
    the worker's fork server: :mod:`tests.cli_runner`)."""
    return run_cli(*args, timeout=timeout, cwd=ROOT)
