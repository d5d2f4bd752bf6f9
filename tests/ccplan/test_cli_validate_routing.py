"""`ccplan validate` shows every routing, queue-cap, callback and closing key it read (issue 29)."""

from tests.conftest import ccplan

SCENARIO = '''name = "keys"
interval_minutes = 60
[[segments]]
name = "a"
calls_per_interval = [30, 30]
aht_s = 300
patience = "empirical"
patience_file = "PATIENCE"
groups = ["g2", "g1"]
agent_choice = "random"
max_queue_s = 240
max_queue_outcome = "overflow:b"
busyness_cv = 0.1
[[segments]]
name = "b"
calls_per_interval = [10, 10]
aht_s = 200
patience_s = 100
[segments.callback]
offer_after_s = 60
mode = "waited"
accept_probability = 0.5
window_s = 1800
[[agent_groups]]
name = "g1"
skills = ["a", "b"]
agents = 4
serves = ["b", "a"]
handle_time_factor = { a = 2.0 }
[[agent_groups]]
name = "g2"
skills = ["a"]
agents = 4
[capacity]
lines = 25
[service_level]
wait_counted = "caller"
[simulation]
at_close = "disconnect"
busyness_cv = 0.2
'''


def test_validate_shows_routing_caps_callbacks_closing_and_the_load_with_handle_time_factors(tmp_path):
    p = tmp_path / "patience.csv"
    p.write_text("s\n" + "60\n120\n180\n" * 4)
    f = tmp_path / "s.toml"
    f.write_text(SCENARIO.replace("PATIENCE", str(p)))
    r = ccplan("validate", str(f))
    assert r.returncode == 0, r.stderr
    out = r.stdout  # wrapped cells: each needle fits on one line
    for needle in ("groups g2 > g1", "agent choice random", "cap 240 s -> overflow:b", "callback after 60 s",
                   "serves b > a first", "handle time x 2 on a", "lines 25", "at close disconnect",
                   "busyness cv 0.2", "busyness cv 0.1", "waits counted per caller", "empirical (mean 120)", "options", "patience s"):
        assert needle in out, needle
    # offered load: a 30 calls x 300 s / 3600 s x (2 x 4 + 1 x 4) / 8 agents = 3.75 Erlangs, b 10 x 200 / 3600 = 0.56
    assert "08:00    4.3" in out
