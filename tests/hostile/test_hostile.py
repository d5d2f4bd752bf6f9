"""Hostile and extreme input: no internal error, no hang, no terminal tricks (issue 15, first cases)."""

import pytest

from ccplan.scenario import ScenarioError, dump, load, loads, presets, to_dict
from tests.conftest import ccplan

EVIL = "\x1b[2J[/]evil[/bold]"


@pytest.fixture(scope="module")
def evil_scenario(tmp_path_factory):
    d = to_dict(load(presets()["trainer"]))
    d["name"] = EVIL + " day"
    d["description"] = "[/bold] \x1b[31mred"
    d["segments"][0]["name"] = "[/bold]gold\x07"
    d["agent_groups"][0]["skills"] = ["[/bold]gold\x07", "silver"]
    from ccplan.scenario import from_dict

    p = tmp_path_factory.mktemp("evil") / "evil.toml"
    dump(from_dict(d), p)
    return str(p)


@pytest.mark.parametrize("verb", [["validate"], ["staff"], ["simulate", "-r", "2"], ["roster"],
                                  ["compare", "--vary", "routing.policy=fifo,priority", "-r", "2"]])
def test_names_with_rich_markup_and_escape_codes_print_as_plain_text(evil_scenario, verb):
    r = ccplan(verb[0], evil_scenario, *verb[1:])
    assert r.returncode == 0, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout  # nothing reaches the terminal as a control code
    assert "[/]evil[/bold]" in r.stdout or "[/bold]gold" in r.stdout  # the text itself is shown


@pytest.mark.parametrize("text,words", [
    ("a = " + "[" * 500 + "]" * 500, "nested 500 levels deep"),
    ("x." * 50 + "y = 1", "nested 51 levels deep"),
    ('name = "x"\n' + "# padding\n" * 120_000, "a scenario file is at most 1,000 KB"),
    ("".join(f"k{i} = 1\n" for i in range(20_001)), "more than 20,000 keys"),
])
def test_pathological_toml_is_refused_before_parsing(text, words):
    with pytest.raises(ScenarioError, match=words):
        loads(text, "hostile.toml")


def test_deeply_nested_toml_from_the_cli_is_one_message(tmp_path):
    p = tmp_path / "deep.toml"
    p.write_text("a = " + "[" * 5000 + "]" * 5000)
    r = ccplan("validate", str(p))
    assert r.returncode == 1 and "nested" in r.stderr and "Traceback" not in r.stderr


def test_an_astronomical_erlang_question_ends_with_an_answer():
    r = ccplan("erlang", "--calls", "1e15", "--aht-s", "180", "--patience-s", "60", "--json", timeout=60)
    assert r.returncode == 0, r.stderr
    assert '"agents"' in r.stdout


def test_a_retrial_storm_is_bounded_per_caller():
    from ccplan.scenario import from_dict
    from sim.model import CallCenterModel

    sc = from_dict({"name": "storm", "interval_minutes": 60,
                    "segments": [{"name": "a", "calls_per_interval": [200.0] * 4, "aht_s": 300, "patience_s": 0.001,
                                  "retrial_probability": 1.0, "retrial_delay_s": 1, "retrial_delay": "fixed"}],
                    "agent_groups": [{"name": "g", "skills": ["a"], "agents": 0}]})
    log = CallCenterModel(sc, 0).run().log_arrays()
    import numpy as np

    attempts = np.bincount(log["caller"])
    assert attempts.max() == 11  # the first call and at most 10 retries
    assert len(log["caller"]) <= 11 * log["caller"].max() + 11


def test_a_retrial_delay_under_a_second_is_refused_as_a_policy():
    from ccplan.scenario import from_dict

    with pytest.raises(ScenarioError) as exc:
        from_dict({"name": "x", "segments": [{"name": "a", "calls_per_interval": [1.0], "aht_s": 60,
                                              "retrial_probability": 1, "retrial_delay_s": 0.001}],
                   "agent_groups": [{"name": "g", "skills": ["a"], "agents": 1}]})
    assert any(p == "segments[0].retrial_delay_s" and ">= 1" in r for p, r in exc.value.problems)
