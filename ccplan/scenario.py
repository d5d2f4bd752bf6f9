"""The scenario: one call-center day as data.

A scenario file (TOML) is read once by :func:`load`, which returns a frozen
:class:`Scenario` or raises :class:`ScenarioError` listing *every* problem
by its path (``segments[1].aht_s: must be > 0``). :func:`dump` writes a
scenario back losslessly (``load(dump(s)) == s``).

Time base: all durations are seconds (``*_s``); volumes are calls per
interval; costs are per hour of paid agent time or per minute of line time.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import stat
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer, field_validator, model_validator

ESCALATION_SKILL = "escalation"
HandleTimeDist = Literal["exponential", "lognormal", "gamma", "deterministic", "uniform", "empirical"]
PatienceDist = Literal["exponential", "lognormal", "gamma", "deterministic", "uniform", "empirical"]
RoutingPolicy = Literal["fifo", "priority", "aging"]
AgentChoice = Literal["preference", "longest_idle", "random"]
RetrialDelay = Literal["exponential", "fixed"]
AtClose = Literal["serve", "disconnect"]
SLDefinition = Literal["offered", "answered", "offered_less_short_abandons", "short_abandons_met"]
# what each definition divides (shown next to every service-level figure)
SL_DEFINITIONS: dict[str, str] = {
    "offered": "answered in time / offered",
    "answered": "answered in time / answered",
    "offered_less_short_abandons": "answered in time / (offered - short abandons)",
    "short_abandons_met": "(answered in time + short abandons) / offered",
}
UNIFORM_MAX_CV = 1 / math.sqrt(3)  # a uniform on [0, 2 x mean] has this cv
_CROSS_MARK = "cross-field problems:\n"
# Bounds an engine can run. Upper bounds other than 1 (and the 1-second AHT floor) are policy, not physics,
# and their messages say so: far beyond any real center, and what keeps every computation finite and bounded.
DAY_S = 86_400.0
MAX_CALLS_PER_INTERVAL = 1e6
MAX_DAILY_CALLS = 1e8
MAX_AGENTS = 1_000_000
MAX_CV = 10.0
MAX_MONEY = 1e9
MAX_PATIENCE_S = 1e6
MIN_AHT_S = 1.0
POLICY = " (a limit ccplan sets)"


def available_agents(scheduled, shrinkage) -> np.ndarray:
    """Agents available for calls: floor(scheduled x (1 - shrinkage)); the inverse of scheduling
    ceil(required / (1 - shrinkage))."""
    return np.floor(np.asarray(scheduled, float) * (1.0 - np.asarray(shrinkage, float)) + 1e-9).astype(np.int64)


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` lists ``(path, reason)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None, what: str = "scenario") -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        lines = [f"{head}{len(problems)} problem(s) in the {what}:"] if len(problems) > 1 else []
        lines += [f"{p}: {r}" if p else r for p, r in problems]
        if len(problems) == 1 and source:
            lines = [f"{source}: {lines[0]}"]
        super().__init__("\n".join(lines))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class ServiceLevelTarget(_Model):
    """Default service-level target: ``target`` share of calls answered within ``answer_within_s``, the share
    taken as ``definition`` says (see :data:`SL_DEFINITIONS`; default: of offered calls)."""

    answer_within_s: float = Field(20.0, gt=0, le=DAY_S)
    target: float = Field(0.80, gt=0, le=1)
    definition: SLDefinition = "offered"
    # the wait held against answer_within_s: each attempt's own ("attempt"), or the caller's total queue time over
    # all its attempts up to this one ("caller")
    wait_counted: Literal["attempt", "caller"] = "attempt"


def service_level_ratio(definition: str, answered_within, offered, answered, abandoned_within):
    """Service level as ``definition`` takes it, from counts (or probabilities per offered call).

    ``answered_within``: answered within the threshold; ``abandoned_within``: abandoned within the
    threshold ("short abandons"). Returns (numerator, denominator), numpy-broadcast:

    - ``offered``: answered_within / offered
    - ``answered``: answered_within / answered
    - ``offered_less_short_abandons``: answered_within / (offered - abandoned_within)
    - ``short_abandons_met``: (answered_within + abandoned_within) / offered
    """
    aw = np.asarray(answered_within, float)
    off = np.asarray(offered, float)
    if definition == "offered":
        return aw, off + 0.0 * aw
    if definition == "answered":
        return aw, np.asarray(answered, float) + 0.0 * aw
    ab = np.asarray(abandoned_within, float)
    if definition == "offered_less_short_abandons":
        return aw + 0.0 * ab, np.maximum(off - ab, 0.0)
    if definition == "short_abandons_met":
        return aw + ab, off + 0.0 * aw
    raise ValueError(f"unknown service-level definition {definition!r}")


def service_level_value(definition: str, answered_within, offered, answered, abandoned_within,
                        empty: float = np.nan):
    """The ratio of :func:`service_level_ratio`, with ``empty`` where its denominator is 0."""
    num, den = service_level_ratio(definition, answered_within, offered, answered, abandoned_within)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)
    return out[()] if np.ndim(out) == 0 else out


class Callback(_Model):
    """A segment's callback offer (``[segments.callback]``): a waiting caller is offered to be called back.

    ``mode = "waited"``: offered to a caller still waiting ``offer_after_s``; ``"expected_wait"``: offered on
    arrival to a caller who must queue when the expected wait then (calls ahead + 1) x AHT / agents on duty for
    the segment exceeds ``offer_after_s``. Accepted with ``accept_probability`` (the caller leaves the queue);
    the center promises to call back within ``window_s``; a callback takes ``aht_factor`` x the call's handle
    time; each attempt reaches the customer with ``answer_probability``, up to ``attempts`` attempts spread
    over the window (window_s / attempts apart)."""

    offer_after_s: float = Field(0.0, ge=0, le=DAY_S)
    mode: Literal["expected_wait", "waited"] = "waited"
    accept_probability: float = Field(1.0, ge=0, le=1)
    window_s: float = Field(3600.0, gt=0, le=7 * DAY_S)
    aht_factor: float = Field(1.0, ge=0.01, le=100)
    answer_probability: float = Field(1.0, ge=0, le=1)
    attempts: int = Field(1, ge=1, le=100)


class Segment(_Model):
    """A customer segment: its volume, handling, patience, value and targets."""

    name: str = Field(min_length=1)
    priority: int = Field(1, ge=1, le=1000)
    calls_per_interval: tuple[float, ...] | None = None
    daily_calls: float | None = Field(None, ge=0, le=MAX_DAILY_CALLS)
    profile: tuple[float, ...] | None = None
    aht_s: float | tuple[float, ...] | None = None  # one value, or one per interval; required unless empirical
    handle_time: HandleTimeDist = "exponential"
    handle_time_cv: float | None = Field(None, ge=0, le=MAX_CV)
    handle_time_file: str | None = None  # with handle_time = "empirical": a CSV column of seconds
    patience_s: float | tuple[float, ...] | None = None  # one value, or one per interval; None: never abandons
    patience: PatienceDist = "exponential"
    patience_cv: float | None = Field(None, ge=0, le=MAX_CV)
    patience_file: str | None = None  # with patience = "empirical": a CSV column of seconds
    retrial_probability: float = Field(0.0, ge=0, le=1)
    retrial_delay_s: float = Field(900.0, ge=1, le=7 * DAY_S)  # a policy floor: retries faster than 1 s are a storm, not callers
    max_retrials: int = Field(10, ge=0, le=1000)  # attempts after the first, per caller
    retrial_delay: RetrialDelay = "exponential"
    retrial_same_caller: bool = False
    groups: tuple[str, ...] | None = None
    agent_choice: AgentChoice | None = None  # overrides [routing] agent_choice for this segment's arriving calls
    max_queue_s: float | None = Field(None, gt=0, le=DAY_S)  # a caller still waiting this long leaves the queue
    max_queue_outcome: str = "abandon"  # "abandon", "callback" or "overflow:SEGMENT" (see _routing_problems)
    callback: Callback | None = None
    busyness_cv: float = Field(0.0, ge=0, le=3)
    value_per_call: float = Field(0.0, ge=0, le=MAX_MONEY)
    clv: float = Field(0.0, ge=0, le=MAX_MONEY)
    churn_per_abandon: float = Field(0.0, ge=0, le=1)
    escalation_probability: float = Field(0.0, ge=0, le=1)
    escalation_aht_s: float | None = Field(None, ge=MIN_AHT_S, le=DAY_S)
    answer_within_s: float | None = Field(None, gt=0, le=DAY_S)
    target: float | None = Field(None, gt=0, le=1)
    max_abandon_rate: float | None = Field(None, ge=0, le=1)
    max_asa_s: float | None = Field(None, gt=0, le=DAY_S)
    definition: SLDefinition | None = None  # service-level definition of this segment (default: [service_level])

    @field_validator("aht_s", "patience_s")
    @classmethod
    def _positive(cls, v: float | tuple[float, ...] | None, info) -> float | tuple[float, ...] | None:
        if v is None:
            return v
        lo, hi = (MIN_AHT_S, DAY_S) if info.field_name == "aht_s" else (0.0, MAX_PATIENCE_S)
        what = (f"between {lo:g} and {hi:g} s" if lo else f"> 0 and at most {hi:g} s") + POLICY
        if isinstance(v, tuple):
            if len(v) == 0:
                raise ValueError("must not be empty")
            bad = [i for i, x in enumerate(v) if not (x > 0 and math.isfinite(x))]
            if bad:
                raise ValueError(f"must be finite and > 0 (entry {bad[0]} is {v[bad[0]]})")
            bad = [i for i, x in enumerate(v) if not lo <= x <= hi]
            if bad:
                raise ValueError(f"must be {what} (entry {bad[0]} is {v[bad[0]]})")
        elif not (v > 0 and math.isfinite(v)):
            raise ValueError(f"must be > 0, got {v!r}")
        elif not lo <= v <= hi:
            raise ValueError(f"must be {what}, got {v!r}")
        return v

    @field_validator("calls_per_interval", "profile")
    @classmethod
    def _non_negative(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None:
            if len(v) == 0:
                raise ValueError("must not be empty")
            bad = [i for i, x in enumerate(v) if not (x >= 0 and math.isfinite(x))]
            if bad:
                raise ValueError(f"must be finite and >= 0 (entry {bad[0]} is {v[bad[0]]})")
            bad = [i for i, x in enumerate(v) if x > MAX_CALLS_PER_INTERVAL]
            if bad:
                raise ValueError(f"must be at most {MAX_CALLS_PER_INTERVAL:,.0f} calls per interval{POLICY} "
                                 f"(entry {bad[0]} is {v[bad[0]]:g})")
        return v

    @property
    def handle_cv(self) -> float:
        """Coefficient of variation of handle time actually used (1 for exponential, 0 for deterministic)."""
        if self.handle_time == "exponential":
            return 1.0
        if self.handle_time == "deterministic":
            return 0.0
        if self.handle_time == "uniform" and self.handle_time_cv is None:
            return UNIFORM_MAX_CV
        return 1.0 if self.handle_time_cv is None else self.handle_time_cv

    @property
    def patience_coef_var(self) -> float:
        """Coefficient of variation of patience actually used."""
        if self.patience == "exponential":
            return 1.0
        if self.patience == "deterministic":
            return 0.0
        if self.patience == "uniform" and self.patience_cv is None:
            return UNIFORM_MAX_CV
        return 1.0 if self.patience_cv is None else self.patience_cv


class AgentGroup(_Model):
    """A group of agents with the same skills, cost and schedule."""

    name: str = Field(min_length=1)
    skills: tuple[str, ...] = Field(min_length=1)
    cost_per_hour: float = Field(0.0, ge=0, le=MAX_MONEY)
    shrinkage: float = Field(0.0, ge=0, lt=1)
    agents: int | None = Field(None, ge=0, le=MAX_AGENTS)
    agents_per_interval: tuple[int, ...] | None = None
    accepts_after_s: float = Field(0.0, ge=0, le=DAY_S)
    reserve: int = Field(0, ge=0, le=MAX_AGENTS)
    reserve_for: tuple[str, ...] = ()
    serves: tuple[str, ...] | None = None
    handle_time_factor: dict[str, float] = Field(default_factory=dict)

    @field_validator("handle_time_factor")
    @classmethod
    def _factors(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [k for k, x in v.items() if not (x > 0 and math.isfinite(x))]
        if bad:
            raise ValueError(f"must be > 0 ({bad[0]!r} is {v[bad[0]]})")
        bad = [k for k, x in v.items() if not 0.01 <= x <= 100]
        if bad:
            raise ValueError(f"must be between 0.01 and 100{POLICY} ({bad[0]!r} is {v[bad[0]]})")
        return v

    @field_validator("agents_per_interval")
    @classmethod
    def _non_negative(cls, v: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if v is not None:
            if len(v) == 0:
                raise ValueError("must not be empty")
            bad = [i for i, x in enumerate(v) if x < 0]
            if bad:
                raise ValueError(f"must be >= 0 (entry {bad[0]} is {v[bad[0]]})")
            bad = [i for i, x in enumerate(v) if x > MAX_AGENTS]
            if bad:
                raise ValueError(f"must be at most {MAX_AGENTS:,} agents{POLICY} (entry {bad[0]} is {v[bad[0]]})")
        return v


class Routing(_Model):
    """How waiting calls are chosen when an agent becomes free."""

    policy: RoutingPolicy = "priority"
    aging_s: float = Field(120.0, gt=0, le=DAY_S)
    agent_choice: AgentChoice = "preference"


class Costs(_Model):
    telephony_per_minute: float = Field(0.0, ge=0, le=MAX_MONEY)


class SimulationSettings(_Model):
    replications: int = Field(20, ge=1, le=10_000)
    seed: int = Field(2026, ge=0, le=2**63 - 1)
    busyness_cv: float = Field(0.0, ge=0, le=3)
    at_close: AtClose = "serve"


class Capacity(_Model):
    """Phone lines: calls in the system (waiting or being served) never exceed ``lines``."""

    lines: int | None = Field(None, ge=1, le=10_000_000)


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def _check_clock(v: str) -> str:
    m = _CLOCK.fullmatch(v)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f"must be a clock time HH:MM, got {v!r}")
    return v


def sl_label(definition: str, answer_within_s: float) -> str:
    """A service-level definition in words, with its threshold: "answered in 20 s / offered"."""
    return SL_DEFINITIONS[definition].replace("in time", f"in {answer_within_s:g} s")


def clock_minutes(v: str) -> int:
    """Minutes after midnight of a clock time ``HH:MM``."""
    h, m = (int(x) for x in v.split(":"))
    return h * 60 + m


class ShiftBreak(_Model):
    """A break inside a shift: ``minutes`` long, starting between ``earliest_after_minutes`` and
    ``latest_after_minutes`` after the shift starts, every ``start_every_minutes`` (default: the
    scenario's interval). Unpaid breaks are not paid time."""

    minutes: int = Field(gt=0)
    earliest_after_minutes: int = Field(ge=0)
    latest_after_minutes: int = Field(ge=0)
    start_every_minutes: int | None = Field(None, gt=0)
    paid: bool = False


class Shift(_Model):
    """A shift rule: ``minutes`` on duty (breaks included), starting every ``start_every_minutes``
    (default: the scenario's interval) from ``earliest_start`` to ``latest_start``, for ``groups``
    (default: every group), with at most ``max_agents`` and at least ``min_agents`` agents in all."""

    name: str = Field(min_length=1)
    minutes: int = Field(gt=0)
    earliest_start: str
    latest_start: str
    start_every_minutes: int | None = Field(None, gt=0)
    groups: tuple[str, ...] | None = None
    max_agents: int | None = Field(None, ge=0)
    min_agents: int = Field(0, ge=0)
    breaks: tuple[ShiftBreak, ...] = ()

    @field_validator("earliest_start", "latest_start")
    @classmethod
    def _clock(cls, v: str) -> str:
        return _check_clock(v)

    @property
    def paid_minutes(self) -> int:
        """Paid minutes of one shift: on-duty minutes less unpaid breaks."""
        return self.minutes - sum(b.minutes for b in self.breaks if not b.paid)


class Contract(_Model):
    """A weekly tour rule (``ccplan roster --week``): an agent hired under it works ``days_per_week`` days of the
    week (a number or [min, max]), each on one of the shift rules named in ``shifts``; with ``days_off_together`` the
    days off form one block of consecutive days within Monday–Sunday; every working day's start lies within
    ``start_band_minutes`` of the tour's earliest start (0: the same start every day; absent: no rule).
    ``groups``: the agent groups hired under it (default: every group its shifts allow); ``max_agents`` /
    ``min_agents``: most / fewest agents hired under it, over every group."""

    name: str = Field(min_length=1)
    shifts: tuple[str, ...] = Field(min_length=1)
    days_per_week: tuple[int, int]
    days_off_together: bool = False
    start_band_minutes: int | None = Field(None, ge=0, le=1439)
    groups: tuple[str, ...] | None = None
    max_agents: int | None = Field(None, ge=0, le=MAX_AGENTS)
    min_agents: int = Field(0, ge=0, le=MAX_AGENTS)

    @field_validator("days_per_week", mode="before")
    @classmethod
    def _days(cls, v: Any) -> tuple[int, int]:
        pair = [v, v] if isinstance(v, int) and not isinstance(v, bool) else v
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in pair)):
            raise ValueError(f"must be a whole number of days (5) or [min, max] ([3, 5]), got {v!r}")
        lo, hi = pair
        if not (1 <= lo <= 7 and 1 <= hi <= 7):
            raise ValueError(f"must be between 1 and 7 days, got {v!r}")
        if lo > hi:
            raise ValueError(f"the minimum {lo} is above the maximum {hi}")
        return (lo, hi)

    @field_serializer("days_per_week")
    def _days_out(self, v: tuple[int, int]) -> int | list[int]:
        return v[0] if v[0] == v[1] else [v[0], v[1]]


