"""Scenario page: edit segments, volumes, agent groups, staffing, routing and targets; import volumes; download TOML."""

from __future__ import annotations

import copy
import math
import re
import zlib

import numpy as np
import pandas as pd
import streamlit as st

from app_pages import common
from ccplan import charts
from ccplan.scenario import (
    Callback, OPTIONS, SL_DEFINITIONS, STAFFING_EDITS, ScenarioError, clock_labels, dumps, edit_staffing, group_agents,
    interval_count, loads, rebucket, rename_group, rename_segment, segment_calls, to_dict,
)
from ccplan.volumes import apply_volumes, read_volumes

SEG_COLS = {
    "name": st.column_config.TextColumn("segment", required=True),
    "priority": st.column_config.NumberColumn("priority", min_value=1, step=1, help="1 is served first"),
    "aht_s": st.column_config.NumberColumn("AHT (s)", min_value=0.0, help="mean handle time, seconds"),
    "handle_time": st.column_config.SelectboxColumn(
        "handle time", options=list(OPTIONS["handle_time"])),
    "handle_time_file": st.column_config.TextColumn(
        "handle-time file", help="with 'empirical': a CSV with one column of seconds, on the machine running "
                                 "ccplan (a path relative to the working directory)"),
    "handle_time_cv": st.column_config.NumberColumn("handle CV", min_value=0.0),
    "patience_s": st.column_config.NumberColumn("patience (s)", min_value=0.0, help="empty: callers never abandon"),
    "retrial_probability": st.column_config.NumberColumn("retry prob.", min_value=0.0, max_value=1.0),
    "retrial_delay_s": st.column_config.NumberColumn("retry delay (s)", min_value=0.0),
    "retrial_delay": st.column_config.SelectboxColumn("retry delay is", options=list(OPTIONS["retrial_delay"]),
                                                      help="exponential with that mean, or exactly that long"),
    "retrial_same_caller": st.column_config.CheckboxColumn("retry keeps patience & need"),
    "groups": st.column_config.TextColumn("groups (order)", help="agent groups that may take this segment, in "
                                                                 "preference order, separated by commas; empty: every "
                                                                 "skilled group in scenario order"),
    "busyness_cv": st.column_config.NumberColumn("busyness CV", min_value=0.0, max_value=3.0,
                                                 help="how uncertain this segment's daily volume is, beyond Poisson "
                                                      "(gamma factor with mean 1 per simulated day)"),
    "value_per_call": st.column_config.NumberColumn("value/call", min_value=0.0),
    "clv": st.column_config.NumberColumn("CLV", min_value=0.0),
    "churn_per_abandon": st.column_config.NumberColumn("churn/abandon", min_value=0.0, max_value=1.0),
    "escalation_probability": st.column_config.NumberColumn("escalation prob.", min_value=0.0, max_value=1.0),
    "escalation_aht_s": st.column_config.NumberColumn("escalation AHT (s)", min_value=0.0),
    "answer_within_s": st.column_config.NumberColumn("SL within (s)", min_value=0.0, help="empty: the default"),
    "target": st.column_config.NumberColumn("SL target", min_value=0.0, max_value=1.0, help="empty: the default"),
    "definition": st.column_config.SelectboxColumn(
        "SL definition", options=list(SL_DEFINITIONS),
        help="what this segment's service level divides by; empty: the default. " + "; ".join(
            f"{k}: {v}" for k, v in SL_DEFINITIONS.items())),
    "max_abandon_rate": st.column_config.NumberColumn("max abandon", min_value=0.0, max_value=1.0),
    "max_asa_s": st.column_config.NumberColumn("max ASA (s)", min_value=0.0),
}
GRP_COLS = {
    "name": st.column_config.TextColumn("group", required=True),
    "skills": st.column_config.TextColumn("skills", help="segment names separated by commas; 'escalation' for escalations"),
    "cost_per_hour": st.column_config.NumberColumn("cost/hour", min_value=0.0),
    "shrinkage": st.column_config.NumberColumn("shrinkage", min_value=0.0, max_value=0.99),
    "accepts_after_s": st.column_config.NumberColumn("overflow after (s)", min_value=0.0),
    "reserve": st.column_config.NumberColumn("reserve", min_value=0, step=1),
    "reserve_for": st.column_config.TextColumn("reserve for", help="segment names separated by commas"),
    "handle_time_factor": st.column_config.TextColumn(
        "handle-time factors", help="segment=factor, separated by commas (e.g. checking=1.25: this group takes 25% "
                                    "longer on checking calls than the segment's AHT)"),
    "serves": st.column_config.TextColumn("serves (order)", help="queue preference: segment names separated by "
                                                                 "commas; empty: the routing policy decides"),
}

# callbacks and queue caps: one row per segment ([segments.callback], max_queue_s, max_queue_outcome)
CB_FIELDS = ("mode", "offer_after_s", "accept_probability", "window_s", "aht_factor", "answer_probability", "attempts")
CB_DEFAULTS = {k: Callback.model_fields[k].default for k in CB_FIELDS}


