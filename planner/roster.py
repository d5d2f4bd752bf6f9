"""Shifts and breaks covering a staffing requirement: the cheapest roster, as a MILP solved by HiGHS.

The requirement is scheduled agents per interval and group (what ``staff`` plans, or a
scenario's ``agents_per_interval``). A roster is a number of agents per shift pattern (group,
shift rule, start time) and, for each break of the rule, how many of them take it at each
allowed time. Its *coverage* in an interval counts agents on duty and not on break; a break
or a shift edge that takes part of an interval counts as that fraction of an agent.

Formulation: the *implicit* break model of Aykin (1996, "Optimal shift scheduling with
multiple break windows", Management Science 42(4)), the compact alternative to Dantzig's
(1954) set-covering model that lists every start x break combination as its own column.
Variables ``x[p]`` (agents on pattern p) and ``b[p, j, w]`` (of them, those taking break j at
offset w) with ``sum_w b[p, j, w] = x[p]``; coverage in interval t is
``sum_p onduty[p, t] x[p] - sum_{p,j,w} onbreak[p, j, w, t] b[p, j, w] >= required[t]``.
Break windows of one shift must not overlap (validated), so any pairing of the break
choices gives a valid shift, and the implicit model is exact (Aykin 1996, Thm. 1).
Objective: paid hours x the group's cost per hour (groups without a cost count their paid
hours at the cheapest group's rate, so paid hours are still minimised).

Times are minutes from the day's open inside this module; costs in the scenario's currency.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from ccplan.report import finite as _finite
from ccplan.scenario import Scenario, Shift, clock_label, clock_minutes


SHIFT_COLUMNS = ["group", "shift", "start", "end", "breaks", "break_minutes", "agents", "paid_hours", "cost"]


class RosterError(ValueError):
    """Shift rules that cannot produce a roster for this requirement (a message says why)."""


@dataclass(frozen=True)
class _Pattern:
    """One shift rule for one group starting at one time (minutes from open)."""

    group: int
    shift: int
    start_min: int
    breaks: tuple[tuple[int, ...], ...]  # per break: allowed start offsets (minutes after shift start)


def _overlap(start_min: np.ndarray | float, length_min: float, interval_min: int, n: int) -> np.ndarray:
    """Fraction of each of ``n`` intervals covered by [start, start + length) (minutes from open)."""
    lo = np.arange(n) * interval_min
    s = np.asarray(start_min, float)[..., None]
    cover = np.clip(np.minimum(s + length_min, lo + interval_min) - np.maximum(s, lo), 0, None)
    return cover / interval_min


def _grid(first: int, last: int, step: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1, step))


def patterns(scenario: Scenario) -> list[_Pattern]:
    """Every (group, shift, start) the shift rules allow, with each break's allowed offsets."""
    open_m = clock_minutes(scenario.open_time)
    step_default = scenario.interval_minutes
    out: list[_Pattern] = []
    names = scenario.group_names
    for k, sh in enumerate(scenario.shifts):
        first = (clock_minutes(sh.earliest_start) - open_m) % 1440
        last = (clock_minutes(sh.latest_start) - open_m) % 1440
        starts = _grid(first, last, sh.start_every_minutes or step_default)
        brk = _break_grids(sh, step_default)
        for g, name in enumerate(names):
            if sh.groups is None or name in sh.groups:
                out.extend(_Pattern(g, k, s, brk) for s in starts)
    return out


class SolveStatus:
    """What a day roster and a week roster say of their solve: ``status`` ("optimal", "time limit", or why none
    was found) and the MIP ``gap`` (a share; NaN when the solver gave none)."""

    status: str
    gap: float

    @property
    def ok(self) -> bool:
        """A roster was found (optimal, or the best one at the time limit)."""
        return self.status in ("optimal", "time limit")

    @property
    def gap_text(self) -> str:
        """The gap as a percentage ("1.25%"), or "unknown" when the solver gave none."""
        return f"{self.gap:.2%}" if np.isfinite(self.gap) else "unknown"