class Scenario(_Model):
    """One call-center day: segments, agent groups, routing, costs, shift rules. Frozen."""

    name: str = Field(min_length=1)
    description: str = ""
    interval_minutes: Literal[15, 30, 60] = 30
    open_time: str = "08:00"
    currency: str = "USD"
    service_level: ServiceLevelTarget = ServiceLevelTarget()
    segments: tuple[Segment, ...] = Field(min_length=1)
    agent_groups: tuple[AgentGroup, ...] = Field(min_length=1)
    routing: Routing = Routing()
    costs: Costs = Costs()
    simulation: SimulationSettings = SimulationSettings()
    capacity: Capacity = Capacity()
    shifts: tuple[Shift, ...] = ()
    contracts: tuple[Contract, ...] = ()

    @field_validator("open_time")
    @classmethod
    def _clock(cls, v: str) -> str:
        return _check_clock(v)

    @model_validator(mode="after")
    def _cross_fields(self) -> "Scenario":
        problems = cross_field_problems(self.model_dump(mode="python"))
        if not problems:
            load = sum(self.calls_per_interval(s) * self.aht_per_interval(s) for s in self.segments) / self.interval_s
            if float(load.max()) > MAX_AGENTS:
                i = int(load.argmax())
                problems.append(("segments", f"the offered load at {self.interval_labels()[i]} is {load[i]:,.0f} "
                                             f"Erlangs; at most {MAX_AGENTS:,} (more agents busy at once than a "
                                             f"group may have{POLICY})"))
        if problems:
            raise ValueError(_CROSS_MARK + "\n".join(f"{p}: {r}" for p, r in problems))
        return self

    # ----- derived quantities (seconds inside the engines) -----
    @property
    def interval_s(self) -> float:
        """Interval length in seconds."""
        return self.interval_minutes * 60.0

    @property
    def n_intervals(self) -> int:
        """Number of intervals in the day."""
        for seg in self.segments:
            for lst in (seg.calls_per_interval, seg.profile):
                if lst is not None:
                    return len(lst)
        for g in self.agent_groups:
            if g.agents_per_interval is not None:
                return len(g.agents_per_interval)
        raise AssertionError("validated scenario without an interval count")

    @property
    def segment_names(self) -> list[str]:
        return [s.name for s in self.segments]

    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.agent_groups]

    def segment(self, name: str) -> Segment:
        for s in self.segments:
            if s.name == name:
                return s
        raise KeyError(name)

    def group(self, name: str) -> AgentGroup:
        for g in self.agent_groups:
            if g.name == name:
                return g
        raise KeyError(name)

    def calls_per_interval(self, segment: Segment | str) -> np.ndarray:
        """Expected offered calls per interval for a segment (float array, length n_intervals)."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        n = self.n_intervals
        if seg.calls_per_interval is not None:
            return np.asarray(seg.calls_per_interval, dtype=float)
        weights = np.ones(n) if seg.profile is None else np.asarray(seg.profile, dtype=float)
        total = weights.sum()
        shares = weights / total if total > 0 else np.full(n, 1.0 / n)
        return float(seg.daily_calls or 0.0) * shares

    def aht_per_interval(self, segment: Segment | str) -> np.ndarray:
        """The segment's mean handle time (s) in each interval (float array, length n_intervals)."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        aht = seg.aht_s if seg.aht_s is not None else float(read_samples(seg.handle_time_file).mean())
        return np.broadcast_to(np.asarray(aht, float), (self.n_intervals,)).copy()

    def patience_per_interval(self, segment: Segment | str) -> np.ndarray:
        """The segment's mean patience (s) in each interval; inf where callers never abandon."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        if seg.patience_s is None and seg.patience == "empirical" and seg.patience_file:
            return np.full(self.n_intervals, float(read_samples(seg.patience_file).mean()))
        if seg.patience_s is None:
            return np.full(self.n_intervals, np.inf)
        return np.broadcast_to(np.asarray(seg.patience_s, float), (self.n_intervals,)).copy()

    def mean_aht_s(self, segment: Segment | str) -> float:
        """The segment's call-weighted mean handle time over the day (s)."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        if not isinstance(seg.aht_s, tuple):
            return float(self.aht_per_interval(seg)[0])
        calls = self.calls_per_interval(seg)
        aht = self.aht_per_interval(seg)
        return float((calls * aht).sum() / calls.sum()) if calls.sum() > 0 else float(aht.mean())

    def agents_per_interval(self, group: AgentGroup | str) -> np.ndarray:
        """Scheduled (paid) agents per interval for a group (int array, length n_intervals)."""
        g = self.group(group) if isinstance(group, str) else group
        if g.agents_per_interval is not None:
            return np.asarray(g.agents_per_interval, dtype=int)
        return np.full(self.n_intervals, int(g.agents or 0), dtype=int)

    def available_per_interval(self, group: AgentGroup | str) -> np.ndarray:
        """Agents on the phones per interval: floor(scheduled x (1 - shrinkage)) (int array)."""
        g = self.group(group) if isinstance(group, str) else group
        return available_agents(self.agents_per_interval(g), g.shrinkage)

    def answer_within_s(self, segment: Segment | str) -> float:
        """The segment's service-level threshold in seconds (its own, or the default)."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        return seg.answer_within_s if seg.answer_within_s is not None else self.service_level.answer_within_s

    def sl_target(self, segment: Segment | str) -> float:
        """The segment's service-level target share (its own, or the default)."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        return seg.target if seg.target is not None else self.service_level.target

    def sl_definition(self, segment: Segment | str) -> str:
        """The segment's service-level definition (its own, or the default): a key of :data:`SL_DEFINITIONS`."""
        seg = self.segment(segment) if isinstance(segment, str) else segment
        return seg.definition if seg.definition is not None else self.service_level.definition

    def sl_label(self, segment: Segment | str) -> str:
        """What the segment's service level is, in words: "answered in 20 s / offered"."""
        return sl_label(self.sl_definition(segment), self.answer_within_s(segment))

    def groups_for(self, segment: str) -> list[AgentGroup]:
        """Agent groups that may take a segment's calls: its ``groups`` in that order, else every skilled group
        in scenario order."""
        seg = next((s for s in self.segments if s.name == segment), None)
        if seg is not None and seg.groups is not None:
            return [self.group(name) for name in seg.groups]
        return [g for g in self.agent_groups if segment in g.skills]

    def may_serve(self, group: AgentGroup, segment: str) -> bool:
        """True when ``group`` may take calls of ``segment`` (skilled, and listed if the segment lists groups)."""
        if segment not in group.skills:
            return False
        seg = next((s for s in self.segments if s.name == segment), None)
        return seg is None or seg.groups is None or group.name in seg.groups

    def handle_factor(self, group: AgentGroup, segment: str) -> float:
        """How much longer (x) the group takes than the segment's ``aht_s`` (``handle_time_factor``, default 1)."""
        return float(group.handle_time_factor.get(segment, 1.0))

    def escalation_groups(self) -> list[AgentGroup]:
        return [g for g in self.agent_groups if ESCALATION_SKILL in g.skills]

    def interval_labels(self) -> list[str]:
        """Clock time (HH:MM) at the start of each interval."""
        return clock_labels({"open_time": self.open_time, "interval_minutes": self.interval_minutes}, self.n_intervals)

    def offered_load(self) -> pd.DataFrame:
        """Offered load per interval and segment.

        Columns: interval (0-based), time (HH:MM), segment, calls, traffic_erlangs
        (calls x aht_s / interval_s).
        """
        labels = self.interval_labels()
        rows = []
        for seg in self.segments:
            calls = self.calls_per_interval(seg)
            erl = calls * self.aht_per_interval(seg) / self.interval_s
            for i in range(self.n_intervals):
                rows.append((i, labels[i], seg.name, float(calls[i]), float(erl[i])))
        return pd.DataFrame(rows, columns=["interval", "time", "segment", "calls", "traffic_erlangs"])

    def with_changes(self, changes: dict[str, Any]) -> "Scenario":
        """A copy with dotted-path changes applied and re-validated.

        Paths: ``routing.policy``, ``segments.premium.priority``,
        ``agent_groups.generalists.agents`` (list items addressed by name).
        """
        data = self.model_dump(mode="json", exclude_none=True)
        for path, value in changes.items():
            _set_path(data, path, value)
        return from_dict(data)


