"""``ccplan backtest``: the whole chain — forecast, staff, simulate — judged on days that happened.

At each origin (weekly, the latest ``origins`` the history allows) the forecast is made exactly as
``ccplan forecast`` would have made it from the history before that day (the same pipeline: special
days, the nested choice of auto, the calibrated band); each of the next ``days`` calendar days that has
data is staffed at the forecast's ``quantile`` by the analytic plan (:func:`planner.staffing.plan`) or,
with ``staffing="verify"``, by :func:`ccplan.verification.verify` without its confirmation on fresh callers
(``confirm_replications=0``, for speed: the day is then simulated on its actual volumes with other
random numbers anyway, which is the out-of-sample test). Each day is then simulated with the volumes
that actually arrived (the history's real counts put into the base scenario by
:func:`ccplan.volumes.forecast_scenario`; arrivals are Poisson at each interval's actual count), under
three staffings with the same callers (common random numbers):

- ``forecast``: the plan made from the forecast (what the planner would have scheduled);
- ``oracle``: the plan made from the actual volumes (perfect foresight: the cost of forecast error is
  the difference);
- ``naive``: the plan made from the mean of the last 4 same weekdays at the same quantile of its own
  calibrated band (the spreadsheet benchmark).

Reported per day and per interval: service level against each segment's target, scheduled agent-hours
and agent cost (:func:`ccplan.economics.price_simulation`: paid time of the scheduled agents, overtime
to finish calls after closing included). An interval counts towards "intervals meeting the target" when
at least ``MIN_JUDGED_CALLS`` simulated calls arrived in it. Money in the scenario's currency, time in hours.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ccplan import forecasting
from ccplan.history import History
from ccplan.scenario import Scenario, from_dict, to_dict
from planner import forecast as fc

KINDS = ("forecast", "oracle", "naive")
STAFFING = ("plan", "verify")
MAX_ORIGINS = 52
MAX_DAYS = 28
MIN_JUDGED_CALLS = 20.0  # an interval with fewer simulated calls says little about its service level

Progress = Callable[[str, int, int], None]


@dataclass
class ChainJob:
    """A checked ``ccplan backtest`` job: the history, the base scenario, the origins and the days to simulate.

    ``days``: (origin, date) of every day to simulate (open, with data); ``actual``: the base scenario with
    each such day's actual volumes (for the work estimate and the simulation)."""

    history: History
    prepared: forecasting.Prepared   # the whole history, checked against the base scenario
    base: Scenario
    origins: list[dt.date]
    horizon_days: int
    quantile: float
    staffing: str
    replications: int
    seed: int
    method: str
    country: str | None
    excluded: dict | None
    days: list[tuple[dt.date, dt.date]]
    actual: dict[dt.date, Scenario]
    notes: list[str] = field(default_factory=list)

    @property
    def simulations(self) -> int:
        """Simulated scenarios: every day under every staffing."""
        return len(self.days) * len(KINDS)


