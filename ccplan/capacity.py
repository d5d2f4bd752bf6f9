"""Capacity planning over weeks: the use case behind ``ccplan capacity`` and the app's Capacity page.

A *capacity plan* (TOML, validated here like a scenario) sets a horizon of weeks, the agent groups (headcount,
attrition, salary), their hiring classes (allowed weeks, class sizes, training, ramp-up, cost per hire), fixed
hires for a what-if, and where the weekly requirement comes from:

- ``requirement = "required.csv"``: columns ``week, group, required_fte`` (week: 1..W or the week's Monday);
- ``requirement_days = "days/"``: day scenarios named ``YYYY-MM-DD.toml`` (as ``ccplan forecast --to-dir``
  writes them): the analytic plan's scheduled agents x interval hours, summed per ISO week, / ``fte_hours``;
- ``requirement_rosters = "weeks/"``: one ``roster --week`` JSON per week (``{"headcount": {GROUP: n},
  "fte": {GROUP: x}, ...}``), its week from ``"week_start"``, its ``"week"`` list of days, or its name (the
  week's Monday or ``weekNN``): ``fte``;
- ``base_scenario = "day.toml"`` with ``[[volume_factors]]`` (week, volume_factor): the plan of the base day
  with its volumes scaled by the week's factor (1 where none is given) x ``open_days_per_week`` / ``fte_hours``.

``volume_growth`` compounds every requirement weekly (0.01 = +1 % a week: week w is scaled by 1.01^(w-1)).
Paths are relative to the plan file. The arithmetic and the MILP are :mod:`planner.capacity`'s; this module
reads and checks the inputs, runs no hiring / the fixed hires / the optimum side by side, sweeps one setting,
and returns tidy tables (declared in :data:`WEEK_COLUMNS`, :data:`HIRE_COLUMNS`, :data:`COMPARISON_COLUMNS`,
:data:`SWEEP_COLUMNS`) and figures.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ccplan.scenario import MAX_AGENTS, MAX_MONEY, POLICY, Scenario, ScenarioError, read_input
from planner import capacity as engine

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn
    from matplotlib.figure import Figure

MAX_WEEKS = 260  # policy: five years of weeks; a horizon past that is not a hiring plan
MAX_CLASS = 100_000
MAX_GROUPS = 50
MAX_PLAN_BYTES = 1_000_000
MAX_CSV_BYTES = 20_000_000
MAX_JSON_BYTES = 5_000_000
MAX_FILES = 4_000  # policy: day scenarios in a folder (ten years of days)
WHAT = "capacity plan"
SOURCES = ("requirement", "requirement_days", "requirement_rosters", "base_scenario")
NO_HIRING, FIXED, OPTIMAL = "no hiring", "fixed hires", "optimal"

# ---------------------------------------------------------------------------------------------------------------
# the tables' declarations: column -> (label, kind, unit); every producer and reader uses these

WEEK_COLUMNS: dict[str, tuple[str, str, str]] = {
    "week": ("week", "count", "week number, 1 = the first week"),
    "week_start": ("week of", "text", "the week's Monday"),
    "group": ("group", "text", ""),
    "required_fte": ("required FTE", "number", "FTE"),
    "planned_fte": ("planned FTE", "number", "productive FTE: trainees 0, ramp-up at its share"),
    "over_under": ("over/under", "number", "planned - required, FTE"),
    "in_training": ("in training", "number", "persons employed and still in training"),
    "employed": ("employed", "number", "everyone paid, trainees included"),
    "hires": ("class starts", "count", "persons whose class starts this week"),
    "shortfall_fte": ("shortfall FTE", "number", "max(0, required - planned)"),
    "salary_cost": ("salaries", "money", "cost_per_fte_week x employed"),
    "hiring_cost": ("hiring cost", "money", "cost_per_hire x class starts"),
    "understaff_cost": ("understaffing penalty", "money", "penalty x shortfall"),
    "cost": ("cost", "money", "salaries + hiring + penalty"),
}
HIRE_COLUMNS: dict[str, tuple[str, str, str]] = {
    "group": ("group", "text", ""),
    "week": ("class starts in week", "count", "week number"),
    "week_start": ("week of", "text", "the week's Monday"),
    "count": ("persons", "count", "class size"),
    "productive_from_week": ("takes calls from week", "count", "the first week after training"),
    "full_from_week": ("fully productive from week", "count", "after the ramp"),
    "hiring_cost": ("hiring cost", "money", "cost_per_hire x persons"),
}
COMPARISON_COLUMNS: dict[str, tuple[str, str, str]] = {
    "plan": ("plan", "text", ""),
    "status": ("status", "text", ""),
    "hires": ("persons hired", "count", ""),
    "classes": ("classes", "count", ""),
    "hiring_cost": ("hiring cost", "money", "over the horizon"),
    "salary_cost": ("salaries", "money", "over the horizon"),
    "understaff_cost": ("understaffing penalty", "money", "over the horizon"),
    "cost": ("total cost", "money", "hiring + salaries + penalty"),
    "shortfall_fte_weeks": ("shortfall FTE-weeks", "number", "sum of max(0, required - planned)"),
    "weeks_short": ("weeks short", "count", "weeks x groups below the requirement"),
    "meets_min_coverage": ("meets min coverage", "text", "planned >= min_coverage x required every week"),
}
SWEEP_COLUMNS: dict[str, tuple[str, str, str]] = {
    "value": ("value", "number", "the varied setting"),
    "status": ("status", "text", ""),
    "gap": ("MIP gap", "percent", ""),
    "hires": ("persons hired", "count", ""),
    "classes": ("classes", "count", ""),
    "hiring_cost": ("hiring cost", "money", ""),
    "salary_cost": ("salaries", "money", ""),
    "understaff_cost": ("understaffing penalty", "money", ""),
    "cost": ("total cost, optimal", "money", ""),
    "shortfall_fte_weeks": ("shortfall FTE-weeks", "number", ""),
    "cost_no_hiring": ("total cost, no hiring", "money", ""),
    "cost_fixed_hires": ("total cost, fixed hires", "money", ""),
}


def column_label(name: str, currency: str = "", columns: dict | None = None) -> str:
    """A column's label as people read it, money with the currency."""
    for table in ([columns] if columns else []) + [WEEK_COLUMNS, HIRE_COLUMNS, COMPARISON_COLUMNS, SWEEP_COLUMNS]:
        if name in table:
            label, kind, _ = table[name]
            return f"{label} ({currency})" if kind == "money" and currency else label
    return name.replace("_", " ")


# ---------------------------------------------------------------------------------------------------------------
# the plan file


class _Plan(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False)


class GroupPlan(_Plan):
    """One agent group: ``headcount`` productive FTE at the start, ``attrition_per_month`` (share leaving a
    month), ``cost_per_fte_week`` (salary per employed FTE and week, trainees included)."""

    name: str = Field(min_length=1, max_length=200)
    headcount: float = Field(ge=0, le=MAX_AGENTS)
    attrition_per_month: float = Field(0.0, ge=0, lt=1)
    cost_per_fte_week: float = Field(0.0, ge=0, le=MAX_MONEY)


