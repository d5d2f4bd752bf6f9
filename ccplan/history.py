"""Call history as an ACD exports it (CSV), read strictly: a number is never guessed.

Layout: long format, one row per bucket (and segment). Columns:
- ``timestamp`` (ISO 8601, the bucket's start), or ``date`` (ISO, YYYY-MM-DD) plus ``interval_start`` (HH:MM);
- ``offered``: calls arriving in the bucket (>= 0);
- optionally ``segment`` (or another name given as ``segment_column``) and ``aht_s`` (mean handle time, s);
- optionally ``special``: a day to keep out of the patterns (a promotion, an outage, a local holiday). A row with a
  non-empty value other than ``0``, ``no`` or ``false`` flags its day (for its segment); the value is the day's
  label (``1``, ``yes``, ``true`` and ``x`` read as "flagged").
Buckets of 5, 15, 30 or 60 minutes. A bucket missing inside a day that has data counts as 0
calls; a date without any row is a day without data (a holiday, or closed).

The separator (comma, semicolon, tab; or Excel's ``sep=;`` first line) and the decimal mark are
detected. A file whose numbers could be read two ways (``1,234`` with a semicolon separator and no
other clue: 1.234 or 1234?) is refused with a message naming the row, never guessed. Every problem
names its row (the file's line number) or column.

Timestamps with a UTC offset (``2026-03-02T09:00+01:00``, ``...Z``) are read as the clock time
written before the offset: ISO 8601 writes local time followed by its offset, and intervals are
planned on the center's clock, so the offset is dropped (a note says so). Where offsets differ
(a daylight-saving change), the hour repeated when the clocks go back is summed into one bucket of
that day, with a note; without offsets such a repeat is refused, naming the duplicated rows.

Not read as calls: more than ``MAX_CALLS_PER_BUCKET`` calls in one bucket (a corrupt cell), a file
whose every bucket has 0 calls. An export whose bucket size changes part way (15-minute rows, then
30-minute ones) is read in the coarser buckets, with a note naming the day it changes.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccplan.scenario import ScenarioError, read_input

BUCKET_MINUTES = (5, 15, 30, 60)
MIN_DAYS = 14
MAX_HISTORY_BYTES = 100_000_000  # policy: a year of 15-minute rows for 50 queues is about 70 MB
MAX_CALLS_PER_BUCKET = 1_000_000  # more in one bucket is a corrupt cell, not a call count
MAX_AHT_S = 86_400.0
_KNOWN = ("timestamp", "date", "interval_start", "offered", "segment", "aht_s", "special")
_NOT_SPECIAL = ("", "0", "no", "false", "n", "f")
_FLAG_WORDS = ("1", "yes", "true", "x", "y", "t")
MAX_SPECIAL_BYTES = 1_000_000  # policy: a list of dates; a million bytes is decades of them
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(\.\d{3})+,\d+)$")
_POINT_DECIMAL = re.compile(r"^[+-]?(\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(,\d{3})+\.\d+)$")
_THREE_AFTER = re.compile(r"^[+-]?\d{1,3}([.,]\d{3})+$")
_SEP_LINE = re.compile(r'^\s*"?sep=(.)"?\s*$', re.IGNORECASE)
_ISO = re.compile(r"(\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?")


class HistoryError(ScenarioError):
    """A history file that cannot be read; ``problems`` lists (where, what) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        super().__init__(problems, source, what="history")