@dataclass
class ChainResult:
    """What the chain gave.

    ``days``: one row per origin x date x staffing (kind): calls_actual, calls_planned (the volume the staffing
    was made for), agent_hours, cost, holiday; ``service``: one row per origin x date x kind x segment:
    service_level, sl_target, meets_target, calls; ``intervals``: one row per origin x date x interval x kind x
    segment: time, calls_actual, calls_planned, agents (scheduled, all groups), service_level, meets_target
    (NaN below ``MIN_JUDGED_CALLS`` calls); ``summary``: per kind (see :meth:`summary`)."""

    job: ChainJob
    days: pd.DataFrame
    service: pd.DataFrame
    intervals: pd.DataFrame
    notes: list[str]

    def summary(self) -> dict:
        """Per staffing: intervals_meeting_target (share of judged intervals), days_meeting_target (share of day x
        segment), days (origin x date simulated; a date can follow several origins), agent_hours, cost (money), and
        service_level (call-weighted over all days and segments)."""
        out = {}
        for k in KINDS:
            iv = self.intervals[(self.intervals["kind"] == k) & self.intervals["meets_target"].notna()]
            sv = self.service[self.service["kind"] == k]
            d = self.days[self.days["kind"] == k]
            out[k] = {
                "intervals_meeting_target": float(iv["meets_target"].mean()) if len(iv) else None,
                "intervals_judged": int(len(iv)),
                "days_meeting_target": float(sv["meets_target"].mean()) if len(sv) else None,
                "days": int(len(d)),
                "agent_hours": float(d["agent_hours"].sum()),
                "cost": float(d["cost"].sum()),
                "service_level": (float((sv["service_level"] * sv["calls"]).sum() / sv["calls"].sum())
                                  if len(sv) and sv["calls"].sum() > 0 else None),
            }
        return out

    def to_json(self) -> dict:
        """The ``ccplan backtest --json`` object (the contract): origins -> days, and the summary."""
        s = self.summary()
        f, o, n = s["forecast"], s["oracle"], s["naive"]
        origins = []
        for origin in self.job.origins:
            days = []
            sub = self.days[self.days["origin"] == origin.isoformat()]
            for date in dict.fromkeys(sub["date"]):
                row = {}
                for k in KINDS:
                    d = sub[(sub["date"] == date) & (sub["kind"] == k)].iloc[0]
                    sv = self.service[(self.service["origin"] == origin.isoformat()) & (self.service["date"] == date)
                                      & (self.service["kind"] == k)]
                    sl = {r.segment: _num(r.service_level) for r in sv.itertuples()}
                    prefix = "" if k == "forecast" else f"{k}_"
                    row.update({f"{prefix}service_level": sl, f"{prefix}agent_hours": _num(d["agent_hours"]),
                                f"{prefix}cost": _num(d["cost"]), f"{prefix}calls_planned": _num(d["calls_planned"])})
                first = sub[(sub["date"] == date)].iloc[0]
                days.append({"date": date, "holiday": first["holiday"], "calls": _num(first["calls_actual"]),
                             "service_level_target": {seg: self.job.base.sl_target(seg)
                                                      for seg in self.job.base.segment_names}, **row})
            origins.append({"origin": origin.isoformat(), "days": days})
        return {
            "history": self.job.history.source, "scenario": self.job.base.name, "currency": self.job.base.currency,
            "quantile": self.job.quantile, "staffing": self.job.staffing, "method": self.job.method,
            "replications": self.job.replications, "seed": self.job.seed, "horizon_days": self.job.horizon_days,
            "origins": origins,
            "summary": {
                "intervals_meeting_target": f["intervals_meeting_target"],
                "days_meeting_target": f["days_meeting_target"],
                "service_level": f["service_level"],
                "agent_hours": f["agent_hours"], "cost": f["cost"],
                "oracle_agent_hours": o["agent_hours"], "oracle_cost": o["cost"],
                "cost_of_forecast_error": f["cost"] - o["cost"],
                "oracle": o, "naive": n, "forecast": f,
                "days": f["days"], "intervals_judged": f["intervals_judged"],
            },
            "notes": self.notes,
        }


