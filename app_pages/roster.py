"""Roster page: edit shift rules, solve the cheapest roster covering a requirement, see coverage and shifts,
apply the roster's coverage to the scenario."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.outputs import csv_text

SHIFT_COLS = {
    "name": st.column_config.TextColumn("shift", required=True),
    "minutes": st.column_config.NumberColumn("minutes on duty", min_value=1, step=1,
                                             help="breaks included"),
    "earliest_start": st.column_config.TextColumn("earliest start", help="HH:MM"),
    "latest_start": st.column_config.TextColumn("latest start", help="HH:MM"),
    "start_every_minutes": st.column_config.NumberColumn("start every (min)", min_value=1, step=1,
                                                         help="empty: the interval length"),
    "groups": st.column_config.TextColumn("groups", help="group names separated by commas; empty: every group"),
    "min_agents": st.column_config.NumberColumn("min agents", min_value=0, step=1),
    "max_agents": st.column_config.NumberColumn("max agents", min_value=0, step=1, help="empty: no cap"),
}
BREAK_COLS = {
    "minutes": st.column_config.NumberColumn("minutes", min_value=1, step=1),
    "earliest_after_minutes": st.column_config.NumberColumn("earliest, min after start", min_value=0, step=1),
    "latest_after_minutes": st.column_config.NumberColumn("latest, min after start", min_value=0, step=1),
    "start_every_minutes": st.column_config.NumberColumn("every (min)", min_value=1, step=1,
                                                         help="empty: the interval length"),
    "paid": st.column_config.CheckboxColumn("paid"),
}


def _clean(v):
    """Editor cell -> TOML value (None/NaN drop the key; whole floats become ints)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if float(v).is_integer() else float(v)
    return v.strip() if isinstance(v, str) else v


def _apply_delta(rows: list[dict], key: str) -> list[dict]:
    """The editor's rows after the user's edits, additions and deletions (Streamlit's editing state)."""
    state = st.session_state.get(key, {})
    rows = copy.deepcopy(rows)
    for i, changes in state.get("edited_rows", {}).items():
        for col, val in changes.items():
            rows[int(i)][col] = val
    gone = set(state.get("deleted_rows", []))
    rows = [r for i, r in enumerate(rows) if i not in gone]
    rows += [dict(r) for r in state.get("added_rows", [])]
    return rows


def _to_item(row: dict, list_cols: tuple[str, ...] = ()) -> dict:
    out = {}
    for col, val in row.items():
        if col in list_cols:
            names = [x.strip() for x in str(val or "").split(",") if x.strip()]
            if names:
                out[col] = names
            continue
        val = _clean(val)
        if val is not None:
            out[col] = val
    return out


def _on_shifts(key: str) -> None:
    base = copy.deepcopy(st.session_state["base"])
    old = base.get("shifts", []) or []
    rows = _apply_delta([_shift_row(sh) for sh in old], key)
    deleted = set(st.session_state.get(key, {}).get("deleted_rows", []))
    kept_breaks = [sh.get("breaks") for i, sh in enumerate(old) if i not in deleted]
    new = []
    for i, row in enumerate(rows):
        item = _to_item(row, ("groups",))
        if i < len(kept_breaks) and kept_breaks[i]:
            item["breaks"] = kept_breaks[i]
        new.append(item)
    if new:
        base["shifts"] = new
    else:
        base.pop("shifts", None)
    common.commit(base)


def _on_breaks(key: str, index: int) -> None:
    base = copy.deepcopy(st.session_state["base"])
    sh = base["shifts"][index]
    rows = _apply_delta([{c: b.get(c) for c in BREAK_COLS} for b in sh.get("breaks", []) or []], key)
    items = [_to_item(r) for r in rows]
    if items:
        sh["breaks"] = items
    else:
        sh.pop("breaks", None)
    common.commit(base)


def _shift_row(sh: dict) -> dict:
    row = {c: sh.get(c) for c in SHIFT_COLS}
    row["groups"] = ", ".join(sh.get("groups") or []) if isinstance(sh.get("groups"), list) else sh.get("groups")
    return row


