"""The week's roster: day scenarios and contracts in, weekly tours out (``ccplan roster --week`` and the Roster
page's week mode).

A week is up to 7 consecutive dates, each a day scenario as ``ccplan forecast --to-dir`` writes them
(``YYYY-MM-DD.toml``); a date without a scenario is a closed day. The week runs Monday–Sunday when the dates lie
in one calendar week, else 7 days from the first date. Contracts (``[[contracts]]``) come from the day scenarios
(the same in each) or from a contracts file. Each day's requirement is the cover the one-day roster uses (the
analytic plan, the plan verified by simulation, or the scenario's own staffing); :func:`solve` runs
:func:`planner.tours.solve`; :func:`apply` hands each day's scenario the roster's coverage as its staffing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ccplan.scenario import (MAX_TOML_BYTES, Contract, Scenario, ScenarioError, contracts_from_dict, dumps, load,
                             read_input)
from planner import tours
from planner.tours import TourError, TourRoster, WeekDay

DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.toml")
COVERS = ("plan", "verified", "current")


class WeekError(ValueError):
    """A week that cannot be read or rostered as given (one clear message)."""


@dataclass(frozen=True)
class Week:
    """A week to roster: its 7 ``dates``, the open days' ``scenarios``, the ``contracts``, where they came from
    (``contracts_source``), the input ``files`` read and ``notes`` on what was read differently from its face."""

    dates: tuple[dt.date, ...]
    scenarios: dict[dt.date, Scenario]
    contracts: tuple[Contract, ...]
    contracts_source: str
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def open_dates(self) -> list[dt.date]:
        return [d for d in self.dates if d in self.scenarios]

    @property
    def closed_dates(self) -> list[dt.date]:
        return [d for d in self.dates if d not in self.scenarios]

    @property
    def currency(self) -> str:
        return self.scenarios[self.open_dates[0]].currency

    @property
    def group_names(self) -> list[str]:
        return self.scenarios[self.open_dates[0]].group_names


def week_dates(dates: Sequence[dt.date]) -> tuple[dt.date, ...]:
    """The 7 dates of the week holding ``dates``: Monday–Sunday when they lie in one calendar week, else 7 days
    from the first. WeekError when they span more than 7 days."""
    if not dates:
        raise WeekError("no day scenarios: give at least one date")
    first, last = min(dates), max(dates)
    if (last - first).days > 6:
        raise WeekError(f"the dates run from {first} to {last} ({(last - first).days + 1} days); a week is at most 7 "
                        "consecutive dates: keep one week's day scenarios together")
    monday = first - dt.timedelta(days=first.weekday())
    start = monday if (last - monday).days <= 6 else first
    return tuple(start + dt.timedelta(days=k) for k in range(7))


def _shift_rules(scenarios: dict[dt.date, Scenario]) -> list[dict]:
    """Every shift rule of the week by name (the first day's version of each), as raw dicts."""
    rules: dict[str, dict] = {}
    for d in sorted(scenarios):
        for sh in scenarios[d].shifts:
            rules.setdefault(sh.name, sh.model_dump(mode="json", exclude_none=True))
    return list(rules.values())


def contracts_from_data(data: dict, scenarios: dict[dt.date, Scenario], source: str = "contracts") \
        -> tuple[Contract, ...]:
    """Contracts from a contracts file's (or the app's table's) dict, checked against the week's shift rules and
    groups; ScenarioError names every bad field (``contracts[0].days_per_week: ...``)."""
    groups = scenarios[min(scenarios)].group_names
    return contracts_from_dict(data, _shift_rules(scenarios), groups, source)


def read_contracts(path: Path, scenarios: dict[dt.date, Scenario]) -> tuple[Contract, ...]:
    """A contracts file (TOML with ``[[contracts]]`` tables)."""
    raw = read_input(path, MAX_TOML_BYTES, "contracts file")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScenarioError([("", "this is a binary file, not a TOML contracts file")], str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([("", f"not valid TOML: {exc}")], str(path)) from None
    return contracts_from_data(data, scenarios, str(path))


def assemble(scenarios: dict[dt.date, Scenario], contracts: Sequence[Contract] | None = None,
             contracts_source: str = "", files: Sequence[Path] = (), labels: dict[dt.date, str] | None = None) -> Week:
    """A Week from day scenarios by date and, optionally, contracts given apart (else the scenarios' own, which
    must be the same every day). ``labels``: how to name each day's source in messages (default: its date)."""
    if not scenarios:
        raise WeekError("no day scenarios")
    dates = week_dates(sorted(scenarios))
    name = {d: (labels or {}).get(d, str(d)) for d in scenarios}
    open_ = sorted(scenarios)
    first = scenarios[open_[0]]
    for d in open_[1:]:
        sc = scenarios[d]
        if sc.interval_minutes != first.interval_minutes:
            raise WeekError(f"{name[d]} uses {sc.interval_minutes}-minute intervals but {name[open_[0]]} uses "
                            f"{first.interval_minutes}-minute ones; every day of a week needs the same interval")
        if sc.group_names != first.group_names:
            raise WeekError(f"{name[d]} has agent groups {', '.join(sc.group_names)} but {name[open_[0]]} has "
                            f"{', '.join(first.group_names)}; every day needs the same groups, in the same order")
    for d in open_:
        if not scenarios[d].shifts:
            raise WeekError(f"{name[d]}: no shift rules; add [[shifts]] (see docs/roster-week.md)")
    notes: list[str] = []
    if contracts is None:
        have = {d: scenarios[d].contracts for d in open_}
        if not any(have.values()):
            raise WeekError("no contracts: add [[contracts]] to the day scenarios or give a contracts file "
                            "(--contracts FILE.toml; see docs/roster-week.md)")
        ref = open_[0] if have[open_[0]] else next(d for d in open_ if have[d])
        for d in open_:
            if have[d] != have[ref]:
                raise WeekError(f"the day scenarios' [[contracts]] differ ({name[ref]} and {name[d]}); a contract "
                                "holds for the whole week: make them the same, or give them once in a contracts file "
                                "(--contracts FILE.toml)")
        contracts = have[ref]
        contracts_source = contracts_source or "the day scenarios"
    else:
        if any(scenarios[d].contracts for d in open_):
            notes.append(f"the day scenarios' [[contracts]] are replaced by those of {contracts_source}")
    contracts = tuple(contracts)
    for c in contracts:
        for sh in c.shifts:
            missing = [d for d in open_ if sh not in {s.name for s in scenarios[d].shifts}]
            if missing and len(missing) < len(open_):
                notes.append(f"contract {c.name!r}: shift {sh!r} is not in the scenario of "
                             f"{', '.join(name[d] for d in missing)}, so the contract cannot use it that day")
    return Week(dates, dict(scenarios), contracts, contracts_source, tuple(files), tuple(notes))


def read_week(folder: Path, contracts_file: Path | None = None) -> Week:
    """The day scenarios in ``folder`` (``YYYY-MM-DD.toml``, as ``forecast --to-dir`` writes them) and the
    contracts (from ``contracts_file``, else the scenarios). Other files are left alone (named in the notes)."""
    folder = Path(folder)
    if not folder.exists():
        raise WeekError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise WeekError(f"{folder}: is a file; --week takes the folder of day scenarios (YYYY-MM-DD.toml)")
    found: dict[dt.date, Path] = {}
    skipped = []
    for p in sorted(folder.iterdir()):
        m = DAY_FILE.fullmatch(p.name)
        if not m:
            if p.suffix.lower() == ".toml":
                skipped.append(p.name)
            continue
        try:
            found[dt.date.fromisoformat(m.group(1))] = p
        except ValueError:
            raise WeekError(f"{p}: {m.group(1)} is not a date") from None
    if not found:
        raise WeekError(f"{folder}: no day scenarios (YYYY-MM-DD.toml, as ccplan forecast --to-dir writes them)")
    week_dates(sorted(found))  # the span first, before reading every file
    scenarios = {d: load(p) for d, p in found.items()}
    files = list(found.values())
    contracts = None
    source = ""
    if contracts_file is not None:
        contracts = read_contracts(contracts_file, scenarios)
        source = str(contracts_file)
        files.append(Path(contracts_file))
    week = assemble(scenarios, contracts, source, files, {d: str(p) for d, p in found.items()})
    notes = list(week.notes)
    if skipped:
        notes.append(f"not day scenarios, left alone: {', '.join(skipped)}")
    return Week(week.dates, week.scenarios, week.contracts, week.contracts_source, week.files, tuple(notes))


def requirements(week: Week, cover: str = "plan", max_occupancy: float | None = None,
                 verified: Callable[[dt.date, Scenario], Scenario] | None = None) -> dict[dt.date, np.ndarray]:
    """Each open day's scheduled agents to cover (groups x intervals), as the one-day roster takes them: "plan"
    (the analytic plan, with ``max_occupancy``), "verified" (``verified(date, scenario)`` returns the scenario
    verified by simulation, e.g. :func:`ccplan.verification.verify`'s) or "current" (the scenario's staffing)."""
    if cover not in COVERS:
        raise WeekError(f"--cover must be plan, verified or current, got {cover!r}")
    from planner.roster import requirement
    from planner.staffing import plan

    out = {}
    for d in week.open_dates:
        sc = week.scenarios[d]
        if cover == "plan":
            out[d] = plan(sc, max_occupancy=max_occupancy).scheduled.astype(np.int64)
        elif cover == "current":
            out[d] = requirement(sc, "current")
        else:
            if verified is None:
                raise WeekError("cover 'verified' needs a way to verify each day (run staff --verify)")
            out[d] = requirement(sc, "verified", verified(d, sc))
    return out


def days(week: Week, required: dict[dt.date, np.ndarray]) -> list[WeekDay]:
    """The engine's view of the week: one :class:`planner.tours.WeekDay` per date."""
    return [WeekDay(d, week.scenarios.get(d), required.get(d)) for d in week.dates]


def model_size(week: Week, required: dict[dt.date, np.ndarray]) -> tours.WeekModelSize:
    """The tour model's size, estimated before building (see :func:`planner.tours.model_size`)."""
    try:
        return tours.model_size(days(week, required), week.contracts)
    except TourError as exc:
        raise WeekError(str(exc)) from None


def solve(week: Week, required: dict[dt.date, np.ndarray], time_limit_s: float = 60.0, fte_hours: float = 40.0,
          progress: Callable[[float, float], None] | None = None) -> TourRoster:
    """The cheapest week of tours (:func:`planner.tours.solve`); WeekError for a week that cannot be set up (a
    model too large, malformed input), a TourRoster with status and message otherwise."""
    if not fte_hours > 0:
        raise WeekError(f"--fte-hours must be > 0, got {fte_hours:g}")
    if not time_limit_s > 0:
        raise WeekError(f"--time-limit must be > 0 seconds, got {time_limit_s:g}")
    try:
        return tours.solve(days(week, required), week.contracts, time_limit_s=time_limit_s, fte_hours=fte_hours,
                           progress=progress)
    except TourError as exc:
        raise WeekError(str(exc)) from None


def apply(result: TourRoster) -> dict[dt.date, Scenario]:
    """Each open day's scenario with the roster's coverage (whole agents on duty and not on break) as every group's
    ``agents_per_interval``, named ``<name> + week roster``."""
    return {d: sc.with_changes({"name": f"{sc.name} + week roster"}) for d, sc in result.to_scenarios().items()}


def file_name(date: dt.date) -> str:
    """A day scenario's file name, as ``forecast --to-dir`` writes it."""
    return f"{date.isoformat()}.toml"


def write_scenarios(scenarios: dict[dt.date, Scenario], folder: Path) -> list[Path]:
    """Write each day's scenario as ``YYYY-MM-DD.toml`` in ``folder`` (the caller stages it)."""
    out = []
    for d in sorted(scenarios):
        p = folder / file_name(d)
        p.write_text(dumps(scenarios[d]), encoding="utf-8")
        out.append(p)
    return out


def scenarios_zip(scenarios: dict[dt.date, Scenario]) -> bytes:
    """The day scenarios as a zip of ``YYYY-MM-DD.toml`` files (the app's download)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for d in sorted(scenarios):
            z.writestr(file_name(d), dumps(scenarios[d]))
    return buf.getvalue()


def agents_table(result: TourRoster) -> pd.DataFrame:
    """``agents.csv``: one row per agent and working day, breaks as text ("10:00 12:30"), their minutes and
    whether each is paid alongside."""
    a = result.agents
    return a.assign(breaks=a["breaks"].map(" ".join),
                    break_minutes=a["break_minutes"].map(lambda v: " ".join(map(str, v))),
                    break_paid=a["break_paid"].map(lambda v: " ".join("paid" if p else "unpaid" for p in v)))


def grid(result: TourRoster) -> pd.DataFrame:
    """The roster as planners read it: one row per agent (contract, group), one column per date with
    "07:00–15:30" or "off", and the week's paid hours."""
    cols = [f"{tours.WEEKDAYS[d.date.weekday()][:3]} {d.date.strftime('%d.%m')}" for d in result.days]
    rows = []
    for t in result.tours.itertuples():
        mine = result.agents[result.agents["agent"] == t.agent].set_index("date")
        cells = {}
        for d, col in zip(result.days, cols):
            iso = d.date.isoformat()
            cells[col] = f"{mine.loc[iso, 'start']}–{mine.loc[iso, 'end']}" if iso in mine.index else (
                "off" if d.open else "closed")
        rows.append({"agent": f"Agent {t.agent}", "contract": t.contract, "group": t.group, **cells,
                     "paid_hours": t.paid_hours})
    return pd.DataFrame(rows, columns=["agent", "contract", "group", *cols, "paid_hours"])


def day_hours(result: TourRoster) -> tuple[float, float]:
    """The clock hours every open day of the week fits in: (the earliest open, the latest close), for the Gantt."""
    from ccplan.scenario import clock_minutes

    spans = [(clock_minutes(d.scenario.open_time), clock_minutes(d.scenario.open_time)
              + d.scenario.n_intervals * d.scenario.interval_minutes) for d in result.days if d.open]
    return min(s for s, _ in spans) / 60.0, max(e for _, e in spans) / 60.0
