"""Charts stay readable and quick however many segments or groups there are: at most MAX_SERIES are drawn (the
busiest), and the title says how many were left out (issue 23: 300 segments drew a 990 x 75,977 px PNG)."""

import io
import time

import numpy as np
import pandas as pd

from ccplan import charts


def _forecast(n_segments: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    segs = [f"s{i:03d}" for i in range(n_segments)]
    rows = [(seg, "2026-03-02", f"{8 + k // 2:02d}:{30 * (k % 2):02d}", float(i + 1), 0.5 * (i + 1), 2.0 * (i + 1))
            for i, seg in enumerate(segs) for k in range(4)]
    fc = pd.DataFrame(rows, columns=["segment", "date", "interval_start", "forecast", "p10", "p90"])
    hist = pd.DataFrame([(seg, pd.Timestamp("2026-03-01").date(), 480 + 30 * k, float(i))
                         for i, seg in enumerate(segs) for k in range(4)],
                        columns=["segment", "date", "slot", "offered"])
    return hist, fc


def test_300_segments_draw_the_10_busiest_in_a_normal_sized_picture_quickly():
    hist, fc = _forecast(300)
    t0 = time.perf_counter()
    fig = charts.forecast_figure(hist, fc)
    buf = io.BytesIO()
    fig.savefig(buf, dpi=110, format="png")
    assert time.perf_counter() - t0 < 30  # a generous bound: it took minutes before
    width, height = fig.get_size_inches() * 110
    assert width <= 1000 and height <= 3000
    labels = [ax.get_ylabel().split("\n")[0] for ax in fig.axes]
    assert labels == [f"s{i:03d}" for i in range(290, 300)]  # the busiest, in their order
    assert "the 10 busiest of 300 segments" in fig._suptitle.get_text()


def test_a_few_segments_are_all_drawn_without_a_note():
    hist, fc = _forecast(3)
    fig = charts.forecast_figure(hist, fc)
    assert len(fig.axes) == 3 and "busiest" not in fig._suptitle.get_text()


def test_group_panels_and_bars_are_capped_too():
    n = 40
    plan = pd.DataFrame([(t, f"{8 + t}:00", f"g{g}", 1.0, float(g), 1.0, 1.0) for g in range(n) for t in range(3)],
                        columns=["interval", "time", "group", "required_agents", "scheduled_agents",
                                 "current_scheduled", "traffic_erlangs"])
    fig = charts.plan_figure(plan)
    assert len([ax for ax in fig.axes if ax.get_ylabel()]) == charts.MAX_SERIES
    assert "of 40 groups" in fig._suptitle.get_text()
    table = pd.DataFrame({"variant": np.repeat(["a", "b"], n), "segment": [f"s{i}" for i in range(n)] * 2,
                          "offered": np.tile(np.arange(n, dtype=float), 2), "profit": 1.0})
    fig = charts.comparison_figure(table, "profit")
    assert len(fig.axes[0].get_xticklabels()) == charts.MAX_SERIES and "of 40 segments" in fig.axes[0].get_title()
