"""Compare page: 2-4 variants of the current scenario side by side, paired differences, and a cost/SL frontier."""

import math

import pandas as pd
import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.comparison import compare, frontier
from ccplan.outputs import csv_text
from ccplan.report import delta_text, sl_caption
from ccplan.scenario import OPTIONS, ScenarioError

def difference_table(diffs: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Readable differences: one row per variant, segment and metric; differences of rates in percentage points."""
    rows = []
    for _, r in diffs[diffs["metric"].isin(["service_level", "asa_s", "abandon_rate", "agent_cost", "profit"])].iterrows():
        money = r["metric"] in ("agent_cost", "profit")

        def f(x: float, metric: str = r["metric"], money: bool = money) -> str:
            if pd.isna(x):
                return "—"
            return delta_text(x, metric) + (f" {currency}" if money else "")

        rows.append({"variant": r["variant"], "segment": r["segment"], "metric": charts.metric_label(r["metric"]),
                     "difference": f(r["diff"]), "paired 95% CI": f"{f(r['ci_low'])} … {f(r['ci_high'])}",
                     "unpaired 95% CI": f"{f(r['unpaired_ci_low'])} … {f(r['unpaired_ci_high'])}",
                     "verdict": "real" if not (r["ci_low"] <= 0 <= r["ci_high"]) else "could be noise"})
    return pd.DataFrame(rows)


def days_meeting_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per variant and segment: the share of simulated days meeting the target [95% CI] and the 10th
    percentile of the days' service levels (the total has no target and is left out)."""
    rows = []
    for _, r in table[table["days_meeting"].notna()].iterrows():
        ci = "" if pd.isna(r["days_meeting_ci_low"]) else \
            f" [{r['days_meeting_ci_low']:.0%} – {r['days_meeting_ci_high']:.0%}]"
        rows.append({"variant": r["variant"], "segment": r["segment"],
                     "days meeting target [95% CI]": f"{r['days_meeting']:.0%}{ci}",
                     "day SL p10": "—" if pd.isna(r["daily_sl_p10"]) else f"{r['daily_sl_p10']:.1%}",
                     "service level (all days)": f"{r['service_level']:.1%}"})
    return pd.DataFrame(rows)


sc = common.scenario()
st.title("Compare variants")
st.caption("Every variant is simulated with the same callers (common random numbers), so differences come from "
           "what you changed, not from luck. Differences carry a paired 95% confidence interval.")

n_var = st.radio("Variants", [2, 3, 4], horizontal=True, key="cmp_n")
reps = st.number_input("Replications per variant", min_value=2, max_value=200,
                       value=min(int(sc.simulation.replications), 10), key="cmp_reps")
cols = st.columns(n_var)
variants = []
policies = list(OPTIONS["routing.policy"])
for i, col in enumerate(cols):
    with col.container(border=True):
        name = st.text_input("Name", "baseline" if i == 0 else f"variant {i}", key=f"cmp_name_{i}")
        changes = {}
        default_pol = sc.routing.policy if i == 0 else policies[(policies.index(sc.routing.policy) + i) % 3]
        pol = st.selectbox("Routing", policies, index=policies.index(default_pol), key=f"cmp_pol_{i}")
        if pol != sc.routing.policy:
            changes["routing.policy"] = pol
        for g in sc.agent_groups:
            d = st.number_input(f"{common.esc(g.name)}: agents ±", min_value=-500, max_value=500, value=0, step=1,
                                key=f"cmp_ag_{i}_{g.name}", help="added to every interval's scheduled agents")
            if d:
                changes[f"agent_groups.{g.name}.agents_per_interval"] = [
                    max(0, int(x) + int(d)) for x in sc.agents_per_interval(g)]
        with st.expander("Priorities and targets"):
            for s in sc.segments:
                p = st.number_input(f"{common.esc(s.name)}: priority", min_value=1, max_value=9, value=s.priority,
                                    key=f"cmp_pr_{i}_{s.name}")
                if p != s.priority:
                    changes[f"segments.{s.name}.priority"] = int(p)
                t = st.number_input(f"{common.esc(s.name)}: SL target", min_value=0.05, max_value=1.0, step=0.05,
                                    value=float(sc.sl_target(s)), key=f"cmp_tg_{i}_{s.name}")
                if abs(t - sc.sl_target(s)) > 1e-9:
                    changes[f"segments.{s.name}.target"] = float(t)
        variants.append((name, changes))

names = [n for n, _ in variants]
if len(set(names)) != len(names):
    st.error("Give every variant its own name.")
    st.stop()
built = []
for name, changes in variants:
    try:
        built.append((name, sc.with_changes(changes) if changes else sc))
    except ScenarioError as exc:
        st.error(common.esc(f"Variant {name!r}: {exc}"))
        st.stop()

key = common.scenario_key(sc, [(n, sorted(c.items(), key=str)) for n, c in variants], reps)
ok = common.confirm_work([b for _, b in built], int(reps), "cmp")
if st.button("Run comparison", type="primary", key="cmp_run") and ok and not common.has_result("cmp", key):
    progress = common.progress_callback("Simulating variants")
    common.cached("cmp", key, lambda: compare(built, replications=int(reps), progress=progress))

if common.has_result("cmp", key):
    cmp = common.result("cmp", key)
    st.subheader("Service level against cost, per segment")
    st.caption(common.esc(sl_caption(sc)))
    st.pyplot(charts.sl_cost_figure(cmp.table, {s: sc.sl_target(s) for s in sc.segment_names}, sc.currency),
              width="stretch")
    metric = st.radio("Bars", ["service_level", "asa_s", "abandon_rate", "agent_cost", "profit"], horizontal=True,
                      key="cmp_metric", format_func=lambda m: charts.metric_label(m, sc.currency))
    st.pyplot(charts.comparison_figure(cmp.table, metric, sc.currency,
                                       targets={s: sc.sl_target(s) for s in sc.segment_names}
                                       if metric == "service_level" else None), width="stretch")
    st.subheader("Days meeting the target")
    st.caption("Service levels above pool every simulated day's calls (all good calls ÷ all counted calls, as an ACD "
               "reports many days). Here: the share of simulated days whose own service level meets the segment's "
               "target, with its 95% CI (Wilson), and the 10th percentile of the days' service levels (one day in "
               "ten is worse).")
    st.dataframe(days_meeting_table(cmp.table), hide_index=True, width="stretch", key="cmp_days_table")
    st.subheader(f"Differences to '{common.esc(names[0])}' (paired 95% CI; unpaired for comparison)")
    st.dataframe(difference_table(cmp.differences, sc.currency), hide_index=True, width="stretch",
                 key="cmp_diff_table")
    st.caption("Paired CI: from the replication-by-replication differences (same callers in both variants). "
               "Unpaired CI: what two separate runs would tell you. 'real' = the paired CI excludes zero.")
    if not cmp.differences["same_callers"].all():
        st.warning(cmp.callers_note())
    st.download_button("Comparison (CSV)", csv_text(cmp.table), file_name="comparison.csv", mime="text/csv")
else:
    st.info("Set up the variants and press **Run comparison**.")

st.divider()
st.subheader("Frontier: sweep one group's staffing")
c = st.columns(4)
grp = c[0].selectbox("Group", sc.group_names, key="sw_group")
base_avg = int(round(sc.agents_per_interval(grp).mean()))
lo = c[1].number_input("Change from", min_value=-500, max_value=500, value=-max(2, base_avg // 10), key="sw_lo")
hi = c[2].number_input("to", min_value=-500, max_value=500, value=max(2, base_avg // 10), key="sw_hi")
step = c[3].number_input("step", min_value=1, max_value=100, value=max(1, base_avg // 25), key="sw_step")
sw_reps = st.number_input("Replications per point", min_value=2, max_value=100, value=5, key="sw_reps")
if hi <= lo:
    st.error("'to' must be larger than 'from'.")
    st.stop()
# a grid anchored at 0, so the scenario's own staffing is always one of the points
deltas = [k * int(step) for k in range(math.ceil(int(lo) / int(step)), math.floor(int(hi) / int(step)) + 1)]
if not deltas:
    st.error(f"No multiple of the step {int(step)} lies between {int(lo)} and {int(hi)}.")
    st.stop()
sw_key = common.scenario_key(sc, grp, deltas, sw_reps)
if len(deltas) > 100:
    st.error(f"{len(deltas)} points: at most 100 in one sweep (widen the step).")
    st.stop()
sw_ok = common.confirm_work([sc] * len(deltas), int(sw_reps), "sweep")
if st.button("Run sweep", key="sw_run") and sw_ok and not common.has_result("sweep", sw_key):
    pts = [(f"{grp} {d:+d}", sc.with_changes({f"agent_groups.{grp}.agents_per_interval":
                                              [max(0, int(x) + d) for x in sc.agents_per_interval(grp)]}))
           for d in deltas]
    progress = common.progress_callback("Sweeping")
    common.cached("sweep", sw_key, lambda: compare(pts, replications=int(sw_reps), progress=progress))
if common.has_result("sweep", sw_key):
    res = common.result("sweep", sw_key)
    fr = frontier(res, "variant")
    fr["value"] = fr["variant"].str.split(" ").str[-1]
    fr["label"] = [f"{grp} {v}" if v not in ("+0", "0") else f"{grp} current" for v in fr["value"]]
    st.pyplot(charts.frontier_figure(fr, {s: sc.sl_target(s) for s in sc.segment_names}, f"{grp} agents ±",
                                     sc.currency), width="stretch")
    best = fr[fr["best"]]["variant"].iloc[0]
    st.success(f"Highest total profit at **{common.esc(best)}** agents per interval.")
    money = st.column_config.NumberColumn
    st.dataframe(fr[["label", "segment", "agent_cost", "service_level", "service_level_ci_low",
                     "service_level_ci_high", "abandon_rate", "asa_s", "profit", "best"]], hide_index=True,
                 width="stretch", column_config={
                     "label": "staffing", "segment": "segment",
                     "agent_cost": money(f"agent cost ({sc.currency})", format="%.0f"),
                     "service_level": money("service level", format="percent"),
                     "service_level_ci_low": money("SL 95% CI low", format="percent"),
                     "service_level_ci_high": money("SL 95% CI high", format="percent"),
                     "abandon_rate": money("abandonment", format="percent"),
                     "asa_s": money("ASA (s)", format="%.1f"),
                     "profit": money(f"profit ({sc.currency})", format="%.0f"),
                     "best": st.column_config.CheckboxColumn("highest profit")})