def _cb_cols(segment_names: list) -> dict:
    outcomes = ["abandon", "callback"] + [f"overflow:{n}" for n in segment_names if isinstance(n, str) and n]
    return {
        "name": st.column_config.TextColumn("segment", disabled=True),
        "offer": st.column_config.CheckboxColumn("offer callbacks", help="offer this segment's waiting callers a "
                                                                         "callback ([segments.callback])"),
        "mode": st.column_config.SelectboxColumn(
            "offer when", options=["waited", "expected_wait"],
            help="waited: to a caller still waiting 'offer after' seconds; expected_wait: on arrival, when the "
                 "expected wait exceeds 'offer after'"),
        "offer_after_s": st.column_config.NumberColumn("offer after (s)", min_value=0.0, max_value=86400.0),
        "accept_probability": st.column_config.NumberColumn("accept prob.", min_value=0.0, max_value=1.0,
                                                            help="share of offered callers who accept and leave "
                                                                 "the queue"),
        "window_s": st.column_config.NumberColumn("window (s)", min_value=1.0, max_value=7 * 86400.0,
                                                  help="the call back is promised within this many seconds"),
        "aht_factor": st.column_config.NumberColumn("AHT factor", min_value=0.01, max_value=100.0,
                                                    help="a callback takes this times the call's handle time"),
        "answer_probability": st.column_config.NumberColumn("answer prob.", min_value=0.0, max_value=1.0,
                                                            help="chance that the customer answers an attempt"),
        "attempts": st.column_config.NumberColumn("attempts", min_value=1, max_value=100, step=1),
        "max_queue_s": st.column_config.NumberColumn("queue cap (s)", min_value=1.0, max_value=86400.0,
                                                     help="a caller still waiting this long leaves the queue; "
                                                          "empty: no cap"),
        "max_queue_outcome": st.column_config.SelectboxColumn(
            "at the cap", options=outcomes, help="abandon: the caller is lost; callback: offered a callback "
                                                 "(needs 'offer callbacks'); overflow:SEG: joins SEG's queue"),
    }


def _callback_rows(base: dict) -> list[dict]:
    """One editor row per segment: its callback settings (the model's defaults when it offers none) and cap."""
    rows = []
    for seg in base.get("segments", []):
        cb = seg.get("callback")
        offer = isinstance(cb, dict)
        row = {"name": seg.get("name"), "offer": offer}
        for k in CB_FIELDS:
            row[k] = cb.get(k, CB_DEFAULTS[k]) if offer else CB_DEFAULTS[k]
        row["max_queue_s"] = seg.get("max_queue_s")
        row["max_queue_outcome"] = seg.get("max_queue_outcome", "abandon")
        rows.append(row)
    return rows


def _callback_edits(base: dict, edited: dict) -> tuple[dict, list[str]]:
    """``base`` with the callback editor's edited rows applied (a new dict) and notes for the user. Ticking 'offer
    callbacks' stores the row's settings; unticking removes the segment's [segments.callback]; an emptied cell
    removes its key (the default applies, and the note says which) - never a silent 0. Values are stored as typed
    so that validation names a bad one."""
    base = copy.deepcopy(base)
    segs = base.get("segments", [])
    notes: list[str] = []
    for row, changes in sorted(edited.items(), key=lambda kv: int(kv[0])):
        if int(row) >= len(segs) or not isinstance(segs[int(row)], dict):
            continue
        seg = segs[int(row)]
        name = seg.get("name") or f"row {int(row) + 1}"
        if "offer" in changes:
            if changes["offer"] and not isinstance(seg.get("callback"), dict):
                seg["callback"] = dict(CB_DEFAULTS)
            elif not changes["offer"] and seg.pop("callback", None) is not None:
                notes.append(f"{name}: callbacks no longer offered")
        cb = seg.get("callback")
        for col, val in changes.items():
            if col in ("offer", "name"):
                continue
            val = _clean(val)
            if col == "attempts" and isinstance(val, float) and val.is_integer():
                val = int(val)
            if col in ("max_queue_s", "max_queue_outcome"):
                if val is None:
                    seg.pop(col, None)
                    if col == "max_queue_s":
                        notes.append(f"{name}: queue cap emptied, so callers are not capped")
                else:
                    seg[col] = val
                continue
            if not isinstance(cb, dict):
                notes.append(f"{name}: {col} not stored - tick 'offer callbacks' to offer them")
                continue
            if val is None:
                cb.pop(col, None)
                notes.append(f"{name}: {col} emptied, so the default {CB_DEFAULTS[col]!r} applies")
            else:
                cb[col] = val
    return base, notes