def _num(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _truncated(h: History, before: dt.date) -> History:
    """The history without its rows from ``before`` on (what was known the evening before)."""
    data = h.data[h.data["timestamp"] < pd.Timestamp(before)].reset_index(drop=True)
    return History(data, h.bucket_minutes, h.has_aht, h.source, h.notes)


def available_origins(segments: list[fc.SegmentHistory], horizon_days: int) -> list[dt.date]:
    """Every origin (first forecast day) the history allows for ``horizon_days``: weekly, each with the whole horizon
    inside the history and ``MIN_EARLIER_ORIGINS`` weekly origins after ``MIN_TRAIN_WEEKS`` weeks of training
    before it (so that auto's choice and the band are made as at the end of a long history)."""
    live = [sh for sh in segments if sh.stopped_since is None]
    if not live:
        return []
    sh = max(live, key=lambda s: (len(s.open_weekdays), int((~np.isnan(s.y).all(axis=1)).sum())))
    horizon = fc._open_days(horizon_days, sh.period)
    grid = fc._grid(len(sh.y), sh.period, horizon, sh.y, sh.weekdays)
    return [sh.dates[o] for i, o in enumerate(grid) if i >= fc.MIN_EARLIER_ORIGINS and o + horizon <= len(sh.y)]


def prepare(h: History, base: Scenario, origins: int = 4, days: int = MAX_DAYS, quantile: float = 0.5,
            staffing: str = "plan", replications: int | None = None, seed: int | None = None,
            method: str = "auto", country: str | None = None, excluded: dict | None = None) -> ChainJob:
    """Check a chain job before anything slow: options, the history against the base scenario (segments, grid), the
    origins the history allows and the days to simulate. ForecastError or ScenarioError with one clear message."""
    if not 1 <= origins <= MAX_ORIGINS:
        raise fc.ForecastError(f"--origins must be between 1 and {MAX_ORIGINS}, got {origins}")
    if not 1 <= days <= MAX_DAYS:
        raise fc.ForecastError(f"--days must be between 1 and {MAX_DAYS} (calendar days after each origin), got {days}")
    if staffing not in STAFFING:
        raise fc.ForecastError(f"staffing must be plan or verify, got {staffing!r}")
    reps = base.simulation.replications if replications is None else int(replications)
    if reps < 1:
        raise fc.ForecastError(f"--replications must be at least 1, got {reps}")
    job = forecasting.prepare(h, base.interval_minutes, None, days, method, quantile, base, country, excluded)
    allowed = available_origins(job.segments, days)
    if len(allowed) < origins:
        sh = job.segments[0]
        period = sh.period
        need_weeks = fc.MIN_TRAIN_WEEKS + fc.MIN_EARLIER_ORIGINS
        have = int((~np.isnan(sh.y).all(axis=1)).sum())
        what = (f"the history allows {len(allowed)} origin(s)" if allowed else
                "the history is shorter than the first origin needs")
        raise fc.ForecastError(
            f"{what}: each origin needs {need_weeks} weeks of history before it ({fc.MIN_TRAIN_WEEKS} weeks of "
            f"training and {fc.MIN_EARLIER_ORIGINS} earlier weekly origins for auto's choice and the band) and "
            f"{days} days after it, and origins are a week apart; the history holds {have} open days "
            f"(about {have / period:.1f} weeks from {h.dates[0]} to {h.dates[-1]}); "
            + (f"ask for --origins {len(allowed)} or fewer, or fewer --days" if allowed else
               f"it needs at least {need_weeks * period + fc._open_days(days, period)} open days for --days {days}"))
    chosen = allowed[-origins:]
    raw = h.rolled_up(base.interval_minutes)
    have = {d for d, tot in raw.groupby("date")["offered"].sum().items() if tot > 0}
    notes = list(job.notes)
    todo, skipped = [], []
    for o in chosen:
        for k in range(days):
            d = o + dt.timedelta(days=k)
            if not any(d.weekday() in sh.open_weekdays for sh in job.segments):
                continue
            (todo if d in have else skipped).append((o, d))
    if skipped:
        notes.append(f"{len(skipped)} open day(s) without data in the history are not simulated (nothing to judge "
                     f"them on): {', '.join(sorted({str(d) for _, d in skipped})[:6])}")
    from ccplan.volumes import forecast_scenario

    segs = [sh.segment for sh in job.segments]
    actual = {}
    for _, d in todo:
        if d not in actual:
            actual[d] = forecast_scenario(base, _actual_rows(raw, d), "actual", base.interval_minutes,
                                          label="actual", segments=segs)[0]
    return ChainJob(h, job, base, chosen, days, quantile, staffing, reps,
                    base.simulation.seed if seed is None else int(seed), method, country, excluded, todo, actual,
                    notes)


def _actual_rows(raw: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    r = raw[raw["date"] == day]
    return pd.DataFrame({"date": day.isoformat(), "interval_start": [f"{s // 60:02d}:{s % 60:02d}" for s in r["slot"]],
                         "segment": r["segment"].to_numpy(), "actual": r["offered"].to_numpy(float),
                         "aht_s": r["aht_s"].to_numpy(float)})


def _forecasts_at(job: ChainJob, origin: dt.date) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The forecast (auto or the job's method) and the naive forecast ``ccplan forecast`` would have made on the
    evening before ``origin``, ``quantile`` in column ``q``."""
    past = _truncated(job.history, origin)
    p = forecasting.prepare(past, job.base.interval_minutes, origin, job.horizon_days, job.method, job.quantile,
                            job.base, job.country, job.excluded)
    bt = forecasting.backtest(p)
    res = forecasting.run(p, bt)
    naive, _ = fc.forecast(p.segments, origin, job.horizon_days, method=fc.BENCHMARK, backtest_result=bt,
                           quantile=job.quantile, interval_minutes=p.interval_minutes, holidays=p.holidays,
                           horizon_days=p.backtest_days, notes=[])
    return res.intervals, naive, [f"origin {origin}: {n}" for n in res.notes if "is a public holiday" in n]


def _day_frames(fc_rows: pd.DataFrame, naive_rows: pd.DataFrame, actual_rows: pd.DataFrame
                ) -> dict[str, pd.DataFrame]:
    """One day's forecast, naive and actual volumes on the same rows (every segment x interval any of them has),
    each as a frame :func:`ccplan.volumes.forecast_scenario` reads (volume in ``calls``, and ``aht_s``)."""
    key = ["segment", "interval_start"]
    rows = pd.concat([fc_rows[key], naive_rows[key], actual_rows[key]]).drop_duplicates().reset_index(drop=True)
    date = actual_rows["date"].iloc[0]
    out = {}
    for kind, src, col in (("forecast", fc_rows, "q"), ("naive", naive_rows, "q"), ("oracle", actual_rows, "actual")):
        m = rows.merge(src[key + [col] + (["aht_s"] if "aht_s" in src.columns else [])], on=key, how="left")
        frame = pd.DataFrame({"date": date, "interval_start": m["interval_start"], "segment": m["segment"],
                              "calls": m[col].fillna(0.0).to_numpy(float)})
        if "aht_s" in m.columns and m["aht_s"].notna().any():
            frame["aht_s"] = m["aht_s"].to_numpy(float)
        out[kind] = frame
    act = rows.merge(actual_rows, on=key, how="left")
    out["actual"] = pd.DataFrame({"date": date, "interval_start": act["interval_start"], "segment": act["segment"],
                                  "calls": act["actual"].fillna(0.0).to_numpy(float)})
    if act["aht_s"].notna().any():
        out["actual"]["aht_s"] = act["aht_s"].to_numpy(float)
    return out


def staff_plan(scenario: Scenario) -> np.ndarray:
    """Scheduled agents (G, T) of the analytic plan of ``scenario`` (a worker task)."""
    from planner.staffing import plan

    return plan(scenario).scheduled


def with_staffing(scenario: Scenario, scheduled: np.ndarray) -> Scenario:
    """``scenario`` with each group's ``agents_per_interval`` set to ``scheduled`` (G, T), groups in its order."""
    data = to_dict(scenario)
    for g, row in zip(data["agent_groups"], scheduled):
        g.pop("agents", None)
        g["agents_per_interval"] = [int(x) for x in row]
    return from_dict(data)


def run(job: ChainJob, executor: Executor | None = None, progress: Progress | None = None) -> ChainResult:
    """Forecast at each origin, staff each day three ways, simulate each day on its actual volumes.

    The origins are forecast in parallel on the workers, then the staffings are planned there; a staffing that
    recurs (the oracle of a date every origin covers, a naive forecast equal to auto's) is planned and simulated
    once: the same scenario, staffing and seed give the same numbers."""
    from ccplan.volumes import forecast_scenario
    from sim.runner import process_pool, simulate_many

    tick = progress or (lambda stage, done, total: None)
    notes = list(job.notes)
    segs = [sh.segment for sh in job.prepared.segments]
    raw = job.history.rolled_up(job.base.interval_minutes)
    own = executor is None
    import os

    ex = executor if not own else process_pool(max(1, min(os.cpu_count() or 1, 3 * len(job.days))))
    try:
        forecasts: dict[dt.date, tuple[pd.DataFrame, pd.DataFrame]] = {}
        tick("forecasting", 0, len(job.origins))
        futures = {ex.submit(_forecasts_at, job, origin): origin for origin in job.origins}
        from concurrent.futures import as_completed

        for i, fut in enumerate(as_completed(futures)):
            f, n, said = fut.result()
            forecasts[futures[fut]] = (f, n)
            notes += said
            tick("forecasting", i + 1, len(job.origins))
        scenarios: dict[tuple[dt.date, dt.date, str], Scenario] = {}
        planned: dict[tuple[dt.date, dt.date, str], float] = {}
        for origin, day in job.days:
            f, n = forecasts[origin]
            iso = day.isoformat()
            frames = _day_frames(f[f["date"] == iso], n[n["date"] == iso], _actual_rows(raw, day))
            for kind in KINDS:
                sc, _ = forecast_scenario(job.base, frames[kind], "calls", job.base.interval_minutes, label=kind,
                                          segments=segs)
                scenarios[(origin, day, kind)] = sc
                planned[(origin, day, kind)] = float(frames[kind]["calls"].sum())
            scenarios[(origin, day, "actual")] = forecast_scenario(job.base, frames["actual"], "calls",
                                                                   job.base.interval_minutes, label="actual",
                                                                   segments=segs)[0]
        staffing = _staff(job, scenarios, ex, tick)
        keys = [(o, d, k) for o, d in job.days for k in KINDS]
        sim_of: dict[tuple, int] = {}
        to_sim: list[Scenario] = []
        for o, d, k in keys:
            actual = scenarios[(o, d, "actual")]
            sig = (d, actual.open_time, actual.n_intervals, staffing[(o, d, k)].tobytes())
            if sig not in sim_of:
                sim_of[sig] = len(to_sim)
                to_sim.append(with_staffing(actual, staffing[(o, d, k)]))
        total = len(to_sim) * job.replications
        tick("simulating", 0, total)
        unique = simulate_many(to_sim, job.replications, job.seed, ex,
                               progress=lambda done, _t: tick("simulating", done, total))
    finally:
        if own:
            ex.shutdown(wait=True, cancel_futures=True)
    results = []
    for o, d, k in keys:
        actual = scenarios[(o, d, "actual")]
        results.append(unique[sim_of[(d, actual.open_time, actual.n_intervals, staffing[(o, d, k)].tobytes())]])
    return _tables(job, keys, results, staffing, scenarios, planned, notes)


def _tables(job: ChainJob, keys: list, results: list, staffing: dict, scenarios: dict, planned: dict,
            notes: list[str]) -> ChainResult:
    """The chain's tables from the simulations of every (origin, day, kind)."""
    from ccplan.economics import price_simulation

    day_rows, service_rows, interval_rows = [], [], []
    hours = job.base.interval_minutes / 60.0
    holidays = job.prepared.holidays
    for (origin, day, kind), res in zip(keys, results):
        sc = res.scenario
        sched = staffing[(origin, day, kind)]
        econ = price_simulation(res).summary.set_index("segment")
        seg = res.summary["segments"].set_index("segment")
        base_row = {"origin": origin.isoformat(), "date": day.isoformat(), "kind": kind}
        day_rows.append({**base_row, "calls_actual": planned[(origin, day, "oracle")],
                         "calls_planned": planned[(origin, day, kind)], "agent_hours": float(sched.sum() * hours),
                         "cost": float(econ.loc["total", "agent_cost"]), "holiday": holidays.get(day, "")})
        for name in sc.segment_names:
            sl = float(seg.loc[name, "service_level"])
            target = sc.sl_target(name)
            service_rows.append({**base_row, "segment": name, "calls": float(seg.loc[name, "offered"]),
                                 "service_level": sl, "sl_target": target,
                                 "meets_target": bool(sl >= target) if np.isfinite(sl) else np.nan})
        iv = res.summary["intervals"]
        plan_sc = scenarios[(origin, day, kind)]
        agents = sched.sum(axis=0)
        for r in iv.itertuples():
            calls = float(sc.calls_per_interval(r.segment)[int(r.interval)])
            judged = calls >= MIN_JUDGED_CALLS and np.isfinite(r.service_level)
            target = sc.sl_target(r.segment)
            interval_rows.append({**base_row, "interval": int(r.interval), "time": r.time, "segment": r.segment,
                                  "calls_actual": calls,
                                  "calls_planned": float(plan_sc.calls_per_interval(r.segment)[int(r.interval)]),
                                  "agents": int(agents[int(r.interval)]), "service_level": float(r.service_level),
                                  "sl_target": target,
                                  "meets_target": (bool(r.service_level >= target) if judged else np.nan)})
    return ChainResult(job, pd.DataFrame(day_rows), pd.DataFrame(service_rows), pd.DataFrame(interval_rows),
                       list(dict.fromkeys(notes)))


def _staff(job: ChainJob, scenarios: dict, ex: Executor, tick: Progress) -> dict:
    """Scheduled agents (G, T) of every day x staffing: analytic plans run as worker tasks; with ``verify``,
    :func:`ccplan.verification.verify` one after another (its simulations use the workers), without confirmation."""
    import json

    keys = [(o, d, k) for o, d in job.days for k in KINDS]
    same: dict[str, list] = {}  # a scenario that recurs (the oracle of a date several origins cover) is staffed once
    for key in keys:
        content = {k: v for k, v in to_dict(scenarios[key]).items() if k != "name"}
        same.setdefault(json.dumps(content, sort_keys=True, default=str), []).append(key)
    groups = list(same.values())
    out = {}
    if job.staffing == "plan":
        futures = {ex.submit(staff_plan, scenarios[g[0]]): g for g in groups}
        from concurrent.futures import as_completed

        for i, fut in enumerate(as_completed(futures)):
            for key in futures[fut]:
                out[key] = fut.result()
            tick("staffing", i + 1, len(groups))
        return out
    from ccplan.verification import verify

    for i, g in enumerate(groups):
        tick("staffing (verify)", i, len(groups))
        ver = verify(scenarios[g[0]], replications=max(2, job.replications), seed=job.seed, executor=ex,
                     confirm_replications=0)
        sc = ver.verified_scenario
        for key in g:
            out[key] = np.vstack([sc.agents_per_interval(grp) for grp in sc.agent_groups])
    tick("staffing (verify)", len(groups), len(groups))
    return out
