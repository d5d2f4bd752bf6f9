"""Formatting shared by the CLI and the app: what a service-level figure means, target labels.

Pure functions of a Scenario and numbers; no Rich, no Streamlit.
"""

from __future__ import annotations

import functools

from ccplan.scenario import Scenario


def target_text(scenario: Scenario, segment: str) -> str:
    """A segment's target, short: "80% in 20 s" (tables print :func:`sl_caption` under them)."""
    return f"{scenario.sl_target(segment):.0%} in {scenario.answer_within_s(segment):g} s"


def sl_caption(scenario: Scenario) -> str:
    """How service level is taken in this scenario, in one line: "service level = answered in 20 s / offered",
    or per segment when they differ ("service level: gold answered in 10 s / answered; silver ...")."""
    labels = {k: scenario.sl_label(k) for k in scenario.segment_names}
    if len(set(labels.values())) == 1:
        return f"service level = {next(iter(labels.values()))}"
    return "service level: " + "; ".join(f"{k} {v}" for k, v in labels.items())


RATE_METRICS = ("service_level", "abandon_rate", "occupancy", "block_rate")


def delta_text(value: float, metric: str, sign: bool = True) -> str:
    """A difference as people read it: rates in percentage points ("+6.1 pts"), seconds with "s", money plain."""
    if value != value:
        return "-"
    digits = 1 if metric in RATE_METRICS or metric.endswith("_s") else 0
    value = round(value * (100 if metric in RATE_METRICS else 1), digits) / (100 if metric in RATE_METRICS else 1)
    value = value + 0.0  # no "-0": a difference that rounds to nothing has no sign
    if value == 0:
        value = 0.0
    plus = "+" if sign else ""
    if metric in RATE_METRICS:
        return f"{value * 100:{plus}.1f} pts" if sign else f"{value * 100:.1f}"
    if metric.endswith("_s"):
        return f"{value:{plus}.1f} s" if sign else f"{value:.1f}"
    return f"{value:{plus},.0f}" if sign else f"{value:,.0f}"


def below_load_note(plan) -> str | None:
    """One paragraph when the plan staffs a group below its offered load in some interval (Erlang A allows it when
    abandonment absorbs the excess), naming the worst case and each segment's daily abandonment; else None."""
    df = plan.groups
    below = df[(df["traffic_erlangs"] > 0) & (df["required_agents"] < df["traffic_erlangs"])]
    if not len(below):
        return None
    w = below.assign(gap=below["traffic_erlangs"] - below["required_agents"]).sort_values("gap").iloc[-1]
    seg = plan.daily_segments()
    abandon = ", ".join(f"{r.segment} {r.abandon_rate:.1%}" for r in seg.itertuples())
    return (f"Below the offered load in {len(below)} interval(s): e.g. {w['group']} at {w['time']} has "
            f"{int(w['required_agents'])} agents for {w['traffic_erlangs']:.1f} Erlangs. Erlang A allows it because "
            f"callers abandon ({abandon} of calls a day). Give the segments a maximum abandonment, or cap occupancy, "
            "to staff at or above the load.")


def _same(a: float, b: float) -> bool:
    """Two mean waits a class would call 'about the same' (within 2 s or 15%)."""
    return abs(a - b) <= max(2.0, 0.15 * max(abs(a), abs(b)))


def _between(x: float, a: float, b: float) -> bool:
    lo, hi = min(a, b), max(a, b)
    return lo - 1.0 < x < hi + 1.0 and not _same(x, a) and not _same(x, b)