@dataclass(frozen=True)
class History:
    """Call history at its own bucket size.

    ``data``: one row per segment x bucket with calls: segment, timestamp (datetime64), offered
    (float), aht_s (float, NaN where unknown), row (the file's line number), special (the day's label where a
    row flags its day, else ""). ``bucket_minutes``:
    5, 15, 30 or 60 (an export whose rows get coarser part way is read in the coarser buckets).
    ``notes``: what was read differently from the file's face (offsets dropped, a changed bucket size).
    """

    data: pd.DataFrame
    bucket_minutes: int
    has_aht: bool
    source: str
    notes: tuple[str, ...] = ()

    @property
    def segments(self) -> list[str]:
        return list(dict.fromkeys(self.data["segment"]))

    @property
    def dates(self) -> list:
        return sorted(set(self.data["timestamp"].dt.date))

    def special_days(self) -> dict[str, dict]:
        """Days the history's ``special`` column flags: segment -> {date: label}."""
        if "special" not in self.data.columns:
            return {}
        flagged = self.data[self.data["special"] != ""]
        out: dict[str, dict] = {}
        for (seg, day), g in flagged.groupby([flagged["segment"], flagged["timestamp"].dt.date], sort=True):
            out.setdefault(str(seg), {})[day] = str(g["special"].iloc[0])
        return out

    def rolled_up(self, interval_minutes: int) -> pd.DataFrame:
        """Calls per ``interval_minutes`` interval: segment, date, slot (minutes after midnight), offered, aht_s
        (call-weighted mean). Totals are kept exactly."""
        if interval_minutes < self.bucket_minutes:
            changed = [n for n in self.notes if n.startswith("the export changes")]
            raise HistoryError([("", f"the history has {self.bucket_minutes}-minute buckets; it cannot be split into "
                                     f"{interval_minutes}-minute intervals (choose {self.bucket_minutes} minutes or "
                                     "more)" + (f"; {changed[0].split(':')[0]}" if changed else ""))], self.source)
        if interval_minutes % self.bucket_minutes:
            raise HistoryError([("", f"{interval_minutes}-minute intervals are not whole multiples of the history's "
                                     f"{self.bucket_minutes}-minute buckets")], self.source)
        d = self.data
        minutes = d["timestamp"].dt.hour * 60 + d["timestamp"].dt.minute
        out = pd.DataFrame({"segment": d["segment"], "date": d["timestamp"].dt.date,
                            "slot": (minutes // interval_minutes) * interval_minutes, "offered": d["offered"],
                            "_work": d["offered"] * d["aht_s"].fillna(0.0),
                            "_known": d["offered"].where(d["aht_s"].notna(), 0.0)})
        g = out.groupby(["segment", "date", "slot"], sort=True, as_index=False)[["offered", "_work", "_known"]].sum()
        g["aht_s"] = np.where(g["_known"] > 0, g["_work"] / g["_known"].where(g["_known"] > 0, 1.0), np.nan)
        return g.drop(columns=["_work", "_known"])


def _text(source: str | Path | bytes, name: str) -> str:
    try:
        if isinstance(source, bytes):
            text = source.decode("utf-8-sig")
        elif isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
            try:
                text = read_input(source, MAX_HISTORY_BYTES, "history file").decode("utf-8-sig")
            except ScenarioError as exc:
                raise HistoryError(exc.problems, name) from None
        else:
            text = str(source).lstrip("\ufeff")
    except UnicodeDecodeError:
        raise HistoryError([("", "not a text CSV file (UTF-8 expected)")], name) from None
    if "\x00" in text:
        raise HistoryError([("", "this is a binary file, not a CSV")], name)
    if not text.strip():
        raise HistoryError([("", "the file is empty")], name)
    return text


def excel_separator(text: str) -> tuple[str | None, str]:
    """Excel's ``sep=;`` first line: (the separator it names, the text after that line); (None, text) without it."""
    first, _, rest = text.partition("\n")
    m = _SEP_LINE.match(first.rstrip("\r"))
    return (m.group(1), rest) if m else (None, text)


def separator_of(header: str) -> str:
    """The CSV separator a header line uses: semicolon, tab or comma (the most frequent of them)."""
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else ","


def decimal_mark_of(cells: pd.DataFrame, sep: str, name: str) -> str:
    """'.' or ',' from the numeric cells (strings); HistoryError naming the row when the file could be read
    two ways (``1,234`` with nothing else to tell) or mixes both."""
    if sep == ",":
        return "."
    flat = cells.stack()
    comma = flat[flat.str.match(_COMMA_DECIMAL)]
    point = flat[flat.str.match(_POINT_DECIMAL)]
    if len(comma) and len(point):
        (r1, c1), (r2, c2) = comma.index[0], point.index[0]
        raise HistoryError([(f"row {r1 + 2}, column {c1!r}", f"{comma.iloc[0]!r} has a decimal comma but row {r2 + 2}, "
                             f"column {c2!r} has {point.iloc[0]!r} with a decimal point: mixed number formats")], name)
    if len(comma):
        return ","
    if len(point):
        return "."
    ambiguous = flat[flat.str.match(_THREE_AFTER)]
    if len(ambiguous):
        (r, c), v = ambiguous.index[0], ambiguous.iloc[0]
        mark = "," if "," in v else "."
        other = "." if mark == "," else ","
        raise HistoryError([(f"row {r + 2}, column {c!r}", f"{v!r} is ambiguous: {mark!r} may be a decimal mark "
                             f"({v.replace(other, '').replace(mark, '.')}) or a thousands separator "
                             f"({v.replace(mark, '').replace(other, '')}); write numbers without thousands "
                             "separators")], name)
    return "."


def check_fields(text: str, sep: str, name: str, first_line: int = 1) -> None:
    """Every row has as many fields as the header; HistoryError naming the first that does not.
    ``first_line``: the file's line number of the text's first line (2 after a ``sep=`` line)."""
    width = None
    for line_no, fields in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=first_line):
        if not fields or all(not f.strip() for f in fields):
            continue
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            hint = (" (a decimal comma in a comma-separated file? use ';' as the separator)"
                    if sep == "," and len(fields) > width else "")
            raise HistoryError([(f"row {line_no}", f"has {len(fields)} fields but the header has {width}"
                                 + ("; more fields than the header" if len(fields) > width else "") + hint)], name)