def _show_problems(problems: list[tuple[str, str]], base: dict) -> None:
    if not problems:
        return
    lines = []
    for path, reason in problems:
        where = path
        if path.startswith("shifts["):
            idx = int(path[len("shifts["):path.index("]")])
            shifts = base.get("shifts", []) or []
            name = shifts[idx].get("name") if idx < len(shifts) and isinstance(shifts[idx], dict) else None
            rest = path[path.index("]") + 1:].lstrip(".")
            where = (f"shift {name!r} (row {idx + 1})" if name else f"shift row {idx + 1}") + (f", {rest}" if rest
                                                                                                 else "")
        lines.append(f"- **{common.esc(where)}**: {common.esc(reason)}")
    st.error("\n".join(lines))


def _apply_roster(key: str) -> None:
    r = common.result("roster", key)
    data = copy.deepcopy(st.session_state["base"])
    cov = r.scheduled()
    for i, name in enumerate(r.scenario.group_names):
        for g in data.get("agent_groups", []):
            if g.get("name") == name:
                g.pop("agents", None)
                g["agents_per_interval"] = [int(v) for v in cov[i]]
    common.set_base(data, f"{st.session_state['source']} + roster")
    st.session_state["roster_applied"] = True


# ---------------------------------------------------------------- page

common.init_state()
base: dict = st.session_state["base"]
ver = st.session_state["version"]
problems = st.session_state["problems"]
sc = common.scenario()

st.title("Roster")
st.caption("Planners hire people, not agents per half-hour. This page finds the cheapest set of shifts (start times "
           "and break placements) whose agents on duty and not on break cover the requirement in every interval and "
           "group, as a mixed-integer program solved by HiGHS. Cost = agents × paid hours × the group's cost per hour; "
           "a break shorter than an interval counts as the fraction of the interval it takes.")

st.subheader("Shift rules")
shifts = base.get("shifts", []) or []
shift_key = f"shift_editor_{ver}_{len(shifts)}"
st.data_editor(pd.DataFrame([_shift_row(sh) for sh in shifts], columns=list(SHIFT_COLS)), column_config=SHIFT_COLS,
               hide_index=True, num_rows="dynamic", key=shift_key, on_change=_on_shifts, args=(shift_key,),
               width="stretch")
names = [sh.get("name") or f"row {i + 1}" for i, sh in enumerate(shifts)]
if shifts:
    pick = st.selectbox("Breaks of shift", range(len(shifts)), format_func=lambda i: str(names[i]), key="roster_pick")
    pick = min(int(pick), len(shifts) - 1)
    brk = shifts[pick].get("breaks", []) or []
    brk_key = f"break_editor_{ver}_{pick}_{len(brk)}"
    st.data_editor(pd.DataFrame([{c: b.get(c) for c in BREAK_COLS} for b in brk], columns=list(BREAK_COLS)),
                   column_config=BREAK_COLS, hide_index=True, num_rows="dynamic", key=brk_key, on_change=_on_breaks,
                   args=(brk_key, pick), width="stretch")
    st.caption("A break starts between its earliest and latest offset after the shift starts. List breaks in time "
               "order, with windows that do not overlap. Unpaid breaks are not paid hours.")
shift_problems = [(p, r) for p, r in problems if p.startswith("shifts")]
_show_problems(shift_problems, base)
if problems and not shift_problems:
    st.warning("The scenario has other problems (see the Scenario page); the roster uses the last valid version.")

if not sc.shifts:
    st.info("This scenario has no shift rules yet. Add a row to the table above (for example: full, 480 minutes, "
            "earliest start at opening time, latest start 8 hours before closing).")
    st.stop()

st.subheader("Solve")
c = st.columns([2, 1, 1, 1])
cover = c[0].radio("Requirement to cover", ["plan", "verified", "current"], horizontal=True, key="roster_cover",
                   format_func={"plan": "analytic plan", "verified": "verified by simulation",
                                "current": "scenario's staffing"}.get,
                   help="Scheduled agents per interval and group: the analytic staffing plan, the plan corrected by "
                        "simulation (as on the Staffing plan page), or the scenario's own agents per interval.")
limit = c[1].number_input("Time limit (s)", min_value=1.0, max_value=600.0, value=30.0, step=5.0, key="roster_limit")
reps = c[2].number_input("Replications", min_value=2, max_value=200, value=int(sc.simulation.replications),
                         key="roster_reps", disabled=cover != "verified")