def _clean(v):
    """Editor cell -> TOML value (None, NaN and an emptied text cell drop the key)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    return v


def _column_names(names: list, what: str) -> list[str]:
    """Unique, non-empty column labels for the per-interval tables, even while names are being edited."""
    out: list[str] = []
    for i, name in enumerate(names):
        label = name if isinstance(name, str) and name.strip() else f"{what} {i + 1}"
        while label in out:
            label += "'"
        out.append(label)
    return out


# ---------------------------------------------------------------- callbacks (commit edits into the base dict)

def _edits(key: str) -> dict:
    return st.session_state.get(key, {}).get("edited_rows", {})


def _new_name(existing: list, stem: str) -> str:
    k = len(existing) + 1
    while f"{stem} {k}" in existing:
        k += 1
    return f"{stem} {k}"


def _table_changes(key: str) -> tuple[dict, list[dict], list[int]]:
    state = st.session_state.get(key, {})
    return state.get("edited_rows", {}), state.get("added_rows", []), state.get("deleted_rows", [])


def _rows_key(items: list) -> str:
    """Part of a table editor's key that changes when rows are added, removed or renamed, so that the editor starts
    afresh then (its added and deleted rows are not applied twice) and keeps its place otherwise."""
    names = "\x1f".join(str(it.get("name")) if isinstance(it, dict) else "?" for it in items)
    return f"{len(items)}_{zlib.crc32(names.encode()):08x}"


def _delete_rows(base: dict, items: list, deleted: list[int], forget, note: str, notes: list[str]) -> None:
    """Remove the table's deleted rows from ``items``; each removed name is forgotten wherever it is named."""
    for row in sorted(deleted, reverse=True):
        if int(row) < len(items):
            gone = items.pop(int(row))
            if isinstance(gone.get("name"), str):
                forget(base, gone["name"], None)
                notes.append(note.format(gone["name"]))


def _on_segments(key: str, n: int) -> None:
    base = copy.deepcopy(st.session_state["base"])
    edited, added, deleted = _table_changes(key)
    segs = base.setdefault("segments", [])
    notes = []
    for row, changes in edited.items():
        seg = segs[int(row)]
        for col, val in changes.items():
            val = _clean(val)
            if col == "groups":
                val = [x.strip() for x in str(val or "").split(",") if x.strip()] or None
            if col == "name" and isinstance(seg.get("name"), str) and isinstance(val, str) and val.strip() \
                    and val != seg["name"]:
                rename_segment(base, seg["name"], val)
                notes.append(f"segment {seg['name']!r} renamed to {val!r} in the groups' skills too")
            if val is None:
                seg.pop(col, None)
            else:
                seg[col] = val
    _delete_rows(base, segs, deleted, rename_segment, "segment {!r} removed, and from the groups' skills", notes)
    for row in added:
        seg = {k: _clean(v) for k, v in row.items() if _clean(v) is not None}
        seg.setdefault("name", _new_name([x.get("name") for x in segs], "segment"))
        seg.setdefault("aht_s", 300.0)
        seg["calls_per_interval"] = [0.0] * n
        if isinstance(seg.get("groups"), str):
            seg["groups"] = [x.strip() for x in seg["groups"].split(",") if x.strip()] or None
        segs.append({k: v for k, v in seg.items() if v is not None})
        notes.append(f"segment {seg['name']!r} added with no calls yet: enter its volumes below and add it to a "
                     "group's skills")
    if notes:
        st.session_state["table_note"] = "; ".join(notes) + "."
    common.commit(base)


def _on_callbacks(key: str) -> None:
    base, notes = _callback_edits(st.session_state["base"], _edits(key))
    if notes:
        st.session_state["cb_note"] = "; ".join(notes) + "."
    common.commit(base)


def _on_groups(key: str) -> None:
    base = copy.deepcopy(st.session_state["base"])
    edited, added, deleted = _table_changes(key)
    groups = base.setdefault("agent_groups", [])
    notes = []
    for row, changes in edited.items():
        g = groups[int(row)]
        for col, val in changes.items():
            val = _clean(val)
            if col == "handle_time_factor":
                val = common.parse_factors(val)
                if val in ({}, None):
                    g.pop(col, None)
                else:
                    g[col] = val
                continue
            if col in ("skills", "reserve_for", "serves"):
                val = [s.strip() for s in str(val or "").split(",") if s.strip()]
                if col in ("reserve_for", "serves") and not val:
                    g.pop(col, None)
                    continue
            if col == "name" and isinstance(g.get("name"), str) and isinstance(val, str) and val.strip() \
                    and val != g["name"]:
                rename_group(base, g["name"], val)
                notes.append(f"group {g['name']!r} renamed to {val!r} in the segments' group orders too")
            if val is None:
                g.pop(col, None)
            else:
                g[col] = val
    _delete_rows(base, groups, deleted, rename_group, "group {!r} removed", notes)
    for row in added:
        g = {k: _clean(v) for k, v in row.items() if _clean(v) is not None}
        g.setdefault("name", _new_name([x.get("name") for x in groups], "group"))
        for col in ("skills", "reserve_for", "serves"):
            if isinstance(g.get(col), str):
                g[col] = [x.strip() for x in g[col].split(",") if x.strip()]
        g.setdefault("skills", [])
        g.setdefault("agents", 0)
        groups.append(g)
        notes.append(f"group {g['name']!r} added with 0 agents: give it skills and staffing")
    if notes:
        st.session_state["table_note"] = "; ".join(notes) + "."
    common.commit(base)


# per-interval tables: (list in base, list key, what it replaces, how to rebuild it, how to store a cell)
_PER_INTERVAL = {
    "volumes": ("segments", "calls_per_interval", ("daily_calls", "profile"), lambda it, n: segment_calls(it, n),
                lambda v: float(v) if isinstance(v, (int, float)) else 0.0),
    "staffing": ("agent_groups", "agents_per_interval", ("agents",), lambda it, n: group_agents(it, n),
                 lambda v: int(v) if isinstance(v, (int, float)) else 0),
}


