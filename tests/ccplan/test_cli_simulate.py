"""`ccplan simulate` as a user runs it."""

import json

import pandas as pd
import pytest

from ccplan.scenario import presets
from tests.conftest import ccplan


@pytest.mark.parametrize("name", sorted(presets()))
def test_simulate_runs_every_preset(name):
    r = ccplan("simulate", str(presets()[name]), "--replications", "2")
    assert r.returncode == 0, r.stderr
    assert "Per segment" in r.stdout and "Per agent group" in r.stdout


def test_simulate_json_shape():
    r = ccplan("simulate", str(presets()["trainer"]), "-r", "3", "--seed", "7", "--json")
    out = json.loads(r.stdout)
    assert set(out) == {"segments", "groups"}
    assert set(out["segments"]) == {"gold", "silver"}
    for seg in out["segments"].values():
        assert set(seg) == {"offered", "answered", "abandoned", "service_level", "service_level_ci", "asa_s",
                            "abandon_rate", "wait_p90_s", "blocked", "disconnected", "retries",
                            "service_level_definition", "asa_s_ci", "abandon_rate_ci", "service_level_daily_mean",
                            "days_meeting", "days_meeting_ci", "daily_sl_p10"}
        assert seg["days_meeting_ci"][0] <= seg["days_meeting"] <= seg["days_meeting_ci"][1]
        assert 0 <= seg["daily_sl_p10"] <= 1
        assert seg["service_level_definition"] == "offered"
        assert seg["blocked"] == 0 and seg["disconnected"] == 0  # no lines, calls served at closing
        low, high = seg["service_level_ci"]
        assert low <= seg["service_level"] <= high
        assert seg["offered"] >= seg["answered"] + seg["abandoned"] - 1e-9
    assert 0 < out["groups"]["team"]["occupancy"] <= 1


def test_simulate_same_seed_same_json():
    a = ccplan("simulate", str(presets()["trainer"]), "-r", "2", "--seed", "3", "--json").stdout
    b = ccplan("simulate", str(presets()["trainer"]), "-r", "2", "--seed", "3", "--json").stdout
    assert a == b


def test_simulate_out_writes_call_log_and_metrics(tmp_path):
    r = ccplan("simulate", str(presets()["trainer"]), "-r", "2", "--out", str(tmp_path / "res"))
    assert r.returncode == 0, r.stderr
    log = pd.read_parquet(tmp_path / "res" / "call_log.parquet")
    assert {"segment", "arrival_s", "answer_s", "end_s", "wait_s", "abandoned", "retry", "group", "agent",
            "escalated", "replication"} <= set(log.columns)
    assert set(log["replication"]) == {0, 1}
    seg = pd.read_csv(tmp_path / "res" / "segments.csv")
    assert {"service_level", "service_level_ci_low", "service_level_ci_high"} <= set(seg.columns)


@pytest.mark.parametrize("args", [["-r", "0"], ["--seed", "-1"], ["-r", "many"]])
def test_simulate_bad_arguments(args):
    r = ccplan("simulate", str(presets()["trainer"]), *args)
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_simulate_bad_file(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('name = "x"\n[[segments]]\nname = "a"\naht_s = -1\n')
    r = ccplan("simulate", str(f))
    assert r.returncode == 1 and "segments[0].aht_s" in r.stderr and "Traceback" not in r.stderr


def test_simulate_reports_each_segments_service_level_definition(tmp_path):
    text = presets()["trainer"].read_text()
    path = tmp_path / "defs.toml"
    path.write_text(text.replace("[service_level]", "[service_level]\ndefinition = \"answered\"", 1)
                    if "[service_level]" in text else text + "\n[service_level]\ndefinition = \"answered\"\n")
    r = ccplan("simulate", str(path), "-r", "2", "--json")
    assert r.returncode == 0, r.stderr
    assert {s["service_level_definition"] for s in json.loads(r.stdout)["segments"].values()} == {"answered"}
    shown = " ".join(ccplan("simulate", str(path), "-r", "2").stdout.split())
    assert "answered in 20 s /" in shown and "/ offered" not in shown
