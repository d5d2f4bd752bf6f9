"""The notebook API (``import ccplan as cc``): docs/notebook.md runs as written, and its numbers are the CLI's."""

import json
import re

import pytest

import ccplan as cc
from tests.conftest import ROOT, ccplan

DOC = ROOT / "docs" / "notebook.md"


def test_the_notebook_page_runs_as_written(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 5
    ns: dict = {}
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), ns)  # noqa: S102 - the page's own examples
    out = capsys.readouterr().out
    assert "gold" in out and "silver" in out
    assert ns["v"].agent_hours_verified > 0 and ns["ro"].ok
    assert 0 <= ns["b"].summary()["forecast"]["intervals_meeting_target"] <= 1


def test_simulate_gives_the_numbers_of_the_cli():
    s = cc.load(ROOT / "scenarios" / "trainer.toml")
    api = cc.simulate(s, replications=6, seed=5).segments.set_index("segment")
    cli = json.loads(ccplan("simulate", "scenarios/trainer.toml", "-r", "6", "--seed", "5", "--json").stdout)
    for seg, row in cli["segments"].items():
        assert api.loc[seg, "service_level"] == pytest.approx(row["service_level"], abs=1e-12)
        assert api.loc[seg, "asa_s"] == pytest.approx(row["asa_s"], abs=1e-9)
        assert [api.loc[seg, "service_level_ci_low"], api.loc[seg, "service_level_ci_high"]] == pytest.approx(
            row["service_level_ci"], abs=1e-12)


def test_plan_gives_the_staffing_of_the_cli():
    s = cc.load(ROOT / "scenarios" / "retail_bank.toml")
    cli = json.loads(ccplan("staff", "scenarios/retail_bank.toml", "--json").stdout)
    p = cc.plan(s)
    for row in cli["intervals"]:
        assert p.scheduled[s.group_names.index(row["group"]), row["interval"]] == row["scheduled_agents"]
    hours = {g["group"]: g["agent_hours"] for g in cli["groups"]}
    for gi, g in enumerate(s.group_names):
        assert p.scheduled[gi].sum() * s.interval_minutes / 60 == pytest.approx(hours[g])


def test_the_surface_is_listed_and_a_wrong_name_is_an_attribute_error():
    assert set(cc.__all__) <= set(dir(cc))
    for name in cc.__all__:
        assert callable(getattr(cc, name)), name
    with pytest.raises(AttributeError):
        cc.no_such_function  # noqa: B018
    from ccplan import api

    assert cc.verify is api.verify and cc.compare is api.compare and cc.backtest is api.backtest
