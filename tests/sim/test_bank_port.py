"""ContactCenters' Bank example (examples/bank_contactcenters.toml) against its published group occupancy."""

from pathlib import Path

from ccplan.scenario import load
from sim.runner import simulate

ROOT = Path(__file__).resolve().parents[2]
# Bank.res (umontreal-simul/contactcenters, doc/examples): agents' occupancy ratio over 1,000 weeks, percent
PUBLISHED = {"savings_specialists": 25.353, "checking_specialists": 43.093}


def bank_occupancy(replications: int, seed: int) -> dict[str, float]:
    """Our occupancy of each group, percent: busy time over the agents' 9 scheduled hours (a ratio, so one
    day compares with the Java model's weeks)."""
    s = load(ROOT / "examples" / "bank_contactcenters.toml")
    grp = simulate(s, replications=replications, seed=seed).per_replication["groups"]
    return {g.name: 100 * grp.loc[grp["group"] == g.name, "busy_s"].mean() / (g.agents * 9 * 3600)
            for g in s.agent_groups}


def test_bank_example_matches_the_published_group_occupancy_within_one_and_a_half_points():
    ours = bank_occupancy(200, 2026)
    for name, pub in PUBLISHED.items():
        assert abs(ours[name] - pub) < 1.5, (name, ours[name], pub)