@dataclass(frozen=True)
class Roster(SolveStatus):
    """A solved roster.

    ``status``: "optimal", "time limit" (the best roster found in time, see ``gap``), or, with
    ``message`` saying why and the tables empty: "infeasible", "no roster in time" (none found
    within the time limit) or "error". ``gap``: relative MIP gap (NaN when not known).
    ``shifts``: one row per group x shift x start x break times: group, shift, start (HH:MM),
      end (HH:MM), breaks (tuple of break starts HH:MM), break_minutes (their lengths), agents,
      paid_hours (per agent), cost (all agents).
    ``coverage``: one row per interval x group: interval, time, group, required, coverage
      (agents on duty and not on break; fractional where a break takes part of an interval),
      surplus, shortfall.
    ``groups``: one row per group: group, headcount, paid_hours, required_hours, efficiency
      (required hours / paid hours), cost.
    """

    scenario: Scenario
    status: str
    message: str
    cost: float
    gap: float
    solve_time_s: float
    shifts: pd.DataFrame
    coverage: pd.DataFrame
    groups: pd.DataFrame
    required: np.ndarray = field(repr=False)  # (G, T) scheduled agents required

    @property
    def coverage_matrix(self) -> np.ndarray:
        """Agents on duty and not on break (G, T), groups in scenario order."""
        t_n = self.scenario.n_intervals
        if self.coverage.empty:
            return np.zeros((len(self.scenario.agent_groups), t_n))
        order = {g: i for i, g in enumerate(self.scenario.group_names)}
        df = self.coverage.assign(_g=self.coverage["group"].map(order)).sort_values(["_g", "interval"])
        return df["coverage"].to_numpy().reshape(-1, t_n)

    @property
    def paid_hours(self) -> float:
        return float(self.groups["paid_hours"].sum()) if not self.groups.empty else 0.0

    @property
    def efficiency(self) -> float:
        """Required hours / paid hours over every group (1 = no surplus, no breaks)."""
        paid = self.paid_hours
        return float(self.groups["required_hours"].sum()) / paid if paid > 0 else float("nan")

    def scheduled(self) -> np.ndarray:
        """Whole agents on duty and not on break (G, T): coverage rounded down, so an agent on a
        part-interval break is not counted. Never below the (integer) requirement."""
        return np.floor(self.coverage_matrix + 1e-9).astype(int)

    def to_scenario(self) -> Scenario:
        """The scenario with each group's ``agents_per_interval`` set to the roster's
        :meth:`scheduled` coverage (shrinkage and every other key unchanged)."""
        cov = self.scheduled()
        return self.scenario.with_changes({f"agent_groups.{g}.agents_per_interval": [int(v) for v in cov[i]]
                                           for i, g in enumerate(self.scenario.group_names)})

    def to_json(self) -> dict[str, Any]:
        """The ``roster --json`` shape; without a roster (not :attr:`ok`): status, message, the time spent and
        each group's requirement only."""
        if not self.ok:
            return {"status": self.status, "message": self.message, "cost": None, "gap": None,
                    "solve_time_s": round(self.solve_time_s, 3),
                    "groups": {g: {"required": [int(v) for v in self.required[i]]}
                               for i, g in enumerate(self.scenario.group_names)},
                    "shifts": []}
        groups: dict[str, Any] = {}
        cov = self.coverage_matrix
        for i, g in enumerate(self.scenario.group_names):
            row = self.groups[self.groups["group"] == g]
            groups[g] = {
                "headcount": int(row["headcount"].iloc[0]) if len(row) else 0,
                "paid_hours": float(row["paid_hours"].iloc[0]) if len(row) else 0.0,
                "required_hours": float(row["required_hours"].iloc[0]) if len(row) else 0.0,
                "efficiency": _finite(row["efficiency"].iloc[0]) if len(row) else None,
                "cost": float(row["cost"].iloc[0]) if len(row) else 0.0,
                "required": [int(v) for v in self.required[i]],
                "coverage": [round(float(v), 6) for v in cov[i]],
            }
        return {
            "status": self.status,
            "message": self.message,
            "cost": _finite(self.cost),
            "gap": _finite(self.gap),
            "solve_time_s": round(self.solve_time_s, 3),
            "paid_hours": self.paid_hours,
            "efficiency": _finite(self.efficiency),
            "groups": groups,
            "shifts": [{"group": r.group, "shift": r.shift, "start": r.start, "end": r.end, "breaks": list(r.breaks),
                        "agents": int(r.agents)} for r in self.shifts.itertuples()],
        }




