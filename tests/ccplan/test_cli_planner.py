"""`ccplan erlang` and `ccplan staff` as a user runs them."""

import json

import pandas as pd
import pytest

from ccplan.scenario import presets
from tests.conftest import ccplan

ERLANG_KEYS = {"agents", "scheduled_agents", "traffic_erlangs", "service_level", "asa_s", "p_wait", "occupancy"}


def test_erlang_sizes_the_textbook_case():
    r = ccplan("erlang", "--calls", "100", "--interval-minutes", "30", "--aht-s", "180", "--answer-within-s", "20",
               "--sl-target", "0.8", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == ERLANG_KEYS | {"service_level_definition"}
    assert out["service_level_definition"] == "offered"
    assert out["agents"] == 14 and out["traffic_erlangs"] == pytest.approx(10.0)
    assert out["service_level"] == pytest.approx(0.888, abs=5e-4)


def test_erlang_with_patience_adds_abandonment_and_shrinkage():
    r = ccplan("erlang", "--calls", "100", "--aht-s", "180", "--patience-s", "120", "--shrinkage", "0.3", "--json")
    out = json.loads(r.stdout)
    assert set(out) == ERLANG_KEYS | {"abandon_rate", "service_level_definition"}
    assert out["scheduled_agents"] >= out["agents"] / 0.7 - 1e-9
    assert 0 < out["abandon_rate"] < 0.2


def test_erlang_evaluates_given_agents_even_when_unstable():
    out = json.loads(ccplan("erlang", "--calls", "100", "--aht-s", "180", "--agents", "8", "--json").stdout)
    assert out["agents"] == 8 and out["service_level"] == 0.0 and out["asa_s"] is None and out["p_wait"] == 1.0


def test_erlang_table_output_is_readable():
    r = ccplan("erlang", "--calls", "100", "--aht-s", "180")
    assert r.returncode == 0 and "service level" in r.stdout and "14" in r.stdout


@pytest.mark.parametrize(
    "args",
    [["--calls", "-5", "--aht-s", "180"], ["--calls", "10", "--aht-s", "0"], ["--calls", "abc", "--aht-s", "180"],
     ["--calls", "10", "--aht-s", "180", "--sl-target", "1.5"], ["--aht-s", "180"]],
)
def test_erlang_bad_arguments_give_a_usage_message(args):
    r = ccplan("erlang", *args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and ("Invalid value" in r.stderr or "Missing option" in r.stderr)


@pytest.mark.parametrize("name", sorted(presets()))
def test_staff_runs_on_every_preset(name, tmp_path):
    out = tmp_path / "plan.csv"
    r = ccplan("staff", str(presets()[name]), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "Daily summary" in r.stdout and "Predicted service per segment" in r.stdout
    df = pd.read_csv(out)
    assert {"interval", "group", "required_agents", "scheduled_agents", "cost"} <= set(df.columns)


def test_staff_json_is_one_object():
    r = ccplan("staff", str(presets()["trainer"]), "--json")
    out = json.loads(r.stdout)
    assert set(out) >= {"intervals", "groups", "segments"}
    assert len(out["intervals"]) == 8


def test_staff_says_when_the_plan_is_below_the_load_and_when_it_hangs_on_the_current_schedule():
    r = ccplan("staff", str(presets()["telecom"]))
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "Below the offered load" in text and "prepaid 17.2%" in text
    out = json.loads(ccplan("staff", str(presets()["telecom"]), "--json").stdout)
    assert "Below the offered load" in out["below_load"]
    assert "below_load" not in json.loads(ccplan("staff", str(presets()["trainer"]), "--json").stdout)
    from pathlib import Path

    multi = Path(__file__).resolve().parents[2] / "examples" / "multigroup_overflow.toml"
    assert "current staffing" in " ".join(ccplan("staff", str(multi)).stdout.split())


def test_staff_on_a_bad_file_is_a_clear_error(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text('name = "x"\n')
    r = ccplan("staff", str(f))
    assert r.returncode == 1 and "segments" in r.stderr and "Traceback" not in r.stderr


def test_erlang_with_no_calls_reports_nothing_to_staff_and_no_made_up_measures():
    r = ccplan("erlang", "--calls", "0", "--aht-s", "180", "--patience-s", "60", "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["agents"] == 0
    assert out["service_level"] is None and out["occupancy"] is None and out["p_wait"] is None
    assert "nothing to staff" in out["note"]
