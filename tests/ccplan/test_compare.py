"""Comparisons with common random numbers; variants inline; sweeps; charts."""

import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from ccplan import charts
from ccplan.comparison import compare, frontier, paired_difference, parse_vary, variants_of
from ccplan.scenario import ScenarioError, load, presets
from sim.runner import InlineExecutor
from tests.conftest import ccplan


def test_parse_vary_lists_and_ranges():
    assert parse_vary("routing.policy=fifo,priority") == ("routing.policy", ["fifo", "priority"])
    assert parse_vary("agent_groups.g.agents=30:34") == ("agent_groups.g.agents", [30, 31, 32, 33, 34])
    assert parse_vary("agent_groups.g.agents=30:50:10") == ("agent_groups.g.agents", [30, 40, 50])
    assert parse_vary("costs.telephony_per_minute=0.01,0.02")[1] == [0.01, 0.02]
    for bad in ("routing.policy", "x=", "a.b=5:1", "a.b=x:y"):
        with pytest.raises(ScenarioError):
            parse_vary(bad)


def test_variants_apply_and_validate_changes():
    base = load(presets()["trainer"])
    vs = variants_of(base, ["routing.policy=fifo,aging", "agent_groups.team.agents=48,52"])
    assert len(vs) == 4
    assert vs[3][1].routing.policy == "aging" and vs[3][1].group("team").agents == 52
    with pytest.raises(ScenarioError):
        variants_of(base, ["agent_groups.nobody.agents=3"])
    with pytest.raises(ScenarioError):
        variants_of(base, ["routing.policy=random"])


def test_paired_difference_of_identical_noise_is_tighter():
    rng = np.random.default_rng(0)
    common = rng.normal(0, 10, 30)
    a, b = common, common + 1 + rng.normal(0, 0.5, 30)
    d, lo, hi, ulo, uhi = paired_difference(a, b)
    assert lo < d < hi and (hi - lo) < (uhi - ulo) / 5


@pytest.fixture(scope="module")
def trainer_fifo_vs_priority():
    base = load(presets()["trainer"])
    return compare(variants_of(base, ["routing.policy=fifo,priority"]), replications=12, seed=2026,
                   executor=InlineExecutor())


def test_common_random_numbers_make_the_paired_interval_narrower(trainer_fifo_vs_priority):
    diffs = trainer_fifo_vs_priority.differences
    for metric in ("asa_s", "service_level", "profit"):
        for seg in ("gold", "silver"):
            r = diffs[(diffs["segment"] == seg) & (diffs["metric"] == metric)].iloc[0]
            assert (r["ci_high"] - r["ci_low"]) < (r["unpaired_ci_high"] - r["unpaired_ci_low"])


def test_priority_moves_waiting_from_gold_to_silver(trainer_fifo_vs_priority):
    diffs = trainer_fifo_vs_priority.differences
    gold = diffs[(diffs["segment"] == "gold") & (diffs["metric"] == "asa_s")].iloc[0]
    silver = diffs[(diffs["segment"] == "silver") & (diffs["metric"] == "asa_s")].iloc[0]
    assert gold["ci_high"] < 0 < silver["ci_low"]


