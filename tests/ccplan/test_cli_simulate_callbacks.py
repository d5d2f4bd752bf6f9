"""`ccplan simulate` on a scenario with callbacks and queue caps (issue 29): the table and the JSON columns."""

import json

import tomli_w

from ccplan.scenario import load, presets, to_dict
from tests.conftest import ccplan

CB_KEYS = {"callbacks_offered", "callbacks_accepted", "callbacks_made", "callbacks_within_window", "callbacks_late",
           "callbacks_expired", "callbacks_pending", "callback_service_level", "callback_resolution_s",
           "capped_abandon", "capped_overflow", "capped_callback"}


def test_simulate_prints_the_callback_table_on_the_callbacks_preset():
    r = ccplan("simulate", str(presets()["callbacks"]), "-r", "2", "--seed", "5")
    assert r.returncode == 0, r.stderr
    assert "Callbacks and queue caps" in r.stdout
    assert "accepted" in r.stdout and "within" in r.stdout and "capped" in r.stdout


def test_simulate_has_no_callback_table_without_callbacks():
    r = ccplan("simulate", str(presets()["trainer"]), "-r", "2")
    assert r.returncode == 0, r.stderr
    assert "Callbacks and queue caps" not in r.stdout


def test_simulate_json_carries_the_callback_and_cap_columns(tmp_path):
    data = to_dict(load(presets()["callbacks"]))
    basic = next(s for s in data["segments"] if s["name"] == "basic")
    standard = next(s for s in data["segments"] if s["name"] == "standard")
    basic["max_queue_s"], basic["max_queue_outcome"] = 120.0, "callback"
    standard["max_queue_s"], standard["max_queue_outcome"] = 20.0, "abandon"
    path = tmp_path / "capped.toml"
    path.write_text(tomli_w.dumps(data))
    r = ccplan("simulate", str(path), "-r", "2", "--seed", "5", "--json")
    assert r.returncode == 0, r.stderr
    segs = json.loads(r.stdout)["segments"]
    for seg in segs.values():
        assert CB_KEYS <= set(seg)
    b = segs["basic"]
    assert b["callbacks_accepted"] > 0 and b["callbacks_offered"] >= b["callbacks_accepted"]
    assert b["callbacks_made"] == b["callbacks_within_window"] + b["callbacks_late"]
    assert abs(b["callbacks_accepted"] - b["callbacks_made"] - b["callbacks_expired"] - b["callbacks_pending"]) < 1e-9
    assert 0 <= b["callback_service_level"] <= 1 and b["callback_resolution_s"] > 0
    assert segs["premium"]["callbacks_offered"] == 0 and segs["premium"]["callback_service_level"] is None
    assert segs["standard"]["capped_abandon"] > 0  # a 20 s cap on standard's queue is reached on a busy day
    text = ccplan("simulate", str(path), "-r", "2", "--seed", "5").stdout
    assert "120 s" in text and "Callbacks and queue caps" in text  # the cap column (rich may wrap its text)
