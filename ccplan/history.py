"""Call history as an ACD exports it (CSV), read strictly: a number is never guessed.

Layout: long format, one row per bucket (and segment). Columns:
- ``timestamp`` (ISO 8601, the bucket's start), or ``date`` (ISO, YYYY-MM-DD) plus ``interval_start`` (HH:MM);
- ``offered``: calls arriving in the bucket (>= 0);
- optionally ``segment`` (or another name given as ``segment_column``) and ``aht_s`` (mean handle time, s).
Buckets of 5, 15, 30 or 60 minutes. A bucket missing inside a day that has data counts as 0
calls; a date without any row is a day without data (a holiday, or closed).

The separator (comma, semicolon, tab) and the decimal mark are detected. A file whose numbers
could be read two ways (``1,234`` with a semicolon separator and no other clue: 1.234 or 1234?)
is refused with a message naming the row, never guessed. Every problem names its row (the
file's line number) or column.
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

from ccplan.scenario import ScenarioError

BUCKET_MINUTES = (5, 15, 30, 60)
MIN_DAYS = 14
_KNOWN = ("timestamp", "date", "interval_start", "offered", "segment", "aht_s")
_COMMA_DECIMAL = re.compile(r"^[+-]?(\d+,\d{1,2}|\d+,\d{4,}|\d{1,3}(\.\d{3})+,\d+)$")
_POINT_DECIMAL = re.compile(r"^[+-]?(\d+\.\d{1,2}|\d+\.\d{4,}|\d{1,3}(,\d{3})+\.\d+)$")
_THREE_AFTER = re.compile(r"^[+-]?\d{1,3}([.,]\d{3})+$")


class HistoryError(ScenarioError):
    """A history file that cannot be read; ``problems`` lists (where, what) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None) -> None:
        super().__init__(problems, source, what="history")


@dataclass(frozen=True)
class History:
    """Call history at its own bucket size.

    ``data``: one row per segment x bucket with calls: segment, timestamp (datetime64), offered
    (float), aht_s (float, NaN where unknown). ``bucket_minutes``: 5, 15, 30 or 60.
    """

    data: pd.DataFrame
    bucket_minutes: int
    has_aht: bool
    source: str

    @property
    def segments(self) -> list[str]:
        return list(dict.fromkeys(self.data["segment"]))

    @property
    def dates(self) -> list:
        return sorted(set(self.data["timestamp"].dt.date))

    def rolled_up(self, interval_minutes: int) -> pd.DataFrame:
        """Calls per ``interval_minutes`` interval: segment, date, slot (minutes after midnight), offered, aht_s
        (call-weighted mean). Totals are kept exactly."""
        if interval_minutes < self.bucket_minutes:
            raise HistoryError([("", f"the history has {self.bucket_minutes}-minute buckets; it cannot be split into "
                                     f"{interval_minutes}-minute intervals (choose {self.bucket_minutes} minutes or "
                                     "more)")], self.source)
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
            p = Path(source)
            if not p.exists():
                raise HistoryError([("", "no such file")], name)
            text = p.read_bytes().decode("utf-8-sig")
        else:
            text = str(source).lstrip("\ufeff")
    except UnicodeDecodeError:
        raise HistoryError([("", "not a text CSV file (UTF-8 expected)")], name) from None
    if "\x00" in text:
        raise HistoryError([("", "this is a binary file, not a CSV")], name)
    if not text.strip():
        raise HistoryError([("", "the file is empty")], name)
    return text


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


