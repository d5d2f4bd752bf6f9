"""Figures: a DataFrame in, a matplotlib Figure out (no pyplot state).

Used by the CLI (``--out`` writes PNGs) and the app alike.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure


def offered_load_figure(load: pd.DataFrame, title: str = "Offered load per interval") -> Figure:
    """Stacked area of offered load (Erlangs) per interval and segment.

    ``load`` has the columns of :meth:`Scenario.offered_load`: interval, time,
    segment, traffic_erlangs.
    """
    wide = load.pivot_table(index=["interval", "time"], columns="segment", values="traffic_erlangs", sort=False)
    wide = wide[list(dict.fromkeys(load["segment"]))]
    fig = Figure(figsize=(9, 3.6), layout="constrained")
    ax = fig.add_subplot()
    x = range(len(wide))
    ax.stackplot(x, *[wide[c].to_numpy() for c in wide.columns], labels=list(wide.columns), alpha=0.85, step=None)
    times = [t for _, t in wide.index]
    step = max(1, len(times) // 12)
    ax.set_xticks(list(x)[::step], times[::step])
    ax.set_xlim(0, max(len(times) - 1, 1))
    ax.set_xlabel("interval start (clock time)")
    ax.set_ylabel("offered load (Erlangs)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", ncols=min(len(wide.columns), 4), frameon=False)
    return fig