_GROUPED = {",": re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$"), ".": re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")}


def to_number_text(text: str, decimal: str) -> str:
    """A cell's number in Python's notation, the decimal mark made '.'. Thousands separators are dropped only
    where they group digits by three (``1.234,5`` / ``1,234.5``); anything else (``20,5`` in a file whose
    decimal mark is '.') is left to fail as "not a number" rather than be read as 205."""
    t = text.strip()
    thousands = "." if decimal == "," else ","
    if thousands in t:
        if not _GROUPED[decimal].match(t):
            return t
        t = t.replace(thousands, "")
    return t.replace(",", ".") if decimal == "," else t


def _numbers(col: pd.Series, decimal: str, column: str, problems: list, allow_empty: bool = False) -> pd.Series:
    vals = pd.to_numeric(col.map(lambda v: to_number_text(v, decimal)), errors="coerce")
    empty = col.isna() | (col.str.strip() == "")
    bad = vals.isna() & ~empty
    if bad.any():
        i = bad.idxmax()
        problems.append((f"row {i + 2}, column {column!r}", f"{col[i]!r} is not a number"
                         + (f" ({int(bad.sum())} such rows)" if bad.sum() > 1 else "")))
    if empty.any() and not allow_empty:
        i = empty.idxmax()
        problems.append((f"row {i + 2}, column {column!r}", "is empty" + (f" ({int(empty.sum())} such rows)"
                                                                          if empty.sum() > 1 else "")))
    neg = vals < 0
    if neg.any():
        i = neg.idxmax()
        problems.append((f"row {i + 2}, column {column!r}", f"{col[i]!r} is negative"))
    inf = np.isinf(vals)
    if inf.any():
        i = inf.idxmax()
        problems.append((f"row {i + 2}, column {column!r}", f"{col[i]!r} is not finite"))
    return vals


