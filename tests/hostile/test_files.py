"""Files at the edges: outputs go only to regular files with the umask's mode, two runs racing for one name do
not both say 'written', a full disk is one message, spreadsheet formulas are defused, and inputs must be
regular files under their size limits (issue 23)."""

import os
import resource
import shutil
import signal
import stat
import subprocess
import sys

import pandas as pd
import pytest

from ccplan.outputs import OutputError, check_dir, check_file, csv_text, staged_dir, staged_file
from ccplan.scenario import ScenarioError, dump, from_dict, load, presets, read_input, to_dict
from tests.conftest import ROOT, ccplan


@pytest.fixture
def trainer(tmp_path):
    p = tmp_path / "trainer.toml"
    shutil.copy(presets()["trainer"], p)
    return p


@pytest.mark.parametrize("make", ["fifo", "link_to_fifo", "link_to_file"])
def test_force_never_replaces_a_fifo_or_a_link_with_a_file(trainer, tmp_path, make):
    target = tmp_path / "target"
    if make == "fifo":
        os.mkfifo(target)
    elif make == "link_to_fifo":
        os.mkfifo(tmp_path / "fifo")
        target.symlink_to(tmp_path / "fifo")
    else:
        (tmp_path / "real.csv").write_text("mine")
        target.symlink_to(tmp_path / "real.csv")
    before = target.lstat()
    r = ccplan("staff", str(trainer), "--out", str(target), "--force")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "regular files" in r.stderr and str(target) in r.stderr
    after = target.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_a_device_is_refused_as_an_output_even_with_force():
    with pytest.raises(OutputError, match="character device"):
        check_file(__import__("pathlib").Path("/dev/null"), "--out", [], True)


def test_a_new_output_gets_the_umasks_mode_and_force_keeps_the_old_mode(trainer, tmp_path):
    out = tmp_path / "plan.csv"
    r = subprocess.run(["sh", "-c", f"umask 022; {sys.executable} -m ccplan staff {trainer} --out {out}"],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    out.chmod(0o640)
    r = ccplan("staff", str(trainer), "--out", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def test_of_two_runs_racing_for_one_file_only_the_first_writes(tmp_path):
    out = tmp_path / "plan.csv"
    check_file(out, "--out", [], False)  # both runs checked before either wrote
    with staged_file(out) as tmp:
        tmp.write_text("first")
    with pytest.raises(OutputError, match="written by something else"):
        with staged_file(out) as tmp:
            tmp.write_text("second")
    assert out.read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv"]


def test_of_two_runs_racing_for_one_folder_only_the_first_writes(tmp_path):
    out = tmp_path / "res"
    check_dir(out, "--out", [], False)
    with staged_dir(out) as tmp:
        (tmp / "a.csv").write_text("first")
    with pytest.raises(OutputError, match="written by something else"):
        with staged_dir(out) as tmp:
            (tmp / "a.csv").write_text("second")
    assert (out / "a.csv").read_text() == "first"


def _small_files() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, 2000))


def test_a_write_the_disk_refuses_is_one_message_and_leaves_nothing(trainer, tmp_path):
    out = tmp_path / "res"
    r = subprocess.run([sys.executable, "-m", "ccplan", "simulate", str(trainer), "-r", "2", "--out", str(out)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=_small_files)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "cannot write" in r.stderr and "File too large" in r.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["trainer.toml"]


def test_a_formula_in_a_name_is_defused_in_every_csv(tmp_path):
    d = to_dict(load(presets()["trainer"]))
    d["agent_groups"][0]["name"] = '=HYPERLINK("http://x","y")'
    d["segments"][0]["name"] = "@SUM(A1)"
    d["agent_groups"][0]["skills"] = ["@SUM(A1)", d["segments"][1]["name"]]
    p = tmp_path / "evil.toml"
    dump(from_dict(d), p)
    r = ccplan("simulate", str(p), "-r", "2", "--out", str(tmp_path / "res"))
    assert r.returncode == 0, r.stderr
    texts = {f.name: f.read_text() for f in (tmp_path / "res").glob("*.csv")}
    assert any("HYPERLINK" in t for t in texts.values()) and any("SUM(A1)" in t for t in texts.values())
    for name, text in texts.items():
        for cell in (c.strip('"') for line in text.splitlines() for c in line.split(",")):
            assert not cell.startswith(("=", "@")), (name, cell)
    assert csv_text(pd.DataFrame({"n": [-5.0], "s": ["-5"]})).splitlines()[1] == "-5.0,'-5"


@pytest.mark.parametrize("verb", [["validate"], ["staff"], ["simulate", "-r", "2"]])
def test_a_device_or_fifo_is_refused_as_a_scenario_without_reading_it(tmp_path, verb):
    os.mkfifo(tmp_path / "pipe.toml")
    for path, words in (("/dev/zero", "is a device"), (str(tmp_path / "pipe.toml"), "FIFO")):
        r = ccplan(*verb[:1], path, *verb[1:], timeout=30)
        assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("args, words", [
    (["forecast", "/dev/zero"], "a history file must be a regular file"),
    (["import-volumes", str(presets()["trainer"]), "/dev/zero", "--out", "{tmp}/o.toml"],
     "a volumes file must be a regular file"),
])
def test_a_device_is_refused_as_a_history_or_volumes_file(tmp_path, args, words):
    r = ccplan(*[a.format(tmp=tmp_path) for a in args], timeout=30)
    assert r.returncode == 1 and words in r.stderr and "Traceback" not in r.stderr


def test_an_input_is_read_only_up_to_its_limit(tmp_path):
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 2000)
    assert read_input(big, 2000) == b"#" * 2000
    with pytest.raises(ScenarioError, match="at most 1 KB"):
        read_input(big, 1999)
    with pytest.raises(ScenarioError, match="no such file"):
        read_input(tmp_path / "nope.toml", 10)


def test_a_permission_message_names_a_folder_that_exists(tmp_path, monkeypatch):
    """(As root nothing is refused, so the permission answer is the one thing replaced here.)"""
    monkeypatch.setattr("ccplan.outputs.os.access", lambda path, mode: False)
    with pytest.raises(OutputError) as exc:
        check_dir(tmp_path / "res", "--out", [], False)
    assert str(exc.value) == f"--out {tmp_path / 'res'}: cannot create folders in {tmp_path} (no permission)"
    (tmp_path / "res").mkdir()
    with pytest.raises(OutputError) as exc:
        check_dir(tmp_path / "res", "--out", [], False)
    assert str(exc.value) == f"--out {tmp_path / 'res'}: no permission to write in {tmp_path / 'res'}"
    with pytest.raises(OutputError) as exc:
        check_file(tmp_path / "a" / "b.csv", "--out", [], False)
    assert str(exc.value) == f"--out {tmp_path / 'a' / 'b.csv'}: cannot create folders in {tmp_path} (no permission)"


def test_an_output_folder_under_a_file_names_the_file(trainer, tmp_path):
    (tmp_path / "file").write_text("x")
    r = ccplan("simulate", str(trainer), "-r", "2", "--out", str(tmp_path / "file" / "res"))
    assert r.returncode == 1 and f"{tmp_path / 'file'} is a file" in r.stderr
