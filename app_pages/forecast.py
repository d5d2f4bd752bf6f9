"""Forecast page: upload a call history, see it, forecast with a band and a backtest, put a day into the scenario."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st
from matplotlib.figure import Figure

from app_pages import common
from ccplan import charts, forecasting
from ccplan.history import HistoryError, read_history
from ccplan.outputs import csv_text
from ccplan.scenario import ScenarioError, to_dict
from ccplan.volumes import forecast_scenario
from planner import forecast as fc

SAMPLE = Path(__file__).resolve().parent.parent / "examples" / "data" / "bank_calls_2003_mar_may.csv"


def _load(data: bytes, name: str) -> None:
    try:
        h = read_history(data, name, segment_column=st.session_state.get("fc_segcol", "segment") or "segment")
    except HistoryError as exc:
        st.session_state["fc_error"] = exc
        return
    st.session_state.pop("fc_error", None)
    st.session_state["fc_history"] = h
    st.session_state.pop("fc_result", None)


def _on_upload() -> None:
    f = st.session_state.get("fc_upload")
    if f is not None:
        _load(f.getvalue(), f.name)


def _on_sample() -> None:
    _load(SAMPLE.read_bytes(), SAMPLE.name)


def _daily_figure(rolled: pd.DataFrame, missing: dict[str, list]) -> Figure:
    """Daily totals per segment; days without data marked."""
    fig = Figure(figsize=(9, 3.2), layout="constrained")
    ax = fig.add_subplot()
    for i, (seg, d) in enumerate(rolled.groupby("segment", sort=False)):
        tot = d.groupby("date")["offered"].sum()
        ax.plot(pd.to_datetime(pd.Series(tot.index)), tot.to_numpy(), marker=".", lw=1, color=f"C{i}", label=seg)
        for day in missing.get(seg, []):
            ax.axvline(pd.Timestamp(day), color=f"C{i}", ls=":", lw=1, alpha=0.6)
    ax.set_ylabel("calls per day")
    ax.set_title("History: calls per day (dotted: weekdays without data, left out of the patterns)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    fig.autofmt_xdate()
    return fig


def _use(day: str, column: str, label: str, interval_minutes: int) -> None:
    res = st.session_state["fc_result"]
    rows = res["intervals"][res["intervals"]["date"] == day].reset_index(drop=True)
    try:
        new, notes = forecast_scenario(common.scenario(), rows, column, interval_minutes, label=label,
                                       segments=list(dict.fromkeys(res["intervals"]["segment"])))
    except ScenarioError as exc:
        st.session_state["fc_use_error"] = str(exc)
        return
    st.session_state.pop("fc_use_error", None)
    common.set_base(to_dict(new), f"{st.session_state['source']} + forecast {day}")
    st.session_state["fc_used"] = (day, label, notes)


def _use_busyness(cv: float) -> None:
    data = copy.deepcopy(st.session_state["base"])
    data.setdefault("simulation", {})["busyness_cv"] = cv
    common.commit(data)
    st.session_state["fc_busy_set"] = cv


st.title("Forecast")
st.caption("Start where planners start: the ACD's history. Upload calls per 5-, 15-, 30- or 60-minute bucket (long "
           "format: timestamp or date + interval_start, offered, optionally segment and aht_s; comma or semicolon "
           "separated, decimal commas read; an optional special column flags days to leave out). ccplan backtests "
           "every method on your own history at every weekly origin (nested: a choice is only made on data before the "
           "origin it is judged at), forecasts with a combination of methods unless one wins clearly and "
           "consistently, and gives a p10–p90 band calibrated on its own past errors.")
c = st.columns([3, 1, 1])
c[0].file_uploader("History (CSV)", type=["csv", "txt"], key="fc_upload", on_change=_on_upload)
c[1].text_input("Segment column", "segment", key="fc_segcol", help="name of the column that holds the segment")
c[2].button("Use the sample history", key="fc_sample", on_click=_on_sample,
            help="A large North American bank, 5-minute buckets, weekdays, March-May 2003 (Weinberg, Brown & Stroud "
                 "2007)")
if st.session_state.get("fc_error") is not None:
    err = st.session_state["fc_error"]
    st.error("The history was not loaded" + (" (the previous one is kept)" if "fc_history" in st.session_state else "")
             + ":\n\n" + "\n".join(f"- **{common.esc(p or 'file')}**: {common.esc(r)}" for p, r in err.problems))
h = st.session_state.get("fc_history")
if h is None:
    st.info("Upload a history, or try the sample.")
    st.stop()

sc = common.scenario()
k = st.columns(4)
k[0].metric("Rows", f"{len(h.data):,}")
k[1].metric("Bucket", f"{h.bucket_minutes} min")
k[2].metric("Days with data", f"{len(h.dates)}", help=f"{h.dates[0]} to {h.dates[-1]}")
k[3].metric("Segments", ", ".join(h.segments))

c = st.columns(6)
minutes_options = [m for m in (15, 30, 60) if m >= h.bucket_minutes and m % h.bucket_minutes == 0]
default_minutes = sc.interval_minutes if sc.interval_minutes in minutes_options else minutes_options[-1]
interval = c[0].selectbox("Interval (minutes)", minutes_options, index=minutes_options.index(default_minutes),
                          key="fc_interval", help="The scenario uses " f"{sc.interval_minutes}-minute intervals")
preview_key = (h.source, len(h.data), float(h.data["offered"].sum()), int(interval))
try:  # the history as the forecast will see it (outliers replaced, stopped segments found); nothing slow yet
    if st.session_state.get("fc_preview_key") != preview_key:
        st.session_state["fc_preview"] = forecasting.prepare(h, int(interval))
        st.session_state["fc_preview_key"] = preview_key
    preview = st.session_state["fc_preview"]
except (fc.ForecastError, HistoryError) as exc:
    st.session_state.pop("fc_preview_key", None)
    st.error("This history cannot be forecast:\n\n" + common.esc(str(exc)))
    st.stop()
rolled, hist = preview.rolled, preview.segments
for n in preview.notes:
    st.info(common.esc(n))
st.pyplot(_daily_figure(rolled, {s.segment: s.missing for s in hist}), width="stretch")
start = c[1].date_input("First day", preview.start, key="fc_start")
days = int(c[2].number_input("Days", min_value=1, max_value=56, value=7, key="fc_days"))
method = c[3].selectbox("Method", ["auto", *fc.METHODS], key="fc_method",
                        help="auto: the combination, unless one method beats it clearly and consistently in the "
                             "backtest")
quantile = c[4].slider("Quantile for the scenario", 0.05, 0.95, 0.5, 0.05, key="fc_q",
                       help="0.5 = median; a higher quantile plans for a busier day than expected")
country = c[5].text_input("Holidays of", "", key="fc_country", placeholder="e.g. US",
                          help="Public holidays of this country (ISO code; a region as US-NY) are left out of the "
                               "patterns and marked in the forecast").strip() or None

if st.button("Forecast", type="primary", key="fc_run"):
    try:  # every input is checked before the backtest
        job = forecasting.prepare(h, int(interval), start, days, method, float(quantile), country=country)
    except (fc.ForecastError, HistoryError) as exc:
        job = None
        st.error(common.esc(str(exc)))
    if job is not None:
        bar = st.progress(0.0, text="Backtesting every method on the history")
        key = (h.source, len(h.data), float(h.data["offered"].sum()), int(interval),
               min(days, forecasting.BACKTEST_MAX_DAYS), country)
        if st.session_state.get("fc_bt_key") != key:
            st.session_state["fc_bt"] = forecasting.backtest(job, progress=lambda d, t: bar.progress(
                d / t, text=f"Backtesting every method on the history: {d}/{t}"))
            st.session_state["fc_bt_key"] = key
        bar.empty()
        try:
            out = forecasting.run(job, st.session_state["fc_bt"])
            st.session_state["fc_result"] = {"intervals": out.intervals, "days": out.days, "interval": int(interval),
                                             "quantile": float(quantile), "notes": out.notes}
        except fc.ForecastError as exc:
            st.error(common.esc(str(exc)))

res = st.session_state.get("fc_result")
if res is None:
    st.stop()
bt = st.session_state["fc_bt"]
st.subheader("Forecast")
st.pyplot(charts.forecast_figure(rolled, res["intervals"]), width="stretch")
show = res["days"].copy()
show["weekday"] = [dt.date.fromisoformat(d).strftime("%a") for d in show["date"]]
st.dataframe(show[["date", "weekday", "segment", "method", "holiday", "forecast", "p10", "p50", "p90"]],
             hide_index=True,
             width="stretch", column_config={c_: st.column_config.NumberColumn(c_, format="%.0f")
                                              for c_ in ("forecast", "p10", "p50", "p90")})
for n in res.get("notes", []):
    if n not in preview.notes:
        st.info(common.esc(n))
st.download_button("Download forecast (CSV)", csv_text(res["intervals"].drop(columns=["q"])),
                   file_name="forecast.csv", mime="text/csv")
st.subheader("Backtest")
st.caption("Nested rolling origin: the history is cut at weekly origins, each method forecasts the weeks after, and "
           "is scored against what happened; auto's choice and every band at an origin use only earlier origins. "
           "WAPE = sum of absolute errors / sum of actual calls; coverage = share of actual intervals inside the "
           "p10–p90 band (80% is honest).")
for seg_, why_ in bt.reasons.items():
    st.caption(f"auto for {common.esc(seg_)}: **{common.esc(bt.best[seg_])}** — {common.esc(why_)}")
scored = bt.table[bt.table["wape"].notna()]
if len(scored):
    st.pyplot(charts.backtest_figure(scored), width="stretch")
tab = bt.table.copy()
tab["chosen"] = [bt.best.get(s) == m for s, m in zip(tab["segment"], tab["method"])]
st.dataframe(tab, hide_index=True, width="stretch", column_config={
    "wape": st.column_config.NumberColumn("WAPE", format="percent"),
    "coverage_80": st.column_config.NumberColumn("p10–p90 coverage", format="percent"),
    "horizon_days": st.column_config.NumberColumn("horizon (open days)")})
if len(bt.by_week):
    st.caption("WAPE by horizon week (week 1 = the first week after the origin)")
    st.dataframe(bt.by_week.pivot_table(index=["segment", "method"], columns="week", values="wape", sort=False)
                 .rename(columns=lambda w: f"week {w}").reset_index(), hide_index=True, width="stretch",
                 column_config={f"week {w}": st.column_config.NumberColumn(f"week {w}", format="percent")
                                for w in sorted(set(bt.by_week["week"]))})

st.subheader("How uncertain is tomorrow's volume?")
band = ((res["days"]["p90"] - res["days"]["p10"]) / res["days"]["forecast"].where(res["days"]["forecast"] > 0))
implied_cv = float(band.mean() / (2 * 1.2816)) if band.notna().any() else 0.0
st.markdown(
    f"The forecast's p10–p90 band around a day's total is **±{band.mean() / 2:.1%}** on average. A planner who "
    "staffs to the forecast meets days that busy or that quiet one time in five. The simulator can face the same "
    f"uncertainty: a **busyness CV of {implied_cv:.3f}** draws one day factor per simulated day (gamma, mean 1) "
    "whose 10th–90th percentiles span about the same band. The planner's formulas stay at the mean volume.")
st.button(f"Use busyness CV {implied_cv:.3f} in the scenario", key="fc_busy", on_click=_use_busyness,
          args=(round(implied_cv, 3),), help="sets simulation.busyness_cv; the Scenario page shows and edits it")
if st.session_state.get("fc_busy_set") is not None:
    st.success(f"simulation.busyness_cv is now {st.session_state.pop('fc_busy_set'):.3f}: every simulated day "
               "draws its own volume factor.")

st.subheader("Use this forecast")
dates = sorted(res["intervals"]["date"].unique())
c = st.columns([2, 2, 2])
day = c[0].selectbox("Day", dates, key="fc_use_day")
slider_label = f"p{round(res['quantile'] * 100):d}"
choices = {"p10": "p10", "p50": "p50", "p90": "p90", "mean forecast": "forecast"}
if slider_label not in choices:
    choices[f"{slider_label} (the slider's)"] = "q"
pick = c[1].selectbox("Quantile", list(choices), index=list(choices).index("p50"), key="fc_use_q",
                      help="p90 plans for a day busier than 9 in 10; the slider above adds another quantile")
label = pick.split(" ")[0] if choices[pick] != "forecast" else "mean"
c[2].button("Put this day into the scenario", key="fc_use", type="primary", on_click=_use,
            args=(day, choices[pick], label, res["interval"]),
            help="Every segment's calls per interval become the forecast's; then plan, roster and simulate it")
if st.session_state.get("fc_use_error"):
    st.error("The forecast was not applied; the scenario is unchanged.\n\n" + common.esc(st.session_state["fc_use_error"]))
if st.session_state.get("fc_used"):
    d_, l_, notes = st.session_state.pop("fc_used")
    st.success(f"The {l_} forecast of {d_} is now the scenario's volumes. Staffing plan, Roster and Simulate use it.")
    for n in notes:
        st.info(common.esc(n))

st.subheader("How would this plan have done?")
st.caption("The whole chain judged on days that happened: at each weekly origin near the end of the history, the "
           "forecast is made from the history before it (as above), each following day is staffed at the quantile "
           "by the analytic plan of the current scenario, and then simulated with the calls that actually came. "
           "Beside it: the staffing an oracle would have made from the actual volumes (the cost of forecast error) "
           "and the naive forecast's (mean of the last 4 same weekdays).")
c = st.columns(4)
ch_origins = int(c[0].number_input("Origins", min_value=1, max_value=8, value=2, key="fc_chain_origins",
                                   help="weekly origins, the latest the history allows"))
ch_days = int(c[1].number_input("Days after each", min_value=1, max_value=28, value=7, key="fc_chain_days"))
ch_q = float(c[2].slider("Staff for quantile", 0.05, 0.95, float(res["quantile"]), 0.05, key="fc_chain_q",
                         help="0.5 = median; a higher quantile buys service with agents"))
ch_reps = int(c[3].number_input("Replications per day", min_value=1, max_value=20, value=1, key="fc_chain_reps"))
from ccplan import backtesting as chain  # noqa: E402  (the section's use case)

chain_key = common.scenario_key(sc, h.source, len(h.data), float(h.data["offered"].sum()), ch_origins, ch_days,
                                ch_q, ch_reps, method, country)
if st.session_state.get("fc_chain_key") != chain_key:  # checking is cheap, but not free: once per input
    try:
        st.session_state["fc_chain_job"] = chain.prepare(h, sc, ch_origins, ch_days, ch_q, "plan", ch_reps, None,
                                                         method, country)
    except (fc.ForecastError, HistoryError, ScenarioError) as exc:
        st.session_state["fc_chain_job"] = exc
    st.session_state["fc_chain_key"] = chain_key
chain_job = st.session_state["fc_chain_job"]
if isinstance(chain_job, Exception):
    st.error("The backtest cannot run with this history and scenario:\n\n" + common.esc(str(chain_job)))
    chain_job = None
if chain_job is not None:
    st.caption(f"{len(chain_job.origins)} origin(s) ({', '.join(map(str, chain_job.origins))}) × "
               f"{len(chain_job.days)} simulated day(s) × 3 staffings × {ch_reps} replication(s).")
    ok = common.confirm_work(list(chain_job.actual.values()) * 3, ch_reps, "fc_chain")
    if st.button("How would this plan have done?", key="fc_chain_run", disabled=not ok):
        bar = st.progress(0.0, text="forecasting")

        def _tick(stage: str, done: int, total: int) -> None:
            bar.progress(min(1.0, done / max(total, 1)), text=f"{stage}: {done}/{total}")

        try:
            st.session_state["fc_chain"] = chain.run(chain_job, progress=_tick)
        except (fc.ForecastError, ScenarioError) as exc:
            st.error(common.esc(str(exc)))
        bar.empty()
chain_res = st.session_state.get("fc_chain")
if chain_res is not None:
    summary = chain_res.summary()
    targets = {k: chain_res.job.base.sl_target(k) for k in chain_res.job.base.segment_names}
    st.pyplot(charts.chain_backtest_figure(chain_res.days, chain_res.service, targets, chain_res.job.base.currency),
              width="stretch")
    k = st.columns(4)
    f_, o_ = summary["forecast"], summary["oracle"]
    k[0].metric("Intervals meeting the target", "-" if f_["intervals_meeting_target"] is None else
                f"{f_['intervals_meeting_target']:.0%}",
                help=f"oracle: {o_['intervals_meeting_target'] or 0:.0%}; naive: "
                     f"{summary['naive']['intervals_meeting_target'] or 0:.0%}")
    k[1].metric("Days meeting the target", "-" if f_["days_meeting_target"] is None else
                f"{f_['days_meeting_target']:.0%}", help=f"oracle: {o_['days_meeting_target'] or 0:.0%}")
    k[2].metric("Agent cost", f"{f_['cost']:,.0f} {chain_res.job.base.currency}",
                delta=f"{f_['cost'] - o_['cost']:+,.0f} vs the oracle", delta_color="off")
    k[3].metric("Agent-hours", f"{f_['agent_hours']:,.0f}", delta=f"{f_['agent_hours'] - o_['agent_hours']:+,.0f} "
                "vs the oracle", delta_color="off")
    rows = pd.DataFrame([{"staffing": name, **vals} for name, vals in summary.items()])
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        "intervals_meeting_target": st.column_config.NumberColumn("intervals meeting target", format="percent"),
        "days_meeting_target": st.column_config.NumberColumn("days meeting target", format="percent"),
        "service_level": st.column_config.NumberColumn("service level", format="percent"),
        "cost": st.column_config.NumberColumn("agent cost", format="%.0f"),
        "agent_hours": st.column_config.NumberColumn("agent-hours", format="%.0f")})
    for n in chain_res.notes:
        st.info(common.esc(n))