def read_history(source: str | Path | bytes, name: str | None = None, segment_column: str = "segment") -> History:
    """Read a call history CSV (see the module docstring). Raises :class:`HistoryError` listing every problem."""
    name = name or (str(source) if isinstance(source, (str, Path)) and "\n" not in str(source) else "history.csv")
    text = _text(source, name)
    excel_sep, body = excel_separator(text)
    skipped = 0 if excel_sep is None else 1  # lines before the header
    if not body.strip():
        raise HistoryError([("", "the file has no header after its 'sep=' line")], name)
    sep = excel_sep or separator_of(body.splitlines()[0])
    check_fields(body, sep, name, first_line=1 + skipped)
    raw = pd.read_csv(io.StringIO(body), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True,
                      index_col=False, skip_blank_lines=True)
    raw.index = raw.index + skipped  # every message says row i + 2: the file's line number
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    seg_col = segment_column.strip().lower()
    problems: list[tuple[str, str]] = []
    if seg_col in _KNOWN and seg_col != "segment":
        raise HistoryError([(f"segment column {seg_col!r}", f"is the history's {_ROLE[seg_col]} column, not a "
                             "segment: name the column that holds the queue or segment (--segment-column), or "
                             "leave it at 'segment'")], name)
    known = set(_KNOWN) | {seg_col}
    for c in raw.columns:
        if c not in known:
            hint = difflib.get_close_matches(c, sorted(known), n=1)
            problems.append((f"column {c!r}", "unknown column" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                             + f"; expected timestamp (or date and interval_start), offered, and optionally "
                               f"{seg_col}, aht_s, special"))
    if "offered" not in raw.columns:
        problems.append(("column 'offered'", "is missing: calls offered per bucket"))
    has_ts = "timestamp" in raw.columns
    if not has_ts and not {"date", "interval_start"} <= set(raw.columns):
        problems.append(("column 'timestamp'", "is missing: give timestamp (ISO 8601), or date and interval_start"))
    if seg_col != "segment" and seg_col not in raw.columns:
        problems.append((f"column {seg_col!r}", "is missing (named by the segment column option)"))
    if problems:
        raise HistoryError(problems, name)
    if raw.empty:
        raise HistoryError([("", "has a header but no rows")], name)
    numeric = [c for c in ("offered", "aht_s") if c in raw.columns]
    decimal = decimal_mark_of(raw[numeric], sep, name)
    offered = _numbers(raw["offered"], decimal, "offered", problems)
    huge = offered > MAX_CALLS_PER_BUCKET
    if huge.any():
        i = huge.idxmax()
        problems.append((f"row {i + 2}, column 'offered'", f"{raw['offered'][i]!r} calls in one bucket is not a "
                         f"plausible count (more than {MAX_CALLS_PER_BUCKET:,}): a corrupt cell?"
                         + (f" ({int(huge.sum())} such rows)" if huge.sum() > 1 else "")))
    aht = _numbers(raw["aht_s"], decimal, "aht_s", problems, allow_empty=True) if "aht_s" in raw.columns else None
    if aht is not None:
        zero_aht = (aht <= 0) & (offered > 0)
        if zero_aht.any():
            i = zero_aht.idxmax()
            problems.append((f"row {i + 2}, column 'aht_s'", f"{raw['aht_s'][i]!r}: must be > 0 where calls were "
                                                              "offered"))
        long_aht = np.isfinite(aht) & (aht > MAX_AHT_S)
        if long_aht.any():
            i = long_aht.idxmax()
            problems.append((f"row {i + 2}, column 'aht_s'", f"{raw['aht_s'][i]!r} seconds is longer than a day: a "
                                                              "corrupt cell?"))
    if has_ts:
        stamp_text = raw["timestamp"].str.strip()
    else:
        bad_date = ~raw["date"].str.strip().str.fullmatch(r"\d{4}-\d{2}-\d{2}")
        if bad_date.any():
            i = bad_date.idxmax()
            problems.append((f"row {i + 2}, column 'date'", f"{raw['date'][i]!r} is not an ISO date (YYYY-MM-DD); "
                                                             "day-month order would be a guess"))
        bad_time = ~raw["interval_start"].str.strip().str.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?")
        if bad_time.any():
            i = bad_time.idxmax()
            problems.append((f"row {i + 2}, column 'interval_start'", f"{raw['interval_start'][i]!r} is not a clock "
                                                                       "time HH:MM"))
        stamp_text = raw["date"].str.strip() + "T" + raw["interval_start"].str.strip()
    parts = stamp_text.str.extract(f"^{_ISO.pattern}$")
    clock, offset = parts[0], parts[1]
    stamps = pd.to_datetime(clock, errors="coerce", format="ISO8601")
    bad = stamps.isna()
    if bad.any() and not problems:
        i = bad.idxmax()
        col = "timestamp" if has_ts else "date"
        problems.append((f"row {i + 2}, column {col!r}", f"{stamp_text[i]!r} is not an ISO 8601 time "
                                                         "(YYYY-MM-DDTHH:MM, optionally with a UTC offset)"))
    if problems:
        raise HistoryError(problems, name)
    if not (offered > 0).any():
        raise HistoryError([("column 'offered'", f"every one of the {len(raw):,} rows has 0 calls: there is nothing "
                                                 "to learn a pattern from")], name)
    segment = raw[seg_col].str.strip() if seg_col in raw.columns else pd.Series("calls", index=raw.index)
    if (segment == "").any():
        i = (segment == "").idxmax()
        raise HistoryError([(f"row {i + 2}, column {seg_col!r}", "is empty")], name)
    special = (raw["special"].str.strip() if "special" in raw.columns else pd.Series("", index=raw.index))
    special = special.where(~special.str.lower().isin(_NOT_SPECIAL), "")
    special = special.where(~special.str.lower().isin(_FLAG_WORDS), "flagged")
    data = pd.DataFrame({"segment": segment, "timestamp": stamps.astype("datetime64[ns]"), "offered": offered,
                         "aht_s": aht if aht is not None else np.nan, "row": raw.index + 2, "special": special})
    notes: list[str] = []
    offsets = offset.dropna().map(lambda o: "+00:00" if o == "Z" else (o if ":" in o or len(o) == 3
                                                                         else f"{o[:3]}:{o[3:]}"))
    offsets = offsets.map(lambda o: o + ":00" if len(o) == 3 else o)
    if len(offsets):
        kinds = list(dict.fromkeys(offsets))
        if len(offsets) < len(raw):
            i = offset.isna().idxmax()
            raise HistoryError([(f"row {i + 2}, column {'timestamp' if has_ts else 'date'!r}",
                                 f"{stamp_text[i]!r} has no UTC offset but other rows have one ({kinds[0]}): "
                                 "write every timestamp the same way")], name)
        if len(kinds) == 1:
            notes.append(f"every timestamp carries the UTC offset {kinds[0]}" + (" (UTC, 'Z')" if kinds[0] == "+00:00"
                         else "") + ": the offset is dropped and the clock times are read as written")
        else:
            first_seen = sorted(data["timestamp"].groupby(offsets).min())
            notes.append(f"timestamps carry UTC offsets {', '.join(kinds)} (a daylight-saving change on "
                         f"{first_seen[1].date()}): each is read as the local clock time written before its offset")
    data = _merge_repeats(data, offsets if len(offsets) else None, seg_col in raw.columns, name, notes)
    bucket = _bucket_minutes(data, name)
    bucket = _bucket_change(data, bucket, notes)
    days = sorted(set(data["timestamp"].dt.date))
    span = (days[-1] - days[0]).days + 1
    if span < MIN_DAYS:
        raise HistoryError([("", f"the history covers {span} day(s) ({days[0]} to {days[-1]}); at least two weeks are "
                                 "needed to see the weekly pattern")], name)
    data = data.sort_values(["segment", "timestamp"], kind="stable").reset_index(drop=True)
    return History(data, bucket, aht is not None, name, tuple(notes))