# ---------------------------------------------------------------------------
# cross-field validation on raw data (works even when field types are wrong)


def _seq(v: Any) -> list | None:
    return list(v) if isinstance(v, (list, tuple)) else None


def _n_intervals(data: dict) -> int | None:
    for seg in data.get("segments") or []:
        if isinstance(seg, dict):
            for key in ("calls_per_interval", "profile"):
                s = _seq(seg.get(key))
                if s:
                    return len(s)
    for g in data.get("agent_groups") or []:
        if isinstance(g, dict):
            s = _seq(g.get("agents_per_interval"))
            if s:
                return len(s)
    return None


def rebucket(data: dict, minutes: int) -> tuple[dict, list[str]]:
    """The scenario dict with ``interval_minutes`` set to ``minutes`` and every per-interval list re-bucketed so
    that the day (opening time and length) and the totals are kept, with one sentence per kind of change.

    Splitting an interval into k: calls and profile weights divided evenly, AHT, patience and scheduled agents
    repeated. Merging k intervals: calls and weights summed, AHT and patience call-weighted means (plain
    means without calls), scheduled agents the mean rounded up (never fewer agents than before). Raises
    :class:`ScenarioError` when the day does not divide into the new intervals, or ``minutes`` is not 15, 30
    or 60. ``data`` is not changed."""
    import copy as _copy

    old = int(data.get("interval_minutes", 30) or 30)
    if minutes not in (15, 30, 60):
        raise ScenarioError([("interval_minutes", f"must be 15, 30 or 60 minutes, got {minutes!r}")])
    out = _copy.deepcopy(data)
    out["interval_minutes"] = minutes
    n = _n_intervals(data)
    if minutes == old or n is None:
        return out, []
    day_min = n * old
    if day_min % minutes:
        raise ScenarioError([("interval_minutes", f"the day is {n} x {old} min = {day_min} min, which does not divide "
                                                  f"into {minutes}-minute intervals; change the day's length first")])
    if minutes < old:
        k = old // minutes

        def calls(v):
            return [x / k for x in v for _ in range(k)]

        def level(v, _w=None):
            return [x for x in v for _ in range(k)]

        def agents(v):
            return [x for x in v for _ in range(k)]
    else:
        k = minutes // old

        def calls(v):
            return [sum(v[i:i + k]) for i in range(0, len(v), k)]

        def level(v, w=None):
            res = []
            for i in range(0, len(v), k):
                xs, ws = v[i:i + k], (w[i:i + k] if w is not None else None)
                tot = sum(ws) if ws is not None else 0.0
                res.append(sum(x * y for x, y in zip(xs, ws)) / tot if tot > 0 else sum(xs) / len(xs))
            return res

        def agents(v):
            return [int(math.ceil(sum(v[i:i + k]) / k - 1e-9)) for i in range(0, len(v), k)]
    changed: set[str] = set()
    for seg in out.get("segments") or []:
        if not isinstance(seg, dict):
            continue
        weights = None
        for key in ("calls_per_interval", "profile"):
            v = _seq(seg.get(key))
            if v and len(v) == n and all(isinstance(x, (int, float)) for x in v):
                weights = weights or list(v)
                seg[key] = calls(v)
                changed.add("calls split evenly" if minutes < old else "calls summed")
        for key in ("aht_s", "patience_s"):
            v = _seq(seg.get(key))
            if v and len(v) == n and all(isinstance(x, (int, float)) for x in v):
                seg[key] = level(v, weights)
                changed.add("per-interval AHT and patience repeated" if minutes < old
                            else "per-interval AHT and patience averaged (weighted by calls)")
    before = after = 0.0
    for g in out.get("agent_groups") or []:
        v = _seq(g.get("agents_per_interval")) if isinstance(g, dict) else None
        if v and len(v) == n and all(isinstance(x, (int, float)) for x in v):
            g["agents_per_interval"] = agents(v)
            before += sum(v) * old / 60
            after += sum(g["agents_per_interval"]) * minutes / 60
            changed.add("scheduled agents repeated" if minutes < old else "scheduled agents averaged")
    notes = [f"intervals of {old} → {minutes} minutes: {n} → {day_min // minutes} intervals, the same day"]
    notes += sorted(changed)
    if after > before + 1e-9:
        notes.append(f"averaged staffing rounded up: {after - before:+,.1f} agent hours")
    return out, notes