def trainer_story(wait_s: dict[tuple[str, str], float], pooled_s: dict[str, float], abandon: dict[str, float],
                  load: float, aging_s: float) -> list[str]:
    """The Trainer page's sentences, each one true of these results: ``wait_s[(policy, segment)]`` mean waits
    (s) for policies fifo / priority / aging and segments gold / silver, ``pooled_s`` each policy's mean wait over
    all callers, ``abandon`` each policy's abandonment rate, ``load`` offered Erlangs per agent."""
    fg, fs = wait_s[("fifo", "gold")], wait_s[("fifo", "silver")]
    pg, ps = wait_s[("priority", "gold")], wait_s[("priority", "silver")]
    ag, as_ = wait_s[("aging", "gold")], wait_s[("aging", "silver")]
    out = []
    if _same(fg, fs):
        out.append(f"**FIFO** (first come, first served): gold and silver wait about the same — {fg:.0f} s and "
                   f"{fs:.0f} s on average.")
    else:
        out.append(f"**FIFO** (first come, first served): gold waits {fg:.0f} s and silver {fs:.0f} s on average.")
    if pg < fg and not _same(pg, fg):
        gold = f"gold's wait drops to **{pg:.0f} s**"
    else:
        gold = f"gold waits {pg:.0f} s (about as under FIFO)"
    silver = f"silver's rises to **{ps:.0f} s**" if ps > fs and not _same(ps, fs) else f"silver waits {ps:.0f} s"
    out.append(f"**Strict priority** serves gold first: {gold}, {silver}.")
    aging = f"**Aging** lets a waiting silver call climb one step every {aging_s:g} s: gold waits {ag:.0f} s and " \
            f"silver {as_:.0f} s"
    if _between(ag, fg, pg) and _between(as_, fs, ps):
        aging += " — in between FIFO and priority."
    elif _same(ag, pg) and _same(as_, ps):
        aging += " — at this load much like strict priority: few silver calls wait long enough to climb."
    elif _same(ag, fg) and _same(as_, fs):
        aging += " — at this load much like FIFO: silver calls climb before gold gains much."
    else:
        aging += "."
    out.append(aging)
    lo, hi = min(pooled_s.values()), max(pooled_s.values())
    waits = f"{pooled_s['fifo']:.0f} s FIFO, {pooled_s['priority']:.0f} s priority, {pooled_s['aging']:.0f} s aging"
    if _same(lo, hi):
        out.append(f"Over all callers the average wait hardly moves ({waits}): **priorities move waiting time between "
                   "segments; only more agents or shorter calls remove it.**")
    else:
        out.append(f"Over all callers the average wait moves ({waits}): with callers hanging up, the routing also "
                   "changes who gives up, and so how much waiting is left.")
    ab = max(abandon.values())
    if load >= 1.0:
        out.append(f"The load is {load:.2f} Erlangs per agent: more work arrives than the agents can do, and only "
                   f"callers hanging up keep the queue finite ({ab:.0%} abandon under "
                   f"{max(abandon, key=abandon.get)}).")
    elif ab >= 0.02:
        out.append(f"At {load:.2f} Erlangs per agent {ab:.1%} of callers already hang up under "
                   f"{max(abandon, key=abandon.get)}; push the load higher and watch silver under priority.")
    else:
        out.append(f"At {load:.2f} Erlangs per agent almost nobody hangs up ({ab:.1%}); push the load towards and past "
                   "1.0 to see the queue grow and silver pay for it under priority.")
    return out


# How a column is shown in a table: (label, kind), kind one of "percent", "seconds", "money", "count", "number",
# "hours", "text". One list for every page, so a column reads the same wherever it appears.
COLUMNS: dict[str, tuple[str, str]] = {
    "time": ("time", "text"), "interval": ("interval #", "count"), "group": ("group", "text"),
    "segment": ("segment", "text"), "calls": ("calls", "count"), "offered": ("offered calls", "count"),
    "answered": ("answered", "count"), "abandoned": ("abandoned", "count"), "blocked": ("blocked", "count"),
    "traffic_erlangs": ("load (Erlangs)", "number"), "required_agents": ("agents needed (on the phones)", "count"),
    "scheduled_agents": ("agents to schedule", "count"), "current_scheduled": ("scheduled now", "count"),
    "cost_optimal_agents": ("profit-best agents (on the phones)", "count"),
    "cost_optimal_scheduled": ("profit-best to schedule", "count"),
    "marginal_value": ("value of +1 agent", "money"), "occupancy": ("occupancy", "percent"),
    "agent_hours": ("agent hours", "hours"), "current_agent_hours": ("agent hours now", "hours"),
    "peak_required": ("peak agents needed", "count"), "peak_scheduled": ("peak agents to schedule", "count"),
    "cost": ("cost", "money"), "agent_cost": ("agent cost", "money"), "telephony_cost": ("telephony", "money"),
    "margin": ("margin", "money"), "lost_value": ("lost customer value", "money"), "profit": ("profit", "money"),
    "cost_per_answered": ("cost per answered call", "money2"), "cost_per_sl_point": ("cost per SL point", "money"),
    "service_level": ("service level", "percent"), "service_level_current": ("SL at scenario staffing", "percent"),
    "service_level_ci_low": ("SL 95% CI low", "percent"), "service_level_ci_high": ("SL 95% CI high", "percent"),
    "service_level_planned": ("SL at the analytic plan (simulated)", "percent"),
    "abandon_rate": ("abandonment", "percent"), "block_rate": ("blocked (lines)", "percent"),
    "asa_s": ("ASA (s)", "seconds"), "target": ("target", "text"), "judged": ("enough calls to judge", "text"),
    "meets": ("meets target", "text"), "worst_interval": ("worst interval", "text"),
    "worst_interval_service_level": ("SL there", "percent"),
    "agents_planned": ("agents planned", "count"), "agents_verified": ("agents verified", "count"),
    "available_planned": ("on the phones, planned", "count"), "available_verified": ("on the phones, verified",
                                                                                    "count"),
    "paid_hours": ("paid hours", "hours"), "required_hours": ("required hours", "hours"),
    "efficiency": ("efficiency", "percent"), "shortfall": ("shortfall", "count"), "surplus": ("surplus", "count"),
    "required": ("required", "count"), "scheduled": ("scheduled", "count"), "covered": ("covered", "count"),
    "headcount": ("headcount", "count"), "shift": ("shift", "text"), "start": ("start", "text"),
    "end": ("end", "text"), "breaks": ("breaks", "text"),
}