_ROLE = {"timestamp": "time", "date": "date", "interval_start": "interval start", "offered": "calls (offered)",
         "aht_s": "handle time (aht_s)", "special": "special-day"}


def _merge_repeats(data: pd.DataFrame, offsets: pd.Series | None, has_segments: bool, name: str,
                   notes: list[str]) -> pd.DataFrame:
    """Rows with the same segment and clock time: the hour repeated when the clocks go back is summed into one
    bucket when the rows' UTC offsets tell the two hours apart; any other repeat is refused, naming its rows."""
    dup = data.duplicated(["segment", "timestamp"], keep=False)
    if not dup.any():
        return data
    first = data.index[dup][0]
    key = data.loc[first, ["segment", "timestamp"]]
    same = data.index[(data["segment"] == key["segment"]) & (data["timestamp"] == key["timestamp"])]
    if offsets is not None and not (offsets[dup].groupby([data["segment"][dup], data["timestamp"][dup]])
                                    .nunique() < 2).any():
        stamps = data.loc[dup, "timestamp"]
        day = stamps.dt.date.iloc[0]
        work = data["offered"] * data["aht_s"].fillna(0.0)
        known = data["offered"].where(data["aht_s"].notna(), 0.0)
        g = data.assign(_work=work, _known=known).groupby(["segment", "timestamp"], sort=False, as_index=False)
        merged = g.agg(offered=("offered", "sum"), _work=("_work", "sum"), _known=("_known", "sum"),
                       aht_s=("aht_s", "first"), row=("row", "first"), special=("special", "max"))
        merged["aht_s"] = np.where(merged["_known"] > 0, merged["_work"] / merged["_known"].where(
            merged["_known"] > 0, 1.0), merged["aht_s"])
        notes.append(f"{stamps.min():%H:%M}–{stamps.max():%H:%M} occurs twice on {day} with different UTC "
                     "offsets (the clocks went back): the two hours' calls are summed into that day's buckets")
        return merged.drop(columns=["_work", "_known"])[data.columns]
    rows = [int(data.loc[i, "row"]) for i in same]
    when = f"{key['timestamp']:%Y-%m-%d %H:%M}"
    days = set(data.loc[dup, "timestamp"].dt.date)
    span = data.loc[dup, "timestamp"].max() - data.loc[dup, "timestamp"].min()
    hint = (" (the hour repeated when the clocks go back at the end of daylight saving time? export with UTC "
            "offsets, e.g. 01:00+02:00 and 01:00+01:00, or in UTC)" if len(days) == 1 and span <= pd.Timedelta(hours=1)
            else "")
    rows_text = " and ".join(map(str, rows)) if len(rows) <= 3 else f"{', '.join(map(str, rows[:3]))}, …"
    raise HistoryError([(f"rows {rows_text}", f"the same timestamp {when} "
                         + (f"and segment {key['segment']!r} " if has_segments else "")
                         + f"appears {'twice' if len(rows) == 2 else f'{len(rows)} times'} ({int(dup.sum())} "
                         f"duplicated rows in all){hint}")], name)


