"""Interval volumes from a phone system's export (CSV) into a scenario's ``calls_per_interval``.

Two layouts are read:
- wide: one row per interval, one column per segment (an optional first column
  ``interval`` or ``time`` labels the rows);
- long: columns ``interval`` (or ``time``), ``segment``, ``calls``.
Problems (missing or unknown segments, a wrong number of intervals, non-numeric
or negative cells) are reported together, each naming the row and column.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from ccplan.scenario import Scenario, ScenarioError, from_dict, to_dict

_LABEL_COLS = ("interval", "time", "period", "start")


def _read_csv(source: str | Path | bytes, name: str) -> pd.DataFrame:
    try:
        if isinstance(source, bytes):
            text = source.decode("utf-8-sig")
        elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).exists()):
            text = Path(source).read_text(encoding="utf-8-sig")
        else:
            text = str(source)
    except UnicodeDecodeError:
        raise ScenarioError([("", "not a text CSV file")], name) from None
    except OSError as exc:
        raise ScenarioError([("", f"cannot read: {exc.strerror}")], name) from None
    if not text.strip():
        raise ScenarioError([("", "the file is empty")], name)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True, sep=None, engine="python")
    except Exception as exc:  # pandas' parser errors
        raise ScenarioError([("", f"not a readable CSV: {exc}")], name) from None


def read_volumes(source: str | Path | bytes, scenario: Scenario, name: str = "volumes.csv") -> dict[str, list[float]]:
    """Calls per interval per segment from a CSV (wide or long layout), checked against the scenario."""
    df = _read_csv(source, name)
    df.columns = [str(c).strip() for c in df.columns]
    lower = {c.lower(): c for c in df.columns}
    problems: list[tuple[str, str]] = []
    n = scenario.n_intervals
    if {"segment", "calls"} <= set(lower):
        label = next((lower[c] for c in _LABEL_COLS if c in lower), None)
        seg_col, calls_col = lower["segment"], lower["calls"]
        volumes: dict[str, list[float]] = {}
        for seg, sub in df.groupby(seg_col, sort=False):
            seg = str(seg).strip()
            if seg not in scenario.segment_names:
                problems.append((f"segment {seg!r}", f"is not a segment of the scenario ({', '.join(scenario.segment_names)})"))
                continue
            if label is not None:
                sub = sub.assign(_k=pd.to_numeric(sub[label], errors="coerce")).sort_values("_k") \
                    if pd.to_numeric(sub[label], errors="coerce").notna().all() else sub
            volumes[seg] = _numbers(sub[calls_col], sub.index, calls_col, problems)
        rows_desc = "rows"
    else:
        label = next((lower[c] for c in _LABEL_COLS if c in lower), None)
        data_cols = [c for c in df.columns if c != label]
        volumes = {}
        for c in data_cols:
            if c not in scenario.segment_names:
                problems.append((f"column {c!r}", f"is not a segment of the scenario ({', '.join(scenario.segment_names)})"))
                continue
            volumes[c] = _numbers(df[c], df.index, c, problems)
        rows_desc = "rows"
    for seg in scenario.segment_names:
        if seg not in volumes:
            problems.append((f"segment {seg!r}", "has no volumes in the file"))
    for seg, v in volumes.items():
        if len(v) != n:
            problems.append((f"segment {seg!r}", f"has {len(v)} {rows_desc} of volumes but the scenario has {n} "
                                                 f"intervals of {scenario.interval_minutes} min"))
    if problems:
        raise ScenarioError(problems, name, what="volumes file")
    return volumes


def _numbers(col: pd.Series, index, col_name: str, problems: list) -> list[float]:
    out = []
    for i, raw in zip(index, col):
        text = "" if raw is None or (isinstance(raw, float) and pd.isna(raw)) else str(raw).strip()
        try:
            v = float(text.replace(",", "")) if text else float("nan")
        except ValueError:
            problems.append((f"row {i + 2}, column {col_name!r}", f"is not a number: {text!r}"))
            out.append(0.0)
            continue
        if v != v:
            problems.append((f"row {i + 2}, column {col_name!r}", "is empty"))
        elif v < 0:
            problems.append((f"row {i + 2}, column {col_name!r}", f"must be >= 0, got {v:g}"))
        else:
            out.append(v)
            continue
        out.append(0.0)
    return out


def apply_volumes(scenario: Scenario, volumes: dict[str, list[float]]) -> Scenario:
    """The scenario with each listed segment's ``calls_per_interval`` replaced (daily_calls/profile dropped)."""
    data = to_dict(scenario)
    for seg in data["segments"]:
        if seg["name"] in volumes:
            seg.pop("daily_calls", None)
            seg.pop("profile", None)
            seg["calls_per_interval"] = [float(x) for x in volumes[seg["name"]]]
    return from_dict(data)
