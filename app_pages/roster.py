"""Roster page: edit shift rules, solve the cheapest roster covering a requirement, see coverage and shifts,
apply the roster's coverage to the scenario; in week mode, weekly tours under contracts over a week of day
scenarios (the forecast's days, uploaded ones, or this scenario on chosen weekdays)."""

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


# ---------------------------------------------------------------- week mode

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
CONTRACT_COLS = {
    "name": st.column_config.TextColumn("contract", required=True),
    "shifts": st.column_config.TextColumn("shifts", help="shift rule names separated by commas"),
    "days_min": st.column_config.NumberColumn("days min", min_value=1, max_value=7, step=1,
                                              help="fewest working days in the week"),
    "days_max": st.column_config.NumberColumn("days max", min_value=1, max_value=7, step=1,
                                              help="most working days in the week"),
    "days_off_together": st.column_config.CheckboxColumn("days off together",
                                                         help="the days off form one block within Monday–Sunday"),
    "start_band_minutes": st.column_config.NumberColumn("start band (min)", min_value=0, max_value=1439, step=15,
                                                        help="every day's start within this many minutes of the "
                                                             "tour's earliest; 0: the same start every day; empty: "
                                                             "no rule"),
    "groups": st.column_config.TextColumn("groups", help="group names separated by commas; empty: every group"),
    "min_agents": st.column_config.NumberColumn("min agents", min_value=0, step=1),
    "max_agents": st.column_config.NumberColumn("max agents", min_value=0, step=1, help="empty: no cap"),
}


def _contract_row(c: dict) -> dict:
    days = c.get("days_per_week", [1, 7])
    lo, hi = (days, days) if isinstance(days, int) else (list(days) + [None, None])[:2]
    return {"name": c.get("name"), "shifts": ", ".join(c.get("shifts") or []), "days_min": lo, "days_max": hi,
            "days_off_together": bool(c.get("days_off_together", False)),
            "start_band_minutes": c.get("start_band_minutes"), "groups": ", ".join(c.get("groups") or []),
            "min_agents": c.get("min_agents", 0), "max_agents": c.get("max_agents")}


def _default_contracts(sc) -> list[dict]:
    """The scenario's own contracts, else a starting point: full-time on the longest shift rule (5 days, days off
    together, starts within an hour), part-time on the others (2-5 days, starts within two hours)."""
    if sc.contracts:
        return [_contract_row(c.model_dump(mode="json", exclude_none=True)) for c in sc.contracts]
    if not sc.shifts:
        return []
    longest = max(sc.shifts, key=lambda s: s.paid_minutes)
    rows = [_contract_row({"name": "full_time", "shifts": [longest.name], "days_per_week": 5,
                           "days_off_together": True, "start_band_minutes": 60})]
    others = [s.name for s in sc.shifts if s.name != longest.name]
    if others:
        rows.append(_contract_row({"name": "part_time", "shifts": others, "days_per_week": [2, 5],
                                   "start_band_minutes": 120}))
    return rows


def _contracts_data(rows: list[dict]) -> dict:
    """Table rows -> a contracts file's dict (empty cells drop their key; empty rows are skipped)."""
    items = []
    for row in rows:
        name = _clean(row.get("name"))
        if name is None:
            continue
        item = {"name": name}
        shifts = [x.strip() for x in str(_clean(row.get("shifts")) or "").split(",") if x.strip()]
        item["shifts"] = shifts
        lo, hi = _clean(row.get("days_min")), _clean(row.get("days_max"))
        item["days_per_week"] = [lo if lo is not None else 1, hi if hi is not None else 7]
        item["days_off_together"] = bool(_clean(row.get("days_off_together")) or False)
        for key in ("start_band_minutes", "min_agents", "max_agents"):
            v = _clean(row.get(key))
            if v is not None:
                item[key] = v
        groups = [x.strip() for x in str(_clean(row.get("groups")) or "").split(",") if x.strip()]
        if groups:
            item["groups"] = groups
        items.append(item)
    return {"contracts": items}


def _contract_problems_text(problems: list[tuple[str, str]], rows: list[dict]) -> str:
    """ScenarioError problems of the contract table, by row and field."""
    import re

    lines = []
    named = [r for r in rows if _clean(r.get("name")) is not None]
    for path, reason in problems:
        m = re.match(r"contracts\[(\d+)\]\.?(.*)", path)
        if m:
            i = int(m.group(1))
            field = m.group(2).replace("days_per_week", "days min / days max") or "row"
            name = named[i].get("name") if i < len(named) else None
            where = f"row {i + 1}" + (f" ({name})" if name else "") + f", {field}"
        else:
            where = path or "contracts"
        lines.append(f"- **{common.esc(where)}**: {common.esc(reason)}")
    return "\n".join(lines)