def _bucket_minutes(data: pd.DataFrame, name: str) -> int:
    """The bucket size: the most common step between consecutive rows of a day; every row must sit on it."""
    minutes = data["timestamp"].dt.hour * 60 + data["timestamp"].dt.minute
    if (data["timestamp"].dt.second != 0).any():
        i = (data["timestamp"].dt.second != 0).idxmax()
        raise HistoryError([(f"row {data['row'][i]}", f"{data['timestamp'][i]} is not on a whole minute")], name)
    steps = (data.assign(_m=minutes).sort_values(["segment", "timestamp"])
             .groupby(["segment", data["timestamp"].dt.date])["_m"].diff().dropna())
    steps = steps[steps > 0]
    if steps.empty:
        raise HistoryError([("", "cannot tell the bucket size: every day has a single row")], name)
    bucket = int(steps.min())
    if bucket not in BUCKET_MINUTES:
        raise HistoryError([("", f"rows are {bucket} minutes apart; buckets of 5, 15, 30 or 60 minutes are read")],
                           name)
    off = minutes % bucket != 0
    if off.any():
        i = off.idxmax()
        raise HistoryError([(f"row {data['row'][i]}", f"{data['timestamp'][i]} is not on the {bucket}-minute grid of "
                                                      "the other rows")], name)
    return bucket


def _bucket_change(data: pd.DataFrame, bucket: int, notes: list[str]) -> int:
    """The bucket size to read the history in when its export changes part way (15-minute rows, then 30-minute
    ones): the coarser one, with a note naming the day it changes. A run of 2+ consecutive days whose rows all sit
    on a coarser grid, cover it (3 in 4 of its buckets from the day's first row to its last) and number 4+ per
    segment is a coarser export; a single sparse day is not (its missing buckets are 0 calls)."""
    minutes = (data["timestamp"].dt.hour * 60 + data["timestamp"].dt.minute).to_numpy()
    date = data["timestamp"].dt.date
    frame = pd.DataFrame({"date": date, "m": minutes, "segment": data["segment"]})
    grid = frame.groupby("date")["m"].agg(lambda m: int(np.gcd.reduce(np.append(m.to_numpy(), 1440))))
    per_seg = frame.groupby("date").size() / frame.groupby("date")["segment"].nunique()
    span = frame.groupby(["date", "segment"])["m"].agg(lambda m: m.max() - m.min()).groupby("date").mean()
    dense = (per_seg >= 4) & (per_seg >= 0.75 * (span / grid + 1))
    coarse = ((grid > bucket) & dense).to_numpy()
    dates = list(grid.index)
    runs, k = [], 0
    while k < len(dates):
        if coarse[k]:
            j = k
            while j + 1 < len(dates) and coarse[j + 1]:
                j += 1
            if j - k + 1 >= 2:
                runs.append((k, j))
            k = j + 1
        else:
            k += 1
    if not runs:
        return bucket
    new = int(np.gcd.reduce([grid.iloc[i] for a, b in runs for i in range(a, b + 1)]))
    if new not in BUCKET_MINUTES:  # rows two hours apart are sparse hourly data, not another export
        return bucket
    a, b = runs[0]
    if a == 0:
        where = f"from {new}- to {bucket}-minute rows on {dates[b + 1]}"
    else:
        where = f"from {bucket}- to {new}-minute rows on {dates[a]}" + (
            f" (and back on {dates[b + 1]})" if b + 1 < len(dates) else "")
    notes.append(f"the export changes {where}: the whole history is read in {new}-minute buckets (the "
                 f"{bucket}-minute rows are summed into them)")
    return new


