"""Reading call history as ACDs export it: formats read right, ambiguity and malformed rows refused by name."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ccplan.history import HistoryError, read_history, synthetic_history
from ccplan.scenario import ScenarioError, load, presets

BANK = Path(__file__).resolve().parents[2] / "examples" / "data" / "bank_calls_2003_mar_may.csv"


def _days(n: int = 15, start_day: int = 2, per_day: int = 4, value: str = "10", sep: str = ",", extra: str = "") -> str:
    lines = [f"timestamp{sep}offered{extra and sep + 'aht_s'}"]
    for d in range(n):
        for k in range(per_day):
            lines.append(f"2026-03-{start_day + d:02d}T09:{k * 15:02d}{sep}{value}{extra and sep + extra}")
    return "\n".join(lines) + "\n"


def test_the_bank_sample_is_read_with_its_bucket_and_missing_days():
    h = read_history(BANK)
    assert h.bucket_minutes == 5 and h.segments == ["calls"] and len(h.dates) == 58
    assert h.data["offered"].sum() == 1_866_248


def test_roll_up_from_5_to_30_minutes_keeps_every_total():
    h = read_history(BANK)
    r = h.rolled_up(30)
    assert r["offered"].sum() == h.data["offered"].sum()
    per_day_5 = h.data.groupby(h.data["timestamp"].dt.date)["offered"].sum()
    per_day_30 = r.groupby("date")["offered"].sum()
    assert (per_day_5 == per_day_30).all()
    assert set(r["slot"] % 30) == {0}


@settings(max_examples=30)
@given(st.lists(st.integers(0, 500), min_size=12 * 15, max_size=12 * 15), st.sampled_from([15, 30, 60]))
def test_roll_up_keeps_totals_for_any_counts(counts, target):
    assume(any(counts))  # a history without a single call is refused (see test_an_all_zero_history_is_refused)
    rows = ["timestamp,offered"]
    for d in range(15):
        for k in range(12):
            rows.append(f"2026-03-{2 + d:02d}T{9 + k // 12:02d}:{(k % 12) * 5:02d},{counts[d * 12 + k]}")
    h = read_history("\n".join(rows).encode(), "h.csv")
    r = h.rolled_up(target)
    assert r["offered"].sum() == sum(counts)


def test_roll_up_weights_aht_by_calls():
    text = "timestamp,offered,aht_s\n" + "".join(
        f"2026-03-{2 + d:02d}T09:00,10,100\n2026-03-{2 + d:02d}T09:15,30,300\n" for d in range(15))
    r = read_history(text.encode(), "h.csv").rolled_up(30)
    assert r["aht_s"].iloc[0] == pytest.approx((10 * 100 + 30 * 300) / 40)


def test_semicolons_decimal_commas_and_a_bom_are_read():
    text = _days(sep=";", value="12", extra="245,5")
    h = read_history(("\ufeff" + text).encode("utf-8"), "eu.csv")
    assert h.data["aht_s"].iloc[0] == pytest.approx(245.5)
    assert h.data["offered"].iloc[0] == 12


def test_european_thousands_with_decimal_comma_are_read():
    text = _days(sep=";", value="1.234", extra="245,5")
    assert read_history(text.encode(), "eu.csv").data["offered"].iloc[0] == 1234


def test_an_ambiguous_thousands_or_decimal_number_is_refused_naming_the_row():
    text = _days(sep=";", value="1,234")
    with pytest.raises(HistoryError, match=r"row 2, column 'offered'.*ambiguous"):
        read_history(text.encode(), "amb.csv")


def test_mixed_decimal_marks_are_refused():
    text = _days(sep=";", value="12", extra="245,5").replace("245,5", "245.5", 1)
    with pytest.raises(HistoryError, match="mixed number formats"):
        read_history(text.encode(), "mixed.csv")


def test_date_and_interval_start_columns_are_read():
    text = "date,interval_start,segment,offered\n" + "".join(
        f"2026-03-{2 + d:02d},09:{k * 30:02d},{seg},5\n" for d in range(15) for k in range(2) for seg in ("a", "b"))
    h = read_history(text.encode(), "h.csv")
    assert h.segments == ["a", "b"] and h.bucket_minutes == 30


def test_missing_buckets_inside_a_day_count_as_zero_calls():
    text = _days().splitlines()
    del text[2]  # one 15-minute bucket of the first day
    h = read_history(("\n".join(text) + "\n").encode(), "h.csv")
    r = h.rolled_up(60)
    assert r["offered"].iloc[0] == 30 and r["offered"].iloc[1] == 40


@pytest.mark.parametrize("text,where,words", [
    ("timestamp,calls\n2026-03-02T09:00,1\n", "column 'calls'", "unknown column"),
    ("timestamp,offered,queue\n2026-03-02T09:00,1,a\n", "column 'queue'", "unknown column"),
    (_days().replace("09:15,10", "09:15,ten", 1), "row 3, column 'offered'", "'ten' is not a number"),
    (_days().replace("09:15,10", "09:15,-4", 1), "row 3, column 'offered'", "'-4' is negative"),
    (_days().replace("09:15,10", "09:15,", 1), "row 3, column 'offered'", "is empty"),
    (_days().replace("2026-03-02T09:15", "2026-03-02T09:00", 1), "rows 2 and 3", "appears twice"),
    (_days(n=9), "", "covers 9 day(s)"),
    (_days().replace("2026-03-02T09:15", "02/03/2026 09:15", 1), "row 3, column 'timestamp'", "ISO 8601"),
    ("timestamp,offered\n", "", "no rows"),
    ("", "", "empty"),
    (_days().replace("T09:15", "T09:17", 1), "", "minutes apart"),
])
def test_malformed_history_gets_a_message_naming_the_row_or_column(text, where, words):
    with pytest.raises(HistoryError) as exc:
        read_history(text.encode(), "bad.csv")
    msg = str(exc.value)
    assert words in msg and where in msg, msg


def test_a_finer_target_than_the_data_is_refused_clearly():
    h = read_history(_days().encode(), "h.csv")
    with pytest.raises(HistoryError, match="15-minute buckets; it cannot be split into 5-minute"):
        h.rolled_up(5)


def test_a_decimal_comma_in_a_comma_separated_file_is_named():
    text = _days(extra="245,5")
    with pytest.raises(HistoryError, match="more fields than the header"):
        read_history(text.encode(), "h.csv")


def test_synthetic_history_has_the_stated_shape():
    df = synthetic_history(weeks=3, segments={"a": 100.0}, holidays=("2026-01-07",))
    days = set(df["timestamp"].str[:10])
    assert "2026-01-07" not in days and "2026-01-11" not in days  # a holiday, a (closed) Sunday
    assert np.all(df["offered"] >= 0)


# ---- the interval-volume import uses the same number rules (issue 16, item 1)

def _volumes(text: str):
    from ccplan.scenario import load, presets
    from ccplan.volumes import read_volumes

    return read_volumes(text.encode(), load(presets()["trainer"]), "v.csv")


def _rows(sep: str, cell: str) -> str:
    return f"time{sep}gold{sep}silver\n" + "".join(f"{9 + i // 2:02d}:{30 * (i % 2):02d}{sep}{cell}{sep}30\n"
                                                   for i in range(8))


def test_volume_import_reads_decimal_commas_in_a_semicolon_file():
    assert _volumes(_rows(";", "20,5"))["gold"] == [20.5] * 8


@pytest.mark.parametrize("text,words", [
    (_rows(";", "1,234"), "is ambiguous"),
    (_rows(",", "20,5"), "has 4 fields but the header has 3"),
    (_rows(",", '"20,5"'), "is not a number"),
])
def test_volume_import_refuses_what_it_could_misread(text, words):
    from ccplan.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=words):
        _volumes(text)


def test_an_acd_export_with_date_interval_start_and_offered_imports_and_rolls_15_minutes_up():
    from ccplan.volumes import read_volumes

    sc = load(presets()["retail_bank"])
    rows = ["date,interval_start,segment,offered"]
    for i in range(2 * sc.n_intervals):
        h, m = divmod(8 * 60 + 15 * i, 60)
        for s in sc.segment_names:
            rows.append(f"2026-11-02,{h:02d}:{m:02d},{s},{10 + i}")
    notes: list[str] = []
    vols = read_volumes("\n".join(rows).encode(), sc, "acd.csv", notes=notes)
    assert vols["premium"][:2] == [10 + 11, 12 + 13] and len(vols["basic"]) == sc.n_intervals
    assert any("summed" in n for n in notes)


@pytest.mark.parametrize("text, says", [
    ("day,slot,queue,calls_in\n2026-11-02,08:00,premium,5\n", "accepted columns"),
    ("interval,segment,n\n08:00,premium,4\n", "no calls column"),
    ("date,interval_start,segment,offered\n2026-11-02,08:00,premium,5\n2026-11-03,08:00,premium,5\n", "2 dates"),
])
def test_volume_files_that_do_not_match_say_which_columns_are_accepted(text, says):
    from ccplan.volumes import read_volumes

    with pytest.raises(ScenarioError, match=says):
        read_volumes(text.encode(), load(presets()["retail_bank"]), "x.csv")


# ---- what a careless or unlucky export does (the forecast probe)

def test_excel_sep_line_names_the_separator_and_rows_keep_their_line_numbers():
    text = "sep=;\n" + _days(sep=";").replace("09:15;10", "09:15;x", 1)
    with pytest.raises(HistoryError, match=r"row 4, column 'offered'"):  # line 4 of the file: after sep= and header
        read_history(text.encode(), "excel.csv")
    assert read_history(("sep=;\n" + _days(sep=";")).encode(), "excel.csv").data["offered"].sum() == 15 * 4 * 10


@pytest.mark.parametrize("suffix", ["+01:00", "Z", "-0500"])
def test_utc_offsets_are_dropped_and_the_clock_time_kept_with_a_note(suffix):
    text = "\n".join(line if i == 0 else line.replace(",10", f"{suffix},10")
                     for i, line in enumerate(_days().splitlines())) + "\n"
    h = read_history(text.encode(), "off.csv")
    assert h.data["timestamp"].iloc[0] == np.datetime64("2026-03-02T09:00")
    assert len(h.notes) == 1 and "dropped" in h.notes[0]


def test_a_row_without_the_offset_others_have_is_named():
    lines = _days().splitlines()
    text = "\n".join([lines[0]] + [line.replace(",10", "+01:00,10") for line in lines[1:3]] + lines[3:]) + "\n"
    with pytest.raises(HistoryError, match=r"row 4, column 'timestamp'.*no UTC offset"):
        read_history(text.encode(), "off.csv")


def test_a_repeated_hour_names_both_of_its_rows():
    lines = _days().splitlines()
    lines.insert(5, "2026-03-02T09:15,10")  # after 09:45: 09:15 again
    with pytest.raises(HistoryError) as exc:
        read_history(("\n".join(lines) + "\n").encode(), "dst.csv")
    msg = str(exc.value)
    assert "rows 3 and 6" in msg and "2026-03-02 09:15" in msg and "clocks go back" in msg


def test_the_hour_repeated_with_two_offsets_is_summed_with_a_note():
    lines = [line if i == 0 else line.replace(",10", "+02:00,10") for i, line in enumerate(_days().splitlines())]
    lines.insert(3, "2026-03-02T09:15+01:00,4")
    h = read_history(("\n".join(lines) + "\n").encode(), "dst.csv")
    day = h.data[h.data["timestamp"].dt.date == np.datetime64("2026-03-02").astype(object)]
    assert list(day["offered"]) == [10, 14, 10, 10]
    assert any("occurs twice on 2026-03-02" in n for n in h.notes)


def test_an_export_changing_from_15_to_30_minute_rows_is_read_in_30_minute_buckets():
    rows = ["timestamp,offered"]
    for d in range(20):
        step = 15 if d < 10 else 30
        for k in range(0, 240, step):
            rows.append(f"2026-03-{2 + d:02d}T{9 + k // 60:02d}:{k % 60:02d},{10 * step // 15}")
    h = read_history(("\n".join(rows) + "\n").encode(), "changed.csv")
    assert h.bucket_minutes == 30 and "changes from 15- to 30-minute rows on 2026-03-12" in h.notes[0]
    r = h.rolled_up(30)
    assert set(r["offered"]) == {20}  # every 30-minute interval alike: no sawtooth
    with pytest.raises(HistoryError, match="30-minute buckets.*2026-03-12"):
        h.rolled_up(15)


def test_a_sparse_day_is_not_a_changed_export():
    text = _days().splitlines()
    text = [line for line in text if not (line.startswith("2026-03-16") and (":15" in line or ":45" in line))]
    assert read_history(("\n".join(text) + "\n").encode(), "h.csv").bucket_minutes == 15


@pytest.mark.parametrize("text,where,words", [
    (_days().replace("09:15,10", "09:15,1e15", 1), "row 3, column 'offered'", "not a plausible count"),
    (_days(extra="300").replace("09:15,10,300", "09:15,10,9e9", 1), "row 3, column 'aht_s'", "longer than a day"),
    (_days(value="0"), "column 'offered'", "0 calls"),
    (_days().replace("09:15,10", "09:15,nan", 1), "row 3, column 'offered'", "'nan' is not a number"),
    (_days().replace("09:15,10", "09:15,Infinity", 1), "row 3, column 'offered'", "'Infinity' is not finite"),
])
def test_absurd_values_and_a_history_without_calls_are_refused_by_name(text, where, words):
    with pytest.raises(HistoryError) as exc:
        read_history(text.encode(), "bad.csv")
    assert where in str(exc.value) and words in str(exc.value), str(exc.value)


@pytest.mark.parametrize("column", ["offered", "timestamp", "aht_s"])
def test_a_segment_column_that_is_another_column_is_refused(column):
    with pytest.raises(HistoryError, match=f"segment column '{column}': is the history's"):
        read_history(_days(extra="300").encode(), "h.csv", segment_column=column)


def test_an_outlier_bucket_is_replaced_and_named_and_normal_histories_are_left_alone():
    from ccplan.history import without_outliers

    df = synthetic_history(weeks=4, segments={"a": 600.0}, bucket_minutes=30)
    h = read_history(df.to_csv(index=False).encode(), "h.csv")
    assert without_outliers(h) == (h, [])
    i = int(df.index[df["timestamp"] == "2026-01-14T11:00"][0])
    df.loc[i, "offered"] = 3000
    h = read_history(df.to_csv(index=False).encode(), "h.csv")
    clean, notes = without_outliers(h)
    assert len(notes) == 1 and f"row {i + 2}" in notes[0] and "3,000 calls" in notes[0]
    assert 10 < clean.data["offered"].max() < 200
    assert without_outliers(read_history(BANK))[1] == []


def test_volume_import_reads_the_sep_line_and_names_nan_infinity_and_timestamps():
    assert _volumes("sep=;\n" + _rows(";", "7"))["gold"] == [7.0] * 8
    with pytest.raises(ScenarioError, match=r"row 3, column 'gold': 'nan' is not a number"):
        _volumes(_rows(",", "20").replace("09:30,20", "09:30,nan"))
    with pytest.raises(ScenarioError, match=r"row 4, column 'gold': 'Infinity' is not finite"):
        _volumes(("sep=,\n" + _rows(",", "20")).replace("09:30,20", "09:30,Infinity"))
    with pytest.raises(ScenarioError, match="not by timestamp"):
        _volumes("timestamp,gold,silver\n2026-03-02T09:00,1,2\n")


# ---- special days: the history's special column and --exclude-dates

def test_a_special_column_flags_days_per_segment_with_their_label():
    rows = ["timestamp,segment,offered,special"]
    for d in range(2, 18):
        for seg in ("a", "b"):
            flag = {(5, "a"): "promotion", (6, "b"): "1", (7, "a"): "0"}.get((d, seg), "")
            rows += [f"2026-03-{d:02d}T09:00,{seg},5,{flag}", f"2026-03-{d:02d}T09:15,{seg},5,"]
    h = read_history("\n".join(rows).encode(), "h.csv")
    import datetime as dt

    assert h.special_days() == {"a": {dt.date(2026, 3, 5): "promotion"}, "b": {dt.date(2026, 3, 6): "flagged"}}


def test_a_history_without_a_special_column_has_no_special_days():
    assert read_history(BANK).special_days() == {}


def test_exclude_dates_are_read_with_labels_comments_and_a_header():
    import datetime as dt

    from ccplan.history import read_special_dates

    text = b"date,label\n# a comment\n2026-03-05,promotion\n\n2026-03-06 # no label\n2026-03-09;outage\n"
    assert read_special_dates(text, "d.txt") == {dt.date(2026, 3, 5): "promotion", dt.date(2026, 3, 6): "excluded",
                                                 dt.date(2026, 3, 9): "outage"}


@pytest.mark.parametrize("text,words", [(b"2026-03-05\n05/03/2026\n", "line 2"), (b"# nothing\n", "no date"),
                                        (b"\xff\xfe", "not a text file")])
def test_a_bad_dates_file_names_the_line(text, words):
    from ccplan.history import read_special_dates

    with pytest.raises(HistoryError, match=words):
        read_special_dates(text, "d.txt")
