"""The hostile corpus: every command ends within 60 s under a 3 GB address-space limit, with exit 0, 1 or 2, no
traceback and no 'internal error' (issue 15). Each case is a file or a command line a careless or hostile user
could give."""

import resource
import subprocess
import sys

import pytest

from ccplan.scenario import dump, from_dict, load, presets, to_dict
from tests.cli_runner import run_cli
from tests.conftest import ROOT

LIMIT_BYTES = 3 * 2**30


def _limited() -> None:
    """The corpus's address-space limit, for a test that starts its own process."""
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def run(*args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, timeout=60, cwd=ROOT, limit_as=LIMIT_BYTES)


def _trainer(**seg0) -> dict:
    d = to_dict(load(presets()["trainer"]))
    d["segments"][0].update(seg0)
    return d


RAW = {  # TOML edits as text: values validation must refuse with a message
    "aht_inf": ("aht_s = 300", "aht_s = inf"),
    "aht_tiny": ("aht_s = 300", "aht_s = 1e-300"),
    "aht_nan": ("aht_s = 300", "aht_s = nan"),
    "patience_huge": ("patience_s = 600", "patience_s = 1e308"),
    "calls_1e308": ("calls_per_interval = [108", "calls_per_interval = [1e308"),
    "calls_1e20": ("calls_per_interval = [108", "calls_per_interval = [1e20"),
    "agents_1e18": ("agents = 50", "agents = 1000000000000000000"),
    "cv_huge": ("aht_s = 300", 'aht_s = 300\nhandle_time = "gamma"\nhandle_time_cv = 1e300'),
    "cv_zero_gamma": ("aht_s = 300", 'aht_s = 300\nhandle_time = "gamma"\nhandle_time_cv = 0.0'),
    "cv_zero_lognormal_patience": ("patience_s = 600", 'patience_s = 600\npatience = "lognormal"\npatience_cv = 0'),
    "patience_cv_huge": ("patience_s = 600", 'patience_s = 600\npatience = "gamma"\npatience_cv = 1e6'),
    "threshold_huge": ("answer_within_s = 20", "answer_within_s = 1e308"),
    "seed_huge": ("[service_level]", "[simulation]\nseed = 99999999999999999999\n[service_level]"),
    "lines_huge": ("[service_level]", "[capacity]\nlines = 100000000000\n[service_level]"),
}

FIELD = {"aht_inf": "aht_s", "aht_tiny": "aht_s", "aht_nan": "aht_s", "patience_huge": "patience_s",
         "calls_1e308": "calls_per_interval", "calls_1e20": "calls_per_interval", "agents_1e18": "agents",
         "cv_huge": "handle_time_cv", "cv_zero_gamma": "handle_time_cv", "cv_zero_lognormal_patience": "patience_cv",
         "patience_cv_huge": "patience_cv", "threshold_huge": "answer_within_s", "seed_huge": "seed",
         "lines_huge": "lines"}  # the field each refusal must name


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    text = presets()["trainer"].read_text()
    out = {}
    for name, (old, new) in RAW.items():
        assert old in text, name
        p = d / f"{name}.toml"
        p.write_text(text.replace(old, new, 1))
        out[name] = p
    ok = {"tiny_cv": _trainer(handle_time="lognormal", handle_time_cv=1e-9),
          "max_cv": _trainer(handle_time="gamma", handle_time_cv=10.0),
          "max_patience": _trainer(patience_s=1e6),
          "min_aht": _trainer(aht_s=1.0),
          "day_long_aht": _trainer(aht_s=86_400.0),
          "storm": _trainer(patience_s=0.001, retrial_probability=1.0, retrial_delay_s=1.0),
          "gamma_cv_1e-300": _trainer(handle_time="gamma", handle_time_cv=1e-300),
          "gamma_cv_1e-12": _trainer(handle_time="gamma", handle_time_cv=1e-12),
          "patience_gamma_cv_1e-300": _trainer(patience="gamma", patience_cv=1e-300),
          "patience_lognormal_cv_1e-12": _trainer(patience="lognormal", patience_cv=1e-12),
          "patience_gamma_max_cv": _trainer(patience="gamma", patience_cv=10.0),
          "zero_agents": {**to_dict(load(presets()["trainer"])),
                          "agent_groups": [{"name": "team", "skills": ["gold", "silver"], "agents": 0}]}}
    for name, data in ok.items():
        p = d / f"{name}.toml"
        dump(from_dict(data), p)
        out[name] = p
    (d / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000)
    out["deep"] = d / "deep.toml"
    (d / "ragged.csv").write_text("time,gold,silver\n09:00,1\n09:30,1,2,3\n")
    out["ragged"] = d / "ragged.csv"
    (d / "binary.toml").write_bytes(b"\x00\x01\xff" * 100)
    out["binary"] = d / "binary.toml"
    return out