class HiringRule(_Plan):
    """When and how a group may hire: classes may start in weeks ``earliest_week``, ``earliest_week +
    every_weeks``, ... up to ``latest_week`` (default: the last week); a class is 0 or ``min_class`` ..
    ``max_class`` persons; ``training_weeks`` at productivity 0, then ``ramp`` (shares, e.g. [0.5, 0.75]),
    then 1; ``cost_per_hire`` (recruiting and training, once)."""

    group: str = Field(min_length=1)
    earliest_week: int = Field(1, ge=1, le=MAX_WEEKS)
    latest_week: int | None = Field(None, ge=1, le=MAX_WEEKS)
    every_weeks: int = Field(1, ge=1, le=MAX_WEEKS)
    min_class: int = Field(0, ge=0, le=MAX_CLASS)
    max_class: int = Field(ge=1, le=MAX_CLASS)
    training_weeks: int = Field(0, ge=0, le=MAX_WEEKS)
    ramp: tuple[float, ...] = Field((), max_length=52)
    cost_per_hire: float = Field(0.0, ge=0, le=MAX_MONEY)

    @field_validator("ramp")
    @classmethod
    def _shares(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        bad = [i for i, x in enumerate(v) if not 0 <= x <= 1]
        if bad:
            raise ValueError(f"productivities are shares between 0 and 1 (entry {bad[0]} is {v[bad[0]]:g})")
        return v


class FixedHire(_Plan):
    """A class decided beforehand (a what-if): ``count`` persons of ``group`` starting in ``week``."""

    group: str = Field(min_length=1)
    week: int = Field(ge=1, le=MAX_WEEKS)
    count: int = Field(ge=0, le=MAX_CLASS)


class VolumeFactor(_Plan):
    """With ``base_scenario``: the base day's volumes x ``volume_factor`` in ``week``."""

    week: int = Field(ge=1, le=MAX_WEEKS)
    volume_factor: float = Field(gt=0, le=100)


class CapacityPlan(_Plan):
    """A capacity plan (see the module docstring and docs/capacity.md for every key)."""

    name: str = "Capacity plan"
    description: str = ""
    currency: str = Field("USD", min_length=1, max_length=10)
    start: dt.date
    weeks: int = Field(ge=1, le=MAX_WEEKS)
    requirement: str | None = None
    requirement_days: str | None = None
    requirement_rosters: str | None = None
    base_scenario: str | None = None
    fte_hours: float = Field(40.0, gt=0, le=168)
    open_days_per_week: int = Field(5, ge=1, le=7)
    volume_factors: tuple[VolumeFactor, ...] = ()
    repeat_last_week: bool = False
    volume_growth: float = Field(0.0, ge=-0.5, le=1.0)
    understaff_penalty_per_fte_week: float = Field(0.0, ge=0, le=MAX_MONEY)
    min_coverage: float | None = Field(None, gt=0, le=2)
    groups: tuple[GroupPlan, ...] = Field(min_length=1, max_length=MAX_GROUPS)
    hiring: tuple[HiringRule, ...] = ()
    hires: tuple[FixedHire, ...] = ()

    @field_validator("start", mode="before")
    @classmethod
    def _date(cls, v: Any) -> dt.date:
        if isinstance(v, dt.datetime):
            raise ValueError(f"must be a date without a time (YYYY-MM-DD), got {v.isoformat()!r}")
        if isinstance(v, dt.date):
            day = v
        else:
            try:
                day = dt.date.fromisoformat(str(v).strip())
            except ValueError:
                raise ValueError(f"must be a date YYYY-MM-DD, got {v!r}") from None
        if day.weekday() != 0:
            monday = day - dt.timedelta(days=day.weekday())
            raise ValueError(f"{day.isoformat()} is a {day.strftime('%A')}; the horizon starts on a Monday "
                             f"(e.g. {monday.isoformat()}, the Monday before)")
        return day

    # ----- derived
    @property
    def group_names(self) -> list[str]:
        return [g.name for g in self.groups]

    @property
    def source_key(self) -> str | None:
        """Which requirement key the plan uses (None: none, as in the app)."""
        return next((k for k in SOURCES if getattr(self, k) is not None), None)

    def week_start(self, week: int) -> dt.date:
        """The Monday of ``week`` (1-based)."""
        return self.start + dt.timedelta(weeks=int(week) - 1)

    def week_of(self, day: dt.date) -> int:
        """The horizon week (1-based; outside 1..weeks when outside the horizon) holding ``day``."""
        return (day - self.start).days // 7 + 1

    def rule(self, group: str) -> HiringRule | None:
        return next((h for h in self.hiring if h.group == group), None)

    def class_weeks(self, rule: HiringRule) -> list[int]:
        """The weeks (1-based) a class of ``rule`` may start."""
        last = min(self.weeks, rule.latest_week or self.weeks)
        return list(range(rule.earliest_week, last + 1, rule.every_weeks))


def _weeks_text(weeks: list[int]) -> str:
    if not weeks:
        return "none"
    return ", ".join(map(str, weeks[:4])) + (f", … {weeks[-1]}" if len(weeks) > 4 else "")


def _hint(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def cross_field_problems(plan: CapacityPlan, need_source: bool = True) -> list[tuple[str, str]]:
    """Problems between fields of a plan whose fields are each valid, as (path, reason)."""
    out: list[tuple[str, str]] = []
    names = plan.group_names
    seen: dict[str, int] = {}
    for i, g in enumerate(plan.groups):
        if g.name in seen:
            out.append((f"groups[{i}].name", f"{g.name!r} is listed twice (also groups[{seen[g.name]}])"))
        seen.setdefault(g.name, i)
    given = [k for k in SOURCES if getattr(plan, k) is not None]
    if need_source and len(given) != 1:
        out.append(("requirement", "give exactly one requirement source: requirement (CSV), requirement_days "
                                   "(folder of day scenarios), requirement_rosters (folder of weekly roster JSON) "
                                   "or base_scenario" + (f"; this plan gives {', '.join(given)}" if given else "")))
    for k in given:
        if not str(getattr(plan, k)).strip():
            out.append((k, "must not be empty"))
    if plan.volume_factors and plan.base_scenario is None and given:
        out.append(("volume_factors", "goes with base_scenario (the base day's volumes scaled per week); to scale "
                                      "another requirement use volume_growth"))
    seen_w: dict[int, int] = {}
    for i, f in enumerate(plan.volume_factors):
        if f.week > plan.weeks:
            out.append((f"volume_factors[{i}].week", f"week {f.week} is after the horizon's {plan.weeks} weeks"))
        if f.week in seen_w:
            out.append((f"volume_factors[{i}].week", f"week {f.week} is listed twice (also volume_factors"
                                                     f"[{seen_w[f.week]}])"))
        seen_w.setdefault(f.week, i)
    rules: dict[str, int] = {}
    for i, h in enumerate(plan.hiring):
        p = f"hiring[{i}]"
        if h.group not in names:
            out.append((f"{p}.group", f"{h.group!r} is not a group of the plan ({', '.join(names)})"
                                      f"{_hint(h.group, names)}"))
        elif h.group in rules:
            out.append((f"{p}.group", f"{h.group!r} already has a hiring rule (hiring[{rules[h.group]}]); give one "
                                      "per group"))
        rules.setdefault(h.group, i)
        if h.earliest_week > plan.weeks:
            out.append((f"{p}.earliest_week", f"week {h.earliest_week} is after the horizon's {plan.weeks} weeks"))
        if h.latest_week is not None and h.latest_week < h.earliest_week:
            out.append((f"{p}.latest_week", f"{h.latest_week} is before earliest_week {h.earliest_week}"))
        if h.min_class > h.max_class:
            out.append((f"{p}.min_class", f"{h.min_class} is above max_class {h.max_class}"))
        if h.training_weeks >= plan.weeks:
            out.append((f"{p}.training_weeks", f"{h.training_weeks} weeks of training do not fit in the "
                                               f"{plan.weeks}-week horizon (a class would never take calls)"))
    starts: dict[tuple[str, int], tuple[int, int]] = {}
    for i, fh in enumerate(plan.hires):
        p = f"hires[{i}]"
        if fh.group not in names:
            out.append((f"{p}.group", f"{fh.group!r} is not a group of the plan ({', '.join(names)})"
                                      f"{_hint(fh.group, names)}"))
            continue
        rule = plan.rule(fh.group)
        if rule is None:
            out.append((f"{p}.group", f"{fh.group!r} has no [[hiring]] rule (its training weeks, ramp and class "
                                      "sizes); add one"))
            continue
        if fh.week > plan.weeks:
            out.append((f"{p}.week", f"week {fh.week} is after the horizon's {plan.weeks} weeks"))
            continue
        allowed = plan.class_weeks(rule)
        if fh.week not in allowed:
            out.append((f"{p}.week", f"week {fh.week} is not a class week of {fh.group!r} (classes may start in "
                                     f"weeks {_weeks_text(allowed)}: earliest_week {rule.earliest_week}, every "
                                     f"{rule.every_weeks} week(s))"))
            continue
        first, total = starts.get((fh.group, fh.week), (i, 0))
        total += fh.count
        starts[(fh.group, fh.week)] = (first, total)
        if total > rule.max_class:
            out.append((f"{p}.count", f"{total} is above max_class {rule.max_class} of {fh.group!r}" if first == i
                        else f"with hires[{first}], {total} persons start in week {fh.week}: above max_class "
                             f"{rule.max_class} of {fh.group!r}"))
    for (grp, week), (first, total) in starts.items():
        rule = plan.rule(grp)
        if rule is not None and 0 < total < rule.min_class:
            out.append((f"hires[{first}].count", f"{total} is below min_class {rule.min_class} of {grp!r} (a class "
                                                 f"is 0 or {rule.min_class}-{rule.max_class} persons)"))
    return out


def _friendly(err: dict) -> tuple[str, str]:
    """A pydantic error as (path, reason) in the scenario's wording."""
    from ccplan.scenario import _friendly as scenario_friendly, _path_str

    loc, typ = tuple(err["loc"]), err["type"]
    if typ == "extra_forbidden":
        model: type[BaseModel] | None = CapacityPlan
        for part in loc[:-1]:
            if isinstance(part, int) or model is None:
                continue
            ann = model.model_fields[str(part)].annotation if str(part) in model.model_fields else None
            model = next((m for m in (GroupPlan, HiringRule, FixedHire, VolumeFactor)
                          if ann is m or m in getattr(ann, "__args__", ())), None)
        hint = _hint(str(loc[-1]), list(model.model_fields)) if model is not None else ""
        return _path_str(loc), f"unknown key{hint}"
    if typ == "finite_number":
        return _path_str(loc), f"must be a finite number, got {err.get('input')!r}"
    if typ in ("bool_type", "bool_parsing"):
        return _path_str(loc), f"must be true or false, got {err.get('input')!r}"
    if typ == "too_long":
        return _path_str(loc), f"has more than {err.get('ctx', {}).get('max_length', '?')} entries{POLICY}"
    if typ in ("string_type",):
        return _path_str(loc), f"must be text, got {err.get('input')!r}"
    if typ == "model_type" or typ == "tuple_type":
        what = "a table" if typ == "model_type" else "a list"
        return _path_str(loc), f"must be {what}, got {err.get('input')!r}"
    return scenario_friendly(err)


def plan_from_dict(data: Any, source: str | None = None, base_dir: Path | None = None,
                   need_source: bool = True) -> CapacityPlan:
    """Validate a plain dict (as read from TOML) into a :class:`CapacityPlan`, or raise ScenarioError listing
    every problem by its path (``groups[0].attrition_per_month: must be < 1``). Requirement paths are made
    absolute relative to ``base_dir`` (the plan file's folder). ``need_source``: a requirement source must be
    given (the app passes its requirement as a table instead)."""
    if not isinstance(data, dict):
        raise ScenarioError([("", "a capacity plan must be a table of keys")], source, WHAT)
    if isinstance(data.get("weeks"), list):
        raise ScenarioError([("weeks", "is the horizon's length in weeks (a number); per-week volume factors go "
                                       "in [[volume_factors]] (week, volume_factor)")], source, WHAT)
    shape = [(k, f"must be a list of tables ([[{k}]] in TOML)") for k in ("groups", "hiring", "hires",
                                                                          "volume_factors")
             if k in data and not isinstance(data[k], (list, tuple))]
    if shape:
        raise ScenarioError(shape, source, WHAT)
    data = dict(data)
    for k in SOURCES:
        v = data.get(k)
        if isinstance(v, str) and v.strip() and not Path(v).is_absolute():
            data[k] = str(((base_dir or Path.cwd()) / v).resolve())
    try:
        plan = CapacityPlan.model_validate(data)
    except ValidationError as exc:
        problems = list(dict.fromkeys(_friendly(e) for e in exc.errors()
                                      if not (e["type"] == "too_short" and e.get("input"))))
        raise ScenarioError(problems, source, WHAT) from None
    problems = cross_field_problems(plan, need_source)
    if problems:
        raise ScenarioError(problems, source, WHAT)
    return plan


def load_plan(path: str | Path) -> CapacityPlan:
    """Read a capacity plan (TOML); paths in it are relative to its folder. Raises ScenarioError naming each
    problem."""
    p = Path(path)
    raw = read_input(p, MAX_PLAN_BYTES, "capacity plan")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError([("", "this is a binary file, not a TOML capacity plan")], str(p), WHAT) from None
    if not text.strip():
        raise ScenarioError([("", "the file is empty")], str(p), WHAT)
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ScenarioError([("", "is nested too deeply to be a capacity plan")], str(p), WHAT) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([("", f"not valid TOML: {exc}")], str(p), WHAT) from None
    return plan_from_dict(data, str(p), p.resolve().parent)


def input_paths(plan: CapacityPlan) -> list[Path]:
    """The files and folders the plan reads (outputs must not land on them)."""
    return [Path(getattr(plan, k)) for k in SOURCES if getattr(plan, k) is not None]


# ---------------------------------------------------------------------------------------------------------------
# the requirement


@dataclass(frozen=True)
class Requirement:
    """Required FTE per group and week (G, W), before ``volume_growth``; ``source`` says where it came from;
    ``table``: week, week_start, group, required_fte and, for derived sources, what it was derived from
    (days, agent_hours, volume_factor); ``notes``: what the reader decided for the user."""

    required_fte: np.ndarray
    source: str
    table: pd.DataFrame
    notes: tuple[str, ...] = ()


def shown_path(path: str | Path) -> str:
    """A path as the user would write it: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def _fail(source: str, problems: list[tuple[str, str]]) -> ScenarioError:
    return ScenarioError(problems[:20] + ([("", f"... and {len(problems) - 20} more")] if len(problems) > 20
                                          else []), shown_path(source), "requirement")


def _complete(plan: CapacityPlan, req: np.ndarray, have: np.ndarray, source: str, where: str,
              notes: list[str]) -> np.ndarray:
    """Fill weeks after a group's last given week (``repeat_last_week``) or name the missing ones."""
    problems = []
    for g, name in enumerate(plan.group_names):
        given = np.flatnonzero(have[g])
        if not given.size:
            problems.append(("", f"group {name!r} has no requirement in {where}"))
            continue
        last = int(given[-1])
        missing = [int(w) + 1 for w in np.flatnonzero(~have[g]) if w < last]
        after = list(range(last + 2, plan.weeks + 1))
        if missing or (after and not plan.repeat_last_week):
            missing += [] if plan.repeat_last_week else after
            hint = "" if plan.repeat_last_week or not after else (
                "; give every week of the horizon, or set repeat_last_week = true to repeat the last week given")
            problems.append(("", f"group {name!r} has no requirement for week(s) {_weeks_text(missing)} (week "
                                 f"{missing[0]} starts {plan.week_start(missing[0]).isoformat()}){hint}"))
            continue
        if last + 1 < plan.weeks:
            req[g, last + 1:] = req[g, last]
            have[g, last + 1:] = True
            note = (f"weeks {last + 2}-{plan.weeks} of {name!r} repeat week {last + 1}'s requirement "
                    f"({req[g, last]:,.1f} FTE; repeat_last_week)")
            notes.append(note)
    if problems:
        raise _fail(source, problems)
    return req


def _week_cell(plan: CapacityPlan, value: Any) -> int | str:
    """A CSV ``week`` cell: a number 1..W or the Monday of a horizon week; an error text otherwise."""
    text = str(value).strip()
    try:
        f = float(text)
    except ValueError:
        f = None
    if f is not None:
        if not math.isfinite(f) or not f.is_integer():
            return f"must be a whole week number (1-{plan.weeks}) or a Monday date, got {text!r}"
        w = int(f)
        if not 1 <= w <= plan.weeks:
            return f"week {w} is outside the horizon (weeks 1-{plan.weeks})"
        return w
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return f"must be a week number (1-{plan.weeks}) or a Monday date YYYY-MM-DD, got {text!r}"
    if day.weekday() != 0:
        return f"{text} is a {day.strftime('%A')}; give the week's Monday or its number"
    w = plan.week_of(day)
    if not 1 <= w <= plan.weeks:
        return (f"{text} is outside the horizon ({plan.start.isoformat()} to "
                f"{plan.week_start(plan.weeks).isoformat()}, weeks 1-{plan.weeks})")
    return w


def requirement_from_table(plan: CapacityPlan, df: pd.DataFrame, source: str = "requirement table") -> Requirement:
    """Required FTE from a table with columns ``week`` (1..W or the week's Monday), ``group`` and
    ``required_fte`` (FTE, >= 0): every problem named by its line (the header is line 1)."""
    cols = {str(c).strip().lower().lstrip("\ufeff"): c for c in df.columns}
    missing = [c for c in ("week", "group", "required_fte") if c not in cols]
    if missing:
        raise _fail(source, [("", f"missing column(s) {', '.join(missing)}: the requirement has columns week, "
                                  f"group, required_fte (found: {', '.join(map(str, df.columns)) or 'none'})")])
    extra = [str(c) for k, c in cols.items() if k not in ("week", "group", "required_fte")]
    names = plan.group_names
    g_of = {n: i for i, n in enumerate(names)}
    req = np.zeros((len(names), plan.weeks))
    have = np.zeros((len(names), plan.weeks), bool)
    first_line: dict[tuple[int, int], int] = {}
    problems: list[tuple[str, str]] = []
    weeks, groups, values = (df[cols[c]].tolist() for c in ("week", "group", "required_fte"))
    for i, (w_cell, g_cell, v_cell) in enumerate(zip(weeks, groups, values)):
        line = f"line {i + 2}"
        if all(pd.isna(x) or not str(x).strip() for x in (w_cell, g_cell, v_cell)):
            continue
        w = _week_cell(plan, "" if pd.isna(w_cell) else w_cell)
        if isinstance(w, str):
            problems.append((f"{line}, week", w))
        grp = "" if pd.isna(g_cell) else str(g_cell).strip()
        if grp not in g_of:
            problems.append((f"{line}, group", f"{grp!r} is not a group of the plan ({', '.join(names)})"
                                               f"{_hint(grp, names)}" if grp else "is empty"))
        try:
            v = float(str(v_cell).strip())
        except ValueError:
            v = None
        if v is None or pd.isna(v_cell) or not math.isfinite(v):
            problems.append((f"{line}, required_fte", f"must be a number, got {v_cell!r}"))
        elif v < 0:
            problems.append((f"{line}, required_fte", f"must be >= 0, got {v:g}"))
        elif v > MAX_AGENTS:
            problems.append((f"{line}, required_fte", f"must be at most {MAX_AGENTS:,}{POLICY}, got {v:g}"))
        if isinstance(w, int) and grp in g_of and v is not None and math.isfinite(v) and v >= 0:
            key = (g_of[grp], w - 1)
            if key in first_line:
                problems.append((f"{line}, week", f"week {w} of {grp!r} is given twice (also line "
                                                  f"{first_line[key]})"))
            else:
                first_line[key] = i + 2
                req[key] = v
                have[key] = True
    if problems:
        raise _fail(source, problems)
    notes = [f"column(s) {', '.join(extra)} of {Path(source).name} are not used"] if extra else []
    req = _complete(plan, req, have, source, Path(source).name, notes)
    return Requirement(req, shown_path(source) if Path(source).exists() else source,
                       _requirement_table(plan, req), tuple(notes))


def _requirement_table(plan: CapacityPlan, req: np.ndarray, **extra: np.ndarray) -> pd.DataFrame:
    w_n = plan.weeks
    df = pd.DataFrame({
        "week": np.tile(np.arange(1, w_n + 1), len(plan.groups)),
        "week_start": [plan.week_start(w).isoformat() for w in range(1, w_n + 1)] * len(plan.groups),
        "group": np.repeat(plan.group_names, w_n),
        "required_fte": req.ravel(),
    })
    for k, v in extra.items():
        df[k] = np.asarray(v).ravel()
    return df


def read_requirement_csv(plan: CapacityPlan, path: str | Path) -> Requirement:
    """Required FTE from a CSV file (``week, group, required_fte``; comma, semicolon or tab separated)."""
    p = Path(path)
    raw = read_input(p, MAX_CSV_BYTES, "requirement CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(str(p), [("", "this is a binary file, not a CSV")]) from None
    if not text.strip():
        raise _fail(str(p), [("", "the file is empty")])
    header = text.splitlines()[0]
    sep = max((",", ";", "\t"), key=header.count)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise _fail(str(p), [("", f"not a readable CSV: {str(exc).splitlines()[0]}")]) from None
    return requirement_from_table(plan, df, str(p))


def _files(folder: Path, suffix: str, what: str, key: str) -> list[Path]:
    if not folder.exists():
        raise _fail(str(folder), [("", f"no such folder ({key})")])
    if not folder.is_dir():
        raise _fail(str(folder), [("", f"is not a folder; {key} names a folder of {what}")])
    out = []
    with os.scandir(folder) as it:
        for e in it:
            if e.name.lower().endswith(suffix) and not e.name.startswith("."):
                out.append(Path(e.path))
                if len(out) > MAX_FILES:
                    raise _fail(str(folder), [("", f"holds more than {MAX_FILES:,} {what}{POLICY}")])
    if not out:
        raise _fail(str(folder), [("", f"holds no {what} (*{suffix})")])
    return sorted(out)


def scenario_agent_hours(scenario: Scenario) -> np.ndarray:
    """Agent-hours per group of a day (G,): the analytic plan's scheduled agents x interval hours."""
    from planner.staffing import plan

    return plan(scenario).scheduled.clip(min=0).sum(axis=1) * scenario.interval_minutes / 60.0


def _group_index(plan: CapacityPlan, scenario: Scenario, where: str) -> list[int]:
    """Where each of the scenario's groups sits in the plan; an unknown group is an error."""
    idx = []
    for g in scenario.group_names:
        if g not in plan.group_names:
            raise _fail(where, [("", f"agent group {g!r} is not a group of the capacity plan "
                                     f"({', '.join(plan.group_names)}){_hint(g, plan.group_names)}")])
        idx.append(plan.group_names.index(g))
    return idx


def read_requirement_days(plan: CapacityPlan, folder: str | Path,
                          progress: Callable[[int, int], None] | None = None) -> Requirement:
    """Required FTE from day scenarios ``YYYY-MM-DD.toml``: per day, the analytic plan's scheduled
    agent-hours per group; per week, their sum / ``fte_hours``. Days outside the horizon are left out (noted)."""
    from ccplan.scenario import load

    folder = Path(folder)
    files = _files(folder, ".toml", "day scenarios", "requirement_days")
    dated, bad = [], []
    for f in files:
        try:
            dated.append((dt.date.fromisoformat(f.stem), f))
        except ValueError:
            bad.append(f.name)
    if bad:
        raise _fail(str(folder), [("", f"{bad[0]} is not named YYYY-MM-DD.toml (the day it plans, as ccplan "
                                       f"forecast --to-dir writes them)" + (f"; {len(bad) - 1} more" if len(bad) > 1
                                                                             else ""))])
    inside = [(d, f) for d, f in dated if 1 <= plan.week_of(d) <= plan.weeks]
    notes = []
    if len(inside) < len(dated):
        out = [d for d, _ in dated if not 1 <= plan.week_of(d) <= plan.weeks]
        notes.append(f"{len(out)} day scenario(s) of {folder.name}/ fall outside the horizon "
                     f"({min(out).isoformat()} ... {max(out).isoformat()}) and are left out")
    if not inside:
        raise _fail(str(folder), [("", f"no day scenario falls in the horizon {plan.start.isoformat()} to "
                                       f"{(plan.week_start(plan.weeks) + dt.timedelta(days=6)).isoformat()}")])
    g_n, w_n = len(plan.groups), plan.weeks
    hours = np.zeros((g_n, w_n))
    days = np.zeros((g_n, w_n), np.int64)
    for k, (d, f) in enumerate(inside):
        sc = load(f)
        idx = _group_index(plan, sc, str(f))
        missing = [g for g in plan.group_names if g not in sc.group_names]
        if missing:
            raise _fail(str(f), [("", f"has no agent group {missing[0]!r} of the capacity plan (every day scenario "
                                      "needs every group)")])
        w = plan.week_of(d) - 1
        hours[idx, w] += scenario_agent_hours(sc)
        days[idx, w] += 1
        if progress is not None:
            progress(k + 1, len(inside))
    have = days > 0
    counted = days[0]
    full = counted.max()
    short = [w + 1 for w in np.flatnonzero((counted > 0) & (counted < full))]
    if short:
        notes.append(f"week(s) {_weeks_text(short)} have fewer day scenarios than the others (up to {full} a week): "
                     "their requirement counts only the days given (a forecast starting or ending mid-week, or a "
                     "holiday)")
    req = hours / plan.fte_hours
    req = _complete(plan, req, have, str(folder), f"{folder.name}/", notes)
    days = np.where(have & (days == 0), -1, days)  # repeated weeks: marked, not counted
    return Requirement(req, f"{len(inside)} day scenarios in {shown_path(folder)}/", _requirement_table(
        plan, req, days=np.where(days < 0, 0, days), agent_hours=np.where(days < 0, req * plan.fte_hours, hours)),
        tuple(notes))


def _roster_week(plan: CapacityPlan, f: Path, obj: dict) -> int | str:
    """The horizon week of one roster JSON: its ``week_start`` key, the first ``date`` of its ``week`` list (as
    ``roster --week --json`` prints it), or its file name (a date, ``weekNN``, ``wNN`` or ``NN``)."""
    raw = obj.get("week_start")
    if raw is None:  # roster --week --json lists the week's days: {"week": [{"date": "YYYY-MM-DD", ...}, ...]}
        dates = [d.get("date") for d in obj.get("week") or [] if isinstance(d, dict) and isinstance(d.get("date"), str)]
        raw = min(dates) if dates else None
    text = str(raw) if raw is not None else f.stem
    low = text.strip().lower()
    for prefix in ("week", "w"):
        if low.startswith(prefix) and low[len(prefix):].lstrip("_-").isdigit():
            low = low[len(prefix):].lstrip("_-")
            break
    if low.isdigit():
        w = int(low)
        return w if 1 <= w <= plan.weeks else f"week {w} is outside the horizon (weeks 1-{plan.weeks})"
    try:
        day = dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return (f"cannot tell its week: name it by the week's Monday (YYYY-MM-DD.json), its number (week07.json), "
                f"or give \"week_start\": \"YYYY-MM-DD\" in it")
    w = plan.week_of(day)
    return w if 1 <= w <= plan.weeks else f"{day.isoformat()} is outside the horizon (weeks 1-{plan.weeks})"


def read_requirement_rosters(plan: CapacityPlan, folder: str | Path,
                             progress: Callable[[int, int], None] | None = None) -> Requirement:
    """Required FTE from weekly rosters: one JSON per week as ``ccplan roster --week --json`` prints it,
    ``{"headcount": {GROUP: n}, "fte": {GROUP: x}, ...}``; the week's requirement is ``fte``."""
    folder = Path(folder)
    files = _files(folder, ".json", "weekly roster JSON files", "requirement_rosters")
    g_of = {n: i for i, n in enumerate(plan.group_names)}
    req = np.zeros((len(g_of), plan.weeks))
    have = np.zeros_like(req, bool)
    heads = np.zeros_like(req)
    problems: list[tuple[str, str]] = []
    seen: dict[int, str] = {}
    for k, f in enumerate(files):
        try:
            obj = json.loads(read_input(f, MAX_JSON_BYTES, "roster JSON").decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            problems.append((f.name, f"not valid JSON: {exc}"))
            continue
        if isinstance(obj, dict) and obj.get("status") not in (None, "optimal", "time limit"):
            problems.append((f.name, f"holds no roster (status {obj.get('status')!r}"
                                     + (f": {obj['message']}" if obj.get("message") else "") + ")"))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("fte"), dict):
            problems.append((f"{f.name}: fte", "missing: a weekly roster JSON has \"fte\": {GROUP: FTE, ...} (and "
                                               "\"headcount\")"))
            continue
        w = _roster_week(plan, f, obj)
        if isinstance(w, str):
            problems.append((f.name, w))
            continue
        if w in seen:
            problems.append((f.name, f"week {w} is also given by {seen[w]}"))
            continue
        seen[w] = f.name
        for grp, v in obj["fte"].items():
            if grp not in g_of:
                problems.append((f"{f.name}: fte.{grp}", f"{grp!r} is not a group of the plan "
                                                         f"({', '.join(g_of)}){_hint(grp, list(g_of))}"))
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                problems.append((f"{f.name}: fte.{grp}", f"must be a number >= 0, got {v!r}"))
            else:
                req[g_of[grp], w - 1] = float(v)
                have[g_of[grp], w - 1] = True
        hc = obj.get("headcount")
        if isinstance(hc, dict):
            for grp, v in hc.items():
                if grp in g_of and isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    heads[g_of[grp], w - 1] = float(v)
        if progress is not None:
            progress(k + 1, len(files))
    if problems:
        raise _fail(str(folder), problems)
    notes: list[str] = []
    req = _complete(plan, req, have, str(folder), f"{folder.name}/", notes)
    return Requirement(req, f"{len(seen)} weekly rosters in {shown_path(folder)}/",
                       _requirement_table(plan, req, roster_headcount=heads), tuple(notes))


def scaled_scenario(scenario: Scenario, factor: float) -> Scenario:
    """The scenario with every segment's volumes x ``factor`` (calls per interval or daily calls)."""
    from ccplan.scenario import from_dict, to_dict

    if factor == 1.0:
        return scenario
    data = to_dict(scenario)
    for seg in data["segments"]:
        if seg.get("calls_per_interval") is not None:
            seg["calls_per_interval"] = [float(c) * factor for c in seg["calls_per_interval"]]
        if seg.get("daily_calls") is not None:
            seg["daily_calls"] = float(seg["daily_calls"]) * factor
    return from_dict(data)


def requirement_from_scenario(plan: CapacityPlan, scenario: Scenario, source: str = "base scenario",
                              progress: Callable[[int, int], None] | None = None) -> Requirement:
    """Required FTE per week from one base day: the plan of the day with its volumes x the week's
    ``volume_factors`` (1 where none is given), its scheduled agent-hours x ``open_days_per_week`` /
    ``fte_hours``."""
    missing = [g for g in plan.group_names if g not in scenario.group_names]
    if missing:
        raise _fail(source, [("", f"has no agent group {missing[0]!r} of the capacity plan")])
    idx = _group_index(plan, scenario, source)
    factors = np.ones(plan.weeks)
    for f in plan.volume_factors:
        factors[f.week - 1] = f.volume_factor
    hours_of: dict[float, np.ndarray] = {}
    unique = sorted(set(factors.tolist()))
    for k, fac in enumerate(unique):
        try:
            sc = scaled_scenario(scenario, fac)
        except ScenarioError as exc:
            raise _fail(source, [("", f"with volume_factor {fac:g}: {exc}")]) from None
        hours_of[fac] = scenario_agent_hours(sc)
        if progress is not None:
            progress(k + 1, len(unique))
    hours = np.zeros((len(plan.groups), plan.weeks))
    for w, fac in enumerate(factors):
        hours[idx, w] = hours_of[float(fac)] * plan.open_days_per_week
    req = hours / plan.fte_hours
    return Requirement(req, f"{source} x weekly volume factors, {plan.open_days_per_week} open days a week",
                       _requirement_table(plan, req, volume_factor=np.tile(factors, len(plan.groups)),
                                          agent_hours=hours))


def read_requirement(plan: CapacityPlan, progress: Callable[[int, int], None] | None = None) -> Requirement:
    """The plan's requirement from its source (CSV, day scenarios, weekly rosters or a base scenario)."""
    from ccplan.scenario import load

    if plan.requirement is not None:
        return read_requirement_csv(plan, plan.requirement)
    if plan.requirement_days is not None:
        return read_requirement_days(plan, plan.requirement_days, progress)
    if plan.requirement_rosters is not None:
        return read_requirement_rosters(plan, plan.requirement_rosters, progress)
    if plan.base_scenario is not None:
        return requirement_from_scenario(plan, load(plan.base_scenario), shown_path(plan.base_scenario), progress)
    raise ScenarioError([("requirement", "no requirement source: give requirement, requirement_days, "
                                         "requirement_rosters or base_scenario")], None, WHAT)


def grown(plan: CapacityPlan, required_fte: np.ndarray) -> np.ndarray:
    """The requirement with ``volume_growth`` compounded weekly: week w x (1 + growth)^(w - 1)."""
    return np.asarray(required_fte, float) * (1.0 + plan.volume_growth) ** np.arange(plan.weeks)[None, :]


# ---------------------------------------------------------------------------------------------------------------
# running


def problem_of(plan: CapacityPlan, requirement: Requirement | np.ndarray) -> engine.Problem:
    """The engine's arrays for a plan and its requirement (``volume_growth`` applied)."""
    req = requirement.required_fte if isinstance(requirement, Requirement) else np.asarray(requirement, float)
    g_n, w_n = len(plan.groups), plan.weeks
    if req.shape != (g_n, w_n):
        raise engine.CapacityError(f"the requirement has shape {req.shape}, expected ({g_n}, {w_n}): groups x weeks")
    allowed = np.zeros((g_n, w_n), bool)
    prod = np.ones((g_n, w_n))
    train = np.zeros(g_n, np.int64)
    min_c = np.zeros(g_n, np.int64)
    max_c = np.zeros(g_n, np.int64)
    per_hire = np.zeros(g_n)
    for g, grp in enumerate(plan.groups):
        rule = plan.rule(grp.name)
        if rule is None:
            continue
        allowed[g, [w - 1 for w in plan.class_weeks(rule)]] = True
        prod[g] = engine.productivity_by_age(rule.training_weeks, rule.ramp, w_n)
        train[g], min_c[g], max_c[g], per_hire[g] = rule.training_weeks, rule.min_class, rule.max_class, \
            rule.cost_per_hire
    return engine.Problem(
        headcount_fte=np.array([g.headcount for g in plan.groups], float),
        attrition_per_week=np.asarray(engine.weekly_attrition([g.attrition_per_month for g in plan.groups]), float),
        required_fte=grown(plan, req), cost_per_fte_week=np.array([g.cost_per_fte_week for g in plan.groups], float),
        cost_per_hire=per_hire, training_weeks=train, productivity=prod, allowed=allowed, min_class=min_c,
        max_class=max_c, understaff_penalty_per_fte_week=float(plan.understaff_penalty_per_fte_week),
        min_coverage=plan.min_coverage, names=tuple(plan.group_names))


def fixed_hires(plan: CapacityPlan) -> np.ndarray:
    """The plan's ``[[hires]]`` as class sizes (G, W persons)."""
    out = np.zeros((len(plan.groups), plan.weeks), np.int64)
    for h in plan.hires:
        out[plan.group_names.index(h.group), h.week - 1] += h.count
    return out


@dataclass(frozen=True)
class Outcome:
    """One hiring plan and what it gives.

    ``label``: "no hiring", "fixed hires" or "optimal"; ``status``: "evaluated" (a given plan), "optimal",
    "time limit" (the best plan found, see ``gap``), or without a plan ("infeasible", "no plan in time",
    "error", ``message`` says why); ``weeks``: :data:`WEEK_COLUMNS` per week and group; ``hires``:
    :data:`HIRE_COLUMNS` per class; ``projection``: the engine's arrays.
    """

    label: str
    status: str
    message: str
    gap: float
    solve_time_s: float
    projection: engine.Projection | None
    weeks: pd.DataFrame
    hires: pd.DataFrame
    coverage_misses: int = 0

    @property
    def ok(self) -> bool:
        return self.projection is not None

    @property
    def gap_text(self) -> str:
        return f"{self.gap:.2%}" if np.isfinite(self.gap) else "unknown"

    def total(self, column: str) -> float:
        """A column of :data:`WEEK_COLUMNS` summed over the horizon (NaN without a plan)."""
        return float(self.weeks[column].sum()) if self.ok else float("nan")

    @property
    def cost(self) -> float:
        """Hiring + salaries + understaffing penalty over the horizon."""
        return self.projection.total_cost if self.ok else float("nan")

    @property
    def persons_hired(self) -> int:
        return int(self.hires["count"].sum()) if self.ok else 0


def _tables(plan: CapacityPlan, pr: engine.Projection) -> tuple[pd.DataFrame, pd.DataFrame]:
    g_n, w_n = pr.planned_fte.shape
    weeks = pd.DataFrame({
        "week": np.tile(np.arange(1, w_n + 1), g_n),
        "week_start": [plan.week_start(w).isoformat() for w in range(1, w_n + 1)] * g_n,
        "group": np.repeat(plan.group_names, w_n),
        "required_fte": pr.required_fte.ravel(), "planned_fte": pr.planned_fte.ravel(),
        "over_under": pr.over_under.ravel(), "in_training": pr.in_training.ravel(),
        "employed": pr.employed_fte.ravel(), "hires": np.asarray(pr.hires).ravel(),
        "shortfall_fte": pr.shortfall_fte.ravel(), "salary_cost": pr.salary_cost.ravel(),
        "hiring_cost": pr.hiring_cost.ravel(), "understaff_cost": pr.understaff_cost.ravel(),
        "cost": pr.cost.ravel(),
    })[list(WEEK_COLUMNS)]
    rows = []
    for g, w in zip(*np.nonzero(np.asarray(pr.hires) > 0)):
        grp = plan.groups[g]
        rule = plan.rule(grp.name)
        t = rule.training_weeks if rule else 0
        ramp = len(rule.ramp) if rule else 0
        n = int(pr.hires[g, w])
        rows.append({"group": grp.name, "week": int(w) + 1, "week_start": plan.week_start(int(w) + 1).isoformat(),
                     "count": n, "productive_from_week": int(w) + 1 + t,
                     "full_from_week": int(w) + 1 + t + ramp,
                     "hiring_cost": float(pr.hiring_cost[g, w])})
    hires = pd.DataFrame(rows, columns=list(HIRE_COLUMNS))
    return weeks, hires.astype({"week": "int64", "count": "int64", "productive_from_week": "int64",
                                "full_from_week": "int64", "hiring_cost": "float64"})


def evaluate(plan: CapacityPlan, problem: engine.Problem, hires: np.ndarray | None, label: str,
             status: str = "evaluated", gap: float = float("nan"), solve_time_s: float = 0.0,
             message: str = "") -> Outcome:
    """The outcome of a given hiring plan (``hires`` G x W persons; None: no hiring)."""
    pr = engine.project(problem, hires)
    weeks, table = _tables(plan, pr)
    return Outcome(label, status, message, gap, solve_time_s, pr, weeks, table,
                   len(engine.coverage_misses(problem, pr)))


def _failed(label: str, sol: engine.Solution) -> Outcome:
    return Outcome(label, sol.status, sol.message, sol.gap, sol.solve_time_s, None,
                   pd.DataFrame(columns=list(WEEK_COLUMNS)), pd.DataFrame(columns=list(HIRE_COLUMNS)))


def optimize(plan: CapacityPlan, problem: engine.Problem, time_limit_s: float = 30.0,
             progress: Callable[[float, float], None] | None = None) -> Outcome:
    """The cheapest hiring plan (MILP, HiGHS) as an :class:`Outcome` labelled "optimal"."""
    sol = engine.solve(problem, time_limit_s, progress)
    if not sol.ok:
        return _failed(OPTIMAL, sol)
    return evaluate(plan, problem, sol.hires, OPTIMAL, sol.status, sol.gap, sol.solve_time_s, sol.message)


@dataclass(frozen=True)
class CapacityReport:
    """A capacity run: the plan, its requirement, and the hiring plans side by side (``outcomes`` by label:
    "no hiring", "fixed hires" when the plan has [[hires]], "optimal" when optimised); ``main`` is the one
    shown in detail (the optimum, else the fixed hires, else no hiring)."""

    plan: CapacityPlan
    requirement: Requirement
    problem: engine.Problem = field(repr=False)
    outcomes: dict[str, Outcome]
    main_label: str
    notes: tuple[str, ...] = ()

    @property
    def main(self) -> Outcome:
        return self.outcomes[self.main_label]

    def comparison(self) -> pd.DataFrame:
        """One row per hiring plan: :data:`COMPARISON_COLUMNS`."""
        rows = []
        for label, o in self.outcomes.items():
            rows.append({
                "plan": label, "status": o.status, "hires": o.persons_hired if o.ok else None,
                "classes": int(len(o.hires)) if o.ok else None,
                "hiring_cost": o.total("hiring_cost"), "salary_cost": o.total("salary_cost"),
                "understaff_cost": o.total("understaff_cost"), "cost": o.cost,
                "shortfall_fte_weeks": o.total("shortfall_fte"),
                "weeks_short": int((o.weeks["shortfall_fte"] > 1e-9).sum()) if o.ok else None,
                "meets_min_coverage": ("-" if self.plan.min_coverage is None else
                                       ("yes" if o.coverage_misses == 0 else f"no: {o.coverage_misses}"))
                if o.ok else "-",
            })
        return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))

    def to_json(self) -> dict[str, Any]:
        """The ``capacity --json`` object: status, cost (the objective: hiring + salaries + understaffing
        penalty over the horizon), weeks, hires (the contract), and the comparison, costs and notes."""
        from ccplan.report import finite, records

        m = self.main
        return {
            "status": m.status, "message": m.message, "plan": m.label,
            "cost": finite(m.cost) if m.ok else None,
            "costs": {"hiring": finite(m.total("hiring_cost")), "salaries": finite(m.total("salary_cost")),
                      "understaffing": finite(m.total("understaff_cost"))} if m.ok else None,
            "gap": finite(m.gap), "solve_time_s": round(m.solve_time_s, 3),
            "name": self.plan.name, "currency": self.plan.currency, "start": self.plan.start.isoformat(),
            "horizon_weeks": self.plan.weeks, "requirement": self.requirement.source,
            "volume_growth": self.plan.volume_growth, "min_coverage": self.plan.min_coverage,
            "weeks": records(m.weeks) if m.ok else [],
            "hires": records(m.hires) if m.ok else [],
            "comparison": records(self.comparison()),
            "notes": list(self.notes),
        }


def plan_notes(plan: CapacityPlan, optimized: bool) -> list[str]:
    """What a planner should know about the plan before reading the figures."""
    notes = []
    if optimized and plan.understaff_penalty_per_fte_week == 0 and plan.min_coverage is None:
        notes.append("no understaff_penalty_per_fte_week and no min_coverage: hiring only adds cost, so the "
                     "cheapest plan hires no one; set a penalty per FTE-week short or a min_coverage")
    if optimized and not plan.hiring:
        notes.append("no [[hiring]] rules: no group may hire, so the optimum is no hiring")
    for i, rule in enumerate(plan.hiring):
        weeks = plan.class_weeks(rule)
        if weeks and weeks[0] + rule.training_weeks > plan.weeks:
            notes.append(f"hiring[{i}] ({rule.group}): a class starting in week {weeks[0]} is still in training "
                         "when the horizon ends, so no class can take calls")
    return notes


def run(plan: CapacityPlan, requirement: Requirement, optimize_plan: bool = False, time_limit_s: float = 30.0,
        progress: Callable[[float, float], None] | None = None) -> CapacityReport:
    """No hiring, the fixed hires (when the plan has any) and, with ``optimize_plan``, the cheapest plan, side
    by side. ``time_limit_s`` bounds the solve (seconds); ``progress(elapsed_s, limit_s)`` while it runs."""
    problem = problem_of(plan, requirement)
    outcomes = {NO_HIRING: evaluate(plan, problem, None, NO_HIRING)}
    if plan.hires:
        outcomes[FIXED] = evaluate(plan, problem, fixed_hires(plan), FIXED)
    if optimize_plan:
        outcomes[OPTIMAL] = optimize(plan, problem, time_limit_s, progress)
    main = OPTIMAL if optimize_plan else FIXED if plan.hires else NO_HIRING
    notes = list(requirement.notes) + plan_notes(plan, optimize_plan)
    for label, o in outcomes.items():
        if o.ok and o.coverage_misses:
            notes.append(f"{label}: below min_coverage {plan.min_coverage:g} in {o.coverage_misses} week(s) x "
                         "group(s)")
    return CapacityReport(plan, requirement, problem, outcomes, main, tuple(notes))


# ---------------------------------------------------------------------------------------------------------------
# what-if sweeps

PLAN_KEYS = ("volume_growth", "understaff_penalty_per_fte_week", "min_coverage")
GROUP_KEYS = ("attrition_per_month", "headcount", "cost_per_fte_week")
HIRING_KEYS = ("cost_per_hire", "training_weeks", "min_class", "max_class", "earliest_week", "latest_week",
               "every_weeks")


def varied_plan(plan: CapacityPlan, path: str, value: Any) -> CapacityPlan:
    """The plan with one setting changed, re-validated. ``path``: a plan key (volume_growth,
    understaff_penalty_per_fte_week, min_coverage), a group key for every group (attrition_per_month, headcount,
    cost_per_fte_week) or one (``groups.NAME.KEY``), or a hiring key for every rule (cost_per_hire,
    training_weeks, min_class, max_class, earliest_week, latest_week, every_weeks) or one (``hiring.GROUP.KEY``)."""
    data = plan.model_dump(mode="python")
    parts = path.split(".")
    where = "--vary " + path
    if len(parts) == 1 and path in PLAN_KEYS:
        data[path] = value
    elif len(parts) == 1 and path in GROUP_KEYS:
        for g in data["groups"]:
            g[path] = value
    elif len(parts) == 1 and path in HIRING_KEYS:
        if not data["hiring"]:
            raise ScenarioError([(where, "the plan has no [[hiring]] rules to vary")], None, WHAT)
        for h in data["hiring"]:
            h[path] = value
    elif len(parts) == 3 and parts[0] in ("groups", "hiring") and parts[2] in (GROUP_KEYS if parts[0] == "groups"
                                                                                else HIRING_KEYS):
        key = "name" if parts[0] == "groups" else "group"
        items = [x for x in data[parts[0]] if x[key] == parts[1]]
        if not items:
            names = [x[key] for x in data[parts[0]]]
            raise ScenarioError([(where, f"{parts[1]!r} is not in {parts[0]} ({', '.join(names) or 'none'})"
                                         f"{_hint(parts[1], names)}")], None, WHAT)
        items[0][parts[2]] = value
    else:
        raise ScenarioError([(where, "cannot be varied; vary " + ", ".join(PLAN_KEYS + GROUP_KEYS + HIRING_KEYS)
                                     + " (every group or rule), or groups.NAME.KEY / hiring.GROUP.KEY for one")],
                            None, WHAT)
    try:
        return plan_from_dict(data, need_source=False)
    except ScenarioError as exc:
        raise ScenarioError([(f"--vary {path}={value}: {p}" if p else f"--vary {path}={value}", r)
                             for p, r in exc.problems], None, WHAT) from None


def parse_vary(spec: str, plan: CapacityPlan) -> tuple[str, list[Any]]:
    """``PATH=a:b:step`` or ``PATH=v1,v2`` -> (path, values), every value checked against the plan first."""
    from ccplan.comparison import parse_vary as parse

    path, values = parse(spec)
    if len(values) < 2:
        raise ScenarioError([("--vary", f"a sweep needs at least two values, e.g. {path}=0.02:0.06:0.01")], None,
                            WHAT)
    for v in values:
        varied_plan(plan, path, v)
    return path, values


@dataclass(frozen=True)
class Sweep:
    """The optimum for each value of one setting: ``table`` (:data:`SWEEP_COLUMNS`, one row per value) and
    ``hires`` (value, group, week, week_start, count: the optimal classes per value)."""

    path: str
    table: pd.DataFrame
    hires: pd.DataFrame
    currency: str


def sweep(plan: CapacityPlan, requirement: Requirement, path: str, values: list[Any], time_limit_s: float = 30.0,
          progress: Callable[[int, int], None] | None = None) -> Sweep:
    """Solve the optimal hiring plan for each value of ``path`` (see :func:`varied_plan`) and tabulate its
    cost beside no hiring and the fixed hires. ``progress(done, total)`` after each value."""
    rows, hires = [], []
    for k, v in enumerate(values):
        p = varied_plan(plan, path, v)
        rep = run(p, requirement, True, time_limit_s)
        o = rep.main
        rows.append({
            "value": v, "status": o.status, "gap": o.gap, "hires": o.persons_hired if o.ok else None,
            "classes": int(len(o.hires)) if o.ok else None, "hiring_cost": o.total("hiring_cost"),
            "salary_cost": o.total("salary_cost"), "understaff_cost": o.total("understaff_cost"), "cost": o.cost,
            "shortfall_fte_weeks": o.total("shortfall_fte"), "cost_no_hiring": rep.outcomes[NO_HIRING].cost,
            "cost_fixed_hires": rep.outcomes[FIXED].cost if FIXED in rep.outcomes else float("nan"),
        })
        if o.ok:
            hires.append(o.hires[["group", "week", "week_start", "count"]].assign(value=v))
        if progress is not None:
            progress(k + 1, len(values))
    table = pd.DataFrame(rows, columns=list(SWEEP_COLUMNS))
    if not plan.hires:
        table = table.drop(columns=["cost_fixed_hires"])
    hires_df = (pd.concat(hires, ignore_index=True)[["value", "group", "week", "week_start", "count"]] if hires
                else pd.DataFrame(columns=["value", "group", "week", "week_start", "count"]))
    return Sweep(path, table, hires_df, plan.currency)


def sweep_json(sw: Sweep) -> dict[str, Any]:
    """The ``sweep`` object of ``capacity --vary --json``: path, table rows, the optimal classes per value."""
    from ccplan.report import records

    return {"path": sw.path, "table": records(sw.table), "hires": records(sw.hires)}


# ---------------------------------------------------------------------------------------------------------------
# figures (a DataFrame in, a Figure out; beside the use case because ccplan/charts.py is shared)


def capacity_figure(weeks: pd.DataFrame, hires: pd.DataFrame, title: str = "Required and planned FTE") -> Figure:
    """Required vs planned (productive) FTE per week, one panel per group (the 10 largest), shortfall in red,
    surplus shaded, employed (trainees included) dotted, each hiring class marked at its start week with its
    size and a bar over its training weeks.

    ``weeks``: :data:`WEEK_COLUMNS`; ``hires``: :data:`HIRE_COLUMNS`.
    """
    from matplotlib.figure import Figure

    from ccplan.charts import MAX_SERIES, _busiest

    shown, note = _busiest(weeks, "group", "required_fte", MAX_SERIES, "groups")
    groups = list(dict.fromkeys(shown["group"]))
    fig = Figure(figsize=(9, 2.6 * max(len(groups), 1) + 0.8), layout="constrained")
    axes = fig.subplots(max(len(groups), 1), 1, sharex=True, squeeze=False)[:, 0]
    for ax, g in zip(axes, groups):
        d = shown[shown["group"] == g].sort_values("week")
        x = d["week"].to_numpy()
        req, pl = d["required_fte"].to_numpy(float), d["planned_fte"].to_numpy(float)
        ax.fill_between(x, req, pl, where=pl >= req, step="mid", color="C2", alpha=0.2, label="over")
        ax.fill_between(x, pl, req, where=pl < req, step="mid", color="C3", alpha=0.45, label="under")
        ax.step(x, req, where="mid", color="0.2", ls="--", lw=1.5, label="required FTE")
        ax.step(x, pl, where="mid", color="C0", lw=2, label="planned FTE (productive)")
        ax.step(x, d["employed"].to_numpy(float), where="mid", color="C0", lw=1, ls=":",
                label="employed (incl. trainees)")
        series = np.concatenate([req, pl, d["employed"].to_numpy(float)]) if len(d) else np.array([0.0, 1.0])
        top, low = float(np.nanmax(series)), float(np.nanmin(series))
        span = max(top - low, 0.05 * max(top, 1.0), 1.0)
        bottom = max(0.0, low - 0.3 * span)
        mine = hires[hires["group"] == g] if len(hires) else hires
        for i, r in enumerate(mine.itertuples()):  # training bars staggered so that overlapping classes show
            ax.axvline(r.week, color="C1", lw=1, alpha=0.6)
            ax.hlines(bottom + (0.04 + 0.06 * (i % 3)) * span, r.week - 0.5, r.productive_from_week - 0.5,
                      color="C1", lw=5, alpha=0.5)
            ax.annotate(f"+{r.count}", (r.week, top + 0.03 * span), ha="center", va="bottom", fontsize=8,
                        color="C1")
        if len(mine):
            ax.plot([], [], color="C1", lw=5, alpha=0.5, label="hiring class: start (+size) and training weeks")
        ax.set_ylabel(f"{g}\nFTE")
        ax.set_ylim(bottom, top + 0.15 * span)
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    if groups:
        d0 = shown[shown["group"] == groups[0]].sort_values("week")
        step = max(1, len(d0) // 13)
        axes[-1].set_xticks(d0["week"].to_numpy()[::step],
                            [f"{w}\n{s[5:]}" for w, s in zip(d0["week"], d0["week_start"])][::step], fontsize=8)
    axes[-1].set_xlabel("week (and its Monday, MM-DD)")
    fig.suptitle(title + note)
    return fig


def sweep_figure(sw: Sweep) -> Figure:
    """The optimum's cost (hiring, salaries, understaffing stacked) and persons hired for each value of the
    varied setting, with the cost of no hiring (and of the fixed hires) as lines."""
    from matplotlib.figure import Figure

    from matplotlib.ticker import FuncFormatter

    t = sw.table
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.add_subplot()
    x = np.arange(len(t))
    bottom = np.zeros(len(t))
    for col, color in (("salary_cost", "C0"), ("hiring_cost", "C1"), ("understaff_cost", "C3")):
        v = t[col].to_numpy(float)
        v = np.nan_to_num(v)
        ax.bar(x, v, bottom=bottom, color=color, alpha=0.8, label=column_label(col))
        bottom += v
    ax.plot(x, t["cost_no_hiring"].to_numpy(float), "k--", marker="o", label="total, no hiring")
    if "cost_fixed_hires" in t:
        ax.plot(x, t["cost_fixed_hires"].to_numpy(float), color="0.45", ls=":", marker="s", label="total, fixed hires")
    ax.set_xticks(x, [f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in t["value"]])
    ax.set_xlabel(sw.path)
    ax.set_ylabel(f"cost over the horizon ({sw.currency})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(alpha=0.3, axis="y")
    ax2 = ax.twinx()
    ax2.plot(x, t["hires"].to_numpy(float), color="C2", marker="D", lw=2, label="persons hired (optimal)")
    ax2.set_ylabel("persons hired")
    ax2.set_ylim(bottom=0)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8, ncols=2, framealpha=0.85)
    ax.set_title(f"Optimal hiring plan for each {sw.path}")
    return fig
