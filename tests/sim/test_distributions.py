"""Duration distributions sample what they say for every allowed coefficient of variation, including the
degenerate ends: a cv so small that 1/cv^2 overflows, and the largest cv a scenario accepts (issue 23)."""

import numpy as np
import pytest

from ccplan.scenario import MAX_CV
from sim.arrivals import Deterministic, Gamma, Lognormal, distribution


@pytest.mark.parametrize("kind", ["gamma", "lognormal"])
@pytest.mark.parametrize("cv", [1e-300, 1e-160, 1e-12, 1e-7, 1e-6, 1e-3, 0.5, 1.0, 3.0])
def test_a_duration_has_the_stated_mean_and_cv(kind, cv):
    d = distribution(kind, 300.0, cv)
    x = d.sample(np.random.default_rng(7), 200_000)
    assert np.all(np.isfinite(x)) and np.all(x >= 0)
    se_mean = 300.0 * cv / np.sqrt(len(x))
    assert abs(x.mean() - 300.0) <= 5 * se_mean + 1e-9 * 300.0
    if cv < 1e-150:  # the spread is below one ulp of 300 s: every draw is the mean, to rounding
        assert np.all(np.abs(x - 300.0) <= 1e-13)
    else:
        assert x.std() / x.mean() == pytest.approx(cv, rel=0.05 if cv <= 1 else 0.25)


@pytest.mark.parametrize("kind", ["gamma", "lognormal"])
def test_the_largest_allowed_cv_samples_finite_non_negative_durations(kind):
    x = distribution(kind, 300.0, MAX_CV).sample(np.random.default_rng(3), 400_000)
    assert np.all(np.isfinite(x)) and np.all(x >= 0)
    assert np.median(x) < 300.0 < x.max()  # heavily right-skewed around the mean
    assert x.mean() == pytest.approx(300.0, rel=0.5)


def test_the_gamma_switches_to_its_normal_limit_continuously():
    """Just above and below the switch (cv 1e-6) the draws' spread agrees: no jump at the seam."""
    rng = np.random.default_rng(11)
    below, above = Gamma(100.0, 0.99e-6).sample(rng, 100_000), Gamma(100.0, 1.01e-6).sample(rng, 100_000)
    assert below.std() / 100.0 == pytest.approx(0.99e-6, rel=0.03)
    assert above.std() / 100.0 == pytest.approx(1.01e-6, rel=0.03)


def test_a_cv_of_zero_is_deterministic():
    assert distribution("gamma", 42.0, 0.0) == Deterministic(42.0)
    assert isinstance(distribution("lognormal", 42.0, 1e-300), Lognormal)