def _weights(scenario: Scenario) -> np.ndarray:
    cost = np.array([g.cost_per_hour for g in scenario.agent_groups], float)
    positive = cost[cost > 0]
    return np.where(cost > 0, cost, positive.min() if positive.size else 1.0)


def _check_requirement(scenario: Scenario, required: np.ndarray) -> np.ndarray:
    req = np.asarray(required)
    shape = (len(scenario.agent_groups), scenario.n_intervals)
    if req.shape != shape:
        raise RosterError(f"the requirement has shape {req.shape}, expected {shape} (groups x intervals)")
    if not np.all(np.isfinite(req)) or np.any(req < 0):
        raise RosterError("the requirement must be finite and >= 0 in every interval")
    return np.ceil(req - 1e-9).astype(np.int64)


def _why_infeasible(scenario: Scenario, pats: list[_Pattern], onduty: sparse.csr_array, req: np.ndarray
                    ) -> str | None:
    """A specific reason a requirement cannot be covered, found without solving, or None (``onduty``: the
    fraction of each interval each pattern is on duty, patterns x intervals)."""
    labels = scenario.interval_labels()
    open_m = clock_minutes(scenario.open_time)
    for g, name in enumerate(scenario.group_names):
        need = np.flatnonzero(req[g] > 0)
        if need.size == 0:
            continue
        mine = [k for k, p in enumerate(pats) if p.group == g]
        if not mine:
            return (f"group {name!r} needs {req[g, need[0]]} agents at {labels[need[0]]} but no shift rule "
                    f"applies to it (add it to a shift's groups)")
        reach = onduty[mine].max(axis=0).toarray().ravel()
        for t in need:
            if reach[t] <= 0:
                starts = [pats[k].start_min for k in mine]
                ends = [pats[k].start_min + scenario.shifts[pats[k].shift].minutes for k in mine]
                t_start = t * scenario.interval_minutes
                if t_start < min(starts):
                    return (f"interval {labels[t]} needs {req[g, t]} agents in group {name!r} but no shift may "
                            f"start before {clock_label(open_m + min(starts))}")
                if t_start >= max(ends):
                    return (f"interval {labels[t]} needs {req[g, t]} agents in group {name!r} but every shift "
                            f"ends by {clock_label(open_m + max(ends))}")
                return f"interval {labels[t]} needs {req[g, t]} agents in group {name!r} but no shift covers it"
        # caps: at most max_agents per shift rule, over every group and start
        caps = np.zeros(scenario.n_intervals)
        for k_shift, sh in enumerate(scenario.shifts):
            on = [k for k in mine if pats[k].shift == k_shift]
            if on:
                caps += (np.inf if sh.max_agents is None else sh.max_agents) * \
                    (onduty[on].max(axis=0).toarray().ravel() > 0)
        short = np.flatnonzero(req[g] > caps)
        if short.size:
            t = short[0]
            capped = ", ".join(f"{sh.name} max_agents {sh.max_agents}" for sh in scenario.shifts
                               if sh.max_agents is not None)
            return (f"interval {labels[t]} needs {req[g, t]} agents in group {name!r} but the shifts that can "
                    f"cover it allow at most {int(caps[t])} agents ({capped})")
    return None


def milp_with_progress(progress: Callable[[float, float], None] | None, time_limit_s: float, t0: float,
                        *args, **kwargs):
    """``scipy.optimize.milp``; with ``progress``, run it in a thread and report (s since ``t0``, limit s) every
    0.1 s (HiGHS through scipy has no callback)."""
    if progress is None:
        return milp(*args, **kwargs)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["res"] = milp(*args, **kwargs)
        except BaseException as exc:  # handed to the calling thread
            box["error"] = exc

    th = threading.Thread(target=work, daemon=True)
    th.start()
    while th.is_alive():
        th.join(0.1)
        progress(min(time.perf_counter() - t0, time_limit_s), time_limit_s)
    if "error" in box:
        raise box["error"]
    return box["res"]


