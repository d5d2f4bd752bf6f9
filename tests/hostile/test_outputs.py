"""Outputs are safe: never over an input, never over existing files without --force, checked before the work,
and nothing partial is left behind when the work fails."""

import shutil

import pytest

from ccplan.outputs import OutputError, check_dir, check_file, staged_dir, staged_file
from ccplan.scenario import presets
from tests.conftest import ccplan


@pytest.fixture
def trainer(tmp_path):
    p = tmp_path / "trainer.toml"
    shutil.copy(presets()["trainer"], p)
    return p


def test_staff_to_refuses_to_overwrite_its_input(trainer):
    before = trainer.read_text()
    r = ccplan("staff", str(trainer), "--out", str(trainer))
    assert r.returncode == 1 and "input file" in r.stderr and "Traceback" not in r.stderr
    assert trainer.read_text() == before


def test_an_existing_file_is_kept_without_force_and_replaced_with_it(trainer, tmp_path):
    out = tmp_path / "plan.csv"
    out.write_text("mine")
    r = ccplan("staff", str(trainer), "--out", str(out))
    assert r.returncode == 1 and "--force" in r.stderr
    assert out.read_text() == "mine"
    r = ccplan("staff", str(trainer), "--out", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert out.read_text().startswith("interval,")


def test_an_output_folder_with_files_needs_force_and_the_input_inside_it_survives(trainer, tmp_path):
    r = ccplan("simulate", str(trainer), "-r", "2", "--out", str(tmp_path))
    assert r.returncode == 1 and "not empty" in r.stderr
    r = ccplan("simulate", str(trainer), "-r", "2", "--out", str(tmp_path), "--force")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "call_log.parquet").exists() and trainer.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]  # no staging left



def test_an_unwritable_place_is_named_before_any_simulation(trainer, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "file").write_text("x")
    r = ccplan("simulate", str(trainer), "-r", "2", "--out", str(ro / "file" / "res"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "res" in r.stderr


def test_a_failure_while_writing_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with staged_dir(target) as tmp:
            (tmp / "a.csv").write_text("half")
            raise RuntimeError("disk full")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    f = tmp_path / "one.toml"
    with pytest.raises(RuntimeError):
        with staged_file(f) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []


def test_a_staged_folder_never_moves_a_file_onto_an_input(tmp_path):
    inp = tmp_path / "out" / "frontier.csv"
    inp.parent.mkdir()
    inp.write_text("my data")
    with pytest.raises(OutputError, match="input"):
        with staged_dir(tmp_path / "out", [inp]) as tmp:
            (tmp / "frontier.csv").write_text("results")
    assert inp.read_text() == "my data"


def test_checks_name_the_option_and_the_problem(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match=r"--out .*is a file; give a folder"):
        check_dir(tmp_path / "f", "--out", [], False)
    with pytest.raises(OutputError, match=r"--to .*is a folder"):
        check_file(tmp_path, "--to", [], False)


def test_a_large_job_states_its_size_and_waits_for_yes():
    r = ccplan("simulate", str(presets()["telecom"]), "-r", "10000")
    assert r.returncode == 1 and "--yes" in r.stderr and "calls" in r.stderr and "Traceback" not in r.stderr


def test_a_day_that_cannot_fit_in_memory_is_refused_even_with_yes(tmp_path):
    from ccplan.scenario import dump, from_dict

    # valid: a million one-second calls in each of 96 quarter-hours (about 43 GB for one replication)
    p = tmp_path / "huge.toml"
    dump(from_dict({"name": "huge", "interval_minutes": 15,
                    "segments": [{"name": "a", "calls_per_interval": [1e6] * 96, "aht_s": 1}],
                    "agent_groups": [{"name": "g", "skills": ["a"], "agents": 2000}]}), p)
    r = ccplan("simulate", str(p), "-r", "2", "--yes")
    assert r.returncode == 1 and "GB available" in r.stderr


@pytest.mark.parametrize("vary,words", [
    ("agent_groups.team.agents=1:1e12", "at most 200"),
    ("simulation.seed=1,2", "cannot be varied"),
    ("segments=1,2", "address one of its fields"),
])
def test_bad_or_unbounded_vary_is_refused_with_a_reason(trainer, vary, words):
    r = ccplan("compare", str(trainer), "--vary", vary, "-r", "2")
    assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr


def test_a_float_range_gives_the_values_written():
    from ccplan.comparison import parse_vary

    assert parse_vary("simulation.busyness_cv=0.7:1.0:0.1")[1] == [0.7, 0.8, 0.9, 1.0]
    assert parse_vary("routing.aging_s=0.05:0.2:0.05")[1] == [0.05, 0.1, 0.15, 0.2]


def _volumes(tmp_path, text: str):
    p = tmp_path / "v.csv"
    p.write_text(text)
    return p


DAY = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]


def test_import_places_unsorted_rows_by_their_clock_label(trainer, tmp_path):
    from ccplan.scenario import load

    rows = [f"{t},{i},{10 * i}" for i, t in enumerate(DAY)]
    p = _volumes(tmp_path, "time,gold,silver\n" + "\n".join(rows[::-1]) + "\n")
    r = ccplan("import-volumes", str(trainer), str(p), "--out", str(tmp_path / "o.toml"))
    assert r.returncode == 0, r.stderr
    sc = load(tmp_path / "o.toml")
    assert list(sc.calls_per_interval("gold")) == list(range(8))


@pytest.mark.parametrize("text,words", [
    ("time,gold,silver\n" + "\n".join(f"{t},1,1" for t in ["14:00"] + DAY[1:]) + "\n", "outside the scenario's day"),
    ("time,gold,silver\n" + "\n".join(f"{t},1,1" for t in DAY[:-1] + ["09:30"]) + "\n", "the same interval as row"),
    ("time,gold,silver\n" + "\n".join(f"{t},1,1" for t in ["09:07"] + DAY[1:]) + "\n", "off the 30-minute grid"),
    ("gold\n1\n2\n", "has 2 rows of volumes"),
    ("calls\n1\n2\n", "one column ('calls') and it is not a segment"),
    ("time;gold;silver\n09:00;1,234;1\n" + "\n".join(f"{t};1;1" for t in DAY[1:]) + "\n", "ambiguous"),
])
def test_import_refuses_what_it_cannot_place_and_names_the_row(trainer, tmp_path, text, words):
    r = ccplan("import-volumes", str(trainer), str(_volumes(tmp_path, text)), "--out", str(tmp_path / "o.toml"))
    assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "o.toml").exists()


def test_import_sums_quarter_hours_into_half_hours_and_says_so(trainer, tmp_path):
    from ccplan.scenario import load

    rows = [f"{9 + m // 60:02d}:{m % 60:02d},{seg},5" for seg in ("gold", "silver") for m in range(0, 240, 15)]
    p = _volumes(tmp_path, "interval,segment,calls\n" + "\n".join(rows) + "\n")
    r = ccplan("import-volumes", str(trainer), str(p), "--out", str(tmp_path / "o.toml"))
    assert r.returncode == 0 and "summed" in r.stdout, r.stderr
    assert list(load(tmp_path / "o.toml").calls_per_interval("gold")) == [10.0] * 8
