"""Capacity page: headcount over weeks with attrition, hiring classes, training and ramp-up against the required
FTE; the cheapest hiring plan (MILP, HiGHS) beside no hiring and the fixed hires; what-if sliders and sweeps.

The page only gathers inputs and presents :mod:`ccplan.capacity`'s records. ``st.session_state`` holds:
``cap_data`` (the plan as a dict, as loaded), ``cap_req`` (the requirement, long: week, group, required_fte),
``cap_ver`` (bumped when either is replaced, so the editors start again from them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
import tomli_w

from app_pages import common
from ccplan import capacity as cap
from ccplan.outputs import csv_text
from ccplan.scenario import ScenarioError
from planner.capacity import CapacityError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "capacity" / "plan.toml"

GROUP_COLS = {
    "name": st.column_config.TextColumn("group", required=True),
    "headcount": st.column_config.NumberColumn("headcount (FTE at the start)", min_value=0.0, step=1.0),
    "attrition_per_month": st.column_config.NumberColumn("attrition per month", min_value=0.0, max_value=0.99,
                                                         step=0.005, format="%.3f",
                                                         help="share leaving in a month, e.g. 0.03 = 3 %"),
    "cost_per_fte_week": st.column_config.NumberColumn("cost per FTE-week", min_value=0.0, step=10.0,
                                                       help="salary per employed FTE and week, trainees included"),
}
HIRING_COLS = {
    "group": st.column_config.TextColumn("group", required=True),
    "earliest_week": st.column_config.NumberColumn("earliest week", min_value=1, max_value=cap.MAX_WEEKS, step=1),
    "every_weeks": st.column_config.NumberColumn("every (weeks)", min_value=1, max_value=cap.MAX_WEEKS, step=1),
    "latest_week": st.column_config.NumberColumn("latest week", min_value=1, max_value=cap.MAX_WEEKS, step=1,
                                                 help="empty: the last week"),
    "min_class": st.column_config.NumberColumn("min class", min_value=0, max_value=cap.MAX_CLASS, step=1,
                                               help="a class is 0 or min..max persons"),
    "max_class": st.column_config.NumberColumn("max class", min_value=1, max_value=cap.MAX_CLASS, step=1),
    "training_weeks": st.column_config.NumberColumn("training weeks", min_value=0, max_value=cap.MAX_WEEKS, step=1,
                                                    help="productivity 0"),
    "ramp": st.column_config.TextColumn("ramp", help="productivities after training, e.g. 0.5, 0.75; then 1"),
    "cost_per_hire": st.column_config.NumberColumn("cost per hire", min_value=0.0, step=100.0),
}
HIRES_COLS = {
    "group": st.column_config.TextColumn("group", required=True),
    "week": st.column_config.NumberColumn("week", min_value=1, max_value=cap.MAX_WEEKS, step=1),
    "count": st.column_config.NumberColumn("persons", min_value=0, max_value=cap.MAX_CLASS, step=1),
}
TABLES = {"groups": ("Groups", GROUP_COLS), "hiring": ("Hiring classes", HIRING_COLS),
          "hires": ("Fixed hires", HIRES_COLS)}


# ---------------------------------------------------------------- state


def _load(data: dict, req: pd.DataFrame, source: str) -> None:
    """Replace the plan and the requirement on the page (the editors start again from them)."""
    st.session_state.pop("cap_req_last", None)
    st.session_state["cap_data"] = data
    st.session_state["cap_req"] = req[["week", "group", "required_fte"]].reset_index(drop=True)
    st.session_state["cap_source"] = source
    st.session_state["cap_ver"] = st.session_state.get("cap_ver", 0) + 1


def _init() -> None:
    if "cap_data" in st.session_state:
        return
    plan = cap.load_plan(EXAMPLE)
    data = plan.model_dump(mode="json", exclude_none=True)
    for k in cap.SOURCES:
        data.pop(k, None)
    _load(data, cap.read_requirement(plan).table, "examples/capacity/plan.toml")


def _clean(v):
    """Editor cell -> plan value (empty cells are left out, so validation names them as missing)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return int(v) if float(v).is_integer() else float(v)
    return v.strip() if isinstance(v, str) else v


