"""Random streams, distributions and time-varying Poisson arrivals.

Every random quantity comes from its own numpy Generator, derived from the
master seed, the replication number, the segment's *name* and the stream's
purpose. Two scenarios run with the same seed therefore see the same callers
(common random numbers), even when segments are added or reordered.
Times in seconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

# appended, never reordered: a stream's key is its position, and old positions keep old numbers
STREAMS = ("arrivals", "handle", "patience", "retrial", "escalation", "escalation_handle", "busyness", "routing",
           "callback")


class Distribution:
    """A positive random duration with a given mean (seconds); ``sample(rng, n)`` draws n values."""

    mean: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Exponential(Distribution):
    mean: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)


@dataclass(frozen=True)
class Lognormal(Distribution):
    """Lognormal with the given mean and coefficient of variation."""

    mean: float
    cv: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        sigma2 = np.log1p(self.cv**2)
        return rng.lognormal(np.log(self.mean) - sigma2 / 2, np.sqrt(sigma2), n)


# Above this shape (cv below 1e-6) a gamma is a normal to within its skewness 2 cv <= 2e-6, and 1/cv^2 would
# overflow or divide by zero for cv below about 1e-154: such gammas are drawn as mean x (1 + cv z).
GAMMA_NORMAL_SHAPE = 1e12


@dataclass(frozen=True)
class Gamma(Distribution):
    """Gamma with the given mean and coefficient of variation (shape 1/cv^2); a cv under 1e-6 is drawn from
    the normal it converges to (mean, sd = cv x mean), clipped at 0, so any cv > 0 samples correctly."""

    mean: float
    cv: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.cv * self.cv * GAMMA_NORMAL_SHAPE < 1.0:
            return np.maximum(self.mean * (1.0 + self.cv * rng.standard_normal(n)), 0.0)
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean / shape, n)


@dataclass(frozen=True)
class Deterministic(Distribution):
    mean: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, float(self.mean))


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform with the given mean and coefficient of variation: on mean x (1 -+ sqrt(3) cv)."""

    mean: float
    cv: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        half = self.mean * self.cv * np.sqrt(3.0)
        return rng.uniform(self.mean - half, self.mean + half, n)


@dataclass(frozen=True, eq=False)
class Empirical(Distribution):
    """Resampling of observed durations, scaled to the given mean (the sample's own mean: scale 1)."""

    samples: np.ndarray
    mean: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(self.samples, n) * (self.mean / float(self.samples.mean()))


@dataclass(frozen=True)
class Never(Distribution):
    """Infinite durations (callers who never abandon)."""

    mean: float = float("inf")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, np.inf)


def distribution(kind: str, mean: float | None, cv: float = 1.0, samples: np.ndarray | None = None) -> Distribution:
    """The distribution named in a scenario (exponential, lognormal, gamma, deterministic, uniform, or
    empirical from ``samples``)."""
    if kind == "empirical":
        return Empirical(samples, float(samples.mean()) if mean is None else mean)
    if mean is None or np.isinf(mean):
        return Never()
    if kind == "exponential":
        return Exponential(mean)
    if kind == "deterministic" or cv == 0:
        return Deterministic(mean)
    if kind == "lognormal":
        return Lognormal(mean, cv)
    if kind == "gamma":
        return Gamma(mean, cv)
    if kind == "uniform":
        return Uniform(mean, cv)
    raise ValueError(f"unknown distribution {kind!r}")


def _name_key(owner: str) -> tuple[int, ...]:
    """A segment name as eight 32-bit words of its SHA-256: two names share streams only if SHA-256 collides
    (a 32-bit checksum such as CRC32 does for pairs like 'plumless' and 'buckeroo')."""
    digest = hashlib.sha256(owner.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "big") for i in range(0, 32, 4))


def stream(seed: int, replication: int, owner: str, purpose: str) -> np.random.Generator:
    """The generator for one purpose of one segment (``owner``: its name) in one replication.

    Common random numbers: the stream depends only on (seed, replication, the name, the purpose), so
    the same segment sees the same callers whatever else changes in the scenario, a segment added
    included; distinct names get distinct streams (the name enters through its SHA-256)."""
    key = (replication, *_name_key(owner), STREAMS.index(purpose))
    return np.random.default_rng(np.random.SeedSequence(entropy=seed, spawn_key=key))


def poisson_arrivals(rng: np.random.Generator, calls_per_interval: np.ndarray, interval_s: float) -> np.ndarray:
    """Sorted arrival times (s) of a Poisson process whose rate is constant within each interval.

    The count in interval i is Poisson(calls_per_interval[i]) and, given the count,
    the times are independent and uniform within the interval: exactly the
    non-homogeneous Poisson process with that piecewise-constant rate.
    """
    calls = np.asarray(calls_per_interval, float)
    counts = rng.poisson(calls)
    starts = np.repeat(np.arange(len(calls)) * interval_s, counts)
    times = starts + rng.random(counts.sum()) * interval_s
    # sort within each interval (intervals are already in order)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for i in np.nonzero(counts > 1)[0]:
        times[bounds[i]:bounds[i + 1]].sort()
    return times


def busyness_factor(rng: np.random.Generator, cv: float) -> float:
    """A day's busyness: gamma with mean 1 and coefficient of variation ``cv`` (1 when cv is 0)."""
    if cv <= 0:
        return 1.0
    shape = 1.0 / cv**2
    return float(rng.gamma(shape, 1.0 / shape))