OUTLIER_Z = 10.0  # robust standard deviations above the usual value that make a bucket an outlier


def without_outliers(h: History) -> tuple[History, list[str]]:
    """The history with its outlier buckets replaced by their usual value, and notes naming them (segment, day,
    time, the file's row).

    A bucket is an outlier when it is more than twice its usual value (+5) and more than ``OUTLIER_Z`` robust
    standard deviations above it. Its usual value is the median of the same bucket over the same weekday (over all
    open days when the weekday has fewer than 3), scaled by the day's level (the median ratio of the day's busy
    buckets to their medians), so a busy day is not an outlier. The spread is the larger of the bucket's median
    absolute deviation (x 1.4826) and Poisson noise. A bucket that is high on many days (a change of opening hours)
    is a pattern, not an outlier: nothing is replaced where more than one in ten days would be."""
    d = h.data
    b = h.bucket_minutes
    minutes = d["timestamp"].dt.hour * 60 + d["timestamp"].dt.minute
    key = pd.DataFrame({"segment": d["segment"], "date": d["timestamp"].dt.normalize(), "slot": minutes // b * b,
                        "offered": d["offered"]})
    factor = pd.Series(1.0, index=d.index)
    found: list[tuple] = []
    for seg, g in key.groupby("segment", sort=False):
        m = g.pivot_table(index="date", columns="slot", values="offered", aggfunc="sum", fill_value=0.0)
        x = m.to_numpy(float)
        wd = m.index.day_of_week.to_numpy()
        open_day = x.sum(axis=1) > 0
        if open_day.sum() < 3:
            continue
        for w in np.unique(wd[open_day]):
            rows = (wd == w) & open_day
            ref = rows if rows.sum() >= 3 else open_day
            med = np.median(x[ref], axis=0)
            busy = med >= 5
            level = (np.median(x[:, busy] / med[busy], axis=1) if busy.any() else np.ones(len(x)))
            level = np.where(np.isfinite(level) & (level > 0), level, 1.0)
            usual = level[:, None] * med[None, :]
            sigma = 1.4826 * np.median(np.abs(x[ref] - usual[ref]), axis=0)
            scale = np.maximum(np.maximum(sigma[None, :], np.sqrt(usual)), 1.0)
            flag = rows[:, None] & (x > 2 * usual + 5) & (x - usual > OUTLIER_Z * scale)
            flag[:, flag.sum(axis=0) > max(1, 0.1 * rows.sum())] = False
            for i, j in zip(*np.nonzero(flag)):
                found.append((seg, m.index[i], int(m.columns[j]), float(x[i, j]), float(usual[i, j])))
    if not found:
        return h, []
    described = []
    for seg, day, slot, value, usual in found:
        at = (key["segment"] == seg) & (key["date"] == day) & (key["slot"] == slot)
        factor[at] = usual / value
        row = int(d.loc[d.index[at][d.loc[at, "offered"].argmax()], "row"])
        described.append(f"{'' if h.segments == ['calls'] else f'segment {seg!r}, '}{day:%Y-%m-%d} {slot // 60:02d}:"
                         f"{slot % 60:02d} (row {row}): {value:,.0f} calls where about {usual:,.0f} are usual")
    data = d.assign(offered=d["offered"] * factor)
    more = f" and {len(described) - 3} more" if len(described) > 3 else ""
    note = (f"{len(found)} outlier bucket(s) replaced by the usual value of their weekday and time (a corrupt cell or "
            f"a one-off event must not shape the forecast or its band): {'; '.join(described[:3])}{more}")
    return History(data, h.bucket_minutes, h.has_aht, h.source, h.notes), [note]