def _ramp(text):
    """'0.5, 0.75' -> [0.5, 0.75]; text that is not a list of numbers is kept, so validation names the field."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    try:
        return [float(x) for x in str(text).replace(";", ",").split(",") if x.strip()]
    except ValueError:
        return str(text)


def _rows(df: pd.DataFrame, table: str) -> list[dict]:
    out = []
    for row in df.to_dict(orient="records"):
        item = {k: _clean(v) for k, v in row.items()}
        if table == "hiring":
            item["ramp"] = _ramp(row.get("ramp"))
        item = {k: v for k, v in item.items() if v is not None}
        if item and any(v not in ([], "") for v in item.values()):
            out.append(item)
    return out


def _frame(items: list, table: str) -> pd.DataFrame:
    cols = list(TABLES[table][1])
    rows = []
    for it in items or []:
        row = {c: it.get(c) for c in cols}
        if table == "hiring" and isinstance(it.get("ramp"), (list, tuple)):
            row["ramp"] = ", ".join(f"{x:g}" for x in it["ramp"])
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def _where(path: str, data: dict) -> str:
    """``groups[0].attrition_per_month`` -> "Groups, row 1 ('agents'): attrition_per_month"."""
    for table, (title, _) in TABLES.items():
        if path.startswith(f"{table}["):
            idx = int(path[len(table) + 1:path.index("]")])
            rest = path[path.index("]") + 1:].lstrip(".")
            items = data.get(table) or []
            name = items[idx].get("name" if table == "groups" else "group") if idx < len(items) else None
            return f"{title}, row {idx + 1}" + (f" ({name!r})" if name else "") + (f": {rest}" if rest else "")
    return path


def _show_problems(exc: ScenarioError, data: dict, what: str) -> None:
    lines = [f"- **{common.esc(_where(p, data))}**: {common.esc(r)}" if p else f"- {common.esc(r)}"
             for p, r in exc.problems]
    st.error(f"{what}:\n" + "\n".join(lines), icon=":material/error:")


def _too_large(f, limit_bytes: int, what: str, unit: str) -> bool:
    """An upload above ``limit_bytes`` is refused with its size and the limit in ``unit`` ("KB" or "MB"), the
    message the page shows."""
    if f.size <= limit_bytes:
        return False
    scale = 1e3 if unit == "KB" else 1e6
    st.session_state["cap_upload_error"] = (f"{f.name}: is {f.size / scale:,.0f} {unit}; {what} is at most "
                                            f"{limit_bytes / scale:,.0f} {unit} (a limit ccplan sets)")
    return True


def _on_upload_plan() -> None:
    f = st.session_state.get("cap_upload_plan")
    if f is None:
        return
    import tomllib

    if _too_large(f, cap.MAX_PLAN_BYTES, "a capacity plan", "KB"):
        return
    try:
        data = tomllib.loads(f.getvalue().decode("utf-8", errors="replace"))
        plan = cap.plan_from_dict({k: v for k, v in data.items() if k not in cap.SOURCES}, f.name, need_source=False)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        st.session_state["cap_upload_error"] = f"{f.name}: not valid TOML: {exc}"
        return
    except ScenarioError as exc:
        st.session_state["cap_upload_error"] = str(exc)
        return
    st.session_state.pop("cap_upload_error", None)
    plan_data = plan.model_dump(mode="json", exclude_none=True)
    _load(plan_data, st.session_state["cap_req"], f.name)


def _on_upload_req() -> None:
    f = st.session_state.get("cap_upload_req")
    if f is None:
        return
    import io

    if _too_large(f, cap.MAX_CSV_BYTES, "a requirement CSV", "MB"):
        return
    try:
        df = pd.read_csv(io.BytesIO(f.getvalue()), sep=None, engine="python", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        st.session_state["cap_upload_error"] = f"{f.name}: not a readable CSV: {str(exc).splitlines()[0]}"
        return
    cols = {str(c).strip().lower().lstrip("\ufeff"): c for c in df.columns}
    missing = [c for c in ("week", "group", "required_fte") if c not in cols]
    if missing:
        st.session_state["cap_upload_error"] = (f"{f.name}: missing column(s) {', '.join(missing)}: the requirement "
                                                "has columns week, group, required_fte")
        return
    st.session_state.pop("cap_upload_error", None)
    df = df.rename(columns={v: k for k, v in cols.items()})
    _load(st.session_state["cap_data"], df, f.name)


def _requirement_editor(names: list[str], weeks: int, data: dict) -> pd.DataFrame:
    """The requirement as a week x group table to edit; returns it long (week, group, required_fte)."""
    long = st.session_state["cap_req"]
    key = (tuple(names), weeks, st.session_state["cap_ver"])
    old = st.session_state.get("cap_req_key")
    if old != key:  # groups or weeks changed: start from the last edits (a new version starts from cap_req)
        last = st.session_state.get("cap_req_last")
        if last is not None and old is not None and old[2] == key[2]:
            long = last
            st.session_state["cap_req"] = last
        st.session_state["cap_req_key"] = key
        wide = pd.DataFrame({"week": np.arange(1, weeks + 1)})
        start = data.get("start")
        try:
            monday = dt.date.fromisoformat(str(start))
            wide.insert(1, "week of", [(monday + dt.timedelta(weeks=w)).isoformat() for w in range(weeks)])
        except ValueError:
            wide.insert(1, "week of", "")
        for g in names:
            mine = long[long["group"].astype(str) == g]
            by_week = {}
            for w, v in zip(mine["week"], mine["required_fte"]):
                try:
                    by_week[int(float(w))] = float(v)
                except (TypeError, ValueError):
                    continue
            wide[g] = [by_week.get(w, np.nan) for w in range(1, weeks + 1)]
        st.session_state["cap_req_init"] = wide
    wide = st.session_state["cap_req_init"]
    config = {"week": st.column_config.NumberColumn("week", disabled=True),
              "week of": st.column_config.TextColumn("week of", disabled=True)}
    config.update({g: st.column_config.NumberColumn(g, min_value=0.0, step=1.0, format="%.1f") for g in names})
    edited = st.data_editor(wide, column_config=config, hide_index=True, width="stretch", height=260,
                            key=f"cap_req_editor_{abs(hash(key))}")
    rows = [{"week": int(w), "group": g, "required_fte": v}
            for g in names for w, v in zip(edited["week"], edited[g]) if v is not None and not pd.isna(v)]
    out = pd.DataFrame(rows, columns=["week", "group", "required_fte"])
    others = long[~long["group"].astype(str).isin(names)]
    st.session_state["cap_req_last"] = pd.concat([out, others], ignore_index=True)
    return out


# ---------------------------------------------------------------- page

_init()
data: dict = st.session_state["cap_data"]
ver = st.session_state["cap_ver"]

st.title("Capacity")
st.caption("Headcount over weeks: people leave (attrition), new hires train before they take calls and ramp up "
           "after. Planned FTE counts productive people (trainees 0, ramp-up at its share); over/under = planned − "
           "required; cost = hiring + salaries of everyone employed + the understaffing penalty per FTE-week short. "
           "**Optimize** finds the cheapest hiring classes (a mixed-integer program solved by HiGHS).")
c = st.columns(2)
c[0].file_uploader("Load a capacity plan (TOML)", type=["toml"], key="cap_upload_plan", on_change=_on_upload_plan,
                   help="as ccplan capacity reads it; its requirement source is not read here: load the requirement "
                        "as a CSV beside it")
c[1].file_uploader("Load a requirement (CSV: week, group, required_fte)", type=["csv", "txt"], key="cap_upload_req",
                   on_change=_on_upload_req)
if st.session_state.get("cap_upload_error"):
    st.error("Not loaded; the plan on the page is unchanged.\n\n" + common.esc(st.session_state["cap_upload_error"]))
st.caption(f"Plan from {common.esc(st.session_state.get('cap_source', ''))}")

st.subheader("Horizon and costs")
c = st.columns([1.2, 1, 1, 1, 1.2])
try:
    start0 = dt.date.fromisoformat(str(data.get("start")))
except ValueError:
    start0 = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
start = c[0].date_input("Start (a Monday)", start0, key=f"cap_start_{ver}")
weeks = int(c[1].number_input("Weeks", min_value=1, max_value=cap.MAX_WEEKS, value=int(data.get("weeks", 26)),
                              step=1, key=f"cap_weeks_{ver}"))
penalty = c[2].number_input("Penalty per FTE-week short", min_value=0.0,
                            value=float(data.get("understaff_penalty_per_fte_week", 0.0)), step=100.0,
                            key=f"cap_penalty_{ver}", help="what one FTE short for one week costs the business")
use_cov = c[3].checkbox("Minimum coverage", value=data.get("min_coverage") is not None, key=f"cap_use_cov_{ver}",
                        help="planned ≥ this share of the requirement in every week, as a hard rule")
coverage = c[3].number_input("share", min_value=0.01, max_value=2.0, value=float(data.get("min_coverage") or 0.95),
                             step=0.01, key=f"cap_cov_{ver}", disabled=not use_cov, label_visibility="collapsed")
currency = c[4].text_input("Currency", value=str(data.get("currency", "USD")), key=f"cap_currency_{ver}")

edited: dict[str, list] = {}
for table, (title, cols) in TABLES.items():
    st.subheader(title)
    if table == "hiring":
        st.caption("Classes may start in weeks earliest, earliest + every, … up to latest; a class is 0 or "
                   "min..max persons; training at productivity 0, then the ramp (e.g. 0.5, 0.75), then 1.")
    if table == "hires":
        st.caption("Classes decided beforehand (a what-if), shown beside no hiring and the optimum. Each must be in "
                   "a class week of its group and within its class sizes.")
    init_key = f"cap_init_{table}_{ver}"
    if init_key not in st.session_state:
        st.session_state[init_key] = _frame(data.get(table), table)
    df = st.data_editor(st.session_state[init_key], column_config=cols, hide_index=True, num_rows="dynamic",
                        width="stretch", key=f"cap_{table}_{ver}")
    edited[table] = _rows(df, table)

st.subheader("What if")
c = st.columns(3)
same = c[0].checkbox("Same attrition for every group", key="cap_wi_same")
first_attr = float((edited["groups"][0].get("attrition_per_month") or 0.0) if edited["groups"] else 0.03)
attr = c[0].slider("Attrition per month", 0.0, 0.15, min(first_attr, 0.15), 0.005, format="%.3f",
                   key=f"cap_wi_attr_{ver}", disabled=not same)
growth = c[1].slider("Volume growth per week", -0.02, 0.03, float(data.get("volume_growth", 0.0)), 0.0025,
                     format="%.4f", key=f"cap_wi_growth_{ver}",
                     help="weekly compound growth of the requirement: 0.01 = +1 % a week")
repeat = c[2].checkbox("Repeat the last week given", value=bool(data.get("repeat_last_week", False)),
                       key=f"cap_repeat_{ver}", help="weeks after the requirement's last week repeat it")

plan_data = {k: v for k, v in data.items() if k not in ("groups", "hiring", "hires") and k not in cap.SOURCES}
plan_data.update({"start": start.isoformat() if isinstance(start, dt.date) else str(start), "weeks": weeks,
                  "understaff_penalty_per_fte_week": penalty, "currency": currency, "volume_growth": growth,
                  "repeat_last_week": repeat, **edited})
plan_data.pop("volume_factors", None)
if use_cov:
    plan_data["min_coverage"] = coverage
else:
    plan_data.pop("min_coverage", None)
if same:
    for g in plan_data["groups"]:
        g["attrition_per_month"] = attr

plan = None
try:
    plan = cap.plan_from_dict(plan_data, "the plan", need_source=False)
except ScenarioError as exc:
    _show_problems(exc, plan_data, "The plan has problems (nothing is computed until they are fixed)")

st.subheader("Required FTE per week")
names = [g["name"] for g in plan_data["groups"] if isinstance(g.get("name"), str)]
with st.expander("Fill from the current scenario", expanded=False):
    sc = common.scenario()
    st.caption(f"Every week: the analytic plan of **{common.esc(sc.name)}** (scheduled agent-hours per group) × open "
               "days a week ÷ hours per FTE; growth comes from the slider above. Needs the plan's groups to be the "
               f"scenario's agent groups ({common.esc(', '.join(sc.group_names))}).")
    c = st.columns(3)
    days = c[0].number_input("Open days a week", 1, 7, int(data.get("open_days_per_week", 5)), key="cap_days")
    hours = c[1].number_input("Hours per FTE a week", 1.0, 168.0, float(data.get("fte_hours", 40.0)), key="cap_hours")
    if c[2].button("Fill from the scenario", key="cap_from_scenario") and plan is not None:
        try:
            p2 = cap.plan_from_dict({**plan_data, "open_days_per_week": int(days), "fte_hours": float(hours)},
                                    need_source=False)
            with st.spinner("Planning the scenario's day"):
                r = cap.requirement_from_scenario(p2, sc, sc.name)
            _load({**plan_data, "open_days_per_week": int(days), "fte_hours": float(hours)}, r.table,
                  f"{sc.name} × {int(days)} days ÷ {float(hours):g} h")
            st.rerun()
        except ScenarioError as exc:
            _show_problems(exc, plan_data, "Not filled")
req_long = _requirement_editor(names, weeks, plan_data)

if plan is None:
    st.stop()
try:
    req = cap.requirement_from_table(plan, req_long, "the requirement table")
except ScenarioError as exc:
    msg = [f"- {common.esc(r)}" if not p else f"- **{common.esc(p)}**: {common.esc(r)}" for p, r in exc.problems]
    st.error("The requirement has problems:\n" + "\n".join(msg).replace("line ", "row "), icon=":material/error:")
    st.stop()

st.subheader("Hiring plan")
c = st.columns([1, 1, 2])
limit = c[0].number_input("Time limit (s)", min_value=1.0, max_value=600.0, value=30.0, step=5.0, key="cap_limit")
key = hashlib.sha1(plan.model_dump_json().encode() + req.required_fte.tobytes() + repr(limit).encode()).hexdigest()
if c[1].button("Optimize", type="primary", key="cap_optimize") and not common.has_result("capacity", key):
    with st.status("Solving the hiring plan (HiGHS)", expanded=False) as status:
        bar = st.progress(0.0, text="Solving")
        try:
            rep = common.cached("capacity", key, lambda: cap.run(plan, req, True, float(limit), progress=lambda d, t:
                                                                 bar.progress(min(d / t, 1.0), text=f"{d:.0f} s of at "
                                                                              f"most {t:.0f} s")))
            status.update(label=f"Solved: {rep.main.status}", state="complete")
        except CapacityError as exc:
            status.update(label="Not solved", state="error")
            st.error(common.esc(str(exc)))
rep = common.result("capacity", key) if common.has_result("capacity", key) else cap.run(plan, req, False)
m = rep.main
if m.label == "optimal":
    if m.status == "optimal":
        st.success(f"Optimal hiring plan (proven, gap 0), solved in {m.solve_time_s:.1f} s.")
    elif m.status == "time limit":
        st.warning(f"Stopped at the time limit: the plan shown may cost up to {m.gap_text} more than the optimum. "
                   "Raise the time limit for a better one.")
    else:
        st.error(common.esc(f"No hiring plan: {m.message}"))
else:
    st.info(f"Showing **{m.label}** (as entered). Press **Optimize** for the cheapest hiring plan beside it.")
for n in rep.notes:
    st.caption(f"Note: {common.esc(n)}")
if m.ok:
    k = st.columns(4)
    k[0].metric(f"Total cost ({plan.currency})", f"{m.cost:,.0f}",
                help="hiring + salaries + understaffing penalty over the horizon")
    k[1].metric("Persons hired", f"{m.persons_hired}", help=f"{len(m.hires)} classes")
    k[2].metric("Shortfall FTE-weeks", f"{m.total('shortfall_fte'):,.1f}")
    k[3].metric("Lowest over/under (FTE)", f"{m.weeks['over_under'].min():+,.1f}")
    st.pyplot(cap.capacity_figure(m.weeks, m.hires, f"Required and planned FTE ({m.label})"), width="stretch")


def _config(columns: dict, df: pd.DataFrame) -> dict:
    fmt = {"money": "%.0f", "number": "%.1f", "count": "%d", "percent": "percent"}
    return {c: (st.column_config.NumberColumn(cap.column_label(c, plan.currency, columns),
                                              format=fmt.get(columns[c][1], "%.2f"))
                if pd.api.types.is_numeric_dtype(df[c]) else st.column_config.Column(
                    cap.column_label(c, plan.currency, columns)))
            for c in df.columns if c in columns}


cmp = rep.comparison()
if plan.min_coverage is None:
    cmp = cmp.drop(columns=["meets_min_coverage"])
st.markdown("**Hiring plans side by side** (over the horizon)")
st.dataframe(cmp, hide_index=True, width="stretch", column_config=_config(cap.COMPARISON_COLUMNS, cmp))
if m.ok:
    st.markdown(f"**Hiring classes** ({m.label})")
    if len(m.hires):
        st.dataframe(m.hires, hide_index=True, width="stretch", column_config=_config(cap.HIRE_COLUMNS, m.hires))
    else:
        st.caption("No classes.")
    st.markdown(f"**Over/under per week** ({m.label})")
    show = m.weeks[["week", "week_start", "group", "required_fte", "planned_fte", "over_under", "in_training",
                    "employed", "hires", "cost"]]
    st.dataframe(show.style.map(lambda v: "color: #c0392b" if round(v, 1) < 0 else "", subset=["over_under"]),
                 hide_index=True, width="stretch", column_config=_config(cap.WEEK_COLUMNS, show))
    c = st.columns(3)
    c[0].download_button("Weeks (CSV)", csv_text(m.weeks), file_name="weeks.csv", mime="text/csv")
    c[1].download_button("Hiring classes (CSV)", csv_text(m.hires), file_name="hiring.csv", mime="text/csv")
    toml_data = {**plan.model_dump(mode="json", exclude_none=True), "requirement": "required.csv"}
    for k in cap.SOURCES[1:]:
        toml_data.pop(k, None)
    c[2].download_button("Plan (TOML, with required.csv)", tomli_w.dumps(toml_data), file_name="capacity_plan.toml",
                         mime="application/toml")
    st.download_button("Requirement (CSV, required.csv)", csv_text(req.table[["week", "group", "required_fte"]]),
                       file_name="required.csv", mime="text/csv", key="cap_req_download")

st.subheader("Sweep")
st.caption("The optimal hiring plan and its cost for each value of one setting (every group's attrition, or the "
           "weekly growth of the requirement).")
c = st.columns([1.4, 1, 1, 1, 1])
what = c[0].selectbox("Setting", ["attrition_per_month", "volume_growth"], key="cap_sw_what",
                      format_func={"attrition_per_month": "attrition per month (every group)",
                                   "volume_growth": "volume growth per week"}.get)
lo_default, hi_default = (0.02, 0.06) if what == "attrition_per_month" else (0.0, 0.01)
lo = c[1].number_input("from", value=lo_default, step=0.005, format="%.4f", key=f"cap_sw_lo_{what}")
hi = c[2].number_input("to", value=hi_default, step=0.005, format="%.4f", key=f"cap_sw_hi_{what}")
n = int(c[3].number_input("values", min_value=2, max_value=12, value=5, key="cap_sw_n"))
values = [round(float(v), 6) for v in np.linspace(lo, hi, n)]
sw_key = hashlib.sha1(repr((key, what, values)).encode()).hexdigest()
if c[4].button("Sweep", key="cap_sweep") and not common.has_result("capacity_sweep", sw_key):
    if hi < lo:
        st.error("'to' must be at least 'from'.")
    else:
        bar = st.progress(0.0, text=f"Solving {n} hiring plans")
        try:
            common.cached("capacity_sweep", sw_key, lambda: cap.sweep(
                plan, req, what, values, float(limit),
                progress=lambda d, t: bar.progress(d / t, text=f"Solved {d} of {t} hiring plans")))
        except ScenarioError as exc:
            _show_problems(exc, plan_data, "Not swept")
        bar.empty()
if common.has_result("capacity_sweep", sw_key):
    sw = common.result("capacity_sweep", sw_key)
    st.pyplot(cap.sweep_figure(sw), width="stretch")
    st.dataframe(sw.table, hide_index=True, width="stretch", column_config=_config(cap.SWEEP_COLUMNS, sw.table))
    st.download_button("Sweep (CSV)", csv_text(sw.table), file_name="sweep.csv", mime="text/csv")