def _forecast_weeks(res: dict) -> dict[str, list[str]]:
    """The forecast's dates by calendar week (label -> dates)."""
    import datetime as dt

    weeks: dict[str, list[str]] = {}
    for d in sorted(res["intervals"]["date"].unique()):
        day = dt.date.fromisoformat(str(d))
        monday = day - dt.timedelta(days=day.weekday())
        weeks.setdefault(f"week of {monday.isoformat()}", []).append(str(d))
    return weeks


def _forecast_days(res: dict, dates: list[str]) -> tuple[dict, list[str]]:
    """Day scenarios of the forecast's dates: the current scenario (its shift rules, contracts) with each date's
    volumes, as ccplan forecast --to-dir writes them."""
    import datetime as dt

    from ccplan.volumes import forecast_scenario

    segments = list(dict.fromkeys(res["intervals"]["segment"]))
    label = f"p{round(res['quantile'] * 100):d}"
    out, notes = {}, []
    for d in dates:
        rows = res["intervals"][res["intervals"]["date"] == d].reset_index(drop=True)
        sc, day_notes = forecast_scenario(common.scenario(), rows, "q", res["interval"], label=label, segments=segments)
        out[dt.date.fromisoformat(d)] = sc
        notes += [n for n in day_notes if n not in notes]
    return out, notes


def _uploaded_days(files) -> tuple[dict, list[str]]:
    import datetime as dt

    from ccplan.scenario import ScenarioError, loads
    from ccplan.week import DAY_FILE

    out, errors = {}, []
    for f in files or []:
        m = DAY_FILE.fullmatch(f.name)
        if not m:
            errors.append(f"{f.name}: not a day scenario name (YYYY-MM-DD.toml, as ccplan forecast --to-dir writes)")
            continue
        try:
            date = dt.date.fromisoformat(m.group(1))
            out[date] = loads(f.getvalue().decode("utf-8", errors="replace"), f.name)
        except ValueError as exc:  # a bad date, or a ScenarioError
            errors.append(str(exc) if isinstance(exc, ScenarioError) else f"{f.name}: {m.group(1)} is not a date")
    return out, errors


def _repeated_days(start, weekdays: list[str]) -> dict:
    import datetime as dt

    monday = start - dt.timedelta(days=start.weekday())
    sc = common.scenario()
    return {monday + dt.timedelta(days=WEEKDAY_NAMES.index(w)): sc for w in weekdays}


def _apply_week(key: str) -> None:
    from ccplan import week as wk

    r = common.result("roster_week", key)
    st.session_state["week_applied"] = wk.apply(r)
    st.session_state["week_applied_note"] = True


def _open_day(date) -> None:
    from ccplan.scenario import to_dict

    sc = st.session_state["week_applied"][date]
    common.set_base(to_dict(sc), f"{date} + week roster")
    st.session_state["week_opened"] = str(date)


