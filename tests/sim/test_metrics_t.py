"""Student's t quantile of the confidence intervals, against scipy."""

from __future__ import annotations

import pytest
from scipy.special import stdtrit

from sim.metrics import t_quantile

DFS = [*range(1, 120), 199, 499, 999, 1000, 2001, 4999, 9999, 10000]
PS = [0.5, 0.6, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9995, 0.4, 0.025, 0.005]


@pytest.mark.parametrize("p", PS)
def test_the_t_quantile_for_whole_degrees_of_freedom_matches_scipy(p):
    for df in DFS:
        assert t_quantile(p, df) == pytest.approx(float(stdtrit(df, p)), rel=1e-11, abs=1e-15), df


def test_the_t_quantile_for_fractional_or_array_degrees_of_freedom_is_scipys():
    assert t_quantile(0.975, 7.3) == float(stdtrit(7.3, 0.975))
    assert list(t_quantile(0.975, [3, 30])) == list(stdtrit([3, 30], 0.975))


def test_the_t_quantile_is_symmetric_and_decreases_to_the_normal_one():
    assert t_quantile(0.025, 9) == -t_quantile(0.975, 9)
    qs = [t_quantile(0.975, df) for df in (1, 2, 5, 30, 1000)]
    assert qs == sorted(qs, reverse=True) and qs[0] == pytest.approx(12.7062047361747) and qs[-1] > 1.959963


def test_a_simulation_summary_does_not_load_scipy_special():
    """Importing scipy.special costs 0.13-0.2 CPU-s: ``ccplan simulate`` must not pay it for its t quantiles."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from ccplan.scenario import load, presets\n"
            "from sim.runner import InlineExecutor, simulate\n"
            "res = simulate(load(presets()['trainer']), replications=3, seed=1, executor=InlineExecutor())\n"
            "assert res.summary['segments']['service_level_ci_low'].notna().all()\n"
            "print('scipy.special' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
