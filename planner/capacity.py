"""Headcount over weeks: attrition, hiring classes with training and ramp-up, and the cheapest hiring plan
(a MILP solved by HiGHS).

The arithmetic (the contract; weeks numbered 1..W here, 0..W-1 in the arrays):

- a monthly attrition m is the weekly rate ``r = 1 - (1 - m)^(12/52)``; everyone employed at the end of a
  week, trainees included, survives it with probability ``1 - r`` (expected values throughout);
- a class of ``n`` starting in week ``s`` is employed from week s, in training in weeks s .. s+T-1
  (productivity 0), then works at ``ramp[0], ramp[1], ...`` and at 1 after that;
- productive FTE in week w: ``H0 (1-r)^(w-1) + sum_{s<=w} n_s (1-r)^(w-s) p(w-s)``, with ``p(k)`` the
  productivity of a hire k weeks after the class started;
- salaries are paid on everyone employed: ``cost_per_fte_week x (H0 (1-r)^(w-1) + sum_{s<=w} n_s (1-r)^(w-s))``;
- shortfall in a week: ``max(0, required - planned)``, priced at ``understaff_penalty_per_fte_week``.

Everything is linear in the class sizes, so the productive FTE of a group is ``base + M @ n`` with the
lower-triangular *cohort matrix* ``M[w, s] = (1-r)^(w-s) p(w-s)`` (:func:`cohort_matrix`).

Optimisation (:func:`solve`): integer class sizes ``n[g, s]`` in the weeks a group may start a class; a
class is 0 or between ``min_class`` and ``max_class`` (semi-continuous, with a binary ``y[g, s]``:
``min_class y <= n <= max_class y``); shortfall variables ``u[g, w] >= required - planned, u >= 0``;
optionally ``planned >= min_coverage x required`` in every week. Objective: hiring cost + salaries +
penalty x shortfall, over the horizon. This is the classic multi-period manpower-planning model
(Bartholomew, Forbes & McClean, "Statistical Techniques for Manpower Planning", 2nd ed., Wiley 1991,
ch. 2-3: a cohort survival model with recruitment as the decision; Gans, Koole & Mandelbaum 2003,
"Telephone call centers: tutorial, review, and research prospects", M&SOM 5(2), section 6.3, on hiring and
training lead times in call centres).

Units: weeks; FTE (full-time equivalents); money in the plan's currency (per FTE-week, per hire).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint

from planner.roster import milp_with_progress

WEEKS_PER_MONTH = 52.0 / 12.0


class CapacityError(ValueError):
    """Inputs the capacity arithmetic cannot use (a message says which and why)."""


def weekly_attrition(attrition_per_month: float | np.ndarray) -> float | np.ndarray:
    """Weekly leaving rate ``r = 1 - (1 - m)^(12/52)`` of a monthly rate ``m`` (shares, 0 <= m < 1): the
    rate that compounds to ``m`` over 52/12 weeks."""
    m = np.asarray(attrition_per_month, float)
    r = 1.0 - (1.0 - m) ** (12.0 / 52.0)
    return float(r) if r.ndim == 0 else r


def productivity_by_age(training_weeks: int, ramp: Sequence[float], n_weeks: int) -> np.ndarray:
    """Productivity (share of an FTE, 0..1) of a hire in each of the ``n_weeks`` weeks since its class started
    (index 0 = the class's first week): 0 for ``training_weeks`` weeks, then ``ramp[0], ramp[1], ...``, then 1."""
    p = np.ones(n_weeks)
    t = int(training_weeks)
    p[:t] = 0.0
    for k, v in enumerate(ramp):
        if t + k < n_weeks:
            p[t + k] = float(v)
    return p


def cohort_matrix(attrition_per_week: float, weight_by_age: np.ndarray) -> np.ndarray:
    """``M[w, s] = (1 - r)^(w - s) x weight(w - s)`` for ``s <= w`` and 0 above the diagonal (W x W): what one
    person hired in week s contributes in week w (weight = productivity, or 1 for headcount)."""
    n = len(weight_by_age)
    age = np.arange(n)[:, None] - np.arange(n)[None, :]
    lower = age >= 0
    a = np.where(lower, age, 0)
    # the power taken directly (not a running product), so each entry is as exact as the hand formula
    return np.where(lower, (1.0 - attrition_per_week) ** a * np.asarray(weight_by_age, float)[a], 0.0)


@dataclass(frozen=True, eq=False)
class Problem:
    """A capacity problem as arrays (G groups x W weeks; week index 0 is week 1).

    ``headcount_fte`` (G,): productive FTE at the start; ``attrition_per_week`` (G,): weekly leaving rate;
    ``required_fte`` (G, W); ``cost_per_fte_week`` (G,): salary per employed FTE and week; ``cost_per_hire``
    (G,); ``training_weeks`` (G,); ``productivity`` (G, W): a hire's productivity by weeks since its class
    started; ``allowed`` (G, W) bool: a class may start that week; ``min_class``/``max_class`` (G,) persons;
    ``understaff_penalty_per_fte_week``: cost of one FTE short for one week; ``min_coverage``: planned >=
    min_coverage x required in every week (None: no such rule); ``names``: group names for messages.
    """

    headcount_fte: np.ndarray
    attrition_per_week: np.ndarray
    required_fte: np.ndarray
    cost_per_fte_week: np.ndarray
    cost_per_hire: np.ndarray
    training_weeks: np.ndarray
    productivity: np.ndarray
    allowed: np.ndarray
    min_class: np.ndarray
    max_class: np.ndarray
    understaff_penalty_per_fte_week: float = 0.0
    min_coverage: float | None = None
    names: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_groups(self) -> int:
        return int(self.required_fte.shape[0])

    @property
    def n_weeks(self) -> int:
        return int(self.required_fte.shape[1])

    def name(self, g: int) -> str:
        return self.names[g] if g < len(self.names) else f"group {g + 1}"

    def matrices(self, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(productive, employed, in training) cohort matrices of group g (W x W), computed once."""
        if g not in self._cache:
            w_n = self.n_weeks
            r = float(self.attrition_per_week[g])
            training = (np.arange(w_n) < int(self.training_weeks[g])).astype(float)
            self._cache[g] = (cohort_matrix(r, self.productivity[g]), cohort_matrix(r, np.ones(w_n)),
                              cohort_matrix(r, training))
        return self._cache[g]

    def survivors(self) -> np.ndarray:
        """The starting headcount left in each week (G, W): ``H0 (1 - r)^(w - 1)``."""
        k = np.arange(self.n_weeks)
        return self.headcount_fte[:, None] * (1.0 - self.attrition_per_week[:, None]) ** k[None, :]


def check(problem: Problem) -> None:
    """Raise :class:`CapacityError` for arrays of the wrong shape or values outside their ranges."""
    g_n, w_n = problem.required_fte.shape
    for name in ("headcount_fte", "attrition_per_week", "cost_per_fte_week", "cost_per_hire", "training_weeks",
                 "min_class", "max_class"):
        if np.shape(getattr(problem, name)) != (g_n,):
            raise CapacityError(f"{name} has shape {np.shape(getattr(problem, name))}, expected ({g_n},)")
    for name in ("productivity", "allowed"):
        if np.shape(getattr(problem, name)) != (g_n, w_n):
            raise CapacityError(f"{name} has shape {np.shape(getattr(problem, name))}, expected ({g_n}, {w_n})")
    if not np.all(np.isfinite(problem.required_fte)) or np.any(problem.required_fte < 0):
        raise CapacityError("required_fte must be finite and >= 0 in every week")
    if np.any(problem.attrition_per_week < 0) or np.any(problem.attrition_per_week >= 1):
        raise CapacityError("attrition_per_week must be in [0, 1)")
    if np.any(problem.min_class > problem.max_class):
        raise CapacityError("min_class must be <= max_class")


@dataclass(frozen=True)
class Projection:
    """Headcount and cost of a hiring plan, per group and week (G, W arrays; FTE and currency).

    ``hires``: class sizes by start week (persons); ``planned_fte``: productive FTE; ``employed_fte``:
    everyone paid, trainees included; ``in_training``: employed and still in training; ``shortfall_fte``:
    max(0, required - planned); ``salary_cost``, ``hiring_cost`` (at the class's start week),
    ``understaff_cost``: penalty x shortfall; ``cost``: their sum.
    """

    hires: np.ndarray
    required_fte: np.ndarray
    planned_fte: np.ndarray
    employed_fte: np.ndarray
    in_training: np.ndarray
    shortfall_fte: np.ndarray
    salary_cost: np.ndarray
    hiring_cost: np.ndarray
    understaff_cost: np.ndarray

    @property
    def cost(self) -> np.ndarray:
        """Total cost per group and week (G, W)."""
        return self.salary_cost + self.hiring_cost + self.understaff_cost

    @property
    def total_cost(self) -> float:
        """Hiring + salaries + understaffing penalty over the horizon (the objective)."""
        return float(self.cost.sum())

    @property
    def over_under(self) -> np.ndarray:
        """Planned - required FTE (G, W): negative when short."""
        return self.planned_fte - self.required_fte


def project(problem: Problem, hires: np.ndarray | None = None) -> Projection:
    """The headcount, productive FTE, trainees and costs of ``hires`` (G, W persons per class start week;
    None: no hiring) under ``problem``'s attrition, training and ramp."""
    g_n, w_n = problem.n_groups, problem.n_weeks
    n = np.zeros((g_n, w_n)) if hires is None else np.asarray(hires, float)
    if n.shape != (g_n, w_n):
        raise CapacityError(f"hires has shape {n.shape}, expected ({g_n}, {w_n})")
    base = problem.survivors()
    planned, employed, training = base.copy(), base.copy(), np.zeros((g_n, w_n))
    for g in range(g_n):
        if not n[g].any():
            continue
        m_prod, m_emp, m_train = problem.matrices(g)
        planned[g] += m_prod @ n[g]
        employed[g] += m_emp @ n[g]
        training[g] += m_train @ n[g]
    short = np.clip(problem.required_fte - planned, 0.0, None)
    return Projection(
        hires=n.round().astype(np.int64) if np.allclose(n, n.round()) else n,
        required_fte=problem.required_fte, planned_fte=planned, employed_fte=employed, in_training=training,
        shortfall_fte=short, salary_cost=problem.cost_per_fte_week[:, None] * employed,
        hiring_cost=problem.cost_per_hire[:, None] * n,
        understaff_cost=problem.understaff_penalty_per_fte_week * short)


def coverage_misses(problem: Problem, projection: Projection) -> list[tuple[int, int]]:
    """(group, week index) where planned < min_coverage x required (empty without a min_coverage)."""
    if problem.min_coverage is None:
        return []
    bad = projection.planned_fte < problem.min_coverage * problem.required_fte - 1e-9
    return [(int(g), int(w)) for g, w in zip(*np.nonzero(bad))]


def why_infeasible(problem: Problem) -> str | None:
    """Why no hiring plan meets ``min_coverage`` (found without solving), or None. Hiring the largest class in
    every allowed week gives the most productive FTE in every week at once (every cohort adds >= 0), so the
    coverage rule is feasible exactly when that plan meets it."""
    if problem.min_coverage is None:
        return None
    most = project(problem, np.where(problem.allowed, problem.max_class[:, None], 0))
    need = problem.min_coverage * problem.required_fte
    bad = np.argwhere(most.planned_fte < need - 1e-9)
    if not len(bad):
        return None
    g, w = (int(v) for v in bad[np.lexsort((bad[:, 0], bad[:, 1]))[0]])
    return (f"min_coverage {problem.min_coverage:g}: week {w + 1} needs {need[g, w]:,.1f} productive FTE in group "
            f"{problem.name(g)!r} ({problem.min_coverage:.0%} of {problem.required_fte[g, w]:,.1f} required) but at "
            f"most {most.planned_fte[g, w]:,.1f} are possible (the starting headcount after attrition, and the "
            f"largest classes of every allowed week after {int(problem.training_weeks[g])} training weeks); lower "
            "min_coverage, hire earlier or allow larger classes")


@dataclass(frozen=True)
class Solution:
    """The solver's answer. ``status``: "optimal", "time limit" (best plan found, see ``gap``), or, with
    ``hires`` None and ``message`` saying why: "infeasible", "no plan in time", "error". ``gap``: relative
    MIP gap (0 when optimal, NaN when unknown); ``solve_time_s`` in seconds; ``hires`` (G, W) persons."""

    status: str
    message: str
    hires: np.ndarray | None
    gap: float
    solve_time_s: float
    variables: int = 0

    @property
    def ok(self) -> bool:
        return self.hires is not None


NO_PLAN_IN_TIME = "no plan in time"


def _group_model(problem: Problem, g: int) -> tuple[np.ndarray, LinearConstraint, Bounds, np.ndarray, np.ndarray]:
    """The MILP of group g: (objective, constraints, bounds, integrality, class weeks). Columns: the class
    sizes n[s] of the allowed weeks, a binary y[s] per class week when min_class > 0, and a shortfall u[w] per
    week the starting headcount alone leaves short (elsewhere the shortfall is 0 whatever is hired)."""
    w_n = problem.n_weeks
    weeks = np.flatnonzero(problem.allowed[g]) if problem.max_class[g] > 0 else np.zeros(0, np.int64)
    n_n = len(weeks)
    n_y = n_n if problem.min_class[g] > 0 else 0
    base = problem.survivors()[g]
    gap_fte = problem.required_fte[g] - base
    short_weeks = np.flatnonzero(gap_fte > 0)  # weeks that may be short at all
    n_u = len(short_weeks)
    n_var = n_n + n_y + n_u
    m_prod, m_emp, _ = problem.matrices(g)

    # objective: a hire's cost + its salaries until the horizon ends; the penalty per FTE-week short
    c = np.zeros(n_var)
    c[:n_n] = problem.cost_per_hire[g] + problem.cost_per_fte_week[g] * m_emp[:, weeks].sum(axis=0)
    c[n_n + n_y:] = float(problem.understaff_penalty_per_fte_week)
    blocks, lo, hi = [], [], []
    if n_u:  # u[w] + sum_s M[w, s] n[s] >= required[w] - base[w]
        prod = sparse.csr_array(m_prod[np.ix_(short_weeks, weeks)]) if n_n else sparse.csr_array((n_u, 0))
        blocks.append(sparse.hstack([prod, sparse.csr_array((n_u, n_y)), sparse.eye_array(n_u)]))
        lo.append(gap_fte[short_weeks])
        hi.append(np.full(n_u, np.inf))
    if problem.min_coverage is not None and n_n:
        # planned >= coverage x required: only the weeks the starting headcount does not already cover
        need = problem.min_coverage * problem.required_fte[g] - base
        open_w = np.flatnonzero(need > 1e-12)
        if open_w.size:
            blocks.append(sparse.hstack([sparse.csr_array(m_prod[np.ix_(open_w, weeks)]),
                                         sparse.csr_array((open_w.size, n_y + n_u))]))
            lo.append(need[open_w])
            hi.append(np.full(open_w.size, np.inf))
    if n_y:  # min_class y <= n <= max_class y: a class is 0 or min_class..max_class
        eye = sparse.eye_array(n_n)
        blocks.append(sparse.hstack([sparse.vstack([eye, eye]),
                                     sparse.vstack([-float(problem.max_class[g]) * eye,
                                                    -float(problem.min_class[g]) * eye]),
                                     sparse.csr_array((2 * n_n, n_u))]))
        lo.append(np.concatenate([np.full(n_n, -np.inf), np.zeros(n_n)]))
        hi.append(np.concatenate([np.zeros(n_n), np.full(n_n, np.inf)]))
    if not blocks:  # nothing to decide but the class sizes: keep one trivial row for the solver
        blocks.append(sparse.csr_array(np.zeros((1, max(n_var, 1)))[:, :n_var]))
        lo.append(np.zeros(1))
        hi.append(np.zeros(1))
    a = sparse.vstack(blocks, format="csc")
    upper = np.concatenate([np.full(n_n, float(problem.max_class[g])), np.ones(n_y), gap_fte[short_weeks]])
    integrality = np.concatenate([np.ones(n_n + n_y), np.zeros(n_u)])
    return (c, LinearConstraint(a, np.concatenate(lo), np.concatenate(hi)), Bounds(np.zeros(n_var), upper),
            integrality, weeks)


def solve(problem: Problem, time_limit_s: float = 30.0,
          progress: Callable[[float, float], None] | None = None) -> Solution:
    """The hiring plan of least hiring cost + salaries + understaffing penalty (and meeting ``min_coverage``
    when set), as integer class sizes in the allowed weeks.

    Groups share no constraint, so each group's MILP is solved on its own (the sum of the optima is the
    optimum, and each search stays small); ``time_limit_s`` (seconds) bounds them together, each group getting
    an equal share of what is left. ``gap``: (cost found - best bound) / cost found over the costs the hiring
    decides (salaries of the starting headcount excluded). ``progress(elapsed_s, time_limit_s)`` is called
    while it runs."""
    check(problem)
    t0 = time.perf_counter()
    reason = why_infeasible(problem)
    if reason:
        return Solution("infeasible", reason, None, float("nan"), time.perf_counter() - t0)
    g_n, w_n = problem.n_groups, problem.n_weeks
    hires = np.zeros((g_n, w_n), np.int64)
    limit = float(time_limit_s)
    found = bound = 0.0
    timed_out = False
    n_var = 0
    for g in range(g_n):
        c, cons, bounds, integrality, weeks = _group_model(problem, g)
        n_var += len(c)
        if not len(c):
            continue
        left = limit - (time.perf_counter() - t0)
        if left <= 0:
            return Solution(NO_PLAN_IN_TIME, f"no hiring plan found within the time limit of {limit:g} s "
                            f"(group {problem.name(g)!r} was not reached); raise the time limit", None,
                            float("nan"), time.perf_counter() - t0, n_var)
        res = milp_with_progress(progress, limit, t0, c, constraints=cons, integrality=integrality, bounds=bounds,
                                  options={"time_limit": max(left / (g_n - g), 0.01), "mip_rel_gap": 0.0,
                                           "disp": False})
        if res.x is None:
            elapsed = time.perf_counter() - t0
            if res.status == 2:
                return Solution("infeasible", f"no hiring plan of group {problem.name(g)!r} meets min_coverage in "
                                "every week", None, float("nan"), elapsed, n_var)
            if res.status == 1:
                return Solution(NO_PLAN_IN_TIME, f"no hiring plan found for group {problem.name(g)!r} within its "
                                f"share of the time limit of {limit:g} s; raise the time limit", None, float("nan"),
                                elapsed, n_var)
            return Solution("error", f"the solver stopped: {res.message}", None, float("nan"), elapsed, n_var)
        hires[g, weeks] = np.round(res.x[:len(weeks)]).astype(np.int64)
        found += float(res.fun)
        dual = getattr(res, "mip_dual_bound", None)
        bound += float(dual) if res.status != 0 and dual is not None and np.isfinite(dual) else float(res.fun)
        timed_out |= res.status != 0
    elapsed = time.perf_counter() - t0
    if not timed_out:
        return Solution("optimal", "", hires, 0.0, elapsed, n_var)
    gap = (found - bound) / abs(found) if abs(found) > 0 else float("nan")
    gap = gap if np.isfinite(gap) and gap >= 0 else float("nan")
    message = (f"stopped at the time limit of {limit:g} s with a gap of {gap:.2%}" if np.isfinite(gap) else
               f"stopped at the time limit of {limit:g} s; the gap to the optimum is not known")
    return Solution("time limit", message, hires, gap, elapsed, n_var)