def test_compare_cli_json_contract_on_the_trainer():
    r = ccplan("compare", str(presets()["trainer"]), "--vary", "routing.policy=fifo,priority", "-r", "10", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [v["name"] for v in out["variants"]] == ["routing.policy=fifo", "routing.policy=priority"]
    keys = {"offered", "answered", "abandoned", "service_level", "service_level_ci", "asa_s", "asa_s_ci",
            "abandon_rate", "abandon_rate_ci", "wait_p90_s", "agent_cost", "agent_cost_ci", "telephony_cost",
            "margin", "lost_value", "profit", "profit_ci", "cost_per_answered"}
    for v in out["variants"]:
        assert set(v["segments"]) == {"gold", "silver"}
        for seg in v["segments"].values():
            assert keys <= set(seg)
        assert keys <= set(v["total"])
    [d] = out["differences"]
    assert d["variant"] == "routing.policy=priority"
    gold, silver = d["segments"]["gold"]["asa_s"], d["segments"]["silver"]["asa_s"]
    assert gold["diff"] < 0 and gold["ci"][1] < 0  # gold waits less, CI excludes zero
    assert silver["diff"] > 0 and silver["ci"][0] > 0  # silver waits more, CI excludes zero


def test_compare_cli_table_and_files(tmp_path):
    r = ccplan("compare", str(presets()["trainer"]), str(presets()["trainer"]), "-r", "3", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "Service level" in r.stdout and "paired CI" in r.stdout
    assert (tmp_path / "compare_profit.png").stat().st_size > 10_000
    assert (tmp_path / "differences.csv").exists()


def test_compare_needs_two_variants():
    r = ccplan("compare", str(presets()["trainer"]))
    assert r.returncode == 1 and "at least two" in r.stderr


def test_compare_bad_vary_is_a_clear_error():
    r = ccplan("compare", str(presets()["trainer"]), "--vary", "agent_groups.nobody.agents=1,2")
    assert r.returncode == 1 and "nobody" in r.stderr and "Traceback" not in r.stderr


def test_sweep_cli_writes_frontier_and_marks_the_best(tmp_path):
    r = ccplan("sweep", str(presets()["trainer"]), "--vary", "agent_groups.team.agents=46:54:4", "-r", "3",
               "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "★" in r.stdout
    import pandas as pd

    fr = pd.read_csv(tmp_path / "frontier.csv")
    assert set(fr["value"]) == {46, 50, 54}
    assert fr.groupby("variant")["best"].any().sum() == 1
    assert (tmp_path / "frontier.png").stat().st_size > 10_000


def test_frontier_cost_rises_with_agents():
    base = load(presets()["trainer"])
    cmp = compare(variants_of(base, ["agent_groups.team.agents=46,54"]), replications=3, seed=1,
                  executor=InlineExecutor())
    fr = frontier(cmp, "agent_groups.team.agents")
    tot = fr[fr["segment"] == "total"].set_index("value")
    assert tot.loc[54, "agent_cost"] > tot.loc[46, "agent_cost"]
    assert tot.loc[54, "service_level"] > tot.loc[46, "service_level"]


def test_charts_have_titles_units_and_legends(trainer_fifo_vs_priority):
    cmp = trainer_fifo_vs_priority
    figs = [charts.comparison_figure(cmp.table, "asa_s", "USD"),
            charts.day_figure(cmp.variants[0][1].summary["intervals"], cmp.variants[0][1].summary["group_intervals"])]
    for fig in figs:
        assert isinstance(fig, Figure)
        ax = fig.axes[-1]
        assert ax.get_xlabel() and ax.get_ylabel() and fig.axes[0].get_title()
        assert ax.get_legend() is not None


def test_unrelated_scenarios_are_not_said_to_see_the_same_callers():
    from ccplan.comparison import compare, different_callers
    from ccplan.scenario import load, presets

    trainer, telecom = load(presets()["trainer"]), load(presets()["telecom"])
    assert different_callers(trainer, telecom) == telecom.segment_names
    assert different_callers(trainer, trainer.with_changes({"routing.policy": "fifo"})) == []
    more = trainer.with_changes({"segments.gold.calls_per_interval": [c + 1 for c in trainer.calls_per_interval("gold")]})
    assert different_callers(trainer, more) == ["gold"]
    cmp = compare([("a", trainer), ("b", more)], replications=2)
    assert "gold" in cmp.callers_note() and "same callers" not in cmp.callers_note().split(";")[0]
    same = cmp.differences.set_index(["segment", "metric"])["same_callers"]
    assert not same[("gold", "service_level")] and same[("silver", "service_level")]
    assert cmp.to_json()["differences"][0]["segments"]["silver"]["service_level"]["same_callers"] is True
    cmp2 = compare([("a", trainer), ("b", trainer.with_changes({"routing.policy": "fifo"}))], replications=2)
    assert cmp2.callers_note() == "common random numbers: every variant sees the same callers"


def test_a_variant_identical_to_the_baseline_differs_by_zero_with_a_zero_width_interval():
    base = load(presets()["trainer"])
    cmp = compare([("a", base), ("b", base)], replications=3, seed=4, executor=InlineExecutor())
    d = cmp.differences
    for m in ("service_level", "asa_s", "abandon_rate", "agent_cost", "profit"):
        rows = d[d["metric"] == m]
        assert (rows["diff"] == 0).all() and (rows["ci_low"] == 0).all() and (rows["ci_high"] == 0).all(), m


def test_a_service_level_difference_is_the_difference_of_the_long_run_ratios(trainer_fifo_vs_priority):
    """Differences of rates are R_b - R_a of the ratios of sums over replications (the values the table shows),
    with the paired delta-method interval (sim.metrics.ratio_difference)."""
    from sim.metrics import RATIOS, ratio_difference

    cmp = trainer_fifo_vs_priority
    (_, _, eco_a), (name_b, _, eco_b) = cmp.variants
    for metric, (num, den) in RATIOS.items():
        for seg in ("gold", "silver", "total"):
            a = eco_a.per_replication[eco_a.per_replication["segment"] == seg]
            b = eco_b.per_replication[eco_b.per_replication["segment"] == seg]
            r_a, r_b = a[num].sum() / a[den].sum(), b[num].sum() / b[den].sum()
            row = cmp.differences[(cmp.differences["segment"] == seg) & (cmp.differences["metric"] == metric)].iloc[0]
            assert row["diff"] == pytest.approx(r_b - r_a, rel=0, abs=1e-12)  # ASA's seconds: to rounding
            if metric != "asa_s":  # whole numbers of calls: exactly
                assert row["diff"] == r_b - r_a
            shown = cmp.table.set_index(["variant", "segment"])[metric]
            assert row["diff"] == shown[(name_b, seg)] - shown[(cmp.variants[0][0], seg)]  # the same estimator
            expected = ratio_difference(a[num].to_numpy(), a[den].to_numpy(), b[num].to_numpy(), b[den].to_numpy())
            assert (row["ci_low"], row["ci_high"]) == expected[1:3]


def test_each_variant_reports_the_days_meeting_the_target(trainer_fifo_vs_priority):
    cmp = trainer_fifo_vs_priority
    out = cmp.to_json()
    for v, (_, res, _) in zip(out["variants"], cmp.variants):
        per_rep = res.per_replication["segments"]
        for seg, s in v["segments"].items():
            sl = per_rep[per_rep["segment"] == seg]["service_level"]
            assert s["days_meeting"] == float((sl >= 0.80).mean())
            assert s["days_meeting_ci"][0] <= s["days_meeting"] <= s["days_meeting_ci"][1]
            assert s["daily_sl_p10"] == pytest.approx(float(np.percentile(sl, 10)), abs=1e-12)
        assert "days_meeting" not in v["total"]