def rename_segment(base: dict, old: str, new: str | None) -> None:
    """A segment renamed (``new``) or removed (None) in a scenario dict, in place: every group's skills,
    reserve_for, serves and handle-time factors follow (the segment entry itself is the caller's)."""
    for g in base.get("agent_groups", []):
        if not isinstance(g, dict):
            continue
        for key in ("skills", "reserve_for", "serves"):
            if isinstance(g.get(key), list):
                g[key] = [new if x == old else x for x in g[key] if not (x == old and new is None)]
        hf = g.get("handle_time_factor")
        if isinstance(hf, dict) and old in hf:
            v = hf.pop(old)
            if new is not None:
                hf[new] = v


def rename_group(base: dict, old: str, new: str | None) -> None:
    """A group renamed or removed in a scenario dict, in place: every segment's ``groups`` order follows, and
    shifts' and contracts' ``groups`` lists."""
    for seg in base.get("segments", []):
        if isinstance(seg, dict) and isinstance(seg.get("groups"), list):
            # an emptied list stays empty (validation then says the segment has no group), never "every group"
            seg["groups"] = [new if x == old else x for x in seg["groups"] if not (x == old and new is None)]
    for sh in [*(base.get("shifts", []) or []), *(base.get("contracts", []) or [])]:
        if isinstance(sh, dict) and isinstance(sh.get("groups"), list):
            sh["groups"] = [new if x == old else x for x in sh["groups"] if not (x == old and new is None)]


# the choices of each enumerated key, for editors (from the schema's own types: one list)
OPTIONS: dict[str, tuple] = {
    "handle_time": get_args(HandleTimeDist), "patience": get_args(PatienceDist),
    "routing.policy": get_args(RoutingPolicy), "routing.agent_choice": get_args(AgentChoice),
    "retrial_delay": get_args(RetrialDelay), "simulation.at_close": get_args(AtClose),
    "definition": get_args(SLDefinition), "interval_minutes": (15, 30, 60),
}


def interval_count(data: dict) -> int:
    """The number of intervals a scenario dict (valid or not) describes: the length of its first per-interval list
    (calls, profile, staffing); 1 when it has none."""
    return _n_intervals(data) or 1


def clock_labels(data: dict, n: int) -> list[str]:
    """Clock labels ("08:30") of ``n`` intervals from a scenario dict's open_time and interval_minutes; interval
    numbers when those are not readable (the user is still typing)."""
    try:
        h, m = (int(x) for x in str(data.get("open_time", "08:00")).split(":"))
        step = int(data.get("interval_minutes", 30))
        return [f"{((h * 60 + m + i * step) // 60) % 24:02d}:{(h * 60 + m + i * step) % 60:02d}" for i in range(n)]
    except (ValueError, TypeError):
        return [str(i) for i in range(n)]


def segment_calls(seg: dict, n: int) -> list:
    """A segment dict's calls per interval, padded to ``n``: its calls_per_interval, else daily_calls spread by its
    profile (flat without one); None where a value cannot be read."""
    if isinstance(seg.get("calls_per_interval"), list):
        return list(seg["calls_per_interval"]) + [None] * (n - len(seg["calls_per_interval"]))
    prof = seg.get("profile") if isinstance(seg.get("profile"), list) else [1.0] * n
    try:
        w = np.asarray(prof, float)
        return list(float(seg.get("daily_calls", 0)) * w / w.sum())
    except (TypeError, ValueError, ZeroDivisionError):
        return [None] * n


