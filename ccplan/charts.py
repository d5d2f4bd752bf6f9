"""Figures: a DataFrame in, a matplotlib Figure out (no pyplot state).

Used by the CLI (``--out`` writes PNGs) and the app alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

MAX_SERIES = 10  # policy: past 10 segments or groups a chart is unreadable, and 300 panels took minutes to draw


def _busiest(df: pd.DataFrame, col: str, weight: str | None = None, limit: int = MAX_SERIES,
             what: str = "segments") -> tuple[pd.DataFrame, str]:
    """The rows of at most ``limit`` names of ``col`` to draw, and a note for the title when some are left out.

    Kept: the ``limit`` names with the largest sum of ``weight`` (the first ones without it); a ``total`` row
    always stays. The tables (CSV, JSON) still hold every name: only the picture is cut."""
    names = [k for k in dict.fromkeys(df[col]) if k != "total"]
    if len(names) <= limit:
        return df, ""
    if weight is not None:
        w = df.groupby(col, observed=True, sort=False)[weight].sum()
        top = set(sorted(names, key=lambda k: -float(np.nan_to_num(w.get(k, 0.0))))[:limit])
        keep = [k for k in names if k in top]
    else:
        keep = names[:limit]
    which = "busiest" if weight is not None else "first"
    return (df[df[col].isin(keep) | (df[col] == "total")],
            f" — the {limit} {which} of {len(names)} {what} (the tables hold all)")


def offered_load_figure(load: pd.DataFrame, title: str = "Offered load per interval") -> Figure:
    """Stacked area of offered load (Erlangs) per interval and segment.

    ``load`` has the columns of :meth:`Scenario.offered_load`: interval, time,
    segment, traffic_erlangs.
    """
    wide = load.pivot_table(index=["interval", "time"], columns="segment", values="traffic_erlangs", sort=False)
    wide = wide[list(dict.fromkeys(load["segment"]))]
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    x = range(len(wide))
    ax.stackplot(x, *[wide[c].to_numpy() for c in wide.columns], labels=list(wide.columns), alpha=0.85, step=None)
    times = [t for _, t in wide.index]
    step = max(1, len(times) // 12)
    ax.set_xticks(list(x)[::step], times[::step])
    ax.set_xlim(0, max(len(times) - 1, 1))
    ax.set_xlabel("interval start (clock time)")
    ax.set_ylabel("offered load (Erlangs)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", ncols=min(len(wide.columns), 4), frameon=False)
    return fig


_PCT = {"service_level", "abandon_rate", "occupancy"}
_LABEL = {
    "service_level": "service level (%)", "asa_s": "ASA (s)", "abandon_rate": "abandonment (%)",
    "wait_p90_s": "90th percentile wait (s)", "agent_cost": "agent cost", "profit": "profit contribution",
    "margin": "margin", "lost_value": "lost customer value", "telephony_cost": "telephony cost",
    "cost_per_answered": "cost per answered call", "mean_wait_s": "mean wait (s)",
}


def metric_label(metric: str, currency: str = "") -> str:
    """Axis label for a metric, with its unit."""
    lab = _LABEL.get(metric, metric)
    if currency and ("cost" in metric or metric in ("profit", "margin", "lost_value")):
        lab += f" ({currency})"
    return lab


def frontier_figure(frontier: pd.DataFrame, targets: dict[str, float], varied: str, currency: str = "") -> Figure:
    """Service level against agent cost per segment across a sweep; best-profit point marked, targets drawn.

    ``frontier`` has the columns of :func:`ccplan.comparison.frontier`.
    """
    frontier, note = _busiest(frontier, "segment", "agent_cost")
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    segs = [s for s in dict.fromkeys(frontier["segment"]) if s != "total"]
    colors = {s: f"C{i}" for i, s in enumerate(segs)}
    labels: list[tuple[float, float, str]] = []
    points: list[tuple[float, float]] = []
    for s in segs:
        d = frontier[frontier["segment"] == s].sort_values("agent_cost")
        ax.plot(d["agent_cost"], 100 * d["service_level"], "o-", color=colors[s], label=s, ms=4)
        ax.fill_between(d["agent_cost"], 100 * d["service_level_ci_low"], 100 * d["service_level_ci_high"],
                        color=colors[s], alpha=0.15, lw=0)
        b = d[d["best"]]
        if len(b):
            ax.plot(b["agent_cost"], 100 * b["service_level"], marker="*", ms=16, color=colors[s], mec="black",
                    ls="none")
        short = varied.rsplit(".", 1)[-1]
        # the two ends and the current point (label "... current"), placed later where they overlap nothing
        picks = [0, len(d) - 1]
        if "label" in d.columns:
            cur = np.flatnonzero(d["label"].astype(str).str.endswith("current").to_numpy())
            picks += [int(i) for i in cur[:1]]
        for i in dict.fromkeys(picks):
            r = d.iloc[i]
            text = str(r["label"]) if "label" in d.columns else f"{short}={r['value']}"
            labels.append((r["agent_cost"], 100 * r["service_level"], text))
        points += list(zip(d["agent_cost"], 100 * d["service_level"]))
    # one dashed line per distinct target, labelled with the segments it applies to
    by_target: dict[float, list[str]] = {}
    for s in segs:
        if s in targets:
            by_target.setdefault(targets[s], []).append(s)
    for tgt, names in by_target.items():
        col = colors[names[0]] if len(names) == 1 else "0.35"
        ax.axhline(100 * tgt, color=col, ls="--", lw=1, alpha=0.8)
        ax.annotate(f"target {tgt:.0%} ({', '.join(names)})", (0.01, 100 * tgt), xycoords=("axes fraction", "data"),
                    fontsize=8, color=col, va="bottom")
    ax.plot([], [], marker="*", ms=12, color="0.5", mec="black", ls="none", label="highest total profit")
    ax.legend(loc="lower right", frameon=False)
    _place_labels(ax, labels, points)
    ax.set_xlabel(metric_label("agent_cost", currency) + " allocated to the segment, per day")
    ax.set_ylabel("service level (% answered within target time)")
    ax.set_title(f"Cost vs service level per segment, varying {varied}" + note)
    ax.grid(alpha=0.3)
    return fig


def _place_labels(ax, labels: list[tuple[float, float, str]], points: list[tuple[float, float]],
                  fontsize: float = 8) -> None:
    """Annotate data points so that no label covers a data point, another label or the legend: for each label,
    the first of a few offsets around its point whose box is clear; a label with no clear place is left out."""
    fig = ax.figure
    fig.draw_without_rendering()  # final layout, so data -> pixel transforms hold
    to_px = ax.transData.transform
    pts = to_px(np.array(points, float)) if points else np.zeros((0, 2))
    taken = []
    leg = ax.get_legend()
    if leg is not None:
        bb = leg.get_window_extent()
        taken.append((bb.x0, bb.y0, bb.x1, bb.y1))
    ax_bb = ax.get_window_extent()
    char_w, line_h = fontsize * 0.62 * fig.dpi / 72, fontsize * 1.5 * fig.dpi / 72
    pt = fig.dpi / 72
    for x, y, text in labels:
        px, py = to_px((x, y))
        w = char_w * len(text)
        for dx, dy, ha in ((7, 5, "left"), (7, -5 - line_h / pt, "left"), (-7, 5, "right"),
                           (-7, -5 - line_h / pt, "right"), (0, 9, "center"), (0, -9 - line_h / pt, "center")):
            x0 = px + dx * pt - (w if ha == "right" else w / 2 if ha == "center" else 0)
            y0 = py + dy * pt
            box = (x0 - 2, y0 - 2, x0 + w + 2, y0 + line_h + 2)
            inside = ax_bb.x0 <= box[0] and box[2] <= ax_bb.x1 and ax_bb.y0 <= box[1] and box[3] <= ax_bb.y1
            covers = ((pts[:, 0] >= box[0] - 3) & (pts[:, 0] <= box[2] + 3) & (pts[:, 1] >= box[1] - 3)
                      & (pts[:, 1] <= box[3] + 3)).any() if len(pts) else False
            clash = any(not (box[2] < t[0] or t[2] < box[0] or box[3] < t[1] or t[3] < box[1]) for t in taken)
            if inside and not covers and not clash:
                taken.append(box)
                ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, dy), ha=ha, va="bottom",
                            fontsize=fontsize, color="0.25")
                break


def _wait_means(call_log: pd.DataFrame, segment: str) -> str:
    """The two averages people mix up, named: every caller's wait (abandoned ones until they hung up) and the ASA
    (answered callers only)."""
    seg = call_log[call_log["segment"] == segment]
    w_all = seg["wait_s"].dropna()
    w_ans = seg.loc[seg["answered"].astype(bool), "wait_s"].dropna() if "answered" in seg else w_all
    asa = f"{w_ans.mean():.1f} s" if len(w_ans) else "-"
    return f"mean wait, all callers {w_all.mean():.1f} s; ASA (answered) {asa}"


def wait_distribution_figure(call_log: pd.DataFrame, thresholds: dict[str, float] | None = None,
                             title: str = "Waiting time per segment") -> Figure:
    """Share of calls waiting at most x seconds (empirical CDF) per segment; abandoned calls included
    with the time they waited. Dotted lines: each segment's service-level threshold."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    segs = list(call_log["segment"].cat.categories) if hasattr(call_log["segment"], "cat") else \
        list(dict.fromkeys(call_log["segment"]))
    calls = call_log["segment"].value_counts().reindex(segs, fill_value=0)
    kept, note = _busiest(pd.DataFrame({"segment": segs, "calls": calls.to_numpy()}), "segment", "calls")
    segs = list(kept["segment"])
    wmax = 0.0
    for i, s in enumerate(segs):
        w = np.sort(call_log.loc[(call_log["segment"] == s) & call_log["wait_s"].notna(), "wait_s"].to_numpy())
        if len(w) == 0:
            continue
        wmax = max(wmax, float(np.percentile(w, 99)))
        ax.step(w, 100 * np.arange(1, len(w) + 1) / len(w), where="post", color=f"C{i}",
                label=f"{s}: {_wait_means(call_log, s)}")
        if thresholds and s in thresholds:
            ax.axvline(thresholds[s], color=f"C{i}", ls=":", lw=1)
    ax.set_xlim(0, max(wmax * 1.05, 10))
    ax.set_ylim(0, 101)
    ax.set_xlabel("waiting time (s) — dotted: service-level threshold")
    ax.set_ylabel("calls waiting at most this long (%)")
    ax.set_title(title + note)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", frameon=False)
    return fig


