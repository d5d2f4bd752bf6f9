"""Command line: ``ccplan validate | erlang | staff | simulate ...``.

The CLI only parses, calls the engines and formats. Every user-facing error
is one clear message and an exit code (1 for bad input, 2 for a wrong
command line); no traceback reaches the user.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ccplan.scenario import Scenario, ScenarioError, load

app = typer.Typer(
    name="ccplan",
    help="Call-center staffing planner and simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_WIDTH = None if sys.stdout.isatty() else 120
console = Console(highlight=False, width=_WIDTH)
err_console = Console(stderr=True, highlight=False, width=_WIDTH)


@app.callback()
def _root() -> None:
    """Call-center staffing planner and simulator (times in seconds, volumes per interval)."""


class UserError(Exception):
    """A problem with the user's input; printed as one message, exit code 1."""


def _load(path: Path) -> Scenario:
    return load(path)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, allow_nan=False, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o)}")


def _fmt(x: float, digits: int = 1) -> str:
    import math

    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:,.{digits}f}"


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")]) -> None:
    """Check a scenario file; print 'ok' and a summary, or every problem (exit 1)."""
    s = _load(scenario)
    console.print(f"ok: {scenario} — {s.name}")
    if s.description:
        console.print(s.description)
    console.print(
        f"{s.n_intervals} intervals of {s.interval_minutes} min from {s.open_time}; "
        f"routing {s.routing.policy}; currency {s.currency}"
    )
    seg_t = Table(title="Segments", title_justify="left")
    for col in ("segment", "prio", "calls/day", "AHT s", "patience s", "SL target", "value/call", "CLV"):
        seg_t.add_column(col, justify="left" if col == "segment" else "right")
    for seg in s.segments:
        seg_t.add_row(
            seg.name, str(seg.priority), _fmt(float(s.calls_per_interval(seg).sum()), 0), _fmt(seg.aht_s, 0),
            "-" if seg.patience_s is None else _fmt(seg.patience_s, 0),
            f"{s.sl_target(seg):.0%} in {s.answer_within_s(seg):g}s", _fmt(seg.value_per_call, 2), _fmt(seg.clv, 0),
        )
    console.print(seg_t)
    grp_t = Table(title="Agent groups", title_justify="left")
    for col in ("group", "skills", "agents (min-max)", "cost/h", "shrinkage", "options"):
        grp_t.add_column(col, justify="left" if col in ("group", "skills", "options") else "right")
    for g in s.agent_groups:
        a = s.agents_per_interval(g)
        opts = []
        if g.accepts_after_s:
            opts.append(f"overflow after {g.accepts_after_s:g}s")
        if g.reserve:
            opts.append(f"reserve {g.reserve} for {', '.join(g.reserve_for)}")
        grp_t.add_row(g.name, ", ".join(g.skills), f"{a.min()}-{a.max()}", _fmt(g.cost_per_hour, 2),
                      f"{g.shrinkage:.0%}", "; ".join(opts) or "-")
    console.print(grp_t)
    load_df = s.offered_load().groupby(["interval", "time"], as_index=False)["traffic_erlangs"].sum()
    cells = [f"{t} {e:6.1f}" for t, e in zip(load_df["time"], load_df["traffic_erlangs"])]
    console.print("Offered load (Erlangs, all segments) per interval:")
    per_row = 6 if console.width >= 100 else 4
    for i in range(0, len(cells), per_row):
        console.print("  " + "   ".join(cells[i : i + per_row]))


def main() -> None:
    """Entry point: run the CLI, turning user errors into one message and an exit code.

    Typer handles command-line errors itself (usage message, exit code 2).
    """
    try:
        app()
    except (ScenarioError, UserError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug of ours: one line, details on request
        if os.environ.get("CCPLAN_DEBUG"):
            raise
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc} (set CCPLAN_DEBUG=1 for details)\n")
        sys.exit(3)