def group_agents(g: dict, n: int) -> list:
    """A group dict's scheduled agents per interval, padded to ``n`` (its ``agents`` repeated without a list)."""
    if isinstance(g.get("agents_per_interval"), list):
        return list(g["agents_per_interval"]) + [None] * (n - len(g["agents_per_interval"]))
    return [g.get("agents")] * n


STAFFING_EDITS = ("set to", "add", "scale by %", "copy to")


def edit_staffing(agents: list[int], op: str, amount: float, first: int, last: int) -> list[int]:
    """A bulk edit of one group's scheduled agents per interval, on intervals ``first`` .. ``last`` (inclusive):
    ``set to`` amount, ``add`` amount (may be negative), ``scale by %`` (100 + amount)% rounded to whole agents,
    or ``copy to`` (the range's values copied to start at interval ``amount``, cut at the end of the day).
    Never below 0 agents. Raises ValueError for an unknown edit or a range outside the day."""
    n = len(agents)
    if not 0 <= first <= last < n:
        raise ValueError(f"intervals {first}..{last} are not within the day's {n} intervals")
    out = [int(x) for x in agents]
    if op == "set to":
        for i in range(first, last + 1):
            out[i] = int(round(amount))
    elif op == "add":
        for i in range(first, last + 1):
            out[i] = out[i] + int(round(amount))
    elif op == "scale by %":
        for i in range(first, last + 1):
            out[i] = int(round(out[i] * (100.0 + amount) / 100.0))
    elif op == "copy to":
        dest = int(amount)
        if not 0 <= dest < n:
            raise ValueError(f"copy to interval {dest}: not within the day's {n} intervals")
        src = [int(x) for x in agents[first:last + 1]]
        for j, v in enumerate(src):
            if dest + j < n:
                out[dest + j] = v
    else:
        raise ValueError(f"unknown staffing edit {op!r}; one of {', '.join(STAFFING_EDITS)}")
    return [max(0, x) for x in out]


