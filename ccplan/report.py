"""Formatting shared by the CLI and the app: what a service-level figure means, target labels.

Pure functions of a Scenario and numbers; no Rich, no Streamlit.
"""

from __future__ import annotations

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