def _on_per_interval(key: str, kind: str, names: list[str], n: int) -> None:
    """Commit edits of a per-interval table (columns follow the items' order) into the base dict."""
    items_key, list_key, replaces, rebuild, cell = _PER_INTERVAL[kind]
    base = copy.deepcopy(st.session_state["base"])
    for row, changes in _edits(key).items():
        for col, val in changes.items():
            if col not in names:  # e.g. the interval label column, which is read-only
                continue
            item = base[items_key][names.index(col)]
            if not isinstance(item.get(list_key), list):
                item[list_key] = rebuild(item, n)
                for k in replaces:
                    item.pop(k, None)
            item[list_key][int(row)] = cell(_clean(val))
    common.commit(base)


def _on_setting(path: str, key: str) -> None:
    base = copy.deepcopy(st.session_state["base"])
    node = base
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    val = _clean(st.session_state[key])
    if val is None or val == "":
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = val
    common.commit(base)


def _on_interval(key: str) -> None:
    """A new interval length is not applied at once: the page offers to re-bucket (keep the day and the totals)
    or to keep the numbers per interval, and says what each does."""
    minutes = int(st.session_state[key])
    if minutes != int(st.session_state["base"].get("interval_minutes", 30) or 30):
        st.session_state["interval_offer"] = minutes


def _on_interval_choice(choice: str) -> None:
    minutes = st.session_state.pop("interval_offer", None)
    base = st.session_state["base"]
    if minutes is None or choice == "cancel":
        common.set_base(base, st.session_state.get("source", "edited"))  # new version: the selector shows the old value
        return
    if choice == "keep":
        data = copy.deepcopy(base)
        data["interval_minutes"] = minutes
        st.session_state["interval_note"] = (f"Interval length set to {minutes} minutes; the numbers per interval are "
                                             "unchanged, so the day and the load per hour changed with it.")
    else:
        try:
            data, notes = rebucket(base, minutes)
        except ScenarioError as exc:
            st.session_state["interval_note"] = "Not re-bucketed: " + "; ".join(r for _, r in exc.problems)
            common.set_base(base, st.session_state.get("source", "edited"))
            return
        st.session_state["interval_note"] = "Re-bucketed: " + "; ".join(notes) + "."
    common.set_base(data, st.session_state.get("source", "edited"))


def _on_bulk(n: int, labels: list[str]) -> None:
    """Apply the bulk staffing edit chosen in the form to the base dict (one re-validation, not one per cell)."""
    ss = st.session_state
    base = copy.deepcopy(ss["base"])
    groups = base.get("agent_groups", [])
    gi = int(ss["bulk_group"])
    if gi >= len(groups):
        return
    first, last = (labels.index(x) for x in ss["bulk_range"])
    op = ss["bulk_op"]
    amount = labels.index(ss["bulk_dest"]) if op == "copy to" else float(ss["bulk_amount"] or 0)
    g = groups[gi]
    current = [int(x) if isinstance(x, (int, float)) else 0 for x in group_agents(g, n)]
    try:
        g["agents_per_interval"] = edit_staffing(current, op, amount, first, last)
    except ValueError as exc:
        ss["bulk_note"] = f"Not applied: {exc}"
        return
    g.pop("agents", None)
    changed = sum(a != b for a, b in zip(current, g["agents_per_interval"]))
    ss["bulk_note"] = (f"{g.get('name')}: {op} {'' if op == 'copy to' else f'{amount:g} '}on {labels[first]}–"
                       f"{labels[last]}: {changed} interval(s) changed.")
    common.commit(base)


def _on_lines(key: str) -> None:
    base = copy.deepcopy(st.session_state["base"])
    val = int(st.session_state[key] or 0)
    if val > 0:
        base.setdefault("capacity", {})["lines"] = val
    else:
        base.pop("capacity", None)
    common.commit(base)


def _on_toml_apply() -> None:
    text = st.session_state.get("toml_text", "")
    try:
        sc = loads(text, "TOML editor")
    except ScenarioError as exc:
        st.session_state["toml_error"] = exc
        return
    st.session_state.pop("toml_error", None)
    common.set_base(to_dict(sc), st.session_state.get("source", "edited"))
    st.session_state["toml_source"] = None  # the applied text is regenerated from the scenario it made


def _toml_of(base: dict, sc, problems: list) -> str:
    """The scenario being edited as TOML: the validated scenario when valid, else the edited dict as it is."""
    if not problems:
        return dumps(sc)
    import tomli_w

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if v is not None}
        if isinstance(x, list):
            return [clean(v) for v in x if v is not None]
        return x

    try:
        return tomli_w.dumps(clean(base))
    except (TypeError, ValueError):
        return dumps(sc)


def _on_toml_reload(text: str) -> None:
    st.session_state["toml_text"] = st.session_state["toml_made"] = text
    st.session_state["toml_source"] = copy.deepcopy(st.session_state["base"])


def _error_line(err: ScenarioError) -> int | None:
    """The line a TOML syntax error points at (1-based), if it says."""
    for _, reason in err.problems:
        m = re.search(r"at line (\d+)", reason)
        if m:
            return int(m.group(1))
    return None


