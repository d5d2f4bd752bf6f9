"""Cost per call and memory against the size of the day (``python -m benchmarks percall [--quick]``).

The telecom preset scaled ×1, ×27 and ×270 (about 7,500, 200,000 and 2,000,000 calls; agents scaled alike, so
the shape of the day is the same). Each size runs in a fresh process: one replication, simulator alone
(calls per CPU-second, with Python's garbage collector on and off during the run), then the per-replication
metrics, and the process's peak resident memory (the worker's footprint for that day).
"""

from __future__ import annotations

import json
import subprocess
import sys

_CHILD = r"""
import gc, json, resource, sys, time
from ccplan.scenario import load, presets, to_dict, from_dict
from sim.model import CallCenterModel
from sim.metrics import replication_columns

k = float(sys.argv[1])
d = to_dict(load(presets()["telecom"]))
for s in d["segments"]:
    for key in ("calls_per_interval",):
        if key in s:
            s[key] = [x * k for x in s[key]]
    if "daily_calls" in s:
        s["daily_calls"] = s["daily_calls"] * k
for g in d["agent_groups"]:
    if "agents_per_interval" in g:
        g["agents_per_interval"] = [int(round(x * k)) for x in g["agents_per_interval"]]
    if g.get("agents"):
        g["agents"] = int(round(g["agents"] * k))
sc = from_dict(d)
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
for mode in ("gc_on", "gc_off"):
    m = CallCenterModel(sc, replication=0, seed=1)
    t0 = time.process_time()
    m.start()
    if mode == "gc_off":
        gc.disable()
    m.env.run()
    gc.enable()
    out[mode] = len(m.c_seg) / (time.process_time() - t0)
    out["calls"] = len(m.c_seg)
    if mode == "gc_off":
        t0 = time.process_time()
        replication_columns(m.log_arrays(), sc, m.overtime_s(), 0, m.finishing_s())
        out["metrics_s"] = time.process_time() - t0
    del m
out["rss_start_mb"] = rss0 / 1024
out["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def main(quick: bool = False) -> None:
    sizes = (1, 27) if quick else (1, 27, 270)
    rows = []
    for k in sizes:
        res = subprocess.run([sys.executable, "-c", _CHILD, str(k)], capture_output=True, text=True, check=True)
        rows.append((k, json.loads(res.stdout.strip().splitlines()[-1])))
    base = rows[0][1]
    print("\nCost per call against the size of the day (telecom preset scaled; one replication, one core)")
    print(f"{'scale':>6} {'calls':>10} {'calls/CPU-s GC on':>18} {'GC off':>10} {'vs small day':>12} "
          f"{'metrics s':>9} {'peak RSS MB':>11} {'MB per M calls':>14}")
    for k, r in rows:
        per_m = (r["rss_peak_mb"] - r["rss_start_mb"]) / (r["calls"] / 1e6)
        print(f"{'x' + str(k):>6} {r['calls']:>10,} {r['gc_on']:>18,.0f} {r['gc_off']:>10,.0f} "
              f"{r['gc_off'] / base['gc_off']:>11.2f}x {r['metrics_s']:>9.2f} {r['rss_peak_mb']:>11,.0f} "
              f"{per_m:>14,.0f}")
    print("MB per M calls: peak resident memory above the process's start (imports included in the start), per "
          "million calls")


if __name__ == "__main__":
    main("--quick" in sys.argv)
