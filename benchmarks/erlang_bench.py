"""Staffing (required agents) against the Python peers a planner would otherwise use.

Peers, measured in the same run:
- pyworkforce ``ErlangC(...).required_positions(...)`` (Erlang C, one interval per call);
- erlangccmath (``ERLANG.X`` / ``ERLANG.CHAT``): inspected, not called. It computes
  nothing locally: every function is an HTTPS POST to the vendor's server, which
  this machine cannot reach (and which would send the user's volumes off-site).

Accuracy is judged against mpmath at 50 digits: the true minimum number of agents
for 80 % in 20 s.
"""

from __future__ import annotations

import inspect
import math
import time
from typing import Callable

import numpy as np

from planner.staffing import required_agents

AHT_S, THRESHOLD_S, TARGET = 180.0, 20.0, 0.80


def _best_time(fn: Callable[[], object], repeat: int, budget_s: float = 20.0) -> tuple[float, object]:
    best, out = math.inf, None
    start = time.perf_counter()
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s:
            break
    return best, out


def _mp_required(a: float) -> int:
    """The true minimum agents (Erlang C, 80/20) computed with mpmath at 50 digits."""
    import mpmath as mp

    mp.mp.dps = 50
    a_mp = mp.mpf(a)

    def sl(n: int) -> mp.mpf:
        b = mp.exp(n * mp.log(a_mp) - a_mp - mp.loggamma(n + 1)) / mp.gammainc(n + 1, a_mp, mp.inf, regularized=True)
        c = b / (1 - a_mp / n * (1 - b))
        return 1 - c * mp.exp(-(n - a_mp) * THRESHOLD_S / AHT_S)

    n = int(math.floor(a)) + 1
    lo, hi = n - 1, n
    while sl(hi) < TARGET:
        lo, hi = hi, hi + max(1, (hi - n + 1))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sl(mid) >= TARGET:
            hi = mid
        else:
            lo = mid
    return hi


def _pyworkforce() -> Callable[[float], int] | None:
    try:
        from pyworkforce.queuing import ErlangC
    except Exception:  # not installed
        return None

    def solve(calls_per_interval_30min: float) -> int:
        e = ErlangC(transactions=calls_per_interval_30min, aht=AHT_S / 60, asa=THRESHOLD_S / 60, interval=30)
        return int(e.required_positions(service_level=TARGET)["raw_positions"])

    return solve


def _erlangccmath_status() -> str:
    try:
        import ERLANG.settings as s
    except Exception:
        return "not installed"
    src = inspect.getsource(s)
    if "requests.post" in src:
        return "not measured: every call is an HTTPS request to the vendor's server (no local computation)"
    return "installed"


def main(quick: bool = False) -> None:
    print("\n== Erlang staffing: required agents for 80% in 20 s, AHT 180 s (Erlang C) ==")
    pyw = _pyworkforce()
    loads = [10, 100, 1_000, 10_000, 50_000]
    rows = []
    for a in loads:
        calls = a * 1800 / AHT_S
        t_ours, n_ours = _best_time(lambda: int(required_agents(a, AHT_S, THRESHOLD_S, TARGET)), repeat=5)
        truth = _mp_required(a)
        if pyw is not None:
            try:
                t_pyw, n_pyw = _best_time(lambda: pyw(calls), repeat=3 if a < 10_000 else 1, budget_s=120)
                pyw_note = "ok" if n_pyw == truth else f"WRONG ({n_pyw} vs {truth})"
            except Exception as exc:  # overflow etc.
                t_pyw, n_pyw, pyw_note = math.nan, None, f"fails: {type(exc).__name__}"
        else:
            t_pyw, n_pyw, pyw_note = math.nan, None, "not installed"
        rows.append((f"1 interval, {a:,} Erl", truth, n_ours, t_ours, n_pyw, t_pyw, pyw_note))

    # 96 intervals x 10 segments
    rng = np.random.default_rng(2026)
    grid = rng.uniform(5, 500, size=(10, 96))
    t_ours, n_vec = _best_time(lambda: required_agents(grid, AHT_S, THRESHOLD_S, TARGET), repeat=5)
    truth_sample = [(i, j) for i, j in zip(rng.integers(0, 10, 12), rng.integers(0, 96, 12))]
    ok_ours = all(int(n_vec[i, j]) == _mp_required(float(grid[i, j])) for i, j in truth_sample)
    if pyw is not None:
        flat = (grid * 1800 / AHT_S).ravel()
        t_pyw, n_pyw_vec = _best_time(lambda: [pyw(c) for c in flat], repeat=1 if not quick else 1, budget_s=300)
        agree = int(np.sum(np.asarray(n_pyw_vec).reshape(grid.shape) == n_vec))
        pyw_note = f"ok ({agree}/960 equal to ours)" if agree == 960 else f"{960 - agree}/960 differ from ours"
    else:
        t_pyw, pyw_note = math.nan, "not installed"
    rows.append(("96 intervals x 10 segments", "-", "ok" if ok_ours else "WRONG", t_ours, "-", t_pyw, pyw_note))

    head = f"{'case':<28} {'true n':>8} {'ccplan n':>9} {'ccplan ms':>10} {'pyworkforce n':>14} {'pyworkforce ms':>15} {'ratio':>8}  note"
    print(head)
    print("-" * len(head))
    for case, truth, n_o, t_o, n_p, t_p, note in rows:
        ratio = t_p / t_o if (t_o and not math.isnan(t_p)) else math.nan
        print(f"{case:<28} {str(truth):>8} {str(n_o):>9} {1e3 * t_o:>10.3f} {str(n_p):>14} {1e3 * t_p:>15.3f} {ratio:>7.1f}x  {note}")
    print("ratio = pyworkforce time / ccplan time (higher is better for ccplan); times are the best of repeats.")
    print(f"erlangccmath: {_erlangccmath_status()}")

    # Erlang A (abandonment): no local peer has it; show our range and speed
    from planner.erlang import erlang_a

    print("\n== Erlang A (patience 300 s) at scale: ccplan only (pyworkforce has no Erlang A) ==")
    for a in loads:
        n = np.arange(max(1, int(0.9 * a)), int(1.1 * a) + 2)
        t_a, r = _best_time(lambda: erlang_a(n, a, AHT_S, 300.0, THRESHOLD_S), repeat=3)
        finite = all(np.all(np.isfinite(v)) for v in r)
        print(f"{a:>7,} Erl: {len(n):>6} staffing levels in {t_a:.4f} s, all finite: {finite}")