#: The largest model :func:`solve` builds (estimated by :func:`model_size` before building anything): more
#: integer variables than this are not solved to a useful gap in minutes, and the bytes bound keeps
#: building it and HiGHS's copies of it (presolve, LP, search) well inside a few GB.
MAX_VARIABLES = 200_000
MAX_MODEL_BYTES = 2**30
# peak memory over the imports, fitted on telecom-like models with 1-, 2- and 5-minute start grids (2k-300k
# variables, 48k-1M nonzeros: 37-600 MB after a 5 s search) and rounded up; the search tree grows with time
_BYTES_FIXED = 64 * 2**20
_BYTES_PER_VARIABLE = 1600
_BYTES_PER_NONZERO = 300
_BYTES_PER_ROW = 200


@dataclass(frozen=True)
class ShiftSize:
    """One shift rule's share of the model: ``starts`` per group (every ``start_every`` minutes), ``groups`` it
    applies to, ``break_times`` (allowed break starts per shift, all breaks together; each break's grid in
    ``break_every``, minutes) and the ``variables`` that makes (starts x groups x (1 + break_times))."""

    name: str
    starts: int
    start_every: int
    groups: int
    break_times: int
    break_every: tuple[int, ...]
    variables: int


@dataclass(frozen=True)
class MilpSize:
    """A MILP's size before it is built: integer ``variables``, an upper bound on the constraint matrix's
    ``nonzeros``, ``rows`` (constraints), and ``bytes`` (estimated peak memory to build it and solve it with
    HiGHS). The day roster's and the week roster's models both have one."""

    variables: int
    nonzeros: int
    rows: int
    bytes: int

    @property
    def too_large(self) -> bool:
        """Above :data:`MAX_VARIABLES` or :data:`MAX_MODEL_BYTES`."""
        return self.variables > MAX_VARIABLES or self.bytes > MAX_MODEL_BYTES


@dataclass(frozen=True)
class ModelSize(MilpSize):
    """The roster MILP's size (:class:`MilpSize`), computed from the shift rules before anything is built;
    its variables are agents per pattern and agents per break time; ``shifts``: each rule's share."""

    shifts: tuple[ShiftSize, ...]

    def refusal(self) -> str:
        """Why the model is not built, naming the shift rule and the settings to coarsen."""
        big = max(self.shifts, key=lambda s: s.variables)
        every = ", ".join(map(str, sorted(set(big.break_every))))
        what = (f"shift {big.name!r} alone gives {big.variables:,} ({big.starts:,} starts x {big.groups} "
                f"group{'s' if big.groups != 1 else ''} x (1 + {big.break_times:,} break times))")
        fix = (f"coarsen it: a larger start_every_minutes (now {big.start_every}) or a narrower "
               f"earliest_start..latest_start")
        if big.break_times:
            fix += (f", and a larger start_every_minutes for its breaks (now {every}) or narrower break windows "
                    f"(earliest_after_minutes..latest_after_minutes)")
        return (f"the roster model would have {self.variables:,} integer variables and up to {self.nonzeros:,} "
                f"nonzeros (about {self.bytes / 2**30:.1f} GB to build and solve), above the limit of "
                f"{MAX_VARIABLES:,} variables and {MAX_MODEL_BYTES / 2**30:.0f} GB: {what}; {fix}")