@pytest.mark.parametrize("name", sorted(RAW))
@pytest.mark.parametrize("verb", ["validate", "staff", "simulate"])
def test_a_value_no_engine_can_run_is_refused_by_name(files, name, verb):
    r = run(verb, str(files[name]), *(["-r", "2"] if verb == "simulate" else []))
    assert r.returncode == 1, (name, verb, r.returncode, r.stderr[-300:])
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert "error:" in r.stderr and FIELD[name] in r.stderr, r.stderr[-300:]


@pytest.mark.parametrize("name", ["tiny_cv", "max_cv", "max_patience", "min_aht", "day_long_aht", "storm",
                                  "zero_agents", "gamma_cv_1e-300", "gamma_cv_1e-12", "patience_gamma_cv_1e-300",
                                  "patience_lognormal_cv_1e-12", "patience_gamma_max_cv"])
@pytest.mark.parametrize("verb", [["staff"], ["simulate", "-r", "2"], ["staff", "--verify", "-r", "2",
                                                                       "--max-iterations", "2",
                                                                       "--confirm-replications", "4"]])
def test_an_extreme_but_valid_scenario_runs_or_says_why_not(files, name, verb):
    r = run(verb[0], str(files[name]), *verb[1:])
    assert r.returncode in (0, 1), (name, verb, r.returncode, r.stderr[-300:])
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


@pytest.mark.parametrize("args", [
    ["validate", "{deep}"], ["validate", "{binary}"], ["validate", "no/such/file.toml"],
    ["import-volumes", "{trainer}", "{ragged}", "--out", "{tmp}/o.toml"],
    ["compare", "{trainer}", "--vary", "segments=1,2"],
    ["compare", "{trainer}", "--vary", "agent_groups.team.agents=1:1e12"],
    ["compare", "{trainer}", "--vary", "agent_groups.team.agents=1:100", "--vary", "routing.aging_s=1:100"],
    ["compare", "{trainer}", "{telecom}", "-r", "2"],
    ["sweep", "{trainer}", "--vary", "agent_groups.team.agents=-5:5"],
    ["erlang", "--calls", "1e15", "--aht-s", "180", "--patience-s", "60"],
    ["erlang", "--calls", "0", "--aht-s", "180"],
    ["erlang", "--calls", "100", "--aht-s", "0"],
    ["simulate", "{trainer}", "-r", "0"],
    ["staff", "{trainer}", "--verify", "-r", "1"],
    ["staff", "{trainer}", "--out", "{trainer}"],
])
def test_careless_command_lines_end_cleanly(files, tmp_path, args):
    subst = {"deep": files["deep"], "binary": files["binary"], "ragged": files["ragged"], "tmp": tmp_path,
             "trainer": presets()["trainer"], "telecom": presets()["telecom"]}
    r = run(*[a.format(**subst) for a in args])
    assert r.returncode in (0, 1, 2), (args, r.returncode, r.stderr[-300:])
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr[-300:]
