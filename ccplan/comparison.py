"""Side-by-side comparison of scenario variants, with paired confidence intervals.

All variants run with the same seed, so replication r of every variant sees the
same callers (common random numbers). The difference of a metric between a
variant and the baseline is then taken replication by replication, and its 95%
confidence interval comes from those paired differences — much tighter than what
the two separate intervals suggest. Both are reported.

Variants can be written inline: ``parse_vary("routing.policy=fifo,priority")`` or
``"agent_groups.generalists.agents=30:50"`` (a range, inclusive; ``30:50:5`` steps).
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ccplan.economics import TOTAL, Economics, price_simulation
from sim.metrics import RATIOS, difference_intervals, ratio_difference
from ccplan.scenario import Scenario, ScenarioError
from sim.runner import SimulationResult, simulate_many

# metrics reported per segment, in the order of the JSON contract
SEGMENT_METRICS = ["offered", "answered", "abandoned", "service_level", "asa_s", "abandon_rate", "wait_p90_s",
                   "agent_cost", "telephony_cost", "margin", "lost_value", "profit", "cost_per_answered"]
WITH_CI = ["service_level", "asa_s", "abandon_rate", "agent_cost", "profit"]
# per segment and variant, no difference: the share of simulated days meeting the target (Wilson CI) and the
# 10th percentile of the days' service levels
DAY_METRICS = ["days_meeting", "daily_sl_p10"]


def _parse_value(text: str) -> Any:
    text = text.strip()
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


MAX_VALUES = 200  # policy: values in one --vary (a range of more is a typo or a job for several runs)
MAX_VARIANTS = 400  # policy: variants in one comparison (the cross product of every --vary)
# settings that every variant shares by design (common random numbers), so varying them would be ignored
_SHARED = {"simulation.seed": "every variant runs with one seed (common random numbers); to see other callers, "
                              "pass --seed, or raise --replications",
           "simulation.replications": "every variant runs the same replications; pass --replications"}


def _decimals(text: str) -> int:
    """Decimal places written in a number ("0.25" -> 2, "1e-3" -> 3, "5" -> 0)."""
    t = text.strip().lower()
    mant, _, exp = t.partition("e")
    places = len(mant.partition(".")[2])
    return max(0, places - (int(exp) if exp.lstrip("+-").isdigit() else 0))


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """``path=v1,v2,...`` or ``path=start:stop[:step]`` (inclusive) -> (path, values).

    A range's values are start + i x step, rounded to the decimals written in the spec (so
    ``0.1:1:0.1`` gives 0.1 ... 1.0 exactly, not 0.30000000000000004), and at most
    :data:`MAX_VALUES` of them. The seed and replications cannot be varied (see :data:`_SHARED`).
    """
    if "=" not in spec:
        raise ScenarioError([("--vary", f"expected PATH=VALUES, got {spec!r}")])
    path, _, rhs = spec.partition("=")
    path, rhs = path.strip(), rhs.strip()
    if not path or not rhs:
        raise ScenarioError([("--vary", f"expected PATH=VALUES, got {spec!r}")])
    if path in _SHARED:
        raise ScenarioError([("--vary", f"{path} cannot be varied: {_SHARED[path]}")])
    if ":" in rhs and "," not in rhs:
        parts = rhs.split(":")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise ScenarioError([("--vary", f"a range needs numbers: {rhs!r}")]) from None
        if len(nums) not in (2, 3) or not all(np.isfinite(nums)) or (len(nums) == 3 and nums[2] <= 0) \
                or nums[1] < nums[0]:
            raise ScenarioError([("--vary", f"a range is start:stop or start:stop:step with start <= stop: {rhs!r}")])
        step = nums[2] if len(nums) == 3 else 1.0
        count = int(np.floor((nums[1] - nums[0]) / step + 1e-9)) + 1
        if count > MAX_VALUES:
            raise ScenarioError([("--vary", f"{rhs!r} is {count:,} values; at most {MAX_VALUES} in one range (a "
                                            "limit ccplan sets: widen the step or split the run)")])
        places = max(_decimals(p) for p in parts)
        values = [round(nums[0] + i * step, places) for i in range(count)]
        if all(float(p).is_integer() for p in nums):
            values = [int(round(v)) for v in values]
        return path, values
    values = [_parse_value(v) for v in rhs.split(",") if v.strip()]
    if len(values) > MAX_VALUES:
        raise ScenarioError([("--vary", f"{len(values):,} values; at most {MAX_VALUES} in one --vary")])
    return path, values


def variants_of(base: Scenario, vary: list[str]) -> list[tuple[str, Scenario]]:
    """Named variants of one scenario: the cross product of every ``--vary`` spec."""
    combos: list[tuple[str, dict]] = [("", {})]
    specs = [parse_vary(spec) for spec in vary]
    n_variants = int(np.prod([len(v) for _, v in specs])) if specs else 1
    if n_variants > MAX_VARIANTS:
        raise ScenarioError([("--vary", f"{' x '.join(str(len(v)) for _, v in specs)} = {n_variants:,} variants; at "
                                        f"most {MAX_VARIANTS} in one comparison (a limit ccplan sets)")])
    for path, values in specs:
        combos = [(f"{name}, {path}={v}".lstrip(", "), {**chg, path: v}) for name, chg in combos for v in values]
    out = []
    for name, changes in combos:
        out.append((name or base.name, base.with_changes(changes) if changes else base))
    return out


@dataclass
class Comparison:
    """Variants side by side. ``variants``: (name, SimulationResult, Economics) in the given order,
    the first being the baseline; ``table``: one row per variant x segment (and total) with
    estimate and CI of every metric (:func:`sim.metrics.summarise`: service level, ASA and abandonment
    are long-run ratios over all replications; ``days_meeting`` and ``daily_sl_p10`` per segment);
    ``differences``: variant - baseline per segment and metric with
    the paired CI (``ci_low``/``ci_high``), the unpaired one (``unpaired_ci_low``/``high``), and
    ``same_callers`` (False where the variant's arrivals differ: see :func:`different_callers`). A ratio's
    difference is the difference of the two long-run ratios (:func:`sim.metrics.ratio_difference`), so it
    equals the difference of the values in ``table``."""

    variants: list[tuple[str, SimulationResult, Economics]]
    table: pd.DataFrame
    differences: pd.DataFrame

    def callers_note(self) -> str:
        """One sentence on who the variants' callers are: the same (common random numbers), or which
        variants and segments draw other callers, so that their differences are not read as CRN-tight."""
        d = self.differences
        if d.empty or bool(d["same_callers"].all()):
            return "common random numbers: every variant sees the same callers"
        other = d[~d["same_callers"] & (d["segment"] != TOTAL)].drop_duplicates(["variant", "segment"])
        parts = [f"{v} ({', '.join(g['segment'])})" for v, g in other.groupby("variant", sort=False)]
        return ("one seed for every variant, but these variants' segments have other arrivals than the baseline, so "
                f"their callers differ: {'; '.join(parts)}. Their paired CIs are valid but no tighter than unpaired "
                "ones; every other segment sees the same callers")

    def to_json(self) -> dict:
        """The ``ccplan compare --json`` object."""
        from ccplan.report import finite as fin

        out: dict[str, Any] = {"variants": [], "differences": []}
        for name, _, _ in self.variants:
            sub = self.table[self.table["variant"] == name]
            segs: dict[str, dict] = {}
            for _, r in sub.iterrows():
                d = {}
                for m in SEGMENT_METRICS:
                    d[m] = fin(r[m])
                    if m in WITH_CI:
                        d[f"{m}_ci"] = [fin(r[f"{m}_ci_low"]), fin(r[f"{m}_ci_high"])]
                if r["segment"] != TOTAL:  # the total has no target
                    for m in DAY_METRICS:
                        d[m] = fin(r[m])
                    d["days_meeting_ci"] = [fin(r["days_meeting_ci_low"]), fin(r["days_meeting_ci_high"])]
                segs[r["segment"]] = d
            total = segs.pop(TOTAL)
            out["variants"].append({"name": name, "segments": segs, "total": total})
        for name, _, _ in self.variants[1:]:
            sub = self.differences[self.differences["variant"] == name]
            segs = {}
            for _, r in sub.iterrows():
                segs.setdefault(r["segment"], {})[r["metric"]] = {
                    "diff": fin(r["diff"]), "ci": [fin(r["ci_low"]), fin(r["ci_high"])],
                    "ci_unpaired": [fin(r["unpaired_ci_low"]), fin(r["unpaired_ci_high"])],
                    "same_callers": bool(r["same_callers"]),
                }
            out["differences"].append({"variant": name, "segments": segs})
        return out


def different_callers(base: Scenario, other: Scenario) -> list[str]:
    """The segments of ``other`` whose callers differ from the baseline's under one seed: a segment the
    baseline lacks, or whose arrivals are drawn from other inputs (calls per interval, opening time, interval
    length, busyness). Random streams are keyed by segment name, so every other segment sees the same callers
    (common random numbers) and its paired CI is tightened by them; for these the paired CI is still valid but
    no tighter than the unpaired one."""
    def arrivals(sc: Scenario, name: str) -> tuple:
        seg = sc.segment(name)
        return (tuple(sc.calls_per_interval(name).tolist()), sc.open_time, sc.interval_minutes,
                seg.busyness_cv, sc.simulation.busyness_cv)

    return [k for k in other.segment_names
            if k not in base.segment_names or arrivals(base, k) != arrivals(other, k)]


def paired_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float, float, float]:
    """(mean diff, paired low, paired high, unpaired low, unpaired high) for b - a over replications: the
    t interval of the per-replication differences (paired), and Welch's (unpaired). For counts, times and
    money; ratios over calls use :func:`sim.metrics.ratio_difference`."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    n = len(a)
    if n == 0:
        return (np.nan,) * 5
    mean = float((b - a).mean())
    if n < 2:
        return (mean, np.nan, np.nan, np.nan, np.nan)
    return difference_intervals(mean, a, b, level)


def compare(
    variants: list[tuple[str, Scenario]],
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_log: bool = False,
) -> Comparison:
    """Simulate every variant with common random numbers and line them up.

    ``replications`` and ``seed`` default to the first variant's; every variant x replication is
    submitted at once; ``progress(done, total)`` counts replications over all variants.
    """
    if not variants:
        raise ValueError("nothing to compare")
    base = variants[0][1]
    reps = base.simulation.replications if replications is None else int(replications)
    seed = base.simulation.seed if seed is None else int(seed)
    sims = simulate_many([sc for _, sc in variants], reps, seed, executor=executor, progress=progress,
                         keep_log=keep_log)
    results = [(name, res, price_simulation(res)) for (name, _), res in zip(variants, sims)]
    rows = []
    for name, _, eco in results:
        t = eco.summary.copy()
        t.insert(0, "variant", name)
        rows.append(t)
    table = pd.concat(rows, ignore_index=True)
    base_rep = results[0][2].per_replication
    diffs = []
    for (name, sc), (_, _, eco) in zip(variants[1:], results[1:]):
        rep = eco.per_replication
        other_callers = set(different_callers(base, sc))
        for seg in rep["segment"].unique():
            a = base_rep[base_rep["segment"] == seg].set_index("replication")
            b = rep[rep["segment"] == seg].set_index("replication")
            if a.empty:
                continue
            idx = a.index.intersection(b.index)
            for m in SEGMENT_METRICS:
                if m in RATIOS:  # long-run ratios: the difference of the ratios of sums (delta method)
                    num, den = RATIOS[m]
                    d, lo, hi, ulo, uhi = ratio_difference(a.loc[idx, num].to_numpy(), a.loc[idx, den].to_numpy(),
                                                           b.loc[idx, num].to_numpy(), b.loc[idx, den].to_numpy())
                else:
                    d, lo, hi, ulo, uhi = paired_difference(a.loc[idx, m].to_numpy(), b.loc[idx, m].to_numpy())
                diffs.append({"variant": name, "segment": seg, "metric": m, "diff": d, "ci_low": lo, "ci_high": hi,
                              "unpaired_ci_low": ulo, "unpaired_ci_high": uhi,
                              "same_callers": seg != TOTAL and seg not in other_callers
                              or seg == TOTAL and not other_callers})
    return Comparison(results, table, pd.DataFrame(diffs))


def frontier(comparison: Comparison, path: str) -> pd.DataFrame:
    """Cost vs service level per segment across the variants of a sweep.

    One row per variant x segment: value (of the varied path), agent_cost, service_level
    (the long-run ratio over all replications, with CIs), days_meeting (share of simulated days meeting the
    segment's target; nan for the total), profit; ``best`` marks the variant with the highest total profit.
    """
    rows = []
    for name, _, eco in comparison.variants:
        value = _value_in_name(name, path)
        for _, r in eco.summary.iterrows():
            rows.append({"variant": name, "value": value, "segment": r["segment"], "agent_cost": r["agent_cost"],
                         "service_level": r["service_level"], "service_level_ci_low": r["service_level_ci_low"],
                         "service_level_ci_high": r["service_level_ci_high"], "days_meeting": r["days_meeting"],
                         "profit": r["profit"],
                         "profit_ci_low": r["profit_ci_low"], "profit_ci_high": r["profit_ci_high"],
                         "abandon_rate": r["abandon_rate"], "asa_s": r["asa_s"]})
    df = pd.DataFrame(rows)
    totals = df[df["segment"] == TOTAL]
    best = totals.loc[totals["profit"].idxmax(), "variant"] if len(totals) else None
    df["best"] = df["variant"] == best
    return df


def _value_in_name(name: str, path: str) -> Any:
    for part in name.split(", "):
        if part.startswith(path + "="):
            return _parse_value(part.split("=", 1)[1])
    return name
