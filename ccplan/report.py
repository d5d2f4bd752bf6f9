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