def _week_page() -> None:
    """The week mode: day scenarios, contract rules, the week's tours."""
    import datetime as dt

    from ccplan import week as wk
    from ccplan.scenario import ScenarioError

    st.caption("A week of day scenarios becomes weekly tours: anonymous agents hired under contracts (days per "
               "week, days off together, a start band), each with a start, an end and breaks on every working "
               "day. Exact MILP solved by HiGHS; each day is also solved alone, without tour rules, as a lower "
               "bound, and the premium the tours cost over it is shown.")
    sources = ["This scenario, on chosen weekdays", "Upload day scenarios"]
    res = st.session_state.get("fc_result")
    if res is not None:
        sources.insert(0, "The forecast's days")
    if st.session_state.get("week_applied"):
        sources.append("The applied week roster")
    source = st.radio("Days of the week", sources, horizontal=True, key="week_source")
    scenarios: dict = {}
    notes: list[str] = []
    if source == "The forecast's days":
        weeks = _forecast_weeks(res)
        pick = st.selectbox("Week", list(weeks), key="week_fc_pick",
                            format_func=lambda k: f"{k} ({len(weeks[k])} day(s) forecast)")
        try:
            scenarios, notes = _forecast_days(res, weeks[pick])
        except ScenarioError as exc:
            st.error("The forecast's days cannot become this scenario's days:\n\n" + common.esc(str(exc)))
            return
        st.caption("Each day is the scenario being edited (its groups, shift rules and contracts) with that date's "
                   f"forecast ({len(scenarios)} open day(s); dates without a forecast are closed).")
    elif source == "Upload day scenarios":
        files = st.file_uploader("Day scenarios (YYYY-MM-DD.toml, as ccplan forecast --to-dir writes them)",
                                 type=["toml"], accept_multiple_files=True, key="week_upload")
        scenarios, errors = _uploaded_days(files)
        if errors:
            st.error("\n".join(f"- {common.esc(e)}" for e in errors))
    elif source == "The applied week roster":
        scenarios = dict(st.session_state["week_applied"])
    else:
        c = st.columns([1, 3])
        today = dt.date.today()
        start = c[0].date_input("Week of", today + dt.timedelta(days=(7 - today.weekday()) % 7), key="week_start")
        days = c[1].multiselect("Open weekdays", list(WEEKDAY_NAMES), default=list(WEEKDAY_NAMES[:5]),
                                key="week_weekdays")
        scenarios = _repeated_days(start, days)
    if not scenarios:
        st.info("Choose the week's days: the forecast's (run the Forecast page), uploaded day scenarios, or this "
                "scenario on chosen weekdays.")
        return
    for n in notes:
        st.info(common.esc(n))
    first = scenarios[min(scenarios)]
    st.subheader("Contract rules")
    rows = st.session_state.get("week_contract_rows") or _default_contracts(first)
    shift_names = ", ".join(sh.name for sh in first.shifts) or "none"
    st.caption(f"Shift rules of the days: {common.esc(shift_names)}. A contract's days min–max bound its working "
               "days; its agents' starts stay within the start band; cost is paid hours × the group's cost per hour.")
    edited = st.data_editor(pd.DataFrame(rows, columns=list(CONTRACT_COLS)), column_config=CONTRACT_COLS,
                            hide_index=True, num_rows="dynamic", key=f"week_contracts_{len(rows)}", width="stretch")
    table = edited.to_dict("records")
    try:
        contracts = wk.contracts_from_data(_contracts_data(table), scenarios, "the contract table")
        week = wk.assemble(scenarios, contracts, "the contract table")
    except ScenarioError as exc:
        st.error("The contract rules have problems:\n\n" + _contract_problems_text(exc.problems, table))
        return
    except wk.WeekError as exc:
        st.error(common.esc(str(exc)))
        return
    for n in week.notes:
        st.info(common.esc(n))
    closed = ", ".join(d.strftime("%a %d.%m") for d in week.closed_dates) or "none"
    st.caption(f"Week {week.dates[0]} – {week.dates[-1]}: {len(week.open_dates)} open day(s); closed: {closed}.")

    st.subheader("Solve the week")
    c = st.columns([2, 1, 1])
    cover = c[0].radio("Requirement to cover", ["plan", "current"], horizontal=True, key="week_cover",
                       format_func={"plan": "analytic plan", "current": "scenarios' staffing"}.get,
                       help="Scheduled agents per interval and group of each day: its analytic staffing plan, or its "
                            "own agents per interval. (The command line also covers the plan verified by "
                            "simulation: ccplan roster --week DIR --cover verified.)")
    limit = c[1].number_input("Time limit (s)", min_value=1.0, max_value=600.0, value=60.0, step=10.0,
                              key="week_limit")
    fte = c[2].number_input("FTE hours", min_value=1.0, max_value=80.0, value=40.0, step=0.5, key="week_fte",
                            help="paid hours of one full-time equivalent")
    key = common.scenario_key(first, [wk.file_name(d) for d in week.open_dates],
                              [common.scenario_key(week.scenarios[d]) for d in week.open_dates],
                              [x.model_dump() for x in contracts], cover, limit, fte)
    if st.button("Solve the week", type="primary", key="week_run") and not common.has_result("roster_week", key):
        try:
            req = wk.requirements(week, cover)
            size = wk.model_size(week, req)
            bar = st.progress(0.0, text=f"Solving the week's tours (HiGHS, {size.variables:,} variables)")
            def shown(done: float, total: float) -> None:
                bar.progress(min(done / total, 1.0), text=f"Solving the week's tours: {done:.0f} s of at most "
                                                          f"{total:.0f} s")

            common.cached("roster_week", key, lambda: wk.solve(week, req, float(limit), float(fte), progress=shown))
            bar.empty()
        except wk.WeekError as exc:
            st.error(common.esc(str(exc)))
    if st.session_state.pop("week_applied_note", None):
        st.success("The roster's coverage is now each day's staffing: choose **The applied week roster** above to "
                   "see those days, or put a day in the editor below and simulate it.")
    if not common.has_result("roster_week", key):
        return
    r = common.result("roster_week", key)
    if not r.ok:
        why = r.message.replace("--time-limit", "the time limit")
        st.error(common.esc(why[0].upper() + why[1:] if why.startswith("no roster") else f"No roster: {why}"))
        return
    if r.status == "optimal":
        st.success(f"Optimal week (proven, gap 0), solved in {r.solve_time_s:.1f} s.")
    else:
        st.warning((f"Stopped at the time limit: the best week found may cost up to {r.gap_text} more than the "
                    "optimum. " if r.gap_text != "unknown" else "Stopped at the time limit; how far from the optimum "
                    "is not known. ") + "Raise the time limit for a better one.")
    cur = first.currency
    k = st.columns(5)
    k[0].metric("Headcount", f"{r.headcount}")
    k[1].metric("FTE", f"{r.fte:.1f}", help=f"paid hours ÷ {r.fte_hours:g}")
    k[2].metric("Paid hours", f"{r.paid_hours:,.1f}")
    k[3].metric("Cost", f"{r.cost:,.0f} {cur}")
    k[4].metric("Tour premium", "-" if pd.isna(r.premium) else f"{r.premium:.1%}",
                help=f"over the day-by-day optimum without tour rules ({r.lower_bound_cost:,.0f} {cur}): what weekly "
                     "contracts, days off and stable starts cost")
    g = st.columns(max(len(r.groups), 1))
    for col, row in zip(g, r.groups.itertuples()):
        col.metric(f"{row.group}: headcount · FTE", f"{row.headcount} · {row.fte:.1f}",
                   help=f"efficiency {row.efficiency:.1%} (required hours ÷ paid hours)")
    st.pyplot(charts.week_gantt_figure(r.agents, [d.date.isoformat() for d in r.days], wk.day_hours(r)),
              width="stretch")
    st.pyplot(charts.week_coverage_figure(r.coverage), width="stretch")
    st.subheader("Agents")
    st.dataframe(wk.grid(r), hide_index=True, width="stretch")
    st.subheader("Per group and contract")
    common.table(r.groups, cur)
    common.table(r.by_contract, cur)
    st.subheader("Per day, against the day-by-day optimum")
    common.table(r.week, cur)
    with st.expander("Coverage per day, interval and group"):
        common.table(r.coverage, cur)
    c = st.columns(4)
    c[0].download_button("Download agents (CSV)", csv_text(wk.agents_table(r)), file_name="week_agents.csv",
                         mime="text/csv")
    c[1].download_button("Download coverage (CSV)", csv_text(r.coverage), file_name="week_coverage.csv",
                         mime="text/csv")
    c[2].download_button("Download the week's scenarios (zip)", wk.scenarios_zip(wk.apply(r)),
                         file_name="week_scenarios.zip", mime="application/zip",
                         help="each day's scenario with the roster's coverage as its staffing (YYYY-MM-DD.toml)")
    c[3].button("Apply to the week's scenarios", key="week_apply", on_click=_apply_week, args=(key,), type="primary",
                help="every day's agents per interval become the roster's coverage")
    applied = st.session_state.get("week_applied")
    if applied:
        c = st.columns([2, 1])
        day = c[0].selectbox("Simulate a day of the applied roster", sorted(applied), key="week_open_pick",
                             format_func=lambda d: d.strftime("%A %d.%m.%Y"))
        c[1].button("Put this day in the editor", key="week_open", on_click=_open_day, args=(day,),
                    help="the Simulate page then shows the service this day's roster gives")
        if st.session_state.get("week_opened"):
            st.success(f"{st.session_state.pop('week_opened')} with the roster's staffing is now the scenario being "
                       "edited: the **Simulate** page shows its service.")


# ---------------------------------------------------------------- page

common.init_state()
base: dict = st.session_state["base"]
ver = st.session_state["version"]
problems = st.session_state["problems"]
sc = common.scenario()

st.title("Roster")
if st.radio("Roster", ["One day", "A week"], horizontal=True, key="roster_mode", label_visibility="collapsed",
            help="One day: shifts covering this scenario. A week: weekly tours under contracts covering a week of "
                 "day scenarios.") == "A week":
    _week_page()
    st.stop()
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
            from ccplan.verification import VerifyError, verify

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