def day_figure(intervals: pd.DataFrame, group_intervals: pd.DataFrame, title: str = "The day") -> Figure:
    """Queue length per segment (top) and occupancy per agent group (bottom) per interval, mean with 95% CI."""
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    times = list(dict.fromkeys(intervals["time"]))
    x = np.arange(len(times))
    intervals, seg_note = _busiest(intervals, "segment", "queue_length")
    group_intervals, group_note = _busiest(group_intervals, "group", what="groups")
    title += seg_note + group_note.replace(" (the tables hold all)", "")
    for i, (s, d) in enumerate(intervals.groupby("segment", sort=False, observed=True)):
        d = d.sort_values("interval")
        ax1.plot(x, d["queue_length"], color=f"C{i}", label=s)
        if "queue_length_ci_low" in d:
            ax1.fill_between(x, np.maximum(d["queue_length_ci_low"], 0), d["queue_length_ci_high"], color=f"C{i}",
                             alpha=0.15, lw=0)
    ax1.set_ylabel("calls waiting (time-average)")
    ax1.set_ylim(bottom=0)
    ax1.set_title(title)
    ax1.legend(loc="upper left", frameon=False, ncols=4)
    ax1.grid(alpha=0.3)
    for i, (g, d) in enumerate(group_intervals.groupby("group", sort=False, observed=True)):
        d = d.sort_values("interval")
        ax2.plot(x, 100 * d["occupancy"], color=f"C{i + 4}", label=g)
        if "occupancy_ci_low" in d:
            ax2.fill_between(x, np.clip(100 * d["occupancy_ci_low"], 0, 100), np.clip(100 * d["occupancy_ci_high"], 0, 100),
                             color=f"C{i + 4}", alpha=0.15, lw=0)
    ax2.set_ylabel("occupancy (%)")
    ax2.set_ylim(0, 105)
    ax2.legend(loc="lower left", frameon=False, ncols=4)
    ax2.grid(alpha=0.3)
    step = max(1, len(times) // 12)
    ax2.set_xticks(x[::step], times[::step])
    ax2.set_xlabel("interval start (clock time)")
    return fig


def comparison_figure(table: pd.DataFrame, metric: str, currency: str = "",
                      title: str | None = None, targets: dict[str, float] | None = None) -> Figure:
    """Bars per segment and variant for one metric, with 95% CI whiskers; with ``targets`` (per segment, same
    unit as the metric) a target mark across each segment's bars.

    ``table`` has columns variant, segment, METRIC, METRIC_ci_low, METRIC_ci_high
    (:attr:`ccplan.comparison.Comparison.table`)."""
    table, note = _busiest(table, "segment", "offered")
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    variants = list(dict.fromkeys(table["variant"]))
    segs = [s for s in dict.fromkeys(table["segment"]) if s != "total"]
    width = 0.8 / max(len(variants), 1)
    scale = 100.0 if metric in _PCT else 1.0
    for i, v in enumerate(variants):
        d = table[table["variant"] == v].set_index("segment").reindex(segs)
        y = scale * d[metric].to_numpy(float)
        lo = scale * d[f"{metric}_ci_low"].to_numpy(float) if f"{metric}_ci_low" in d else y
        hi = scale * d[f"{metric}_ci_high"].to_numpy(float) if f"{metric}_ci_high" in d else y
        xs = np.arange(len(segs)) + (i - (len(variants) - 1) / 2) * width
        ax.bar(xs, y, width * 0.95, label=v, color=f"C{i}")
        ax.errorbar(xs, y, yerr=[np.nan_to_num(y - lo), np.nan_to_num(hi - y)], fmt="none", ecolor="black",
                    capsize=3, lw=1)
    if targets:
        marked = False
        for j, sname in enumerate(segs):
            if sname in targets:
                ax.hlines(scale * targets[sname], j - 0.45, j + 0.45, colors="black", linestyles="--", lw=1.6,
                          label=None if marked else "target")
                marked = True
    ax.set_xticks(np.arange(len(segs)), segs)
    ax.set_xlabel("customer segment (bars: variants; whiskers: 95% confidence interval)")
    ax.set_ylabel(metric_label(metric, currency))
    ax.set_title((title or f"{metric_label(metric, currency)} per segment (95% CI)") + note)
    ax.axhline(0, color="black", lw=0.6)
    ax.grid(alpha=0.3, axis="y")
    top = ax.get_ylim()[1]  # room above the bars for the legend, so it never covers them
    if top > 0:
        ax.set_ylim(top=min(top, 100.0) * 1.2 if metric == "service_level" else top * 1.2)
    ax.legend(frameon=False, fontsize=8, loc="upper left", ncols=min(len(variants) + 1, 5))
    return fig


def erlang_curves_figure(curve: pd.DataFrame, sl_target: float | None = None, answer_within_s: float | None = None,
                         required: int | None = None) -> Figure:
    """Service level, ASA and abandonment against agents, Erlang C and Erlang A side by side.

    ``curve`` has the columns of :func:`planner.staffing.staffing_curve`."""
    fig = Figure(figsize=(11, 3.6), layout="constrained")
    axes = fig.subplots(1, 3)
    styles = {"Erlang C": dict(color="C0", ls="-"), "Erlang A": dict(color="C3", ls="--")}
    for model, d in curve.groupby("model", sort=False):
        axes[0].plot(d["agents"], 100 * d["service_level"], label=model, **styles.get(model, {}))
        asa = d["asa_s"].where(np.isfinite(d["asa_s"]))
        axes[1].plot(d["agents"], asa, label=model, **styles.get(model, {}))
        axes[2].plot(d["agents"], 100 * d["abandon_rate"], label=model, **styles.get(model, {}))
    thr = f" within {answer_within_s:g} s" if answer_within_s is not None else ""
    axes[0].set_ylabel(f"service level (% answered{thr})")
    axes[1].set_ylabel("ASA (s)")
    axes[2].set_ylabel("abandonment (%)")
    if sl_target is not None:
        axes[0].axhline(100 * sl_target, color="0.4", ls=":", lw=1, label=f"target {sl_target:.0%}")
    for ax, title in zip(axes, ("Service level", "Average speed of answer", "Abandonment")):
        ax.set_xlabel("agents on the phones")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if required is not None and required > 0:
            ax.axvline(required, color="0.6", lw=1)
    axes[1].set_ylim(bottom=0)
    axes[0].legend(frameon=False, fontsize=8, loc="lower right")
    axes[2].legend(frameon=False, fontsize=8)
    return fig


def _panels(n: int) -> tuple[Figure, np.ndarray]:
    """A figure with ``n`` stacked panels sharing the interval axis."""
    fig = Figure(figsize=(9, 2.3 * n + 0.7), layout="constrained")
    return fig, np.atleast_1d(fig.subplots(n, 1, sharex=True))


def _finish_panels(fig: Figure, axes: np.ndarray, times: list[str], title: str, ncols: int) -> Figure:
    """Clock labels on the shared interval axis, the title, and one legend below the panels."""
    step = max(1, len(times) // 12)
    axes[-1].set_xticks(np.arange(len(times))[::step], times[::step])
    axes[-1].set_xlabel("interval start (clock time)")
    fig.suptitle(title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, fontsize=8, ncols=ncols, loc="outside lower center")
    return fig


def _group_panels(df: pd.DataFrame, weight: str) -> tuple[Figure, list[tuple], list[str], str]:
    """A panel per group of a tidy (interval x group) table, the :data:`MAX_SERIES` largest by ``weight``: the
    figure, (axis, group, its rows by interval, x positions) per panel, the clock labels of the intervals, and
    the title's note on groups left out."""
    times = list(df.sort_values("interval")["time"].drop_duplicates())
    df, note = _busiest(df, "group", weight, what="groups")
    names = list(dict.fromkeys(df["group"]))
    fig, axes = _panels(len(names))
    panels = []
    for ax, g in zip(axes, names):
        d = df[df["group"] == g].sort_values("interval")
        panels.append((ax, g, d, np.arange(len(d))))
    return fig, panels, times, note


def plan_figure(plan_df: pd.DataFrame) -> Figure:
    """Required (available) vs scheduled vs current scheduled agents per interval, one panel per group."""
    fig, panels, times, note = _group_panels(plan_df, "scheduled_agents")
    for ax, g, d, x in panels:
        ax.step(x, d["required_agents"], where="mid", label="required on the phones", color="C0")
        ax.step(x, d["scheduled_agents"], where="mid", label="scheduled (with shrinkage)", color="C1")
        ax.step(x, d["current_scheduled"], where="mid", label="scheduled in the scenario", color="0.4", ls="--")
        ax.fill_between(x, 0, d["traffic_erlangs"], step="mid", color="C0", alpha=0.12, label="offered load (Erl)")
        ax.set_ylabel(f"{g}\nagents")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    return _finish_panels(fig, [p[0] for p in panels], times, "Agents per interval: required, planned and current" + note,
                          4)


def trainer_figure(call_logs: dict[str, pd.DataFrame], thresholds: dict[str, float]) -> Figure:
    """Waiting-time distributions per segment, one panel per routing policy (same callers in each)."""
    fig = Figure(figsize=(13, 5.2), layout="constrained")  # read on a projector: large type, thick lines
    axes = np.atleast_1d(fig.subplots(1, len(call_logs), sharey=True))
    wmax = 1.0
    for log in call_logs.values():
        w = log["wait_s"].dropna()
        if len(w):
            wmax = max(wmax, float(np.percentile(w, 99)))
    for ax, (policy, log) in zip(axes, call_logs.items()):
        segs = list(log["segment"].cat.categories) if hasattr(log["segment"], "cat") else list(dict.fromkeys(log["segment"]))
        for i, s in enumerate(segs):
            w = np.sort(log.loc[(log["segment"] == s) & log["wait_s"].notna(), "wait_s"].to_numpy())
            if len(w):
                seg = log[log["segment"] == s]
                ans = seg.loc[seg["answered"].astype(bool), "wait_s"].dropna()
                ax.step(w, 100 * np.arange(1, len(w) + 1) / len(w), where="post", color=f"C{i}", lw=2.5,
                        label=f"{s}: ASA {ans.mean():.0f} s" if len(ans) else s)
            if s in thresholds:
                ax.axvline(thresholds[s], color="0.5", ls=":", lw=1.5)
        ax.set_title(f"routing: {policy}", fontsize=16)
        ax.set_xlim(0, wmax * 1.05)
        ax.set_xlabel("waiting time (s)", fontsize=14)
        ax.tick_params(labelsize=12)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=13, loc="lower right")
    axes[0].set_ylabel("callers waiting at most this long (%)", fontsize=14)
    return fig


_MARKERS = ["o", "s", "^", "D", "v", "P"]


def sl_cost_figure(table: pd.DataFrame, targets: dict[str, float], currency: str = "") -> Figure:
    """Service level against allocated agent cost per segment, one marker per variant (95% CI whiskers).

    ``table`` has the columns of :attr:`ccplan.comparison.Comparison.table`."""
    table, note = _busiest(table, "segment", "offered")
    fig = Figure(figsize=(9, 4.8), layout="constrained")
    ax = fig.add_subplot()
    variants = list(dict.fromkeys(table["variant"]))
    segs = [s for s in dict.fromkeys(table["segment"]) if s != "total"]
    for i, s in enumerate(segs):
        d = table[table["segment"] == s]
        for j, v in enumerate(variants):
            r = d[d["variant"] == v]
            if r.empty:
                continue
            r = r.iloc[0]
            y = 100 * r["service_level"]
            ax.errorbar(r["agent_cost"], y, yerr=[[y - 100 * r["service_level_ci_low"]],
                                                  [100 * r["service_level_ci_high"] - y]],
                        xerr=[[r["agent_cost"] - r["agent_cost_ci_low"]], [r["agent_cost_ci_high"] - r["agent_cost"]]],
                        marker=_MARKERS[j % len(_MARKERS)], color=f"C{i}", ms=8, capsize=3, lw=1, ls="none")
        if s in targets:
            ax.axhline(100 * targets[s], color=f"C{i}", ls="--", lw=1, alpha=0.7)
    seg_handles = [ax.plot([], [], color=f"C{i}", lw=6)[0] for i in range(len(segs))]
    var_handles = [ax.plot([], [], marker=_MARKERS[j % len(_MARKERS)], color="0.3", ls="none", ms=8)[0]
                   for j in range(len(variants))]
    # both legends outside the axes, on the right, so they never cover a point or a target line
    fig.legend(seg_handles, segs, title="segment (dashed: target)", loc="outside right upper", frameon=False,
               fontsize=8)
    fig.legend(var_handles, variants, title="variant", loc="outside right lower", frameon=False, fontsize=8)
    ax.set_xlabel(metric_label("agent_cost", currency) + " allocated to the segment, per day")
    ax.set_ylabel("service level (% answered within target time)")
    ax.set_title("Service level against cost per segment (95% CI)" + note)
    ax.grid(alpha=0.3)
    return fig


def verified_staffing_figure(groups: pd.DataFrame) -> Figure:
    """Scheduled agents per interval, analytic plan against simulation-verified, one panel per group.

    ``groups``: :attr:`ccplan.verification.VerifyResult.groups` (interval, time, group, agents_planned, agents_verified).
    """
    fig, panels, times, note = _group_panels(groups, "agents_verified")
    for ax, g, d, x in panels:
        ax.step(x, d["agents_planned"], where="mid", color="0.45", ls="--", label="analytic plan")
        ax.step(x, d["agents_verified"], where="mid", color="C2", lw=2, label="verified by simulation")
        ax.set_ylabel(f"{g}\nscheduled agents")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    return _finish_panels(fig, [p[0] for p in panels], times,
                          "Scheduled agents: analytic plan and verified by simulation" + note, 2)


def verified_service_figure(intervals: pd.DataFrame) -> Figure:
    """Simulated service level per interval with its 95% CI band against the target, one panel per segment.

    ``intervals``: :attr:`ccplan.verification.VerifyResult.intervals`. Intervals with too few calls to judge are
    drawn hollow; the analytic plan's simulated service level is the dashed line.
    """
    times = list(intervals.sort_values("interval")["time"].drop_duplicates())
    shown, note = _busiest(intervals, "segment")
    names = list(dict.fromkeys(shown["segment"]))
    fig, axes = _panels(len(names))
    for ax, s in zip(axes, names):
        d = shown[shown["segment"] == s].sort_values("interval")
        x = np.arange(len(d))
        ax.fill_between(x, d["service_level_ci_low"] * 100, d["service_level_ci_high"] * 100, color="C2", alpha=0.2,
                        label="95% CI (verified)")
        judged = d["judged"].to_numpy(bool)
        ax.plot(x, d["service_level"] * 100, color="C2", lw=1.5, label="verified staffing")
        ax.plot(x[judged], d["service_level"].to_numpy()[judged] * 100, "o", color="C2", ms=4)
        ax.plot(x[~judged], d["service_level"].to_numpy()[~judged] * 100, "o", mfc="none", color="C2", ms=4,
                label="too few calls to judge")
        ax.plot(x, d["service_level_planned"] * 100, color="0.45", ls="--", lw=1, label="analytic plan (simulated)")
        ax.step(x, d["target"] * 100, where="mid", color="C3", lw=1, label="target")
        ax.set_ylabel(f"{s}\nservice level %")
        ax.set_ylim(max(0, float(np.nanmin(d[["service_level_ci_low", "service_level_planned"]].to_numpy())) * 100 - 5),
                    101)
        ax.grid(alpha=0.3)
    return _finish_panels(fig, axes, times, "Simulated service level per interval" + note, 5)


def roster_coverage_figure(coverage: pd.DataFrame) -> Figure:
    """Requirement against roster coverage (agents on duty and not on break) per interval, one panel per group;
    surplus shaded, shortfall in red.

    ``coverage``: :attr:`planner.roster.Roster.coverage` (interval, time, group, required, coverage).
    """
    fig, panels, times, note = _group_panels(coverage, "required")
    for ax, g, d, x in panels:
        req, cov = d["required"].to_numpy(float), d["coverage"].to_numpy(float)
        ax.fill_between(x, req, cov, where=cov >= req, step="mid", color="C2", alpha=0.25, label="surplus")
        ax.fill_between(x, cov, req, where=cov < req, step="mid", color="C3", alpha=0.5, label="shortfall")
        ax.step(x, req, where="mid", color="0.2", lw=1.5, ls="--", label="required (scheduled agents)")
        ax.step(x, cov, where="mid", color="C2", lw=2, label="roster: on duty, not on break")
        ax.set_ylabel(f"{g}\nagents")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
    return _finish_panels(fig, [p[0] for p in panels], times, "Requirement and roster coverage per interval" + note, 4)


def _clock_h(hhmm: str, open_h: float) -> float:
    h, m = (int(v) for v in hhmm.split(":"))
    t = h + m / 60.0
    return t + 24.0 if t < open_h else t


def roster_gantt_figure(shifts: pd.DataFrame, open_time: str, day_hours: float) -> Figure:
    """Gantt view of a roster: one bar per group x shift x start x break times, its agent count written on it,
    breaks cut out of the bar.

    ``shifts``: :attr:`planner.roster.Roster.shifts` (group, shift, start, end, breaks, break_minutes, agents).
    ``open_time`` HH:MM and ``day_hours`` set the clock axis.
    """
    open_h = _clock_h(open_time, 0.0)
    rows = shifts.reset_index(drop=True)
    n = max(len(rows), 1)
    fig = Figure(figsize=(9, min(0.24 * n + 1.6, 24)), layout="constrained")
    ax = fig.add_subplot()
    groups = list(dict.fromkeys(rows["group"])) if len(rows) else []
    kinds = list(dict.fromkeys(rows["shift"])) if len(rows) else []
    for i, r in rows.iterrows():
        y = n - 1 - i
        s, e = _clock_h(r["start"], open_h), _clock_h(r["end"], open_h)
        color = f"C{kinds.index(r['shift']) % 10}"
        ax.broken_barh([(s, e - s)], (y - 0.38, 0.76), color=color, alpha=0.75)
        for b, length_min in zip(r["breaks"], r["break_minutes"]):
            ax.broken_barh([(_clock_h(b, open_h), length_min / 60.0)], (y - 0.38, 0.76), color="white")
        ax.text(s + 0.05, y, f"{r['agents']}", va="center", ha="left", fontsize=7, color="black")
    ax.set_yticks([n - 1 - i for i in range(len(rows))],
                  [f"{r['group']} · {r['shift']} {r['start']}" for _, r in rows.iterrows()], fontsize=7)
    ax.set_xlim(open_h, open_h + day_hours)
    ticks = np.arange(np.ceil(open_h), open_h + day_hours + 1e-9, 1.0)
    ax.set_xticks(ticks, [f"{int(t) % 24:02d}:00" for t in ticks], fontsize=8)
    ax.set_xlabel("clock time (white gaps: breaks; number: agents)")
    handles = [ax.plot([], [], color=f"C{k % 10}", lw=8, alpha=0.75)[0] for k in range(len(kinds))]
    if kinds:
        ax.legend(handles, kinds, title="shift", frameon=False, fontsize=8, loc="upper right")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Roster: shifts and breaks" + (f" ({', '.join(groups)})" if groups else ""))
    return fig


def forecast_figure(history: pd.DataFrame, forecast: pd.DataFrame, history_days: int = 10) -> Figure:
    """Recent history and the forecast with its p10-p90 band, interval by interval, one panel per segment.

    ``history``: rolled-up calls (segment, date, slot, offered); ``forecast``: rows of
    :func:`planner.forecast.forecast` (date, interval_start, segment, forecast, p10, p90).
    Days are laid side by side; ticks mark each day's first interval.
    """
    forecast, note = _busiest(forecast, "segment", "forecast")
    segs = list(dict.fromkeys(forecast["segment"]))
    fig, axes = _panels(len(segs))
    for ax, seg in zip(axes, segs):
        h = history[history["segment"] == seg]
        days = sorted(h["date"].unique())[-history_days:]
        h = h[h["date"].isin(days)].sort_values(["date", "slot"])
        f = forecast[forecast["segment"] == seg]
        x_hist = np.arange(len(h))
        x_fc = np.arange(len(h), len(h) + len(f))
        ax.plot(x_hist, h["offered"], color="0.35", lw=1, label="history")
        ax.fill_between(x_fc, f["p10"], f["p90"], color="C0", alpha=0.25, label="p10–p90")
        ax.plot(x_fc, f["forecast"], color="C0", lw=1.2, label="forecast")
        ax.axvline(len(h) - 0.5, color="0.5", ls=":", lw=1)
        ax.set_ylabel(f"{seg}\ncalls / interval")
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        labels = [str(d) for d in h["date"]] + list(f["date"])
        starts = [i for i in range(len(labels)) if i == 0 or labels[i] != labels[i - 1]]
        step = max(1, len(starts) // 10)
        ax.set_xticks(starts[::step], [str(labels[i])[5:] for i in starts[::step]], fontsize=8)
    axes[-1].set_xlabel("day (month-day); each day's open intervals side by side")
    fig.suptitle("Calls per interval: recent history and forecast" + note)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, fontsize=8, ncols=3, loc="outside lower center")
    return fig


def backtest_figure(table: pd.DataFrame) -> Figure:
    """WAPE (bars) and p10–p90 coverage per method and segment from a rolling-origin backtest."""
    table, note = _busiest(table, "segment")
    segs = list(dict.fromkeys(table["segment"]))
    methods = list(dict.fromkeys(table["method"]))
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax = fig.add_subplot()
    width = 0.8 / len(methods)
    for j, m in enumerate(methods):
        d = table[table["method"] == m].set_index("segment").reindex(segs)
        bars = ax.bar(np.arange(len(segs)) + j * width, 100 * d["wape"], width, label=m, color=f"C{j}")
        for b, cov in zip(bars, d["coverage_80"]):
            ax.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{cov:.0%}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(np.arange(len(segs)) + 0.4 - width / 2, segs)
    ax.set_ylabel("WAPE (%), lower is better")
    ax.set_title("Backtest: error per method (numbers: share of actual intervals inside p10–p90; 80% is honest)" + note)
    ax.legend(frameon=False, fontsize=8, ncols=len(methods))
    ax.grid(axis="y", alpha=0.3)
    return fig


def chain_backtest_figure(days: pd.DataFrame, service: pd.DataFrame, targets: dict[str, float],
                          currency: str = "") -> Figure:
    """The whole chain judged on real days (``ccplan backtest``): the service level of each simulated day under the
    forecast's staffing, the oracle's (staffed from the actual volumes) and the naive forecast's, against each
    segment's target (one panel per segment), and each day's agent cost beside the oracle's (the last panel).

    ``days``: origin, date, kind, cost; ``service``: origin, date, kind, segment, service_level (shares);
    ``targets``: segment -> target share. Days are laid side by side in origin order; dotted lines part origins."""
    service, note = _busiest(service, "segment", "calls")
    segs = list(dict.fromkeys(service["segment"]))
    fig, axes = _panels(len(segs) + 1)
    order = days[days["kind"] == "forecast"][["origin", "date"]].drop_duplicates().reset_index(drop=True)
    x_of = {(o, d): i for i, (o, d) in enumerate(zip(order["origin"], order["date"]))}
    starts = [i for i in range(len(order)) if i == 0 or order["origin"][i] != order["origin"][i - 1]]
    style = {"forecast": ("C0", "-", "staffed from the forecast"), "oracle": ("C2", "--", "oracle (actual volumes)"),
             "naive": ("C3", ":", "naive (mean of 4 same weekdays)")}
    for ax, seg in zip(axes, segs):
        for kind, (color, ls, label) in style.items():
            d = service[(service["segment"] == seg) & (service["kind"] == kind)]
            x = [x_of[(o, dd)] for o, dd in zip(d["origin"], d["date"])]
            ax.plot(x, 100 * d["service_level"], color=color, ls=ls, marker=".", lw=1, label=label)
        if seg in targets:
            ax.axhline(100 * targets[seg], color="0.3", lw=1, label="target")
        ax.set_ylabel(f"{seg}\nservice level (%)")
        ax.grid(alpha=0.3)
    ax = axes[-1]
    for kind, (color, ls, label) in style.items():
        d = days[days["kind"] == kind]
        x = [x_of[(o, dd)] for o, dd in zip(d["origin"], d["date"])]
        ax.plot(x, d["cost"], color=color, ls=ls, marker=".", lw=1)
    ax.set_ylabel(f"agent cost per day\n{currency}".strip())
    ax.grid(alpha=0.3)
    for a in axes:
        for s in starts[1:]:
            a.axvline(s - 0.5, color="0.5", ls=":", lw=1)
    step = max(1, len(order) // 12)
    axes[-1].set_xticks(np.arange(len(order))[::step], [str(d)[5:] for d in order["date"]][::step], fontsize=8)
    axes[-1].set_xlabel("simulated day (month-day), origin by origin")
    fig.suptitle("How the plan would have done: service level on the actual volumes, and cost" + note)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, fontsize=8, ncols=4, loc="outside lower center")
    return fig


def _hour(hhmm: str) -> float:
    h, m = (int(v) for v in hhmm.split(":"))
    return h + m / 60.0


def week_gantt_figure(agents: pd.DataFrame, dates: list[str], hours: tuple[float, float]) -> Figure:
    """Gantt view of a week of tours: one row per agent, the 7 days side by side (each from ``hours[0]`` to
    ``hours[1]``, clock hours), each working day a bar coloured by contract with its breaks cut out.

    ``agents``: :attr:`planner.tours.TourRoster.agents` (agent, contract, group, date, start, end, breaks,
    break_minutes); ``dates``: the week's 7 ISO dates.
    """
    h0, h1 = hours
    span = max(h1 - h0, 1.0)
    ids = sorted(agents["agent"].unique()) if len(agents) else []
    n = max(len(ids), 1)
    fig = Figure(figsize=(11, min(0.17 * n + 1.9, 30)), layout="constrained")
    ax = fig.add_subplot()
    contracts = list(dict.fromkeys(agents["contract"])) if len(agents) else []
    row = {a: n - 1 - i for i, a in enumerate(ids)}
    day = {d: k for k, d in enumerate(dates)}
    height = 0.76 if n <= 60 else 0.9
    for r in agents.itertuples():
        s = _hour(r.start)
        e = _hour(r.end)
        e = e + 24.0 if e <= s else e
        x0 = day[r.date] * span + s - h0
        y = row[r.agent]
        ax.broken_barh([(x0, e - s)], (y - height / 2, height), color=f"C{contracts.index(r.contract) % 10}",
                       alpha=0.8, linewidth=0)
        for b, length_min in zip(r.breaks, r.break_minutes):
            bs = _hour(b)
            bs = bs + 24.0 if bs < s else bs
            ax.broken_barh([(day[r.date] * span + bs - h0, length_min / 60.0)], (y - height / 2, height),
                           color="white", linewidth=0)
    for k in range(1, len(dates)):
        ax.axvline(k * span, color="0.4", lw=0.8)
    if len(ids):  # groups: a line between them, the name at the left of its rows
        first = agents.drop_duplicates("agent").set_index("agent")["group"]
        names = [first[a] for a in ids]
        for i in range(len(ids)):
            if i == 0 or names[i] != names[i - 1]:
                top = n - 1 - i
                count = names.count(names[i])
                if i:
                    ax.axhline(top + 0.5, color="0.2", lw=1.2)
                ax.text(-0.01, top - (count - 1) / 2, names[i], transform=ax.get_yaxis_transform(), rotation=90,
                        ha="right", va="center", fontsize=9, fontweight="bold")
    ax.set_xlim(0, len(dates) * span)
    ax.set_ylim(-1, n)
    labels = [pd.Timestamp(d).strftime("%a %d.%m") for d in dates]
    ax.set_xticks([(k + 0.5) * span for k in range(len(dates))], labels, fontsize=8)
    if len(ids) <= 60:
        ax.set_yticks([row[a] for a in ids], [f"Agent {a}" for a in ids], fontsize=6)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(ids)} agents, one per row, Agent 1 at the top", labelpad=18)
    ax.set_xlabel(f"each day {int(h0) % 24:02d}:{round(h0 % 1 * 60):02d}–{int(h1) % 24:02d}:{round(h1 % 1 * 60):02d} "
                  "(white gaps: breaks; empty: day off)")
    handles = [ax.plot([], [], color=f"C{k % 10}", lw=8, alpha=0.8)[0] for k in range(len(contracts))]
    if contracts:
        fig.legend(handles, contracts, title="contract", frameon=False, fontsize=8, loc="outside lower center",
                   ncols=len(contracts))
    ax.grid(axis="x", alpha=0.2)
    ax.set_title(f"Week roster: {len(ids)} agents, their days, starts and breaks")
    return fig