def synthetic_history(start: str = "2026-01-05", weeks: int = 12, segments: dict[str, float] | None = None,
                      bucket_minutes: int = 5, open_time: str = "08:00", close_time: str = "20:00",
                      weekday_factors: tuple[float, ...] = (1.25, 1.05, 1.0, 0.95, 0.9, 0.6, 0.0),
                      trend_per_week: float = 0.01, day_cv: float = 0.06, holidays: tuple[str, ...] = (),
                      seed: int = 7, with_expected: bool = False, holiday_share: float = 0.0,
                      level_shift: tuple[str, float] | None = None) -> pd.DataFrame:
    """A history with a known pattern, as an ACD would export it (timestamp, segment, offered, aht_s).

    ``segments`` maps names to mean calls per day on an average open day. Each day's total is
    mean x weekday factor x (1 + trend)^week x a gamma day factor (cv ``day_cv``); calls per
    bucket are Poisson around a two-peak intraday profile. A weekday factor of 0 is a closed
    day; ``holidays`` (ISO dates) have no rows, or ``holiday_share`` of a usual day's calls when that is above 0.
    ``level_shift`` (ISO date, factor) multiplies every day from that date on (a new level).
    Handle times: 300 s, 10% longer after 18:00.
    ``with_expected`` adds the column ``expected``: the Poisson mean without the day factor (the truth
    a forecast should recover).
    """
    rng = np.random.default_rng(seed)
    segments = segments or {"retail": 3000.0, "business": 900.0, "premium": 400.0}
    oh, om = (int(x) for x in open_time.split(":"))
    ch, cm = (int(x) for x in close_time.split(":"))
    slots = np.arange(oh * 60 + om, ch * 60 + cm, bucket_minutes)
    if not len(slots):
        raise ValueError(f"close_time {close_time} must be after open_time {open_time}")
    x = (slots - slots[0]) / (slots[-1] - slots[0] + bucket_minutes)
    profile = 0.3 + np.exp(-((x - 0.25) / 0.12) ** 2) + 0.7 * np.exp(-((x - 0.65) / 0.15) ** 2)
    profile /= profile.sum()
    day0 = dt_date(start)
    rows = []
    for k in range(weeks * 7):
        day = day0 + pd.Timedelta(days=k)
        wf = weekday_factors[day.weekday()]
        holiday = day.date().isoformat() in holidays
        if wf <= 0 or (holiday and holiday_share <= 0):
            continue
        wf *= holiday_share if holiday else 1.0
        if level_shift is not None and day >= dt_date(level_shift[0]):
            wf *= level_shift[1]
        for seg, mean in segments.items():
            busy = rng.gamma(1 / day_cv ** 2, day_cv ** 2) if day_cv > 0 else 1.0
            total = mean * wf * (1 + trend_per_week) ** (k / 7) * busy
            counts = rng.poisson(total * profile)
            truth = mean * wf * (1 + trend_per_week) ** (k / 7) * profile
            for s, c, e in zip(slots, counts, truth):
                rows.append((f"{day.date().isoformat()}T{s // 60:02d}:{s % 60:02d}", seg, int(c),
                             300.0 * (1.1 if s >= 18 * 60 else 1.0), float(e)))
    df = pd.DataFrame(rows, columns=["timestamp", "segment", "offered", "aht_s", "expected"])
    return df if with_expected else df.drop(columns=["expected"])


def dt_date(iso: str) -> pd.Timestamp:
    return pd.Timestamp(iso)


def read_special_dates(source: str | Path | bytes, name: str | None = None) -> dict:
    """Days to keep out of the patterns, from a text or CSV file (``--exclude-dates``): one ISO date (YYYY-MM-DD) a
    line, optionally followed by a comma, semicolon or tab and a label; a header line (``date,label``), blank lines
    and ``#`` comments are skipped. Returns {date: label} ("excluded" without a label); HistoryError naming the line
    of a date that cannot be read."""
    import datetime as dt

    name = name or (str(source) if isinstance(source, (str, Path)) else "dates.txt")
    if isinstance(source, bytes):
        raw = source
    else:
        try:
            raw = read_input(source, MAX_SPECIAL_BYTES, "dates file")
        except ScenarioError as exc:
            raise HistoryError(exc.problems, name) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HistoryError([("", "not a text file (UTF-8 expected)")], name) from None
    out: dict = {}
    problems = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        first, *rest = re.split(r"[,;\t]", body, maxsplit=1)
        first = first.strip().strip('"')
        if line_no == 1 and first.lower() in ("date", "day", "dates"):
            continue
        try:
            day = dt.date.fromisoformat(first)
        except ValueError:
            problems.append((f"line {line_no}", f"{first!r} is not an ISO date (YYYY-MM-DD)"))
            continue
        label = rest[0].strip().strip('"') if rest else ""
        out[day] = label or "excluded"
    if problems:
        raise HistoryError(problems[:5] + ([("", f"and {len(problems) - 5} more lines")] if len(problems) > 5 else []),
                           name)
    if not out:
        raise HistoryError([("", "no date in the file (one YYYY-MM-DD a line)")], name)
    return out