def column_label(name: str, currency: str = "") -> str:
    """A column's label as people read it (money columns carry the currency); unknown names lose underscores."""
    label, kind = COLUMNS.get(name, (name.replace("_", " "), "number"))
    return f"{label} ({currency})" if kind.startswith("money") and currency else label


def glossary(readme: "str | None" = None) -> list[tuple[str, str]]:
    """The README's glossary as (term, explanation) pairs: one text for the README and the app. ``readme``: the
    README's text (default: the README.md of this checkout; empty when there is none)."""
    import re
    from pathlib import Path

    if readme is None:
        path = Path(__file__).resolve().parents[1] / "README.md"
        if not path.exists():
            return []
        return list(_glossary_of_file(str(path), path.stat().st_mtime_ns))
    m = re.search(r"^## Glossary\n(.*?)(?=^## )", readme, flags=re.S | re.M)
    if not m:
        return []
    out = []
    for item in re.split(r"\n(?=- \*\*)", m.group(1).strip()):
        hit = re.match(r"- \*\*(.+?)\*\*\s*—\s*(.*)", item.strip(), flags=re.S)
        if hit:
            out.append((hit.group(1).strip(), " ".join(hit.group(2).split())))
    return out


def finite(x) -> float | None:
    """A number for JSON, which has no inf or NaN: such values become null (None)."""
    import math

    x = float(x)
    return x if math.isfinite(x) else None


def mean_ci(mean: float, lo: float, hi: float, fmt: str, sep: str = " ± ") -> str:
    """"mean ± half-width" of a confidence interval in ``fmt`` ("0.934 ± 0.012" as ".1%" -> "93.4% ± 1.2%");
    the mean alone when the interval is unknown (one replication)."""
    import math

    if lo is None or hi is None or (isinstance(lo, float) and math.isnan(lo)) or (isinstance(hi, float)
                                                                                and math.isnan(hi)):
        return format(mean, fmt)
    return f"{format(mean, fmt)}{sep}{format((hi - lo) / 2, fmt)}"


def row_ci(row, col: str, fmt: str, sep: str = " ± ") -> str:
    """:func:`mean_ci` of ``col`` in a row holding ``col``, ``col_ci_low`` and ``col_ci_high``."""
    return mean_ci(row[col], row.get(f"{col}_ci_low"), row.get(f"{col}_ci_high"), fmt, sep)


def records(frame) -> list[dict]:
    """A table's rows as JSON-ready dicts: floats through :func:`finite` (inf and NaN become null)."""
    return [{k: (finite(v) if isinstance(v, float) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


@functools.lru_cache(maxsize=4)
def _glossary_of_file(path: str, _mtime_ns: int) -> tuple[tuple[str, str], ...]:
    """The glossary of a README file, read once per version of the file (the app asks on every rerun)."""
    from pathlib import Path

    return tuple(glossary(Path(path).read_text(encoding="utf-8")))