def week_coverage_figure(coverage: pd.DataFrame) -> Figure:
    """Requirement against the week roster's coverage (agents on duty and not on break), every open day's
    intervals side by side, one panel per group; surplus shaded, shortfall in red.

    ``coverage``: :attr:`planner.tours.TourRoster.coverage` (date, interval, time, group, required, covered).
    """
    coverage, note = _busiest(coverage, "group", "required", what="groups")
    names = list(dict.fromkeys(coverage["group"]))
    fig = Figure(figsize=(11, 2.3 * len(names) + 0.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(len(names), 1, sharex=True))
    dates = list(dict.fromkeys(coverage["date"]))
    for ax, g in zip(axes, names):
        d = coverage[coverage["group"] == g].sort_values(["date", "interval"])
        x = np.arange(len(d))
        req, cov = d["required"].to_numpy(float), d["covered"].to_numpy(float)
        ax.fill_between(x, req, cov, where=cov >= req, step="mid", color="C2", alpha=0.25, label="surplus")
        ax.fill_between(x, cov, req, where=cov < req, step="mid", color="C3", alpha=0.5, label="shortfall")
        ax.step(x, req, where="mid", color="0.2", lw=1.2, ls="--", label="required (scheduled agents)")
        ax.step(x, cov, where="mid", color="C2", lw=1.6, label="week roster: on duty, not on break")
        starts = np.flatnonzero(np.r_[True, d["date"].to_numpy()[1:] != d["date"].to_numpy()[:-1]])
        for s in starts[1:]:
            ax.axvline(s - 0.5, color="0.4", lw=0.8)
        ax.set_ylabel(f"{g}\nagents")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    ends = list(starts[1:]) + [len(d)]
    axes[-1].set_xticks([(a + b - 1) / 2 for a, b in zip(starts, ends)],
                        [pd.Timestamp(day).strftime("%a %d.%m") for day in dates], fontsize=8)
    axes[-1].set_xlabel("open days, each from its first interval to its last")
    fig.suptitle("Requirement and week roster coverage per interval" + note)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, fontsize=8, ncols=4, loc="outside lower center")
    return fig