seed = c[3].number_input("Seed", min_value=0, value=int(sc.simulation.seed), key="roster_seed",
                         disabled=cover != "verified")
key = common.scenario_key(sc, cover, limit, *((reps, seed) if cover == "verified" else ()))

if st.button("Solve the roster", type="primary", key="roster_run") and not common.has_result("roster", key):
    from planner.roster import RosterError, requirement, solve

    try:
        if cover == "verified":
            from ccplan.verify import VerifyError, verify

            vbar = st.progress(0.0, text="Verifying the plan by simulation")
            try:
                ver = common.cached("verify", common.scenario_key(sc, 1.0, reps, seed), lambda: verify(
                    sc, replications=int(reps), seed=int(seed), progress=lambda d, t, msg: vbar.progress(
                        min(d / t, 1.0), text=f"Verifying the plan by simulation: round {d} of at most {t} — {msg}")))
            except VerifyError as exc:
                st.error(common.esc(str(exc)))
                st.stop()
            vbar.empty()
            req = requirement(sc, "verified", ver.verified_scenario)
        else:
            req = requirement(sc, cover)
        bar = st.progress(0.0, text="Solving the roster (HiGHS)")
        common.cached("roster", key, lambda: solve(sc, req, time_limit_s=float(limit), progress=lambda d, t: bar.progress(
            min(d / t, 1.0), text=f"Solving the roster (HiGHS): {d:.0f} s of at most {t:.0f} s")))
        bar.empty()
    except RosterError as exc:
        st.error(common.esc(str(exc)))

r = common.result("roster", key) if common.has_result("roster", key) else None
if st.session_state.get("roster_applied"):
    st.session_state.pop("roster_applied")
    st.success("The roster's coverage is now the scenario's staffing (agents on duty and not on break, rounded down). "
               "The **Simulate** page shows the service it gives.")
if r is None:
    st.stop()
if not r.ok:
    why = r.message.replace("--time-limit", "the time limit")
    st.error(common.esc(why[0].upper() + why[1:] if why.startswith("no roster") else f"No roster: {why}"))
    st.stop()
if r.status == "optimal":
    st.success(f"Optimal roster (proven, gap 0), solved in {r.solve_time_s:.1f} s.")
else:
    st.warning((f"Stopped at the time limit: the best roster found may cost up to {r.gap_text} more than the optimum. "
                if r.gap_text != "unknown" else "Stopped at the time limit: how far the best roster found is from the "
                "optimum is not known. ") + "Raise the time limit for a better one.")
k = st.columns(4)
k[0].metric("Headcount", f"{int(r.groups['headcount'].sum())}")
k[1].metric("Paid hours", f"{r.paid_hours:,.1f}")
k[2].metric("Cost", f"{r.cost:,.0f} {sc.currency}")
k[3].metric("Efficiency", f"{r.efficiency:.1%}", help="required hours ÷ paid hours: what breaks and shift lengths "
                                                      "cost on top of the requirement")
st.pyplot(charts.roster_coverage_figure(r.coverage), width="stretch")
st.pyplot(charts.roster_gantt_figure(r.shifts, sc.open_time, sc.n_intervals * sc.interval_minutes / 60.0),
          width="stretch")
st.subheader("Shifts")
show = r.shifts.assign(breaks=r.shifts["breaks"].map(", ".join)).drop(columns=["break_minutes"])
common.table(show, sc.currency, column_config={
    "paid_hours": st.column_config.NumberColumn("paid hours each", format="%.2f")})
st.subheader("Per group")
common.table(r.groups, sc.currency)
with st.expander("Coverage per interval and group"):
    common.table(r.coverage, sc.currency)
c = st.columns(3)
c[0].download_button("Download shifts (CSV)", csv_text(show), file_name="roster_shifts.csv", mime="text/csv")
c[1].download_button("Download coverage (CSV)", csv_text(r.coverage), file_name="roster_coverage.csv",
                     mime="text/csv")
c[2].button("Apply roster to scenario", key="roster_apply", on_click=_apply_roster, args=(key,), type="primary",
            help="Every group's agents per interval become the roster's coverage; Simulate then shows the service "
                 "it gives.")