def check_fields(text: str, sep: str, name: str) -> None:
    """Every row has as many fields as the header; HistoryError naming the first that does not."""
    width = None
    for line_no, fields in enumerate(csv.reader(io.StringIO(text), delimiter=sep), start=1):
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
    sep = separator_of(text.splitlines()[0])
    check_fields(text, sep, name)
    raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True,
                      index_col=False, skip_blank_lines=True)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    seg_col = segment_column.strip().lower()
    known = set(_KNOWN) | {seg_col}
    problems: list[tuple[str, str]] = []
    for c in raw.columns:
        if c not in known:
            hint = difflib.get_close_matches(c, sorted(known), n=1)
            problems.append((f"column {c!r}", "unknown column" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                             + f"; expected timestamp (or date and interval_start), offered, and optionally "
                               f"{seg_col}, aht_s"))
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
    aht = _numbers(raw["aht_s"], decimal, "aht_s", problems, allow_empty=True) if "aht_s" in raw.columns else None
    if aht is not None:
        zero_aht = (aht <= 0) & (offered > 0)
        if zero_aht.any():
            i = zero_aht.idxmax()
            problems.append((f"row {i + 2}, column 'aht_s'", f"{raw['aht_s'][i]!r}: must be > 0 where calls were "
                                                              "offered"))
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
    iso = stamp_text.str.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?")
    stamps = pd.to_datetime(stamp_text.where(iso), errors="coerce", format="ISO8601")
    bad = stamps.isna()
    if bad.any() and not problems:
        i = bad.idxmax()
        col = "timestamp" if has_ts else "date"
        problems.append((f"row {i + 2}, column {col!r}", f"{stamp_text[i]!r} is not an ISO 8601 time "
                                                         "(YYYY-MM-DDTHH:MM)"))
    if problems:
        raise HistoryError(problems, name)
    segment = raw[seg_col].str.strip() if seg_col in raw.columns else pd.Series("calls", index=raw.index)
    if (segment == "").any():
        i = (segment == "").idxmax()
        raise HistoryError([(f"row {i + 2}, column {seg_col!r}", "is empty")], name)
    data = pd.DataFrame({"segment": segment, "timestamp": stamps.astype("datetime64[ns]"), "offered": offered,
                         "aht_s": aht if aht is not None else np.nan})
    dup = data.duplicated(["segment", "timestamp"], keep=False)
    if dup.any():
        rows = [i + 2 for i in data.index[dup][:2]]
        raise HistoryError([(f"rows {rows[0]} and {rows[1]}", f"the same timestamp {data['timestamp'][rows[0] - 2]} "
                             + (f"and segment {segment[rows[0] - 2]!r} " if seg_col in raw.columns else "")
                             + f"appears twice ({int(dup.sum())} duplicated rows)")], name)
    bucket = _bucket_minutes(data, name)
    days = sorted(set(data["timestamp"].dt.date))
    span = (days[-1] - days[0]).days + 1
    if span < MIN_DAYS:
        raise HistoryError([("", f"the history covers {span} day(s) ({days[0]} to {days[-1]}); at least two weeks are "
                                 "needed to see the weekly pattern")], name)
    data = data.sort_values(["segment", "timestamp"], kind="stable").reset_index(drop=True)
    return History(data, bucket, aht is not None, name)


def _bucket_minutes(data: pd.DataFrame, name: str) -> int:
    """The bucket size: the most common step between consecutive rows of a day; every row must sit on it."""
    minutes = data["timestamp"].dt.hour * 60 + data["timestamp"].dt.minute
    if (data["timestamp"].dt.second != 0).any():
        i = (data["timestamp"].dt.second != 0).idxmax()
        raise HistoryError([(f"row {i + 2}", f"{data['timestamp'][i]} is not on a whole minute")], name)
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
        raise HistoryError([(f"row {i + 2}", f"{data['timestamp'][i]} is not on the {bucket}-minute grid of the "
                                             "other rows")], name)
    return bucket


def synthetic_history(start: str = "2026-01-05", weeks: int = 12, segments: dict[str, float] | None = None,
                      bucket_minutes: int = 5, open_time: str = "08:00", close_time: str = "20:00",
                      weekday_factors: tuple[float, ...] = (1.25, 1.05, 1.0, 0.95, 0.9, 0.6, 0.0),
                      trend_per_week: float = 0.01, day_cv: float = 0.06, holidays: tuple[str, ...] = (),
                      seed: int = 7, with_expected: bool = False) -> pd.DataFrame:
    """A history with a known pattern, as an ACD would export it (timestamp, segment, offered, aht_s).

    ``segments`` maps names to mean calls per day on an average open day. Each day's total is
    mean x weekday factor x (1 + trend)^week x a gamma day factor (cv ``day_cv``); calls per
    bucket are Poisson around a two-peak intraday profile. A weekday factor of 0 is a closed
    day; ``holidays`` (ISO dates) have no rows. Handle times: 300 s, 10% longer after 18:00.
    ``with_expected`` adds the column ``expected``: the Poisson mean without the day factor (the truth
    a forecast should recover).
    """
    rng = np.random.default_rng(seed)
    segments = segments or {"retail": 3000.0, "business": 900.0, "premium": 400.0}
    oh, om = (int(x) for x in open_time.split(":"))
    ch, cm = (int(x) for x in close_time.split(":"))
    slots = np.arange(oh * 60 + om, ch * 60 + cm, bucket_minutes)
    x = (slots - slots[0]) / (slots[-1] - slots[0] + bucket_minutes)
    profile = 0.3 + np.exp(-((x - 0.25) / 0.12) ** 2) + 0.7 * np.exp(-((x - 0.65) / 0.15) ** 2)
    profile /= profile.sum()
    day0 = dt_date(start)
    rows = []
    for k in range(weeks * 7):
        day = day0 + pd.Timedelta(days=k)
        wf = weekday_factors[day.weekday()]
        if wf <= 0 or day.date().isoformat() in holidays:
            continue
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
