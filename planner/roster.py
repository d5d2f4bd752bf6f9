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
        brk = tuple(_grid(b.earliest_after_minutes, b.latest_after_minutes, b.start_every_minutes or step_default)
                    for b in sh.breaks)
        for g, name in enumerate(names):
            if sh.groups is None or name in sh.groups:
                out.extend(_Pattern(g, k, s, brk) for s in starts)
    return out


@dataclass(frozen=True)
class Roster:
    """A solved roster.

    ``status``: "optimal", "time limit" (best roster found, see ``gap``) or "infeasible"
    (then ``message`` says why and the tables are empty). ``gap``: relative MIP gap.
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
    def ok(self) -> bool:
        return self.status in ("optimal", "time limit")

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
        """The ``roster --json`` shape."""
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


def _why_infeasible(scenario: Scenario, pats: list[_Pattern], onduty: np.ndarray, req: np.ndarray) -> str | None:
    """A specific reason a requirement cannot be covered, found without solving, or None."""
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
        reach = onduty[mine].max(axis=0)
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
                caps += (np.inf if sh.max_agents is None else sh.max_agents) * (onduty[on].max(axis=0) > 0)
        short = np.flatnonzero(req[g] > caps)
        if short.size:
            t = short[0]
            capped = ", ".join(f"{sh.name} max_agents {sh.max_agents}" for sh in scenario.shifts
                               if sh.max_agents is not None)
            return (f"interval {labels[t]} needs {req[g, t]} agents in group {name!r} but the shifts that can "
                    f"cover it allow at most {int(caps[t])} agents ({capped})")
    return None


def _milp_with_progress(progress: Callable[[float, float], None] | None, time_limit_s: float, *args, **kwargs):
    """``scipy.optimize.milp``; with ``progress``, run it in a thread and report (elapsed s, limit s) every 0.1 s
    (HiGHS through scipy has no callback)."""
    if progress is None:
        return milp(*args, **kwargs)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["res"] = milp(*args, **kwargs)
        except BaseException as exc:  # handed to the calling thread
            box["error"] = exc

    th = threading.Thread(target=work, daemon=True)
    t0 = time.perf_counter()
    th.start()
    while th.is_alive():
        th.join(0.1)
        progress(min(time.perf_counter() - t0, time_limit_s), time_limit_s)
    if "error" in box:
        raise box["error"]
    return box["res"]


def solve(scenario: Scenario, required: np.ndarray, time_limit_s: float = 30.0,
          progress: Callable[[float, float], None] | None = None) -> Roster:
    """The cheapest roster of ``scenario.shifts`` covering ``required`` scheduled agents (G, T).

    ``time_limit_s`` bounds the solver (the best roster found is returned with its MIP gap);
    ``progress(elapsed_s, time_limit_s)`` is called while it runs.

    Raises :class:`RosterError` when the scenario has no shift rules or the requirement is
    malformed; an infeasible requirement returns status "infeasible" and a message saying why.
    """
    if not scenario.shifts:
        raise RosterError("the scenario has no shift rules: add [[shifts]] (see the README)")
    req = _check_requirement(scenario, required)
    t0 = time.perf_counter()
    n_t, step = scenario.n_intervals, scenario.interval_minutes
    open_m = clock_minutes(scenario.open_time)
    pats = patterns(scenario)
    shifts: tuple[Shift, ...] = scenario.shifts
    onduty = np.stack([_overlap(p.start_min, shifts[p.shift].minutes, step, n_t) for p in pats])
    reason = _why_infeasible(scenario, pats, onduty, req)
    if reason:
        return _empty(scenario, req, "infeasible", reason, time.perf_counter() - t0)

    # columns: x[p] for every pattern, then b[p, j, w] for every break choice
    n_x = len(pats)
    brk_cols: list[tuple[int, int, int]] = []  # (pattern, break, offset)
    for k, p in enumerate(pats):
        for j, offsets in enumerate(p.breaks):
            brk_cols.extend((k, j, w) for w in offsets)
    n_var = n_x + len(brk_cols)
    g_n = len(scenario.agent_groups)

    # coverage rows (g, t): +onduty x - onbreak b >= req
    rows, cols, vals = [], [], []
    for k, p in enumerate(pats):
        nz = np.flatnonzero(onduty[k])
        rows += list(p.group * n_t + nz)
        cols += [k] * nz.size
        vals += list(onduty[k, nz])
    if brk_cols:
        bk = np.array(brk_cols)
        starts = np.array([pats[k].start_min for k in bk[:, 0]]) + bk[:, 2]
        lengths = np.array([shifts[pats[k].shift].breaks[j].minutes for k, j, _ in brk_cols], float)
        onbreak = np.clip(np.minimum(starts[:, None] + lengths[:, None], np.arange(1, n_t + 1) * step)
                          - np.maximum(starts[:, None], np.arange(n_t) * step), 0, None) / step
        for c in range(len(brk_cols)):
            nz = np.flatnonzero(onbreak[c])
            rows += list(pats[brk_cols[c][0]].group * n_t + nz)
            cols += [n_x + c] * nz.size
            vals += list(-onbreak[c, nz])
    a_cov = sparse.csr_array((vals, (rows, cols)), shape=(g_n * n_t, n_var))
    constraints = [LinearConstraint(a_cov, req.ravel().astype(float), np.inf)]

    # each break is taken once by every agent of its pattern: sum_w b[p, j, w] - x[p] = 0
    if brk_cols:
        pj = {}
        for c, (k, j, _) in enumerate(brk_cols):
            pj.setdefault((k, j), []).append(n_x + c)
        r, c_, v = [], [], []
        for row, ((k, _), members) in enumerate(pj.items()):
            r += [row] * (len(members) + 1)
            c_ += members + [k]
            v += [1.0] * len(members) + [-1.0]
        constraints.append(LinearConstraint(sparse.csr_array((v, (r, c_)), shape=(len(pj), n_var)), 0, 0))

    # caps per shift rule, over every group and start
    cap_rows, lo, hi = [], [], []
    for k_shift, sh in enumerate(shifts):
        if sh.max_agents is None and sh.min_agents == 0:
            continue
        row = np.zeros(n_var)
        row[[k for k, p in enumerate(pats) if p.shift == k_shift]] = 1.0
        cap_rows.append(row)
        lo.append(sh.min_agents)
        hi.append(np.inf if sh.max_agents is None else sh.max_agents)
    if cap_rows:
        constraints.append(LinearConstraint(np.array(cap_rows), lo, hi))

    weights = _weights(scenario)
    paid_h = np.array([shifts[p.shift].paid_minutes / 60.0 for p in pats])
    c = np.concatenate([paid_h * weights[[p.group for p in pats]], np.zeros(len(brk_cols))])
    res = _milp_with_progress(
        progress, time_limit_s, c, constraints=constraints, integrality=np.ones(n_var), bounds=Bounds(0, np.inf),
        options={"time_limit": float(time_limit_s), "mip_rel_gap": 0.0, "disp": False})
    elapsed = time.perf_counter() - t0
    if res.x is None:
        if res.status == 2:
            return _empty(scenario, req, "infeasible", "no roster covers the requirement with these shift rules "
                          "(break windows and max_agents together leave an interval short); widen the start or "
                          "break windows or raise max_agents", elapsed)
        if res.status == 1:
            return _empty(scenario, req, "time limit", f"no roster found within the time limit of "
                          f"{time_limit_s:g} s; raise --time-limit", elapsed)
        return _empty(scenario, req, "error", f"the solver stopped: {res.message}", elapsed)
    x = np.round(res.x).astype(np.int64)
    status = "optimal" if res.status == 0 else "time limit"
    gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
    table = _shift_table(scenario, pats, brk_cols, x, n_x, open_m)
    # coverage recomputed from the integer solution
    cov = (a_cov @ x.astype(float)).reshape(g_n, n_t)
    return _finish(scenario, req, status, "" if status == "optimal" else
                   f"stopped at the time limit with a gap of {gap:.2%}", gap, elapsed, table, cov)


def _shift_table(scenario: Scenario, pats: list[_Pattern], brk_cols: list[tuple[int, int, int]], x: np.ndarray,
                 n_x: int, open_m: int) -> pd.DataFrame:
    """Pair each pattern's break choices into whole shifts (any pairing is valid: windows do not overlap)."""
    choices: dict[tuple[int, int], list[int]] = {}
    for c, (k, j, w) in enumerate(brk_cols):
        choices.setdefault((k, j), []).extend([w] * int(x[n_x + c]))
    rows = []
    for k, p in enumerate(pats):
        if x[k] <= 0:
            continue
        sh = scenario.shifts[p.shift]
        per_agent = list(zip(*(sorted(choices[(k, j)]) for j in range(len(p.breaks))))) if p.breaks else \
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
    scenario that ``ccplan.verify`` returns) or "current" (``agents_per_interval``).
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