def _n_grid(first: int, last: int, step: int) -> int:
    return max(0, (last - first) // step + 1)


def _residues(first: int, every: int, n: int, step: int) -> set[int]:
    """Minutes into an interval (of ``step`` minutes) at which the grid first, first + every, ... (n points) starts."""
    return {(first + k * every) % step for k in range(min(n, step))}


def _touched(residues: set[int], length_min: int, step: int, n_t: int) -> int:
    """The most intervals a span of ``length_min`` minutes touches, starting at one of ``residues``."""
    return min(n_t, max((-(-(r + length_min) // step) for r in residues), default=0))


def _spanned(length_min: int, step: int, n_t: int) -> int:
    """The most intervals a span of ``length_min`` minutes starting anywhere can touch."""
    return min(n_t, -(-length_min // step) + 1)


def model_size(scenario: Scenario) -> ModelSize:
    """The size of the MILP :func:`solve` would build for ``scenario``'s shift rules, without building it."""
    open_m = clock_minutes(scenario.open_time)
    step, n_t = scenario.interval_minutes, scenario.n_intervals
    names = scenario.group_names
    variables = nonzeros = link_rows = cap_rows = 0
    shares = []
    for sh in scenario.shifts:
        first = (clock_minutes(sh.earliest_start) - open_m) % 1440
        last = (clock_minutes(sh.latest_start) - open_m) % 1440
        starts = _n_grid(first, last, sh.start_every_minutes or step)
        groups = sum(1 for name in names if sh.groups is None or name in sh.groups)
        pats = starts * groups
        capped = sh.max_agents is not None or sh.min_agents > 0
        every = tuple(b.start_every_minutes or step for b in sh.breaks)
        times = [_n_grid(b.earliest_after_minutes, b.latest_after_minutes, e) for b, e in zip(sh.breaks, every)]
        n_var = pats * (1 + sum(times))
        variables += n_var
        link_rows += pats * len(sh.breaks)
        cap_rows += int(capped)
        # a span of L minutes starting r minutes into an interval touches ceil((r + L) / step) intervals
        r_start = _residues(first, sh.start_every_minutes or step, starts, step)
        nonzeros += pats * (_touched(r_start, sh.minutes, step, n_t) + len(sh.breaks) + int(capped))
        for b, e, n in zip(sh.breaks, every, times):
            r_off = _residues(b.earliest_after_minutes, e, n, step)
            r_brk = {(a + c) % step for a in r_start for c in r_off}
            nonzeros += pats * n * (_touched(r_brk, b.minutes, step, n_t) + 1)
        shares.append(ShiftSize(sh.name, starts, sh.start_every_minutes or step, groups, sum(times), every, n_var))
    rows = len(names) * n_t + link_rows + cap_rows
    size = _BYTES_FIXED + _BYTES_PER_NONZERO * nonzeros + _BYTES_PER_VARIABLE * variables + _BYTES_PER_ROW * rows
    return ModelSize(variables, nonzeros, rows, int(size), tuple(shares))


def _spans(group: np.ndarray, start: np.ndarray, length: np.ndarray, step: int, n_t: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coverage entries of items on duty over [start, start + length) (minutes from open) in group ``group``:
    (row = group x n_t + interval, item index, fraction of the interval), fractions > 0 only."""
    rows, items, fracs = [], [], []
    for length_min in np.unique(length):
        idx = np.flatnonzero(length == length_min)
        s = start[idx].astype(float)[:, None]
        t = (start[idx] // step)[:, None] + np.arange(_spanned(int(length_min), step, n_t))[None, :]
        lo = t * step
        frac = np.clip(np.minimum(s + float(length_min), lo + step) - np.maximum(s, lo), 0, None) / step
        keep = (frac > 0) & (t < n_t)
        where = np.nonzero(keep)[0]
        rows.append(group[idx][where] * n_t + t[keep])
        items.append(idx[where])
        fracs.append(frac[keep])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(items), np.concatenate(fracs)


NO_ROSTER_IN_TIME = "no roster in time"


def solve(scenario: Scenario, required: np.ndarray, time_limit_s: float = 30.0,
          progress: Callable[[float, float], None] | None = None) -> Roster:
    """The cheapest roster of ``scenario.shifts`` covering ``required`` scheduled agents (G, T).

    ``time_limit_s`` (seconds) bounds building the model and solving it together: the best roster
    found is returned with its MIP gap (status "time limit"); when none is found in time the status is
    :data:`NO_ROSTER_IN_TIME` (not :attr:`Roster.ok`, tables empty). ``progress(elapsed_s,
    time_limit_s)`` is called while it runs.

    Raises :class:`RosterError` when the scenario has no shift rules, the requirement is malformed or
    the model would be too large (:func:`model_size`, above :data:`MAX_VARIABLES` variables or
    :data:`MAX_MODEL_BYTES` bytes: the message names the shift rule to coarsen); an infeasible
    requirement returns status "infeasible" and a message saying why.
    """
    if not scenario.shifts:
        raise RosterError("the scenario has no shift rules: add [[shifts]] (see the README)")
    req = _check_requirement(scenario, required)
    size = model_size(scenario)
    if size.too_large:
        raise RosterError(size.refusal())
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit_s)

    def out_of_time(stage: str) -> Roster | None:
        if time.perf_counter() < deadline:
            return None
        return _empty(scenario, req, NO_ROSTER_IN_TIME, f"no roster found within the time limit of "
                      f"{time_limit_s:g} s ({stage} of {size.variables:,} variables used it up); raise --time-limit",
                      time.perf_counter() - t0)

    n_t, step = scenario.n_intervals, scenario.interval_minutes
    open_m = clock_minutes(scenario.open_time)
    pats = patterns(scenario)
    shifts: tuple[Shift, ...] = scenario.shifts
    g_n = len(scenario.agent_groups)
    n_x = len(pats)
    p_group = np.array([p.group for p in pats], np.int64)
    p_shift = np.array([p.shift for p in pats], np.int64)
    p_start = np.array([p.start_min for p in pats], np.int64)
    minutes = np.array([sh.minutes for sh in shifts], np.int64)
    x_rows, x_cols, x_vals = _spans(p_group, p_start, minutes[p_shift], step, n_t)
    onduty = sparse.csr_array((x_vals, (x_cols, x_rows - p_group[x_cols] * n_t)), shape=(n_x, n_t))
    reason = _why_infeasible(scenario, pats, onduty, req)
    if reason:
        return _empty(scenario, req, "infeasible", reason, time.perf_counter() - t0)
    late = out_of_time("building the model")
    if late:
        return late

    # columns: x[p] for every pattern, then b[p, j, w] for every break choice, in (p, j, w) order
    tmpl = [[(j, w, sh.breaks[j].minutes) for j, offs in enumerate(_break_grids(sh, step)) for w in offs]
            for sh in shifts]
    per_shift = np.array([len(t) for t in tmpl], np.int64)
    flat = np.array([row for t in tmpl for row in t], np.int64).reshape(-1, 3)
    tmpl_off = np.concatenate([[0], np.cumsum(per_shift)[:-1]])
    per_pat = per_shift[p_shift]
    n_b = int(per_pat.sum())
    b_pat = np.repeat(np.arange(n_x), per_pat)
    pos = np.arange(n_b) - np.repeat(np.cumsum(per_pat) - per_pat, per_pat)
    b_tmpl = flat[tmpl_off[p_shift[b_pat]] + pos] if n_b else np.zeros((0, 3), np.int64)
    b_brk, b_off, b_len = b_tmpl[:, 0], b_tmpl[:, 1], b_tmpl[:, 2]
    n_var = n_x + n_b

    # coverage rows (g, t): +onduty x - onbreak b >= req
    bb_rows, bb_cols, bb_vals = _spans(p_group[b_pat], p_start[b_pat] + b_off, b_len, step, n_t)
    a_cov = sparse.csr_array((np.concatenate([x_vals, -bb_vals]),
                              (np.concatenate([x_rows, bb_rows]), np.concatenate([x_cols, n_x + bb_cols]))),
                             shape=(g_n * n_t, n_var))
    blocks = [a_cov]
    lo, hi = [req.ravel().astype(float)], [np.full(g_n * n_t, np.inf)]
    late = out_of_time("building the model")
    if late:
        return late

    # each break is taken once by every agent of its pattern: sum_w b[p, j, w] - x[p] = 0, one row per (p, j)
    n_brk = np.array([len(sh.breaks) for sh in shifts], np.int64)[p_shift]
    n_pairs = int(n_brk.sum())
    if n_pairs:
        pair_off = np.cumsum(n_brk) - n_brk
        rows = np.concatenate([pair_off[b_pat] + b_brk, np.arange(n_pairs)])
        cols = np.concatenate([n_x + np.arange(n_b), np.repeat(np.arange(n_x), n_brk)])
        vals = np.concatenate([np.ones(n_b), -np.ones(n_pairs)])
        blocks.append(sparse.csr_array((vals, (rows, cols)), shape=(n_pairs, n_var)))
        lo.append(np.zeros(n_pairs))
        hi.append(np.zeros(n_pairs))

    # caps per shift rule, over every group and start
    capped = [k for k, sh in enumerate(shifts) if sh.max_agents is not None or sh.min_agents > 0]
    if capped:
        rows = np.concatenate([np.full(int(np.sum(p_shift == k)), i) for i, k in enumerate(capped)])
        cols = np.concatenate([np.flatnonzero(p_shift == k) for k in capped])
        blocks.append(sparse.csr_array((np.ones(cols.size), (rows, cols)), shape=(len(capped), n_var)))
        lo.append(np.array([shifts[k].min_agents for k in capped], float))
        hi.append(np.array([np.inf if shifts[k].max_agents is None else shifts[k].max_agents for k in capped],
                           float))
    a = sparse.vstack(blocks, format="csc")
    constraints = LinearConstraint(a, np.concatenate(lo), np.concatenate(hi))

    weights = _weights(scenario)
    paid_h = np.array([sh.paid_minutes / 60.0 for sh in shifts])[p_shift]
    c = np.concatenate([paid_h * weights[p_group], np.zeros(n_b)])
    late = out_of_time("building the model")
    if late:
        return late
    remaining = deadline - time.perf_counter()
    res = milp_with_progress(
        progress, float(time_limit_s), t0, c, constraints=constraints, integrality=np.ones(n_var),
        bounds=Bounds(0, np.inf), options={"time_limit": remaining, "mip_rel_gap": 0.0, "disp": False})
    elapsed = time.perf_counter() - t0
    if res.x is None:
        if res.status == 2:
            return _empty(scenario, req, "infeasible", "no roster covers the requirement with these shift rules "
                          "(break windows and max_agents together leave an interval short); widen the start or "
                          "break windows or raise max_agents", elapsed)
        if res.status == 1:
            return _empty(scenario, req, NO_ROSTER_IN_TIME, f"no roster found within the time limit of "
                          f"{time_limit_s:g} s ({size.variables:,} variables); raise --time-limit", elapsed)
        return _empty(scenario, req, "error", f"the solver stopped: {res.message}", elapsed)
    x = np.round(res.x).astype(np.int64)
    status = "optimal" if res.status == 0 else "time limit"
    gap = res.mip_gap if status == "time limit" else 0.0
    gap = float(gap) if gap is not None and np.isfinite(gap) and gap >= 0 else float("nan")
    table = _shift_table(scenario, pats, b_pat, b_brk, b_off, x, n_x, open_m)
    # coverage recomputed from the integer solution
    cov = (a_cov @ x.astype(float)).reshape(g_n, n_t)
    message = "" if status == "optimal" else (
        f"stopped at the time limit of {time_limit_s:g} s with a gap of {gap:.2%}" if np.isfinite(gap) else
        f"stopped at the time limit of {time_limit_s:g} s; the gap to the optimum is not known")
    return _finish(scenario, req, status, message, gap, elapsed, table, cov)


def _break_grids(sh: Shift, step_default: int) -> tuple[tuple[int, ...], ...]:
    """Each break's allowed start offsets (minutes after the shift's start)."""
    return tuple(_grid(b.earliest_after_minutes, b.latest_after_minutes, b.start_every_minutes or step_default)
                 for b in sh.breaks)


def _shift_table(scenario: Scenario, pats: list[_Pattern], b_pat: np.ndarray, b_brk: np.ndarray,
                 b_off: np.ndarray, x: np.ndarray, n_x: int, open_m: int) -> pd.DataFrame:
    """Pair each pattern's break choices into whole shifts (any pairing is valid: windows do not overlap)."""
    choices: dict[tuple[int, int], list[int]] = {}
    for c in np.flatnonzero(x[n_x:] > 0):
        choices.setdefault((int(b_pat[c]), int(b_brk[c])), []).extend([int(b_off[c])] * int(x[n_x + c]))
    rows = []
    for k in np.flatnonzero(x[:n_x] > 0):
        p = pats[k]
        sh = scenario.shifts[p.shift]
        per_agent = list(zip(*(sorted(choices.get((k, j), [])) for j in range(len(p.breaks))))) if p.breaks else \
            [()] * int(x[k])
        counts: dict[tuple[int, ...], int] = {}
        for combo in per_agent:
            counts[combo] = counts.get(combo, 0) + 1
        for combo, n in counts.items():
            rows.append({
                "group": scenario.group_names[p.group], "shift": sh.name,
                "start": clock_label(open_m + p.start_min),
                "end": clock_label(open_m + p.start_min + sh.minutes),
                "breaks": tuple(clock_label(open_m + p.start_min + w) for w in combo),
                "break_minutes": tuple(b.minutes for b in sh.breaks),
                "agents": n, "paid_hours": sh.paid_minutes / 60.0,
                "cost": n * sh.paid_minutes / 60.0 * scenario.agent_groups[p.group].cost_per_hour,
                "_start": p.start_min, "_g": p.group
            })
    if not rows:
        return pd.DataFrame(columns=SHIFT_COLUMNS)
    df = pd.DataFrame(rows).sort_values(["_g", "_start", "shift", "breaks"], kind="stable")
    return df[SHIFT_COLUMNS].reset_index(drop=True)


def _coverage_table(scenario: Scenario, req: np.ndarray, cov: np.ndarray) -> pd.DataFrame:
    labels = scenario.interval_labels()
    frames = []
    for g, name in enumerate(scenario.group_names):
        frames.append(pd.DataFrame({
            "interval": np.arange(scenario.n_intervals), "time": labels, "group": name,
            "required": req[g], "coverage": cov[g],
            "surplus": np.clip(cov[g] - req[g], 0, None), "shortfall": np.clip(req[g] - cov[g], 0, None),
        }))
    return pd.concat(frames, ignore_index=True)


def _finish(scenario: Scenario, req: np.ndarray, status: str, message: str, gap: float, elapsed: float,
            table: pd.DataFrame, cov: np.ndarray) -> Roster:
    hours = scenario.interval_minutes / 60.0
    grows = []
    for g, name in enumerate(scenario.group_names):
        mine = table[table["group"] == name]
        paid = float((mine["agents"] * mine["paid_hours"]).sum())
        need = float(req[g].sum() * hours)
        grows.append({"group": name, "headcount": int(mine["agents"].sum()), "paid_hours": paid,
                      "required_hours": need, "efficiency": need / paid if paid > 0 else np.nan,
                      "cost": float(mine["cost"].sum())})
    groups = pd.DataFrame(grows)
    return Roster(scenario, status, message, float(groups["cost"].sum()), gap, elapsed, table,
                  _coverage_table(scenario, req, cov), groups, req)


def _empty(scenario: Scenario, req: np.ndarray, status: str, message: str, elapsed: float) -> Roster:
    return Roster(scenario, status, message, float("nan"), float("nan"), elapsed,
                  pd.DataFrame(columns=SHIFT_COLUMNS),
                  pd.DataFrame(columns=["interval", "time", "group", "required", "coverage", "surplus", "shortfall"]),
                  pd.DataFrame(columns=["group", "headcount", "paid_hours", "required_hours", "efficiency", "cost"]),
                  req)


def requirement(scenario: Scenario, cover: str = "plan", verified_scenario: Scenario | None = None) -> np.ndarray:
    """Scheduled agents to cover (G, T): the analytic plan's, a verified scenario's, or the scenario's own.

    ``cover``: "plan" (``planner.staffing.plan``), "verified" (pass ``verified_scenario``, e.g. the
    scenario that ``ccplan.verification`` returns) or "current" (``agents_per_interval``).
    """
    if cover == "plan":
        from planner.staffing import plan

        return plan(scenario).scheduled.astype(np.int64)
    source = verified_scenario if cover == "verified" else scenario
    if cover not in ("verified", "current"):
        raise RosterError(f"cover must be plan, verified or current, got {cover!r}")
    if source is None:
        raise RosterError("cover 'verified' needs the verified scenario (run staff --verify)")
    return np.stack([source.agents_per_interval(g) for g in source.agent_groups]).astype(np.int64)