def _numbered(text: str, line: int, around: int = 3) -> str:
    """The lines around ``line`` with their numbers, the faulty one marked."""
    lines = text.splitlines()
    lo, hi = max(1, line - around), min(len(lines), line + around)
    return "\n".join(f"{'>>' if i == line else '  '} {i:>4} | {lines[i - 1]}" for i in range(lo, hi + 1))


def _on_volume_upload() -> None:
    f = st.session_state.get("volume_csv")
    if f is None:
        return
    sc = common.scenario()
    notes: list[str] = []
    try:
        new = apply_volumes(sc, read_volumes(f.getvalue(), sc, f.name, notes=notes))
    except ScenarioError as exc:
        st.session_state["volume_error"] = exc
        return
    st.session_state.pop("volume_error", None)
    st.session_state["volume_ok"] = f"Volumes from {f.name} loaded into calls_per_interval." + "".join(
        f" Note: {n}." for n in notes)
    common.set_base(to_dict(new), st.session_state.get("source", "edited"))


def _numeric(df: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Number columns as numbers: a column of empty cells would otherwise show "None". A column holding text that
    the user typed (kept so that validation can name it) stays as it is. Empty text cells are blank."""
    for c, cfg in config.items():
        if c in df.columns and cfg.get("type_config", {}).get("type") == "text":
            # object dtype always: a column assigned from an empty list (a table whose every row was deleted) would
            # be float, and the grid refuses a text column of floats
            df[c] = pd.Series([("" if v is None else v) for v in df[c]], index=df.index, dtype=object)
        if c in df.columns and getattr(cfg, "get", lambda _k: None)("type_config", {}).get("type") == "number":
            vals = df[c]
            if any(v is None for v in vals) and all(
                    v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in vals):
                df[c] = pd.to_numeric(vals, errors="coerce").astype(float)
    return df


def _seg_cell(seg: dict, key: str):
    """A segment's value as its editor cell: lists of names joined; a per-interval AHT or patience shown as its
    mean (editing the cell replaces the list by one value; the TOML editor keeps lists)."""
    v = seg.get(key)
    if key == "groups" and isinstance(v, list):
        return ", ".join(map(str, v))
    if key in ("aht_s", "patience_s") and isinstance(v, list):
        nums = [x for x in v if isinstance(x, (int, float))]
        return float(np.mean(nums)) if nums else None
    return v


# ---------------------------------------------------------------- problems shown next to their table

def _problems_for(prefix: str) -> list[tuple[str, str]]:
    return [(p, r) for p, r in st.session_state["problems"] if p.startswith(prefix)]


def _describe(path: str, base: dict) -> str:
    m = re.match(r"(segments|agent_groups)\[(\d+)\](?:\.(\w+))?(.*)", path)
    if not m:
        return path or "file"
    kind, idx, field, rest = m.group(1), int(m.group(2)), m.group(3), m.group(4)
    items = base.get(kind, [])
    name = items[idx].get("name") if idx < len(items) and isinstance(items[idx], dict) else None
    what = "segment" if kind == "segments" else "group"
    out = f"{what} {name!r} (row {idx + 1})" if name else f"{what} row {idx + 1}"
    return out + (f", {field}{rest}" if field else "")


def _is_cb_path(path: str) -> bool:
    """A problem of the callbacks and queue caps table."""
    return bool(re.match(r"segments\[\d+\]\.(callback|max_queue_s|max_queue_outcome)", path))


def _show_problems(problems: list[tuple[str, str]], base: dict) -> None:
    if problems:
        st.error("\n".join(f"- **{common.esc(_describe(p, base))}**: {common.esc(r)}" for p, r in problems))


# ---------------------------------------------------------------- page

common.init_state()
base: dict = st.session_state["base"]
ver = st.session_state["version"]
problems = st.session_state["problems"]

st.title("Scenario")
if problems:
    st.error(f"**{len(problems)} problem(s)** in your edits — each is shown next to its table below. Your other "
             "edits are kept; the engines keep using the last valid version until these are fixed.")
else:
    st.success(f"**{common.esc(common.scenario().name)}** is valid and ready to plan and simulate.")

n = interval_count(base)
labels = clock_labels(base, n)

if st.session_state.get("interval_offer"):
    new_min = st.session_state["interval_offer"]
    old_min = int(base.get("interval_minutes", 30) or 30)
    day = f"{labels[0]}–{clock_labels(base, n + 1)[-1]}" if labels else ""
    with st.container(border=True):
        st.warning(f"**Interval length {old_min} → {new_min} minutes.** The volumes and staffing are per interval. "
                   f"Re-bucket them to keep the day ({day}) and the totals: calls are "
                   f"{'split evenly' if new_min < old_min else 'summed'}, staffing "
                   f"{'repeated' if new_min < old_min else 'averaged (rounded up)'}. Keeping the numbers instead "
                   f"makes the day {n * new_min / 60:g} h long and the load per hour "
                   f"{old_min / new_min:g}×.", icon=":material/schedule:")
        b = st.columns(3)
        b[0].button("Re-bucket (keep the day and totals)", type="primary", key="int_rebucket",
                    on_click=_on_interval_choice, args=("rebucket",), width="stretch")
        b[1].button("Keep the numbers per interval", key="int_keep", on_click=_on_interval_choice, args=("keep",),
                    width="stretch")
        b[2].button("Cancel", key="int_cancel", on_click=_on_interval_choice, args=("cancel",), width="stretch")
if st.session_state.get("interval_note"):
    st.info(common.esc(st.session_state.pop("interval_note")), icon=":material/schedule:")

with st.expander("Day, targets, routing and costs", expanded=False):
    c = st.columns(4)
    c[0].text_input("Name", base.get("name", ""), key=f"set_name_{ver}", on_change=_on_setting,
                    args=("name", f"set_name_{ver}"))
    c[1].selectbox("Interval (minutes)", OPTIONS["interval_minutes"],
                   index=OPTIONS["interval_minutes"].index(base.get("interval_minutes", 30))
                   if base.get("interval_minutes", 30) in OPTIONS["interval_minutes"] else 1, key=f"set_int_{ver}",
                   on_change=_on_interval, args=(f"set_int_{ver}",),
                   help="changing it offers to split or merge the volumes and staffing so that the day and the "
                        "totals stay the same")
    c[2].text_input("Opens at (HH:MM)", base.get("open_time", "08:00"), key=f"set_open_{ver}",
                    on_change=_on_setting, args=("open_time", f"set_open_{ver}"))
    c[3].text_input("Currency", base.get("currency", "USD"), key=f"set_cur_{ver}", on_change=_on_setting,
                    args=("currency", f"set_cur_{ver}"))
    sl = base.get("service_level", {})
    c = st.columns(4)
    c[0].number_input("Default: answer within (s)", min_value=0.1, value=float(sl.get("answer_within_s", 20)),
                      key=f"set_thr_{ver}", on_change=_on_setting, args=("service_level.answer_within_s", f"set_thr_{ver}"))
    c[1].number_input("Default: service-level target", min_value=0.01, max_value=1.0, step=0.01,
                      value=float(sl.get("target", 0.8)), key=f"set_tgt_{ver}", on_change=_on_setting,
                      args=("service_level.target", f"set_tgt_{ver}"))
    rt = base.get("routing", {})
    pols = list(OPTIONS["routing.policy"])
    c[2].selectbox("Routing policy", pols, index=pols.index(rt.get("policy", "priority")) if rt.get("policy", "priority")
                   in pols else 1, key=f"set_pol_{ver}", on_change=_on_setting, args=("routing.policy", f"set_pol_{ver}"),
                   help="fifo: longest wait first; priority: lowest priority number first; aging: priority improves "
                        "by one step per aging_s waited")
    c[3].number_input("Aging step (s)", min_value=1.0, value=float(rt.get("aging_s", 120)), key=f"set_age_{ver}",
                      on_change=_on_setting, args=("routing.aging_s", f"set_age_{ver}"))
    c = st.columns(4)
    c[0].number_input("Telephony per minute", min_value=0.0, value=float(base.get("costs", {}).get(
        "telephony_per_minute", 0.0)), step=0.001, format="%.3f", key=f"set_tel_{ver}", on_change=_on_setting,
        args=("costs.telephony_per_minute", f"set_tel_{ver}"))
    sim = base.get("simulation", {})
    c[1].number_input("Replications", min_value=1, max_value=1000, value=int(sim.get("replications", 20)),
                      key=f"set_rep_{ver}", on_change=_on_setting, args=("simulation.replications", f"set_rep_{ver}"))
    c[2].number_input("Seed", min_value=0, value=int(sim.get("seed", 2026)), key=f"set_seed_{ver}",
                      on_change=_on_setting, args=("simulation.seed", f"set_seed_{ver}"))
    c[3].number_input("Busyness CV (day)", min_value=0.0, max_value=3.0, step=0.05,
                      value=float(sim.get("busyness_cv", 0.0)), key=f"set_busy_{ver}", on_change=_on_setting,
                      args=("simulation.busyness_cv", f"set_busy_{ver}"),
                      help="How uncertain is tomorrow's volume? Each simulated day's arrival rates are multiplied by "
                           "a gamma factor with mean 1 and this coefficient of variation (0: Poisson only). The "
                           "forecast's p10-p90 band is this uncertainty: a band of about +-13% around the day total "
                           "is a CV near 0.1. The planner's formulas stay at the mean.")
    c = st.columns(4)
    choices = list(OPTIONS["routing.agent_choice"])
    c[0].selectbox("Agent choice", choices, index=choices.index(rt.get("agent_choice", "preference"))
                   if rt.get("agent_choice", "preference") in choices else 0, key=f"set_choice_{ver}",
                   on_change=_on_setting, args=("routing.agent_choice", f"set_choice_{ver}"),
                   help="which group takes an arriving call when several have free agents: the first in the "
                        "segment's order, the longest idle, or at random in proportion to free agents")
    closes = list(OPTIONS["simulation.at_close"])
    c[1].selectbox("At closing", closes, index=closes.index(sim.get("at_close", "serve"))
                   if sim.get("at_close", "serve") in closes else 0, key=f"set_close_{ver}", on_change=_on_setting,
                   args=("simulation.at_close", f"set_close_{ver}"),
                   help="calls still waiting at closing: served in overtime, or disconnected (and counted)")
    c[2].number_input("Phone lines (0: unlimited)", min_value=0, step=1,
                      value=int((base.get("capacity") or {}).get("lines") or 0), key=f"set_lines_{ver}",
                      on_change=_on_lines, args=(f"set_lines_{ver}",),
                      help="calls waiting or in service never exceed this; a call arriving when all lines are "
                           "busy is blocked")
    defs = list(SL_DEFINITIONS)
    c[3].selectbox("Default: SL definition", defs, index=defs.index(sl.get("definition", "offered"))
                   if sl.get("definition", "offered") in defs else 0, key=f"set_def_{ver}", on_change=_on_setting,
                   args=("service_level.definition", f"set_def_{ver}"), format_func=lambda d: SL_DEFINITIONS[d],
                   help="what service level divides by, as your ACD reports it: offered calls; answered calls; "
                        "offered less calls abandoned within the threshold; or counting those short abandons as met")
    _show_problems([(p, r) for p, r in problems if not p.startswith(("segments", "agent_groups"))], base)

st.subheader("Customer segments")
seg_rows = [{k: _seg_cell(s, k) for k in SEG_COLS} for s in base.get("segments", [])]
seg_key = f"seg_editor_{ver}_{_rows_key(base.get('segments', []))}"
st.data_editor(_numeric(pd.DataFrame(seg_rows, columns=list(SEG_COLS)), SEG_COLS), column_config=SEG_COLS, hide_index=True,
               key=seg_key, on_change=_on_segments, args=(seg_key, n), width="stretch", num_rows="dynamic")
st.caption("Add a segment in the empty last row, remove one by selecting its row and pressing Delete; renaming a "
           "segment renames it in the groups' skills.")
if not base.get("segments"):
    st.warning("The scenario has no customer segment: add a segment in the table's empty row (a name, then its "
               "volumes and handle time).", icon=":material/group_add:")
if st.session_state.get("table_note"):
    st.info(common.esc(st.session_state.pop("table_note")), icon=":material/edit:")
_show_problems([(p, r) for p, r in _problems_for("segments") if "calls_per_interval" not in p
                and not _is_cb_path(p)], base)

cb_problems = [(p, r) for p, r in _problems_for("segments") if _is_cb_path(p)]
cb_segs = base.get("segments", [])
with st.expander("Callbacks and queue caps", expanded=bool(cb_problems) or any(
        isinstance(x, dict) and (isinstance(x.get("callback"), dict) or x.get("max_queue_s") is not None)
        for x in cb_segs)):
    st.caption("Offer waiting callers a call back (they leave the queue; agents call them back when no inbound call "
               "waits, within the promised window), and cap how long a caller may wait. Tick 'offer callbacks' to "
               "use a row's settings; an emptied cell takes the default.")
    cb_cols = _cb_cols([x.get("name") for x in cb_segs if isinstance(x, dict)])
    cb_key = f"cb_editor_{ver}_{_rows_key(cb_segs)}"
    st.data_editor(_numeric(pd.DataFrame(_callback_rows(base), columns=list(cb_cols)), cb_cols),
                   column_config=cb_cols, hide_index=True, key=cb_key, on_change=_on_callbacks, args=(cb_key,),
                   width="stretch", num_rows="fixed")
    if st.session_state.get("cb_note"):
        st.info(common.esc(st.session_state.pop("cb_note")), icon=":material/phone_callback:")
    _show_problems(cb_problems, base)

st.subheader("Offered calls per interval")
seg_names = _column_names([s.get("name") for s in base.get("segments", [])], "segment")
vol = pd.DataFrame({name: segment_calls(s, n) for name, s in zip(seg_names, base.get("segments", []))},
                   index=pd.Index(labels, name="interval"))
vol_key = f"vol_editor_{ver}"
st.data_editor(vol, key=vol_key, on_change=_on_per_interval, args=(vol_key, "volumes", seg_names, n), width="stretch",
               disabled=["_index"],
               column_config={c: st.column_config.NumberColumn(c, min_value=0.0, format="%.1f") for c in seg_names},
               height=min(38 + 35 * n, 320))
_show_problems([(p, r) for p, r in _problems_for("segments") if "calls_per_interval" in p or "profile" in p], base)
c1, c2 = st.columns([2, 3])
c1.file_uploader("Import interval volumes (CSV)", type=["csv", "txt"], key="volume_csv", on_change=_on_volume_upload,
                 help="Wide: one row per interval, one column per segment (and a time column). Long, as phone "
                      "systems export it: date (one day), interval_start, segment, offered (also accepted: "
                      "interval/time for the label, calls/volume for the count). 15-minute rows are summed into "
                      "30-minute intervals; rows are placed by their time, never by position.")
if st.session_state.get("volume_error") is not None:
    err = st.session_state["volume_error"]
    c2.error("The volumes were not imported; nothing was changed:\n\n"
             + "\n".join(f"- **{common.esc(p or 'file')}**: {common.esc(r)}" for p, r in err.problems))
elif st.session_state.get("volume_ok"):
    c2.success(common.esc(st.session_state.pop("volume_ok")))

st.subheader("Agent groups")
grp_rows = []
for g in base.get("agent_groups", []):
    row = {k: g.get(k) for k in GRP_COLS}
    row["skills"] = ", ".join(g.get("skills", []) or [])
    row["reserve_for"] = ", ".join(g.get("reserve_for", []) or [])
    row["serves"] = ", ".join(g.get("serves", []) or [])
    hf = g.get("handle_time_factor")
    row["handle_time_factor"] = ", ".join(f"{k}={v:g}" for k, v in hf.items()) if isinstance(hf, dict) else hf
    grp_rows.append(row)
grp_key = f"grp_editor_{ver}_{_rows_key(base.get('agent_groups', []))}"
st.data_editor(_numeric(pd.DataFrame(grp_rows, columns=list(GRP_COLS)), GRP_COLS), column_config=GRP_COLS, hide_index=True,
               key=grp_key, on_change=_on_groups, args=(grp_key,), width="stretch", num_rows="dynamic")
if not base.get("agent_groups"):
    st.warning("The scenario has no agent group: add one in the table's empty row (a name and the segments it "
               "serves as skills).", icon=":material/group_add:")
_show_problems([(p, r) for p, r in _problems_for("agent_groups") if "agents" not in p.split(".")[-1]], base)

st.subheader("Scheduled agents per interval")
grp_names = _column_names([g.get("name") for g in base.get("agent_groups", [])], "group")
staff = pd.DataFrame({name: group_agents(g, n) for name, g in zip(grp_names, base.get("agent_groups", []))},
                     index=pd.Index(labels, name="interval"))
staff_key = f"staff_editor_{ver}"
st.data_editor(staff, key=staff_key, on_change=_on_per_interval, args=(staff_key, "staffing", grp_names, n),
               width="stretch", disabled=["_index"],
               column_config={c: st.column_config.NumberColumn(c, min_value=0, step=1) for c in grp_names},
               height=min(38 + 35 * n, 320))
_show_problems([(p, r) for p, r in _problems_for("agent_groups") if "agents" in p.split(".")[-1]], base)
if base.get("agent_groups") and n > 1:
    with st.expander("Change many intervals at once"):
        b = st.columns([2, 2, 1, 3])
        b[0].selectbox("Group", range(len(grp_names)), format_func=lambda i: grp_names[i], key="bulk_group")
        op = b[1].selectbox("Edit", STAFFING_EDITS, key="bulk_op",
                            help="set to N; add N (negative removes); scale by N% (+10 = 10% more); copy the range "
                                 "to start at another interval")
        if op == "copy to":
            b[2].selectbox("Start at", labels, key="bulk_dest")
        else:
            b[2].number_input("N", value=0.0 if op != "set to" else 10.0, step=1.0, key="bulk_amount")
        b[3].select_slider("Intervals", labels, value=(labels[0], labels[-1]), key="bulk_range")
        st.button("Apply to the staffing", key="bulk_apply", on_click=_on_bulk, args=(n, labels))
    if st.session_state.get("bulk_note"):
        st.info(common.esc(st.session_state.pop("bulk_note")), icon=":material/edit:")

sc = common.scenario()
st.subheader("Offered load")
st.pyplot(charts.offered_load_figure(sc.offered_load(), title=f"Offered load per interval — {sc.name}"),
          width="stretch")

c1, c2 = st.columns(2)
c1.download_button("Download scenario (TOML)", dumps(sc), file_name=f"{re.sub(r'[^A-Za-z0-9]+', '_', sc.name).strip('_').lower()}.toml",
                   mime="application/toml", disabled=bool(problems), on_click=common.mark_saved,
                   help="Fix the problems above first" if problems else "The scenario as a file you can keep and edit")
with st.expander("Edit as TOML", expanded=st.session_state.get("toml_error") is not None):
    # the text follows the scenario: regenerated whenever the scenario changed, unless the user is typing in it
    current = _toml_of(base, sc, problems)
    if "toml_text" not in st.session_state or st.session_state.get("toml_source") is None:
        st.session_state["toml_text"] = st.session_state["toml_made"] = current
        st.session_state["toml_source"] = copy.deepcopy(base)
    elif st.session_state["toml_source"] != base:
        if st.session_state["toml_text"] == st.session_state.get("toml_made"):
            st.session_state["toml_text"] = st.session_state["toml_made"] = current
            st.session_state["toml_source"] = copy.deepcopy(base)
        else:
            st.warning("The scenario changed (in the tables above) since you started editing this text: applying it "
                       "would undo those changes.", icon=":material/warning:")
            st.button("Reload the text from the scenario", key="toml_reload", on_click=_on_toml_reload,
                      args=(current,))
    st.text_area("Scenario TOML", key="toml_text", height=400)
    st.button("Apply TOML", on_click=_on_toml_apply, key="toml_apply")
    if st.session_state.get("toml_error") is not None:
        err = st.session_state["toml_error"]
        st.error("The TOML was not applied; your text is kept so you can fix it:\n\n"
                 + "\n".join(f"- **{common.esc(p or 'file')}**: {common.esc(r)}" for p, r in err.problems))
        line = _error_line(err)
        if line is not None:
            st.code(_numbered(st.session_state.get("toml_text", ""), line), language=None)
