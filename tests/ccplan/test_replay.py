"""The trainer's replay data: read off the call log, nothing invented."""

import numpy as np

from ccplan.comparison import compare
from ccplan.replay import replay_data, replay_html
from ccplan.scenario import from_dict, load, presets, to_dict
from sim.runner import InlineExecutor


def _logs():
    data = to_dict(load(presets()["trainer"]))
    data["segments"][0]["name"] = "gold</script><b>"  # a name that must not end the page's script
    data["agent_groups"][0]["skills"] = ["gold</script><b>", "silver"]
    sc = from_dict(data)
    cmp = compare([(p, sc.with_changes({"routing.policy": p})) for p in ("fifo", "priority")], replications=2,
                  seed=3, executor=InlineExecutor(), keep_log=True)
    return sc, {name: res.call_log for name, res, _ in cmp.variants}


def test_replay_keeps_exactly_the_calls_present_in_the_hour_and_each_agent_serves_one_at_a_time():
    sc, logs = _logs()
    log = logs["priority"]
    rep0 = log[log["replication"] == 0]
    d = replay_data(log, 3600, 7200)
    gone = np.where(rep0["abandoned"], rep0["abandon_s"], np.where(rep0["answered"], rep0["end_s"], np.inf))
    assert len(d["calls"]) == int(((rep0["arrival_s"] < 7200) & (gone >= 3600)).sum())
    assert d["segments"] == list(sc.segment_names) and 0 < d["agents"] <= 50
    by_slot = {}
    for arr, ans, end, ab, seg, slot in d["calls"]:
        assert (ans is None) == (slot == -1) and not (ans is not None and ab is not None)
        if ans is not None:
            by_slot.setdefault(slot, []).append((ans, end))
    for spans in by_slot.values():  # no agent serves two calls at once
        spans.sort()
        assert all(a[1] <= b[0] + 1e-6 for a, b in zip(spans, spans[1:]))


def test_replay_page_embeds_the_data_safely():
    _, logs = _logs()
    page = replay_html({n: replay_data(l, 3600, 7200) for n, l in logs.items()}, 3600, 7200, 9 * 60)
    assert page.count("</script>") == 1 and "gold<\\/script><b>" in page