def cross_field_problems(data: dict) -> list[tuple[str, str]]:
    """Problems that involve several fields (lengths, names, skills); tolerant of bad types."""
    problems: list[tuple[str, str]] = []
    segments = [s for s in (data.get("segments") or []) if isinstance(s, dict)] if isinstance(
        data.get("segments"), (list, tuple)) else []
    groups = [g for g in (data.get("agent_groups") or []) if isinstance(g, dict)] if isinstance(
        data.get("agent_groups"), (list, tuple)) else []
    seg_names = [s.get("name") for s in segments if isinstance(s.get("name"), str)]
    grp_names = [g.get("name") for g in groups if isinstance(g.get("name"), str)]

    for kind, names, items in (("segments", seg_names, segments), ("agent_groups", grp_names, groups)):
        for name, count in Counter(names).items():
            if count > 1:
                idx = [i for i, it in enumerate(items) if it.get("name") == name]
                problems.append((f"{kind}[{idx[1]}].name", f"duplicate name {name!r} (also {kind}[{idx[0]}])"))
    if ESCALATION_SKILL in seg_names:
        i = seg_names.index(ESCALATION_SKILL)
        problems.append((f"segments[{i}].name", f"{ESCALATION_SKILL!r} is reserved for the escalation skill"))

    # lengths of per-interval lists
    n = _n_intervals(data)
    first_path = None
    for i, seg in enumerate(segments):
        for key in ("calls_per_interval", "profile", "aht_s", "patience_s"):
            s = _seq(seg.get(key))
            if s is not None:
                first_path = first_path or f"segments[{i}].{key}"
                if n is not None and len(s) != n:
                    problems.append((f"segments[{i}].{key}", f"has {len(s)} intervals but {first_path} has {n}"))
    for i, g in enumerate(groups):
        s = _seq(g.get("agents_per_interval"))
        if s is not None:
            first_path = first_path or f"agent_groups[{i}].agents_per_interval"
            if n is not None and len(s) != n:
                problems.append((f"agent_groups[{i}].agents_per_interval",
                                 f"has {len(s)} intervals but {first_path} has {n}"))

    # volume definition
    for i, seg in enumerate(segments):
        has_cpi = seg.get("calls_per_interval") is not None
        has_daily = seg.get("daily_calls") is not None
        if has_cpi and has_daily:
            problems.append((f"segments[{i}]", "give either calls_per_interval or daily_calls (with profile), not both"))
        elif not has_cpi and not has_daily:
            problems.append((f"segments[{i}]", "volume missing: give calls_per_interval, or daily_calls with profile"))
        elif has_cpi and seg.get("profile") is not None:
            problems.append((f"segments[{i}].profile", "profile only goes with daily_calls"))
        prof = _seq(seg.get("profile"))
        if prof and all(isinstance(x, (int, float)) for x in prof) and sum(prof) <= 0:
            problems.append((f"segments[{i}].profile", "weights must not all be zero"))
        for dist_key, cv_key, what in (("handle_time", "handle_time_cv", "handle time"),
                                       ("patience", "patience_cv", "patience")):
            kind, cv = seg.get(dist_key, "exponential"), seg.get(cv_key)
            if not isinstance(cv, (int, float)) or isinstance(cv, bool):
                continue
            if kind == "exponential" and cv != 1:
                problems.append((f"segments[{i}].{cv_key}",
                                 f"an exponential {what} has cv 1; choose lognormal or gamma for another cv"))
            if kind == "deterministic" and cv != 0:
                problems.append((f"segments[{i}].{cv_key}", f"a deterministic {what} has cv 0"))
            if kind in ("lognormal", "gamma") and cv <= 0:  # (a uniform of cv 0 is a point: accepted, as before)
                problems.append((f"segments[{i}].{cv_key}", f"must be > 0 for {kind} (for a fixed {what} choose "
                                                            f"{dist_key} = 'deterministic')"))
        if seg.get("aht_s") is None and seg.get("handle_time") != "empirical":
            problems.append((f"segments[{i}].aht_s", "required field is missing"))
        for dist_key, file_key in (("handle_time", "handle_time_file"), ("patience", "patience_file")):
            f = seg.get(file_key)
            if seg.get(dist_key) == "empirical":
                if not isinstance(f, str) or not f.strip():
                    problems.append((f"segments[{i}].{file_key}", f"required with {dist_key} = 'empirical': a CSV "
                                                                  "file with one column of seconds"))
                else:
                    try:
                        read_samples(f)
                    except ValueError as exc:
                        problems.append((f"segments[{i}].{file_key}", str(exc)))
            elif f is not None:
                problems.append((f"segments[{i}].{file_key}", f"only goes with {dist_key} = 'empirical'"))
        for dist_key, cv_key in (("handle_time", "handle_time_cv"), ("patience", "patience_cv")):
            cv_ = seg.get(cv_key)
            if seg.get(dist_key) == "uniform" and isinstance(cv_, (int, float)) and cv_ > UNIFORM_MAX_CV + 1e-12:
                problems.append((f"segments[{i}].{cv_key}", f"a uniform with cv {cv_:g} would go below 0 s; at most "
                                                           f"{UNIFORM_MAX_CV:.4f} (uniform on [0, 2 x mean])"))
        esc = seg.get("escalation_probability")
        if isinstance(esc, (int, float)) and esc > 0:
            if not any(ESCALATION_SKILL in (_seq(g.get("skills")) or []) for g in groups):
                problems.append((f"segments[{i}].escalation_probability",
                                 f"is {esc} but no agent group has the {ESCALATION_SKILL!r} skill"))
    if n is None and segments:
        problems.append(("segments", "cannot tell the number of intervals: give calls_per_interval, "
                                     "a profile, or agents_per_interval somewhere"))

    # groups: staffing, skills, reserve
    valid_skills = set(seg_names) | {ESCALATION_SKILL}
    for i, g in enumerate(groups):
        has_a = g.get("agents") is not None
        has_api = g.get("agents_per_interval") is not None
        if has_a == has_api:
            problems.append((f"agent_groups[{i}]", "give exactly one of agents or agents_per_interval"))
        skills = _seq(g.get("skills")) or []
        for j, sk in enumerate(skills):
            if isinstance(sk, str) and sk not in valid_skills:
                hint = difflib.get_close_matches(sk, sorted(valid_skills), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                problems.append((f"agent_groups[{i}].skills[{j}]", f"names no segment: {sk!r}{extra}"))
        rf = _seq(g.get("reserve_for")) or []
        for j, sk in enumerate(rf):
            if isinstance(sk, str) and sk not in seg_names:
                problems.append((f"agent_groups[{i}].reserve_for[{j}]", f"names no segment: {sk!r}"))
            elif isinstance(sk, str) and sk not in skills:
                problems.append((f"agent_groups[{i}].reserve_for[{j}]", f"{sk!r} is not among the group's skills"))
        res = g.get("reserve")
        if isinstance(res, int) and res > 0 and not rf:
            problems.append((f"agent_groups[{i}].reserve_for", "reserve > 0 needs the segments it is kept for"))
    for i, seg in enumerate(segments):
        name = seg.get("name")
        if isinstance(name, str) and not any(name in (_seq(g.get("skills")) or []) for g in groups):
            problems.append((f"segments[{i}].name", f"no agent group has the skill {name!r}: its calls cannot be served"))
    problems += _routing_problems(segments, groups)
    problems += _shift_problems(data, n, grp_names)
    problems += contract_problems(data.get("contracts"), data.get("shifts"), grp_names)
    return problems


def _routing_problems(segments: list[dict], groups: list[dict]) -> list[tuple[str, str]]:
    """A segment's ``groups`` must name groups skilled for it; a group's ``serves`` must be among its skills."""
    problems: list[tuple[str, str]] = []
    skills_of = {g.get("name"): (_seq(g.get("skills")) or []) for g in groups if isinstance(g.get("name"), str)}
    for i, seg in enumerate(segments):
        name = seg.get("name")
        for j, g in enumerate(_seq(seg.get("groups")) or []):
            if not isinstance(g, str):
                continue
            if g not in skills_of:
                hint = difflib.get_close_matches(g, list(skills_of), n=1)
                problems.append((f"segments[{i}].groups[{j}]", f"names no agent group: {g!r}"
                                 + (f" (did you mean {hint[0]!r}?)" if hint else "")))
            elif isinstance(name, str) and name not in skills_of[g]:
                problems.append((f"segments[{i}].groups[{j}]", f"group {g!r} does not have the skill {name!r}"))
        listed = [g for g in (_seq(seg.get("groups")) or []) if isinstance(g, str)]
        for g in set(listed):
            if listed.count(g) > 1:
                problems.append((f"segments[{i}].groups", f"lists {g!r} twice"))
        outcome = seg.get("max_queue_outcome")
        if isinstance(outcome, str):
            target = outcome[len("overflow:"):] if outcome.startswith("overflow:") else None
            names = [x.get("name") for x in segments]
            if outcome not in ("abandon", "callback") and target is None:
                problems.append((f"segments[{i}].max_queue_outcome",
                                 f"must be 'abandon', 'callback' or 'overflow:SEGMENT', got {outcome!r}"))
            elif outcome == "callback" and not isinstance(seg.get("callback"), dict):
                problems.append((f"segments[{i}].max_queue_outcome", "'callback' needs a [segments.callback] table"))
            elif target is not None and (target not in names or target == name):
                problems.append((f"segments[{i}].max_queue_outcome",
                                 f"{target!r} names no other segment" + (" (it is this one)" if target == name else "")))
            elif seg.get("max_queue_s") is None and outcome != "abandon":
                problems.append((f"segments[{i}].max_queue_outcome", "only goes with max_queue_s"))
    for i, g in enumerate(groups):
        skills = _seq(g.get("skills")) or []
        for j, k in enumerate(_seq(g.get("serves")) or []):
            if isinstance(k, str) and k not in skills:
                problems.append((f"agent_groups[{i}].serves[{j}]", f"{k!r} is not among the group's skills"))
        factors = g.get("handle_time_factor")
        if isinstance(factors, dict):
            for k in factors:
                if k not in skills or k == ESCALATION_SKILL:
                    problems.append((f"agent_groups[{i}].handle_time_factor.{k}",
                                     f"{k!r} is not a segment among the group's skills"))
    return problems


def _clock_or_none(v: Any) -> int | None:
    return clock_minutes(v) if isinstance(v, str) and _CLOCK.fullmatch(v) and int(v.split(":")[0]) < 24 else None


def clock_label(minutes: float) -> str:
    """``HH:MM`` of a time in minutes after midnight (wrapping past midnight)."""
    m = int(round(minutes)) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _shift_problems(data: dict, n: int | None, grp_names: list[str]) -> list[tuple[str, str]]:
    """Shift rules against the day and the groups: start window, length, break windows, caps."""
    shifts = data.get("shifts")
    if not isinstance(shifts, (list, tuple)):
        return []
    problems: list[tuple[str, str]] = []
    step = data.get("interval_minutes", 30)
    open_m = _clock_or_none(data.get("open_time", "08:00"))
    day_m = n * step if isinstance(n, int) and isinstance(step, int) else None
    problems += _duplicate_names(shifts, "shifts", "shift")
    for i, sh in enumerate(shifts):
        if not isinstance(sh, dict):
            continue
        at = f"shifts[{i}]"
        minutes = sh.get("minutes")
        minutes = minutes if isinstance(minutes, int) and minutes > 0 else None
        for j, g in enumerate(_seq(sh.get("groups")) or []):
            if isinstance(g, str) and g not in grp_names:
                hint = difflib.get_close_matches(g, grp_names, n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else ""
                problems.append((f"{at}.groups[{j}]", f"names no agent group: {g!r}{extra}"))
        lo, hi = sh.get("min_agents", 0), sh.get("max_agents")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            problems.append((f"{at}.min_agents", f"is {lo}, more than max_agents {hi}"))
        if minutes and day_m and minutes > day_m:
            problems.append((f"{at}.minutes", f"is {minutes} min, longer than the day "
                                              f"({day_m} min from {data.get('open_time', '08:00')})"))
        first, last = _clock_or_none(sh.get("earliest_start")), _clock_or_none(sh.get("latest_start"))
        if open_m is not None and day_m:
            rel = {k: (c - open_m) % 1440 for k, c in (("earliest_start", first), ("latest_start", last))
                   if c is not None}
            close = clock_label(open_m + day_m)
            for key, r in rel.items():
                if r >= day_m:
                    problems.append((f"{at}.{key}", f"{sh[key]} is outside the day "
                                                    f"({clock_label(open_m)}-{close})"))
            if len(rel) == 2 and all(r < day_m for r in rel.values()):
                if rel["latest_start"] < rel["earliest_start"]:
                    problems.append((f"{at}.latest_start", f"{sh['latest_start']} is before earliest_start "
                                                           f"{sh['earliest_start']}"))
                elif minutes and minutes <= day_m and rel["latest_start"] + minutes > day_m:
                    problems.append((f"{at}.latest_start",
                                     f"a {minutes}-min shift starting at {sh['latest_start']} ends at "
                                     f"{clock_label(open_m + rel['latest_start'] + minutes)}, after the day closes "
                                     f"at {close}"))
        breaks = sh.get("breaks")
        if not isinstance(breaks, (list, tuple)):
            continue
        prev_end, prev_j = None, None
        for j, b in enumerate(breaks):
            if not isinstance(b, dict):
                continue
            bat = f"{at}.breaks[{j}]"
            bm, e, la = b.get("minutes"), b.get("earliest_after_minutes"), b.get("latest_after_minutes")
            if not all(isinstance(x, int) and x >= 0 for x in (bm, e, la)):
                continue
            if la < e:
                problems.append((f"{bat}.latest_after_minutes", f"is {la}, before earliest_after_minutes {e}"))
                continue
            if minutes and la + bm > minutes:
                problems.append((f"{bat}.latest_after_minutes",
                                 f"a {bm}-min break starting {la} min after the start ends at {la + bm} min, "
                                 f"after the {minutes}-min shift ends"))
            if prev_end is not None and e < prev_end:
                problems.append((f"{bat}.earliest_after_minutes",
                                 f"is {e}, inside the window of breaks[{prev_j}] (which may last until {prev_end} min); "
                                 "list breaks in time order with windows that do not overlap"))
            prev_end, prev_j = la + bm, j
    return problems


def _duplicate_names(items: Any, key: str, what: str) -> list[tuple[str, str]]:
    """A problem for each name that more than one table of ``items`` (raw ``[[key]]`` dicts) uses, at the first
    table that has it (``shifts[2].name: duplicate shift name 'early'``)."""
    names = [x.get("name") if isinstance(x, dict) else None for x in items]
    return [(f"{key}[{names.index(name)}].name", f"duplicate {what} name {name!r}")
            for name, count in Counter(x for x in names if isinstance(x, str)).items() if count > 1]


def contract_problems(contracts: Any, shifts: Any, grp_names: list[str]) -> list[tuple[str, str]]:
    """Contracts (``[[contracts]]``, raw) against the shift rules (raw ``[[shifts]]``) and the groups: names that
    exist, caps in order, and at least one group that may work some shift of each contract."""
    if not isinstance(contracts, (list, tuple)):
        return []
    rules = {sh.get("name"): sh for sh in (shifts if isinstance(shifts, (list, tuple)) else [])
             if isinstance(sh, dict) and isinstance(sh.get("name"), str)}
    problems: list[tuple[str, str]] = []
    problems += _duplicate_names(contracts, "contracts", "contract")
    for i, c in enumerate(contracts):
        if not isinstance(c, dict):
            continue
        at = f"contracts[{i}]"
        listed = [x for x in (_seq(c.get("shifts")) or []) if isinstance(x, str)]
        for j, x in enumerate(_seq(c.get("shifts")) or []):
            if not isinstance(x, str):
                continue
            if x not in rules:
                hint = difflib.get_close_matches(x, list(rules), n=1)
                extra = f" (did you mean {hint[0]!r}?)" if hint else (" (there are no [[shifts]])" if not rules else "")
                problems.append((f"{at}.shifts[{j}]", f"names no shift rule: {x!r}{extra}"))
            elif listed.index(x) != j:
                problems.append((f"{at}.shifts[{j}]", f"lists {x!r} twice"))
        wanted = [g for g in (_seq(c.get("groups")) or []) if isinstance(g, str)]
        for j, g in enumerate(_seq(c.get("groups")) or []):
            if isinstance(g, str) and g not in grp_names:
                hint = difflib.get_close_matches(g, grp_names, n=1)
                problems.append((f"{at}.groups[{j}]", f"names no agent group: {g!r}"
                                 + (f" (did you mean {hint[0]!r}?)" if hint else "")))
        lo, hi = c.get("min_agents", 0), c.get("max_agents")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            problems.append((f"{at}.min_agents", f"is {lo}, more than max_agents {hi}"))
        known = [rules[x] for x in listed if x in rules]
        if known and all(g in grp_names for g in wanted):
            may = {g for sh in known for g in (_seq(sh.get("groups")) or grp_names)}
            if not may & set(wanted or grp_names):
                problems.append((f"{at}.groups", f"none of its shifts ({', '.join(listed)}) may be worked by "
                                                 f"{', '.join(map(repr, wanted))}: add a group to the shifts' groups"))
    return problems


def contracts_from_dict(data: Any, shifts: Any, grp_names: list[str], source: str | None = None
                        ) -> tuple[Contract, ...]:
    """Validate a contracts file's dict (``[[contracts]]`` tables, as read from TOML) against the shift rules (raw
    dicts) and group names of the scenarios it goes with; raise ScenarioError listing every problem by its path
    (``contracts[0].days_per_week: ...``)."""
    if not isinstance(data, dict):
        raise ScenarioError([("", "a contracts file must be a table of keys")], source, "contracts file")
    extra = sorted(k for k in data if k != "contracts")
    problems: list[tuple[str, str]] = [(k, "unknown key (a contracts file holds [[contracts]] tables only)")
                                       for k in extra]
    items = data.get("contracts")
    if not isinstance(items, (list, tuple)) or not items:
        raise ScenarioError(problems + [("contracts", "must be a non-empty list of tables ([[contracts]] in TOML)")],
                            source, "contracts file")
    out = []
    for i, item in enumerate(items):
        try:
            out.append(Contract.model_validate(item))
        except ValidationError as exc:
            problems += [_friendly({**e, "loc": ("contracts", i, *e["loc"])}) for e in exc.errors()]
    problems += [pr for pr in contract_problems(items, shifts, grp_names) if pr not in problems]
    if problems:
        raise ScenarioError(_contracts_named(problems, items), source, "contracts file")
    return tuple(out)


def _contracts_named(problems: list[tuple[str, str]], items: Any) -> list[tuple[str, str]]:
    """Problems of ``contracts[i]`` say which contract by its name too ("... (contract 'part_time')")."""
    out = []
    for path, reason in problems:
        m = re.match(r"contracts\[(\d+)\]", path)
        if m and isinstance(items, (list, tuple)) and int(m.group(1)) < len(items):
            item = items[int(m.group(1))]
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name and f"contract {name!r}" not in reason:
                reason = f"{reason} (contract {name!r})"
        out.append((path, reason))
    return out


# ---------------------------------------------------------------------------
# loading and dumping


_UNION_TAGS = ("float", "int", "tuple[float, ...]", "tuple[int, ...]")


def _path_str(loc: tuple) -> str:
    out = ""
    for part in loc:
        if part in _UNION_TAGS:
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out




def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Scenario
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        nxt = None
        for cand in (ServiceLevelTarget, Segment, AgentGroup, Routing, Costs, SimulationSettings, Capacity, Shift,
                     ShiftBreak, Contract):
            if ann is cand or cand in getattr(ann, "__args__", ()):
                nxt = cand
        model = nxt
    return model


def _friendly(err: dict) -> tuple[str, str]:
    loc = tuple(err["loc"])
    typ = err["type"]
    msg = err["msg"]
    inp = err.get("input")
    if len(loc) > 1 and loc[-1] in _UNION_TAGS:  # a value that may be one number or a list per interval
        return _path_str(loc[:-1]), f"must be a number or a list of numbers (one per interval), got {inp!r}"
    if typ == "extra_forbidden":
        parent = _model_at(loc[:-1])
        hint = ""
        if parent is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(parent.model_fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        return _path_str(loc), f"unknown key{hint}"
    if typ == "missing":
        return _path_str(loc), "required field is missing"
    if typ in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        want = "a whole number" if typ.startswith("int") else "a number"
        return _path_str(loc), f"must be {want}, got {inp!r}"
    if typ in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        ctx = err.get("ctx", {})
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[typ]
        value = next(iter(ctx.values())) if ctx else None
        bound = "?" if value is None else (f"{value:,.0f}" if float(value).is_integer() and abs(value) < 1e15
                                           else f"{value:g}")
        policy = POLICY if typ.startswith("less") and value not in (None, 1) else ""
        return _path_str(loc), f"must be {op} {bound}{policy}, got {inp!r}"
    if typ == "literal_error":
        return _path_str(loc), f"must be one of {err.get('ctx', {}).get('expected', '')}, got {inp!r}"
    if typ == "value_error":
        return _path_str(loc), msg.removeprefix("Value error, ")
    if typ == "dict_type":
        return _path_str(loc), f"must be a table of name = number (e.g. {{premium = 1.25}}), got {inp!r}"
    if typ == "too_short":
        return _path_str(loc), "must not be empty"
    return _path_str(loc), msg


def _resolve_files(data: dict, base_dir: Path | None) -> None:
    """Make relative ``handle_time_file`` / ``patience_file`` paths absolute, relative to ``base_dir``
    (the scenario file's folder; the working directory when there is none)."""
    for seg in data.get("segments") or []:
        if not isinstance(seg, dict):
            continue
        for key in ("handle_time_file", "patience_file"):
            f = seg.get(key)
            if isinstance(f, str) and f.strip() and not Path(f).is_absolute():
                seg[key] = str(((base_dir or Path.cwd()) / f).resolve())


def from_dict(data: Any, source: str | None = None, base_dir: Path | None = None) -> Scenario:
    """Validate a plain dict (as read from TOML) into a Scenario; raise ScenarioError listing every problem.
    Sample files named relatively are read from ``base_dir`` (default: the working directory)."""
    if not isinstance(data, dict):
        raise ScenarioError([("", "a scenario must be a table of keys")], source)
    shape = [(k, "must be a list of tables ([[%s]] in TOML)" % k) for k in ("segments", "agent_groups", "shifts",
                                                                           "contracts")
             if k in data and not isinstance(data[k], (list, tuple))]
    shape += [(k, f"must be a table ([{k}] in TOML)") for k in ("service_level", "routing", "costs", "simulation",
                                                                 "capacity") if k in data and not isinstance(data[k], dict)]
    if shape:  # the rest of validation reads these as lists and tables
        raise ScenarioError(shape, source)
    _resolve_files(data, base_dir)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_friendly(e) for e in exc.errors() if not _is_echo(e)))
        seen = set(problems)
        # cross-field problems are reported together with field problems, from the raw data
        problems += [pr for pr in cross_field_problems(data) if pr not in seen]
        if not problems:  # problems only the validated model can see (the offered load): from its message
            for e in exc.errors():
                text = str(e.get("msg", "")).removeprefix("Value error, ").removeprefix(_CROSS_MARK)
                problems += [tuple(line.split(": ", 1)) if ": " in line else ("", line) for line in text.splitlines()]
        raise ScenarioError(_contracts_named(problems, data.get("contracts")), source) from None


def _is_echo(err: dict) -> bool:
    """True for errors that repeat another: our cross-field summary, or pydantic's 'too short
    after validation' for a list whose items failed."""
    if _CROSS_MARK in str(err.get("msg", "")):
        return True
    return err["type"] == "too_short" and isinstance(err.get("input"), (list, tuple)) and len(err["input"]) > 0


def loads(text: str, source: str | None = None, base_dir: Path | None = None) -> Scenario:
    """Parse TOML text into a Scenario (sample files named relatively are read from ``base_dir``)."""
    if not text.strip():
        raise ScenarioError([("", "the file is empty")], source)
    if "\x00" in text:
        raise ScenarioError([("", "this is a binary file, not a TOML scenario")], source)
    limit = _toml_limits(text)
    if limit:
        raise ScenarioError([("", limit)], source)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ScenarioError([("", "is nested too deeply to be a scenario")], source) from None
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        if "end of document" in msg:
            msg = msg.replace("at end of document", f"at the end of the document, line {text.count(chr(10)) + 1}")
        raise ScenarioError([("", f"not valid TOML: {msg}")], source) from None
    return from_dict(data, source, base_dir)


MAX_TOML_BYTES = 1_000_000  # policy: a scenario is a few KB; a hundred times that is already generous
MAX_TOML_DEPTH = 10
MAX_TOML_KEYS = 20_000  # policy: a 100-segment, 100-group scenario has about 3,000


def _toml_limits(text: str) -> str | None:
    """Why a TOML text is refused before parsing (size, nesting), or None. Strings are skipped when
    measuring nesting, so brackets inside names do not count."""
    if len(text) > MAX_TOML_BYTES:
        return f"is {len(text) // 1000:,} KB; a scenario file is at most {MAX_TOML_BYTES // 1000:,} KB (a limit ccplan sets)"
    depth = worst = keys = 0
    quote = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if "=" in stripped and not stripped.startswith("["):
            keys += 1
            if keys > MAX_TOML_KEYS:
                return (f"has more than {MAX_TOML_KEYS:,} keys; a scenario needs far fewer (a limit ccplan sets)")
        key = stripped.split("=", 1)[0] if "=" in stripped and not stripped.startswith("[") else (
            stripped.strip("[]") if stripped.startswith("[") else "")
        if key.count(".") >= MAX_TOML_DEPTH:
            return f"a key is nested {key.count('.') + 1} levels deep; a scenario needs at most {MAX_TOML_DEPTH}"
        for ch in line:
            if quote:
                if ch == quote:
                    quote = None
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "[{":
                depth += 1
                worst = max(worst, depth)
            elif ch in "]}":
                depth = max(depth - 1, 0)
        quote = None if quote == "'" or quote == '"' else quote
        if worst > MAX_TOML_DEPTH + 2:
            return f"values are nested {worst} levels deep; a scenario needs at most {MAX_TOML_DEPTH}"
    return None


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.0f} MB" if n_bytes >= 10_000_000 else f"{n_bytes // 1000:,} KB"


def read_input(path: str | Path, limit_bytes: int, what: str = "file") -> bytes:
    """The bytes of an input file, which must be a regular file (a link to one is followed) of at most
    ``limit_bytes``. A folder, device, FIFO or socket, a missing or unreadable file, or a larger one raises
    ScenarioError naming the file. At most ``limit_bytes + 1`` bytes are ever read, so a device that reports
    size 0 (``/dev/zero``) or a file that grows while read cannot exhaust memory."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ScenarioError([("", "no such file")], str(p)) from None
    except OSError as exc:
        raise ScenarioError([("", f"cannot read: {exc.strerror}")], str(p)) from None
    if stat.S_ISDIR(st.st_mode):
        raise ScenarioError([("", f"is a folder, not a {what}")], str(p))
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device" if (
            stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)) else "not a regular file"
        raise ScenarioError([("", f"is {kind}; a {what} must be a regular file")], str(p))
    too_big = f"; a {what} is at most {_size(limit_bytes)} (a limit ccplan sets)"
    if st.st_size > limit_bytes:
        raise ScenarioError([("", f"is {_size(st.st_size)}{too_big}")], str(p))
    try:
        with open(p, "rb") as f:
            raw = f.read(limit_bytes + 1)
    except OSError as exc:
        raise ScenarioError([("", f"cannot read: {exc.strerror}")], str(p)) from None
    if len(raw) > limit_bytes:
        raise ScenarioError([("", f"holds more than {_size(limit_bytes)}{too_big}")], str(p))
    return raw


def load(path: str | Path) -> Scenario:
    """Read a TOML scenario file. Raises ScenarioError with one clear message per problem."""
    p = Path(path)
    raw = read_input(p, MAX_TOML_BYTES, "scenario file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([("", "this is a binary file, not a TOML scenario")], str(p)) from None
    return loads(text, str(p), p.resolve().parent)


def to_dict(scenario: Scenario) -> dict:
    """Plain dict of the scenario (lists, no None values), suitable for TOML."""
    return scenario.model_dump(mode="json", exclude_none=True)


def dumps(scenario: Scenario) -> str:
    """TOML text of the scenario; ``loads(dumps(s)) == s``."""
    return tomli_w.dumps(to_dict(scenario))


def dump(scenario: Scenario, path: str | Path) -> None:
    """Write the scenario as TOML."""
    Path(path).write_text(dumps(scenario), encoding="utf-8")


def _set_path(data: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = data
    for k, part in enumerate(parts[:-1]):
        if isinstance(node, list):
            match = [it for it in node if isinstance(it, dict) and it.get("name") == part]
            if not match:
                names = [it.get("name") for it in node if isinstance(it, dict)]
                raise ScenarioError([(path, f"no item named {part!r} (have {names})")])
            node = match[0]
        else:
            if part not in node:
                if part in ("segments", "agent_groups"):
                    raise ScenarioError([(path, f"unknown key {part!r}")])
                node[part] = {}
            node = node[part]
    last = parts[-1]
    old = node.get(last) if isinstance(node, dict) else None
    tables = isinstance(old, dict) or (isinstance(old, list) and any(isinstance(x, dict) for x in old))
    if isinstance(node, list) or (tables and not isinstance(value, type(old))):
        raise ScenarioError([(path, "is a table or a list of tables: address one of its fields, e.g. "
                                    "segments.premium.priority or routing.policy")])
    if last in ("agents", "agents_per_interval") and "agents" in path and isinstance(node, dict):
        node.pop("agents", None)
        node.pop("agents_per_interval", None)
    node[last] = value


PRESETS_DIR = Path(__file__).resolve().parent.parent / "scenarios"


def presets() -> dict[str, Path]:
    """Built-in scenario files by stem name."""
    return {p.stem: p for p in sorted(PRESETS_DIR.glob("*.toml"))}


MAX_SAMPLES_BYTES = 50_000_000  # policy: a column of durations; 50 MB is millions of calls


@functools.lru_cache(maxsize=64)
def _samples_cached(path: str, mtime_ns: int, size: int) -> np.ndarray:
    try:
        text = read_input(path, MAX_SAMPLES_BYTES, "duration file").decode("utf-8-sig")
    except ScenarioError as exc:
        raise ValueError(f"{path}: {exc.problems[0][1]}") from None
    rows = [line.strip() for line in text.splitlines() if line.strip()]
    values = []
    for i, line in enumerate(rows, start=1):
        cell = line.split(",")[0].split(";")[0].strip().strip('"')
        try:
            v = float(cell)
        except ValueError:
            if i == 1:  # a header
                continue
            raise ValueError(f"{path}: row {i}: {cell!r} is not a number of seconds") from None
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"{path}: row {i}: {cell!r} must be > 0 seconds")
        values.append(v)
    if len(values) < 10:
        raise ValueError(f"{path}: has {len(values)} value(s); an empirical distribution needs at least 10")
    out = np.asarray(values, float)
    out.setflags(write=False)
    return out


def read_samples(path: str | Path) -> np.ndarray:
    """Durations in seconds from a CSV with one column (an optional header); ValueError naming the row if not."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        raise ValueError(f"{p}: no such file") from None
    try:
        return _samples_cached(str(p), st.st_mtime_ns, st.st_size)
    except UnicodeDecodeError:
        raise ValueError(f"{p}: not a text CSV file") from None
