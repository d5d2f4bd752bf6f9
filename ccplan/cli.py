"""Command line: ``ccplan validate | erlang | staff | simulate ...``.

The CLI only parses, calls the engines and formats. Every user-facing error
is one clear message and an exit code (1 for bad input, 2 for a wrong
command line); no traceback reaches the user.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from ccplan.outputs import OutputError, ParquetLog, check_dir, check_file, staged_dir, staged_file, write_csv
from ccplan.report import below_load_note, delta_text, finite, records, row_ci, sl_caption, target_text
from ccplan.scenario import SL_DEFINITIONS, Scenario, ScenarioError, load, sl_label

app = typer.Typer(
    name="ccplan",
    help="Call-center staffing planner and simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
_WIDTH = None if sys.stdout.isatty() else 140
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


Force = Annotated[bool, typer.Option("--force", help="Overwrite existing output files (never an input).")]
Yes = Annotated[bool, typer.Option("--yes", help="Go ahead with a large simulation job without asking.")]


def _check_work(scenarios: list[Scenario], replications: int, yes: bool, per_variant: int = 1,
                scheduler: str | None = None) -> None:
    """Estimate calls x replications x variants before simulating; refuse what cannot fit, ask above the threshold."""
    from ccplan.workload import WorkloadError, check, estimate

    if scheduler or os.environ.get("CCPLAN_SCHEDULER"):
        return  # a cluster's size is not known here
    work = estimate(scenarios * per_variant, replications)
    try:
        check(work, yes)
    except WorkloadError as exc:
        raise UserError(str(exc)) from None


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")]) -> None:
    """Check a scenario file; print 'ok' and a summary, or every problem (exit 1)."""
    s = _load(scenario)
    console.print(f"ok: {_safe(scenario)} — {_safe(s.name)}")
    if s.description:
        console.print(_safe(s.description))
    console.print(
        f"{s.n_intervals} intervals of {s.interval_minutes} min from {s.open_time}; "
        f"routing {s.routing.policy}" + (f" (aging {s.routing.aging_s:g} s)" if s.routing.policy == "aging" else "")
        + f", agent choice {s.routing.agent_choice}; "
        f"lines {s.capacity.lines if s.capacity.lines is not None else 'unlimited'}; at close {s.simulation.at_close}; "
        f"busyness cv {s.simulation.busyness_cv:g}; currency {s.currency}"
    )
    seg_t = Table(title="Segments", title_justify="left")
    for col in ("segment", "prio", "calls/day", "AHT s", "patience s", "SL target", "value/call", "CLV", "options"):
        _validate_column(seg_t, col, "left" if col in ("segment", "options") else "right")
    for seg in s.segments:
        seg_t.add_row(
            _safe(seg.name), str(seg.priority), _fmt(float(s.calls_per_interval(seg).sum()), 0),
            _fmt(s.mean_aht_s(seg), 0) + (" (per interval)" if isinstance(seg.aht_s, tuple) else ""),
            _validate_patience(seg),
            _safe(target_text(s, seg.name)), _fmt(seg.value_per_call, 2), _fmt(seg.clv, 0),
            _safe("; ".join(_validate_segment_options(s, seg))) or "-",
        )
    console.print(seg_t)
    console.print(f"[dim]{_safe(sl_caption(s))}; waits counted per "
                  + ("caller (queue time over all its attempts)" if s.service_level.wait_counted == "caller"
                     else "attempt") + "[/dim]")
    grp_t = Table(title="Agent groups", title_justify="left")
    for col in ("group", "skills", "agents (min-max)", "cost/h", "shrinkage", "options"):
        _validate_column(grp_t, col, "left" if col in ("group", "skills", "options") else "right")
    for g in s.agent_groups:
        a = s.agents_per_interval(g)
        opts = []
        if g.accepts_after_s:
            opts.append(f"overflow after {g.accepts_after_s:g}s")
        if g.reserve:
            opts.append(f"reserve {g.reserve} for {', '.join(g.reserve_for)}")
        if g.serves:
            opts.append(f"serves {' > '.join(g.serves)} first")
        if g.handle_time_factor:
            opts.append("handle time x " + ", ".join(f"{v:g} on {k}" for k, v in g.handle_time_factor.items()))
        grp_t.add_row(_safe(g.name), _safe(", ".join(g.skills)), f"{a.min()}-{a.max()}", _fmt(g.cost_per_hour, 2),
                      f"{g.shrinkage:.0%}", _safe("; ".join(opts)) or "-")
    console.print(grp_t)
    if s.shifts:
        sh_t = Table(title="Shift rules (for ccplan roster)", title_justify="left")
        for col in ("shift", "on duty", "paid", "starts", "groups", "agents", "breaks"):
            sh_t.add_column(col, justify="left")
        for sh in s.shifts:
            step = sh.start_every_minutes or s.interval_minutes
            brk = "; ".join(f"{b.minutes} min {'paid' if b.paid else 'unpaid'} {b.earliest_after_minutes}-"
                            f"{b.latest_after_minutes} min in" for b in sh.breaks) or "-"
            cap = (f"{sh.min_agents}-{sh.max_agents}" if sh.min_agents and sh.max_agents is not None
                   else f"≥ {sh.min_agents}" if sh.min_agents else
                   f"≤ {sh.max_agents}" if sh.max_agents is not None else "any")
            sh_t.add_row(_safe(sh.name), f"{sh.minutes / 60:g} h", f"{sh.paid_minutes / 60:g} h",
                         f"{sh.earliest_start}-{sh.latest_start} every {step} min",
                         _safe(", ".join(sh.groups) if sh.groups else "all"), cap, brk)
        console.print(sh_t)
    load_df = s.offered_load()
    factors = {seg.name: _validate_handle_factor(s, seg) for seg in s.segments}
    load_df["traffic_erlangs"] = load_df["traffic_erlangs"] * load_df["segment"].map(factors)
    load_df = load_df.groupby(["interval", "time"], as_index=False)["traffic_erlangs"].sum()
    cells = [f"{t} {e:6.1f}" for t, e in zip(load_df["time"], load_df["traffic_erlangs"])]
    console.print("Offered load (Erlangs, all segments) per interval"
                  + (", with each segment's handle_time_factor (the mean over its groups, weighted by scheduled "
                     "agents)" if any(f != 1.0 for f in factors.values()) else "") + ":")
    per_row = 6 if console.width >= 100 else 4
    for i in range(0, len(cells), per_row):
        console.print("  " + "   ".join(cells[i : i + per_row]))


def _validate_column(table: Table, header: str, justify: str) -> None:
    """A column whose header is never cut and whose cells wrap rather than lose text, however narrow the
    console."""
    table.add_column(header, justify=justify, min_width=len(header), overflow="fold")


def _validate_patience(seg) -> str:
    if seg.patience == "empirical":
        from ccplan.scenario import read_samples

        try:
            mean = float(read_samples(seg.patience_file).mean()) if seg.patience_s is None else None
        except ValueError:
            mean = None
        scale = "" if seg.patience_s is None else f", scaled to {_fmt(seg.patience_s, 0)}" \
            if not isinstance(seg.patience_s, tuple) else ", scaled per interval"
        return "empirical" + (f" (mean {mean:,.0f})" if mean is not None else "") + scale
    if seg.patience_s is None:
        return "never"
    text = (f"{min(seg.patience_s):,.0f}-{max(seg.patience_s):,.0f}" if isinstance(seg.patience_s, tuple)
            else _fmt(seg.patience_s, 0))
    return text + ("" if seg.patience == "exponential" else f" {seg.patience}")


def _validate_segment_options(s: Scenario, seg) -> list[str]:
    """The segment's routing, queue-cap and callback keys as ``validate`` shows them."""
    opts = []
    if seg.groups is not None:
        opts.append(f"groups {' > '.join(seg.groups)}")
    if seg.agent_choice is not None:
        opts.append(f"agent choice {seg.agent_choice}")
    if seg.max_queue_s is not None:
        opts.append(f"queue cap {seg.max_queue_s:g} s -> {seg.max_queue_outcome}")
    cb = seg.callback
    if cb is not None:
        when = (f"after {cb.offer_after_s:g} s waited" if cb.mode == "waited"
                else f"when the expected wait > {cb.offer_after_s:g} s")
        opts.append(f"callback {when}, accepted {cb.accept_probability:.0%}, within {cb.window_s:g} s, "
                    f"AHT x {cb.aht_factor:g}, answered {cb.answer_probability:.0%}, {cb.attempts} attempt(s)")
    if seg.busyness_cv > 0:
        opts.append(f"busyness cv {seg.busyness_cv:g}")
    return opts


def _validate_handle_factor(s: Scenario, seg) -> float:
    """The segment's handle_time_factor over the groups that take it, weighted by their scheduled agents."""
    groups = s.groups_for(seg.name)
    weights = [float(s.agents_per_interval(g).sum()) for g in groups]
    f = [s.handle_factor(g, seg.name) for g in groups]
    if not groups:
        return 1.0
    if sum(weights) <= 0:
        return sum(f) / len(f)
    return sum(w * x for w, x in zip(weights, f)) / sum(weights)


@app.command()
def erlang(
    calls: Annotated[float, typer.Option("--calls", min=0, help="Offered calls in the interval.")],
    aht_s: Annotated[float, typer.Option("--aht-s", min=0.001, help="Average handle time, seconds.")],
    interval_minutes: Annotated[float, typer.Option("--interval-minutes", min=0.001, help="Interval length, minutes.")] = 30.0,
    answer_within_s: Annotated[float, typer.Option("--answer-within-s", min=0, help="Service-level threshold, seconds.")] = 20.0,
    sl_target: Annotated[float, typer.Option("--sl-target", min=0, max=1, help="Service-level target share, e.g. 0.8.")] = 0.8,
    patience_s: Annotated[Optional[float], typer.Option("--patience-s", min=0.001, help="Mean patience, seconds (Erlang A).")] = None,
    max_asa_s: Annotated[Optional[float], typer.Option("--max-asa-s", min=0, help="Maximum ASA, seconds.")] = None,
    max_abandon: Annotated[Optional[float], typer.Option("--max-abandon", min=0, max=1, help="Maximum abandonment rate.")] = None,
    max_occupancy: Annotated[Optional[float], typer.Option("--max-occupancy", min=0.001, max=1, help="Maximum occupancy.")] = None,
    shrinkage: Annotated[float, typer.Option("--shrinkage", min=0, max=0.999, help="Share of paid time off the phones.")] = 0.0,
    agents: Annotated[Optional[int], typer.Option("--agents", min=0, help="Evaluate this many available agents instead of sizing.")] = None,
    sl_definition: Annotated[str, typer.Option("--sl-definition", help="What service level divides by: offered (default), answered, offered_less_short_abandons, short_abandons_met.")] = "offered",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Single-interval Erlang calculator: size the agents for the targets, or evaluate --agents.

    Erlang C without --patience-s, Erlang A with it. Agents are available (on the
    phones); scheduled_agents adds shrinkage.
    """
    from planner.erlang import traffic_erlangs
    from planner.staffing import evaluate, required_agents, scheduled_agents

    if sl_definition not in SL_DEFINITIONS:
        raise UserError(f"--sl-definition {sl_definition!r}: must be one of {', '.join(SL_DEFINITIONS)}")
    interval_s = interval_minutes * 60.0
    a = float(traffic_erlangs(calls, aht_s, interval_s))
    if patience_s is not None and max_abandon is None and patience_s <= 0:
        raise UserError("--patience-s must be > 0")
    if agents is None:
        n = int(required_agents(a, aht_s, answer_within_s, sl_target, patience_s, max_asa_s, max_abandon, max_occupancy,
                                definition=sl_definition))
        if n < 0:
            raise UserError("no number of agents meets these targets (is a target 100% or an ASA of 0 s?)")
    else:
        n = agents
    m = evaluate(n, a, aht_s, answer_within_s, patience_s, definition=sl_definition)
    out = {
        "agents": n,
        "scheduled_agents": int(scheduled_agents(n, shrinkage)),
        "traffic_erlangs": a,
        "service_level": finite(m.service_level),
        "service_level_definition": sl_definition,
        "asa_s": finite(m.asa_s),
        "p_wait": finite(m.p_wait),
        "occupancy": finite(m.occupancy),
    }
    if patience_s is not None:
        out["abandon_rate"] = finite(m.abandon_rate)
    if a <= 0:  # no load: the measures are undefined, not 0% service / 100% occupancy
        out.update({k: None for k in ("service_level", "asa_s", "p_wait", "occupancy", "abandon_rate") if k in out})
        out["note"] = "no calls: nothing to staff; service level, waiting and occupancy are undefined"
    if as_json:
        _print_json(out)
        return
    if a <= 0:
        console.print(f"No calls in the interval: nothing to staff ({n} agents, {out['scheduled_agents']} "
                      "scheduled). Service level, waiting time and occupancy are undefined without calls.")
        return
    model = "Erlang A (abandonment)" if patience_s is not None else "Erlang C"
    t = Table(title=f"{model}: {calls:g} calls per {interval_minutes:g} min, AHT {aht_s:g} s", title_justify="left")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("agents (available)" + ("" if agents is not None else " — minimum meeting the targets"), str(n))
    t.add_row(f"scheduled agents (shrinkage {shrinkage:.0%})", str(out["scheduled_agents"]))
    t.add_row("offered load", f"{a:.2f} Erl")
    sl = out["service_level"]
    t.add_row(f"service level ({sl_label(sl_definition, answer_within_s)})", "-" if sl is None else f"{sl:.1%} (target {sl_target:.0%})")
    t.add_row("ASA", "inf (queue unstable)" if out["asa_s"] is None else f"{out['asa_s']:.1f} s")
    t.add_row("probability of waiting", f"{out['p_wait']:.1%}")
    t.add_row("occupancy", f"{out['occupancy']:.1%}")
    if patience_s is not None:
        t.add_row("abandonment", f"{out['abandon_rate']:.2%}")
    console.print(t)


@app.command()
def staff(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the plan (one row per interval x group) as CSV.")] = None,
    max_occupancy: Annotated[Optional[float], typer.Option("--max-occupancy", min=0.001, max=1, help="Occupancy cap for every group.")] = None,
    verify: Annotated[bool, typer.Option("--verify", help="Correct the plan by simulation until every interval meets its targets with the fewest agents.")] = False,
    replications: Annotated[Optional[int], typer.Option("--replications", "-r", help="With --verify: replications per evaluation (default: the scenario's).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="With --verify: master seed, the same for every evaluation (default: the scenario's).")] = None,
    max_iterations: Annotated[int, typer.Option("--max-iterations", help="With --verify: the most search rounds.")] = 40,
    group: Annotated[Optional[list[str]], typer.Option("--group", help="With --verify: adjust only this group (repeatable); the others keep the scenario's staffing.")] = None,
    to: Annotated[Optional[Path], typer.Option("--to", help="With --verify: write the scenario with the verified agents_per_interval (TOML).")] = None,
    days_meeting: Annotated[Optional[float], typer.Option("--days-meeting", help="With --verify: also staff so that at least this share of simulated days (e.g. 0.9) meets each segment's day target.")] = None,
    confirm_replications: Annotated[Optional[int], typer.Option("--confirm-replications", help="With --verify: replications of each confirmation on fresh callers (default: 5 x --replications; 0: no confirmation).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run replications on this Dask scheduler (tcp://host:8786); default: $CCPLAN_SCHEDULER, else locally.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
    yes: Yes = False,
) -> None:
    """Staffing plan of a scenario: required and scheduled agents per interval and group, predicted service.

    With --verify, the plan is corrected by simulation (common random numbers) until every interval with
    enough calls meets its targets, trimmed until no group can lose an agent in any interval on those random
    numbers, and then confirmed on fresh callers the search never saw (agents are added where a target misses
    there, and confirmed again on another fresh sample).
    """
    from planner.staffing import plan

    s = _load(scenario)
    if not verify:
        for name, val in (("--replications", replications), ("--seed", seed), ("--group", group), ("--to", to),
                          ("--days-meeting", days_meeting), ("--confirm-replications", confirm_replications)):
            if val is not None and val != []:
                raise UserError(f"{name} only goes with --verify")
    if days_meeting is not None and not 0 < days_meeting < 1:
        raise UserError(f"--days-meeting must be a share between 0 and 1 (exclusive), e.g. 0.9; got {days_meeting:g}")
    if confirm_replications is not None and (confirm_replications < 0 or confirm_replications == 1):
        raise UserError(f"--confirm-replications must be 0 (no confirmation) or at least 2, got {confirm_replications}")
    if replications is not None and replications < 2:
        raise UserError(f"--replications must be at least 2 (a confidence interval needs two), got {replications}")
    if max_iterations < 1:
        raise UserError(f"--max-iterations must be at least 1, got {max_iterations}")
    if out is not None:
        check_file(out, "--out", [scenario], force)
    if to is not None:
        check_file(to, "--to", [scenario], force)
    if verify:  # the search simulates on the order of one day per group and interval, the confirmation 5-20 more
        reps = s.simulation.replications if replications is None else replications
        _check_work([s], reps, yes, scheduler=scheduler,
                    per_variant=max(20, len(s.agent_groups) * s.n_intervals) + 4 * math.ceil(
                        5 if confirm_replications is None else confirm_replications / reps))
    pl = plan(s, max_occupancy=max_occupancy)
    ver = None
    if verify:
        with _cluster(scheduler) as ex:
            ver = _run_verify(s, replications, seed, max_iterations, group, max_occupancy, ex,
                              days_meeting=days_meeting, confirm_replications=confirm_replications)
    elif scheduler:
        raise UserError("--scheduler only goes with --verify (the analytic plan needs no simulation)")
    wide = _plan_table(s, pl, ver)
    groups, segments = pl.daily_groups(), pl.daily_segments()
    if out is not None:
        with staged_file(out, [scenario]) as tmp:
            write_csv(wide, tmp)
    if to is not None and ver is not None:
        from ccplan.scenario import dump

        with staged_file(to, [scenario]) as tmp:
            dump(ver.verified_scenario, tmp)
    if as_json:
        _print_json(_staff_json(s, pl, ver, wide, groups, segments))
        return
    _print_plan(s, pl, groups, segments)
    reasons = pl.approximate_reasons()
    if reasons and ver is None:
        console.print(f"[yellow]note:[/yellow] the analytic figures are approximate here ({'; '.join(reasons)}); "
                      "run with --verify to correct the plan by simulation.")
    below = below_load_note(pl)
    if below:
        console.print(f"[yellow]note:[/yellow] {below}")
    if ver is not None:
        _print_verified(s, ver)
    if out is not None:
        console.print(f"plan written to {out}")
    if to is not None:
        console.print(f"verified scenario written to {to} (check it with: ccplan simulate {to})")


def _plan_table(s: Scenario, pl, ver):
    """The plan as one row per interval x group (the --out CSV and the JSON intervals), with the verified agents and
    the simulated service level per segment when verified."""
    wide = pl.wide()
    if ver is not None:
        wide = wide.merge(ver.groups[["interval", "group", "agents_verified"]], on=["interval", "group"])
        for k in s.segment_names:
            sim = ver.intervals[ver.intervals["segment"] == k].set_index("interval")
            for col in ("service_level", "service_level_ci_low", "service_level_ci_high"):
                wide[f"simulated_{col}:{k}"] = wide["interval"].map(sim[col])
    return wide


def _staff_json(s: Scenario, pl, ver, wide, groups, segments) -> dict:
    """The ``staff --json`` object."""
    obj = {"scenario": s.name, "currency": s.currency, "intervals": records(wide),
           "groups": records(groups), "segments": records(segments)}
    for r in obj["segments"]:
        r["service_level_definition"] = s.sl_definition(r["segment"])
    reasons = pl.approximate_reasons()
    if reasons:
        obj["approximate"] = reasons
    below = below_load_note(pl)
    if below:
        obj["below_load"] = below
    if ver is not None:
        obj["verified"] = ver.to_json()
    return obj


def _run_verify(s: Scenario, replications, seed, max_iterations, group, max_occupancy, executor=None,
                days_meeting: float | None = None, confirm_replications: int | None = None):
    """staff --verify with a progress bar on stderr."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ccplan.verification import VerifyError, verify

    with Progress(TextColumn("verifying by simulation"), BarColumn(), TextColumn("round {task.completed}/{task.total}"),
                  TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("", total=max_iterations)
        try:
            return verify(s, replications=replications, seed=seed, max_iterations=max_iterations, groups=group,
                          max_occupancy=max_occupancy, executor=executor, days_meeting=days_meeting,
                          confirm_replications=confirm_replications,
                          progress=lambda i, total, msg: bar.update(task, completed=i, description=msg))
        except VerifyError as exc:
            raise UserError(str(exc)) from None


def _print_plan(s: Scenario, pl, groups, segments) -> None:
    console.print(f"[bold]{_safe(s.name)}[/bold] — staffing plan ({s.n_intervals} × {s.interval_minutes} min, "
                  f"routing {s.routing.policy})")
    gs = pl.group_segments
    for g in s.agent_groups:
        sub = pl.groups[pl.groups["group"] == g.name]
        segs = [k for k in s.segment_names if k in g.skills]
        sl = gs[gs["group"] == g.name].pivot(index="interval", columns="segment", values="service_level")
        t = Table(title=f"Group {_safe(g.name)} (shrinkage {g.shrinkage:.0%}, {g.cost_per_hour:g} {s.currency}/h)",
                  title_justify="left")
        for col in ["time", "load Erl", "required", "scheduled", "current", "cost-opt", "occupancy"] + [
                f"SL {_safe(k)}" for k in segs]:
            t.add_column(col, justify="right")
        for _, r in sub.iterrows():
            t.add_row(r["time"], f"{r['traffic_erlangs']:.1f}", str(r["required_agents"]), str(r["scheduled_agents"]),
                      str(r["current_scheduled"]), str(r["cost_optimal_scheduled"]), f"{r['occupancy']:.0%}",
                      *[f"{sl.loc[r['interval'], k]:.0%}" for k in segs])
        console.print(t)
    gt = Table(title="Daily summary per group", title_justify="left")
    for col in ("group", "agent hours", "cost", "current agent hours", "peak required", "peak scheduled"):
        gt.add_column(col, justify="left" if col == "group" else "right")
    for _, r in groups.iterrows():
        gt.add_row(_safe(r["group"]), f"{r['agent_hours']:,.1f}", f"{r['cost']:,.0f} {s.currency}",
                   f"{r['current_agent_hours']:,.1f}", str(r["peak_required"]), str(r["peak_scheduled"]))
    console.print(gt)
    st_ = Table(title="Predicted service per segment (whole day, at the planned staffing)", title_justify="left")
    lines = s.capacity.lines is not None
    for col in ("segment", "calls", "service level", "target", "ASA s", "abandonment", *(["blocked"] if lines else []),
                "SL at current staffing"):
        st_.add_column(col, justify="left" if col == "segment" else "right")
    for _, r in segments.iterrows():
        seg = r["segment"]
        st_.add_row(_safe(seg), f"{r['calls']:,.0f}", f"{r['service_level']:.1%}",
                    _safe(target_text(s, seg)), f"{r['asa_s']:.1f}",
                    f"{r['abandon_rate']:.2%}", *([f"{r['block_rate']:.2%}"] if lines else []),
                    f"{r['service_level_current']:.1%}")
    console.print(st_)
    console.print(f"[dim]{_safe(sl_caption(s))}[/dim]")
    console.print(f"Total planned agent cost: {groups['cost'].sum():,.0f} {s.currency}")


def _print_verified(s: Scenario, ver) -> None:
    """The verified staffing: agents per interval and group, simulated SL per interval and segment, each on
    the confirming sample (fresh callers) beside the search's own estimate."""
    fresh = ver.confirm_replications > 0
    where = (f"confirmed on {ver.confirm_replications} fresh replications the search never used (search: "
             f"{ver.replications}, seed {ver.seed})" if fresh else
             f"{ver.replications} replications, seed {ver.seed}, the search's own random numbers: in-sample")
    t = Table(title=f"Verified by simulation ({where}): scheduled agents planned → verified, simulated SL ±95% CI"
                    + (" [search's estimate]" if fresh else ""), title_justify="left")
    t.add_column("time", justify="right")
    for g in s.group_names:
        t.add_column(_safe(g), justify="right")
    for k in s.segment_names:
        t.add_column(f"SL {_safe(k)} (target {_safe(target_text(s, k))})", justify="right")
    gi = ver.groups.set_index(["interval", "group"])
    iv = ver.intervals.set_index(["interval", "segment"])
    for i, time in enumerate(s.interval_labels()):
        cells = []
        for g in s.group_names:
            r = gi.loc[(i, g)]
            a, b = int(r["agents_planned"]), int(r["agents_verified"])
            cells.append(f"{a} → {b}" if a != b else f"{b}")
        for k in s.segment_names:
            r = iv.loc[(i, k)]
            if not r["judged"]:
                cells.append(f"[dim]{r['offered']:.0f} calls: too few[/dim]")
                continue
            mark = ("[yellow]≈[/yellow]" if r["within_noise"] else "[green]✓[/green]") if r["meets"] else \
                "[red]✗[/red]"
            search = f" [dim]\\[{r['service_level_search']:.1%}][/dim]" if fresh else ""
            cells.append(f"{row_ci(r, 'service_level', '.1%', ' ±')} {mark}{search}")
        t.add_row(time, *cells)
    console.print(t)
    st_ = Table(title="Simulated service per segment at the verified staffing (whole day: all calls answered in "
                      "time ÷ all counted calls, over every simulated day)", title_justify="left")
    cols = ["segment", "service level ±95% CI", "target", "days meeting it (95% CI)", "p10 of daily SL",
            "worst interval", "SL there"] + (["search's estimate", "optimism"] if fresh else [])
    for col in cols:
        st_.add_column(col, justify="left" if col == "segment" else "right")
    for _, r in ver.segments.iterrows():
        mark = "[green]✓[/green]" if r["meets"] else "[red]✗[/red]"
        worst = "-" if r["worst_interval"] is None else r["worst_interval"]
        extra = [f"{r['service_level_search']:.1%}", f"{100 * r['optimism_gap']:+.1f} pts"] if fresh else []
        st_.add_row(_safe(r["segment"]), f"{row_ci(r, 'service_level', '.1%', ' ±')} {mark}",
                    _safe(target_text(s, r["segment"])),
                    f"{r['days_meeting']:.0%} ({r['days_meeting_ci_low']:.0%}–{r['days_meeting_ci_high']:.0%})",
                    "-" if pd_isna(r["daily_sl_p10"]) else f"{r['daily_sl_p10']:.1%}", worst,
                    "-" if pd_isna(r["worst_interval_service_level"]) else f"{r['worst_interval_service_level']:.1%}",
                    *extra)
    console.print(st_)
    console.print(f"[dim]{_safe(sl_caption(s))}[/dim]")
    if ver.intervals["within_noise"].any():
        console.print("[yellow]≈[/yellow]: below the target by less than the estimate's own noise on the fresh "
                      "sample (at most 2 points), so not judged a miss.")
    text = _safe(ver.outcome())
    console.print(text if ver.all_met else f"[red bold]{text}[/red bold]")


@app.command()
def roster(
    scenario: Annotated[Optional[Path], typer.Argument(help="Scenario TOML file with \\[\\[shifts]] rules (one day; leave out with --week).")] = None,
    cover: Annotated[str, typer.Option("--cover", help="Requirement to cover: plan (the analytic plan), verified (the plan corrected by simulation, as staff --verify), or current (the scenario's agents_per_interval).")] = "plan",
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", help="Time limit in seconds for building and solving the model (default 30 for a day, 60 with --week); the best roster found is reported with its MIP gap, and none found in time is an error (exit 1).")] = None,
    max_occupancy: Annotated[Optional[float], typer.Option("--max-occupancy", min=0.001, max=1, help="With --cover plan or verified: occupancy cap for every group.")] = None,
    replications: Annotated[Optional[int], typer.Option("--replications", "-r", help="With --cover verified: replications per evaluation (default: the scenario's).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="With --cover verified: master seed (default: the scenario's).")] = None,
    to: Annotated[Optional[Path], typer.Option("--to", help="Write the scenario with each group's agents_per_interval set to the roster's coverage (TOML).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for shifts.csv, coverage.csv, groups.csv, coverage.png and shifts.png.")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run replications on this Dask scheduler (tcp://host:8786); default: $CCPLAN_SCHEDULER, else locally.")] = None,
    week: Annotated[Optional[Path], typer.Option("--week", help="Roster a week: the folder of day scenarios (YYYY-MM-DD.toml, as forecast --to-dir writes them; a date without one is closed) into weekly tours under \\[\\[contracts]].")] = None,
    contracts: Annotated[Optional[Path], typer.Option("--contracts", help="With --week: a TOML file of \\[\\[contracts]] tables (default: the day scenarios' own).")] = None,
    fte_hours: Annotated[Optional[float], typer.Option("--fte-hours", help="With --week: paid hours of one full-time equivalent (default 40).")] = None,
    to_dir: Annotated[Optional[Path], typer.Option("--to-dir", help="With --week: write each day's scenario with the roster's coverage as its staffing (YYYY-MM-DD.toml).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
    yes: Yes = False,
) -> None:
    """Cheapest shifts and breaks covering the requirement in every interval and group (MILP, HiGHS); with
    --week DIR, the cheapest weekly tours under contracts covering every day of the week.

    Coverage counts agents on duty and not on break; a break shorter than an interval counts as
    the fraction of the interval it takes. Cost = agents x paid hours x the group's cost per hour.
    """
    if week is not None:
        if scenario is not None:
            raise UserError("give either a SCENARIO file (one day) or --week DIR (a week of day scenarios), not both")
        if to is not None:
            raise UserError("--to writes one day's scenario; with --week use --to-dir DIR (one scenario per day)")
        _roster_week(week, contracts, cover, 60.0 if time_limit is None else time_limit,
                     40.0 if fte_hours is None else fte_hours, max_occupancy, replications, seed, to_dir, out,
                     scheduler, as_json, force, yes)
        return
    if scenario is None:
        raise UserError("give a scenario file (ccplan roster SCENARIO) or a folder of day scenarios "
                        "(ccplan roster --week DIR)")
    for name, val in (("--contracts", contracts), ("--fte-hours", fte_hours), ("--to-dir", to_dir)):
        if val is not None:
            raise UserError(f"{name} only goes with --week DIR")
    time_limit = 30.0 if time_limit is None else time_limit
    from planner.roster import RosterError, requirement, solve

    _check_cover_options(cover, time_limit, replications, seed, max_occupancy)
    if to is not None:
        check_file(to, "--to", [scenario], force)
    if out is not None:
        check_dir(out, "--out", [scenario], force)
    s = _load(scenario)
    if not s.shifts:
        raise UserError(f"{scenario}: no shift rules; add [[shifts]] tables (see the README, 'Rosters')")
    if cover == "verified":
        _check_work([s], s.simulation.replications if replications is None else replications, yes,
                    per_variant=max(20, len(s.agent_groups) * s.n_intervals), scheduler=scheduler)
    try:
        if cover == "verified":
            with _cluster(scheduler) as ex:
                ver = _run_verify(s, replications, seed, 40, None, max_occupancy, ex)
            req = requirement(s, "verified", ver.verified_scenario)
        elif cover == "plan":
            from planner.staffing import plan

            req = plan(s, max_occupancy=max_occupancy).scheduled
        else:
            req = requirement(s, "current")
        r = _solve_with_progress(solve, s, req, time_limit)
    except RosterError as exc:
        raise UserError(str(exc)) from None
    if r.ok and out is not None:
        with staged_dir(out, [scenario]) as tmp:
            _write_roster(s, r, tmp)
    if r.ok and to is not None:
        from ccplan.scenario import dump

        with staged_file(to, [scenario]) as tmp:
            dump(r.to_scenario(), tmp)
    if as_json:
        obj = r.to_json()
        obj.update({"scenario": s.name, "currency": s.currency, "cover": cover})
        _print_json(obj)
    else:
        _print_roster(s, r, cover)
        if r.ok and out is not None:
            console.print(f"roster written to {out}/ (shifts.csv, coverage.csv, groups.csv, coverage.png, shifts.png)")
        if r.ok and to is not None:
            console.print(f"scenario with the roster's coverage written to {to} (see its service with: "
                          f"ccplan simulate {to})")
    if not r.ok:
        if not as_json:
            raise UserError(r.message if r.message.startswith("no roster") else f"no roster: {r.message}")
        sys.exit(1)


def _write_roster(s: Scenario, r, folder: Path) -> None:
    """roster --out: shifts, coverage and groups as CSV, the coverage and shift charts as PNG."""
    from ccplan.charts import roster_coverage_figure, roster_gantt_figure

    write_csv(r.shifts.assign(breaks=r.shifts["breaks"].map(" ".join),
                              break_minutes=r.shifts["break_minutes"].map(lambda v: " ".join(map(str, v)))),
              folder / "shifts.csv")
    write_csv(r.coverage, folder / "coverage.csv")
    write_csv(r.groups, folder / "groups.csv")
    _save(roster_coverage_figure(r.coverage), folder / "coverage.png")
    _save(roster_gantt_figure(r.shifts, s.open_time, s.n_intervals * s.interval_minutes / 60.0),
          folder / "shifts.png")


def _solve_with_progress(solve, s: Scenario, req, time_limit: float):
    """The roster solve with a bar of elapsed time against the time limit on stderr."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("solving the roster (HiGHS)"), BarColumn(), TextColumn("time limit {task.total:.0f} s"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("", total=time_limit)
        return solve(s, req, time_limit_s=time_limit, progress=lambda done, total: bar.update(task, completed=done))


def _print_roster(s: Scenario, r, cover: str) -> None:
    what = {"plan": "the analytic plan", "verified": "the plan verified by simulation",
            "current": "the scenario's agents_per_interval"}[cover]
    status = {"optimal": "[green]optimal[/green] (gap 0)",
              "time limit": f"[yellow]time limit[/yellow], gap {r.gap_text}"}.get(r.status, f"[red]{r.status}[/red]")
    console.print(f"[bold]{_safe(s.name)}[/bold] — roster covering {what}: {status}, "
                  f"{'solved' if r.ok else 'stopped'} in {r.solve_time_s:.1f} s")
    if not r.ok:
        return
    t = Table(title="Shifts", title_justify="left")
    for col in ("group", "shift", "start", "end", "breaks", "agents", "paid h each"):
        t.add_column(col, justify="right" if col in ("agents", "paid h each") else "left")
    for row in r.shifts.itertuples():
        brk = ", ".join(f"{b} ({m} min)" for b, m in zip(row.breaks, row.break_minutes)) or "-"
        t.add_row(_safe(row.group), _safe(row.shift), row.start, row.end, brk, str(row.agents), f"{row.paid_hours:g}")
    console.print(t)
    c = Table(title="Coverage per interval: agents on duty and not on break (required → rostered, surplus)",
              title_justify="left")
    c.add_column("time", justify="right")
    for g in s.group_names:
        c.add_column(_safe(g), justify="right")
    cov = r.coverage.set_index(["interval", "group"])
    for i, time_ in enumerate(s.interval_labels()):
        cells = []
        for g in s.group_names:
            row = cov.loc[(i, g)]
            cell = f"{row['required']} → {row['coverage']:g}"
            if row["shortfall"] > 1e-9:
                cell += f" [red]short {row['shortfall']:g}[/red]"
            elif row["surplus"] > 1e-9:
                cell += f" [dim]+{row['surplus']:g}[/dim]"
            cells.append(cell)
        c.add_row(time_, *cells)
    console.print(c)
    gt = Table(title="Per group", title_justify="left")
    for col in ("group", "headcount", "paid hours", "required hours", "efficiency", "cost"):
        gt.add_column(col, justify="left" if col == "group" else "right")
    for row in r.groups.itertuples():
        eff = "-" if pd_isna(row.efficiency) else f"{row.efficiency:.1%}"
        gt.add_row(_safe(row.group), str(row.headcount), f"{row.paid_hours:,.1f}", f"{row.required_hours:,.1f}", eff,
                   f"{row.cost:,.0f} {s.currency}")
    console.print(gt)
    console.print(f"Total: headcount {int(r.groups['headcount'].sum())}, paid hours {r.paid_hours:,.1f}, "
                  f"efficiency {r.efficiency:.1%} (required hours ÷ paid hours), cost {r.cost:,.0f} {s.currency}.")
    if r.status == "time limit":
        console.print(f"[yellow]note:[/yellow] {_safe(r.message)}" + (
            f"; the cost may be up to {r.gap_text} above the optimum." if r.gap_text != "unknown" else "."))


def _check_cover_options(cover: str, time_limit_s: float, replications: int | None, seed: int | None,
                         max_occupancy: float | None) -> None:
    """The options a day roster and a week roster share: the requirement (``--cover``), the time limit (seconds)
    and the options only a verified cover takes."""
    if cover not in ("plan", "verified", "current"):
        raise UserError(f"--cover must be plan, verified or current, got {cover!r}")
    if not time_limit_s > 0:
        raise UserError(f"--time-limit must be > 0 seconds, got {time_limit_s:g}")
    if cover != "verified":
        for name, val in (("--replications", replications), ("--seed", seed)):
            if val is not None:
                raise UserError(f"{name} only goes with --cover verified")
    if cover == "current" and max_occupancy is not None:
        raise UserError("--max-occupancy only goes with --cover plan or verified")
    if replications is not None and replications < 2:
        raise UserError(f"--replications must be at least 2 (a confidence interval needs two), got {replications}")


def _roster_week(folder: Path, contracts_file: Optional[Path], cover: str, time_limit: float, fte_hours: float,
                 max_occupancy: Optional[float], replications: Optional[int], seed: Optional[int],
                 to_dir: Optional[Path], out: Optional[Path], scheduler: Optional[str], as_json: bool, force: bool,
                 yes: bool) -> None:
    """roster --week: read the week, size each day's requirement, solve the tours, write and show them."""
    from ccplan import week as wk

    _check_cover_options(cover, time_limit, replications, seed, max_occupancy)
    if not fte_hours > 0:
        raise UserError(f"--fte-hours must be > 0 hours, got {fte_hours:g}")
    inputs = [folder] + ([contracts_file] if contracts_file is not None else [])
    if out is not None and to_dir is not None and out.resolve() == to_dir.resolve():
        raise UserError("--out and --to-dir must be different folders")
    for option, path in (("--out", out), ("--to-dir", to_dir)):
        if path is not None:
            check_dir(path, option, inputs, force)
    try:
        w = wk.read_week(folder, contracts_file)
    except wk.WeekError as exc:
        raise UserError(str(exc)) from None
    inputs = [folder, *w.files]
    if cover == "verified":
        scs = list(w.scenarios.values())
        _check_work(scs, scs[0].simulation.replications if replications is None else replications, yes,
                    per_variant=max(20, len(scs[0].agent_groups) * scs[0].n_intervals), scheduler=scheduler)
    try:
        with _cluster(scheduler) if cover == "verified" else _no_cluster() as ex:
            def verify_day(date, sc):
                err_console.print(f"verifying {date} by simulation", style="dim")
                return _run_verify(sc, replications, seed, 40, None, max_occupancy, ex).verified_scenario

            req = wk.requirements(w, cover, max_occupancy, verify_day if cover == "verified" else None)
        r = _solve_week_with_progress(wk, w, req, time_limit, fte_hours)
    except wk.WeekError as exc:
        raise UserError(str(exc)) from None
    if r.ok and out is not None:
        with staged_dir(out, inputs) as tmp:
            _write_roster_week(r, tmp)
    written = []
    if r.ok and to_dir is not None:
        with staged_dir(to_dir, inputs) as tmp:
            written = [to_dir / p.name for p in wk.write_scenarios(wk.apply(r), tmp)]
    if as_json:
        obj = r.to_json()
        obj.update({"week_dir": str(folder), "contracts_from": w.contracts_source, "currency": w.currency,
                    "cover": cover, "notes": list(w.notes), "scenarios": [str(p) for p in written]})
        _print_json(obj)
    else:
        _print_roster_week(w, r, cover)
        if r.ok and out is not None:
            console.print(f"week roster written to {out}/ (agents.csv, tours.csv, coverage.csv, groups.csv, "
                          "contracts.csv, days.csv, gantt.png, coverage.png)")
        if written:
            console.print(f"{len(written)} day scenarios with the roster's coverage written to {to_dir}/ (see a day's "
                          f"service with: ccplan simulate {written[0]})")
    if not r.ok:
        if not as_json:
            raise UserError(r.message if r.message.startswith("no roster") else f"no roster: {r.message}")
        sys.exit(1)


@contextmanager
def _no_cluster():
    yield None


def _solve_week_with_progress(wk, w, req, time_limit: float, fte_hours: float):
    """The week's tour solve with a bar of elapsed time against the time limit on stderr."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    size = wk.model_size(w, req)
    with Progress(TextColumn(f"solving the week's tours (HiGHS, {size.variables:,} variables)"), BarColumn(),
                  TextColumn("time limit {task.total:.0f} s"), TimeElapsedColumn(), console=err_console,
                  transient=True) as bar:
        task = bar.add_task("", total=time_limit)
        return wk.solve(w, req, time_limit_s=time_limit, fte_hours=fte_hours,
                        progress=lambda done, total: bar.update(task, completed=done))


def _write_roster_week(r, folder: Path) -> None:
    """roster --week --out: the agents (one row per agent-day), tours, coverage and summaries as CSV; the week's
    Gantt by agent and the coverage per day as PNG."""
    from ccplan import week as wk
    from ccplan.charts import week_coverage_figure, week_gantt_figure

    write_csv(wk.agents_table(r), folder / "agents.csv")
    write_csv(r.tours, folder / "tours.csv")
    write_csv(r.coverage, folder / "coverage.csv")
    write_csv(r.groups, folder / "groups.csv")
    write_csv(r.by_contract, folder / "contracts.csv")
    write_csv(r.week, folder / "days.csv")
    _save(week_gantt_figure(r.agents, [d.date.isoformat() for d in r.days], wk.day_hours(r)), folder / "gantt.png")
    _save(week_coverage_figure(r.coverage), folder / "coverage.png")


def _print_roster_week(w, r, cover: str) -> None:
    """The week roster on the terminal: status, every agent's week, headcount and FTE, days against the
    day-by-day optimum, totals and the premium."""
    from ccplan import week as wk

    what = {"plan": "the analytic plan", "verified": "the plan verified by simulation",
            "current": "the scenarios' agents_per_interval"}[cover]
    status = {"optimal": "[green]optimal[/green] (gap 0)",
              "time limit": f"[yellow]time limit[/yellow], gap {r.gap_text}"}.get(r.status, f"[red]{r.status}[/red]")
    model = f", {r.size.variables:,} variables" if r.size is not None else ""
    console.print(f"[bold]Week {w.dates[0]} – {w.dates[-1]}[/bold] — tours covering {what} on "
                  f"{len(w.open_dates)} open day(s): {status}, {'solved' if r.ok else 'stopped'} in "
                  f"{r.solve_time_s:.1f} s{model}")
    for note in w.notes:
        console.print(f"[yellow]note:[/yellow] {_safe(note)}")
    if not r.ok:
        return
    cur = w.currency
    grid = wk.grid(r)
    t = Table(title="Agents: each one's week (start–end; breaks in agents.csv)", title_justify="left")
    for col in grid.columns:
        t.add_column("paid h" if col == "paid_hours" else col, justify="right" if col == "paid_hours" else "left")
    for row in grid.itertuples(index=False):
        t.add_row(*[f"{v:g}" if isinstance(v, float) else _safe(v) for v in row])
    console.print(t)
    g = Table(title=f"Headcount and FTE per group (FTE = paid hours ÷ {r.fte_hours:g})", title_justify="left")
    for col in ("group", "headcount", "FTE", "paid hours", "required hours", "efficiency", "cost"):
        g.add_column(col, justify="left" if col == "group" else "right")
    for row in r.groups.itertuples():
        eff = "-" if pd_isna(row.efficiency) else f"{row.efficiency:.1%}"
        g.add_row(_safe(row.group), str(row.headcount), f"{row.fte:.2f}", f"{row.paid_hours:,.1f}",
                  f"{row.required_hours:,.1f}", eff, f"{row.cost:,.0f} {cur}")
    console.print(g)
    c = Table(title="Per contract", title_justify="left")
    for col in ("contract", "group", "headcount", "FTE", "paid hours", "cost"):
        c.add_column(col, justify="left" if col in ("contract", "group") else "right")
    for row in r.by_contract.itertuples():
        c.add_row(_safe(row.contract), _safe(row.group), str(row.headcount), f"{row.fte:.2f}",
                  f"{row.paid_hours:,.1f}", f"{row.cost:,.0f} {cur}")
    console.print(c)
    d = Table(title="Per day: the week's tours against the day-by-day optimum without tour rules (a lower bound)",
              title_justify="left")
    for col in ("date", "day", "agents", "required h", "paid h", "cost", "day optimum", "its agents", "short"):
        d.add_column(col, justify="left" if col in ("date", "day") else "right")
    cov = r.coverage.groupby("date")["shortfall"].sum()
    for row in r.week.itertuples():
        if not row.open:
            d.add_row(row.date, row.weekday[:3], "closed", "", "", "", "", "", "")
            continue
        lb = "-" if pd_isna(row.lower_bound_cost) else f"{row.lower_bound_cost:,.0f}" + (
            "" if row.lower_bound_status == "optimal" else " (bound)")
        short = float(cov.get(row.date, 0.0))
        d.add_row(row.date, row.weekday[:3], str(row.agents), f"{row.required_hours:,.1f}", f"{row.paid_hours:,.1f}",
                  f"{row.cost:,.0f}", lb, "-" if pd_isna(row.lower_bound_agents) else f"{row.lower_bound_agents:.0f}",
                  "[red]%g[/red]" % short if short > 1e-9 else "0")
    console.print(d)
    premium = "unknown" if pd_isna(r.premium) else f"{r.premium:+.1%}"
    lb = "unknown" if pd_isna(r.lower_bound_cost) else f"{r.lower_bound_cost:,.0f} {cur}"
    console.print(f"Total: headcount {r.headcount}, FTE {r.fte:.2f}, paid hours {r.paid_hours:,.1f}, efficiency "
                  f"{r.efficiency:.1%} (required hours ÷ paid hours), cost {r.cost:,.0f} {cur}.")
    console.print(f"Day-by-day optimum without tour rules: {lb}; the tours cost {premium} over it (the price of "
                  "weekly contracts, days off and stable starts).")
    if r.status == "time limit":
        console.print(f"[yellow]note:[/yellow] {_safe(r.message)}" + (
            f"; the cost may be up to {r.gap_text} above the optimum." if r.gap_text != "unknown" else "."))


def _safe(text: str) -> str:
    """User text for Rich: control characters (ANSI escapes) removed, markup escaped."""
    import re

    from rich.markup import escape

    return escape(re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", str(text)))


def _ci(row, col: str) -> list[float | None]:
    return [finite(row[f"{col}_ci_low"]), finite(row[f"{col}_ci_high"])]


@contextmanager
def _cluster(option: str | None):
    """The Dask executor for --scheduler / $CCPLAN_SCHEDULER (None: local), as a user error when unusable."""
    from ccplan.cluster import ClusterError, cluster_executor, scheduler_address

    try:
        with cluster_executor(scheduler_address(option)) as ex:
            yield ex
    except ClusterError as exc:
        raise UserError(str(exc)) from None


def run_simulation(scenario: Scenario, replications: int | None, seed: int | None, keep_log: bool = False,
                   label: str = "simulating", executor=None, log_sink=None):
    """Run the simulator with a progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from sim.runner import simulate as run

    reps = scenario.simulation.replications if replications is None else replications
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("replications"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=reps)
        return run(scenario, replications=reps, seed=seed, keep_log=keep_log, executor=executor,
                   progress=lambda done, total: bar.update(task, completed=done), log_sink=log_sink)


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    replications: Annotated[Optional[int], typer.Option("--replications", "-r", min=1, max=10_000, help="Number of replications (default: the scenario's).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="Master seed (default: the scenario's).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the call log (Parquet) and metric tables (CSV).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run replications on this Dask scheduler (tcp://host:8786); default: $CCPLAN_SCHEDULER, else locally.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
    yes: Yes = False,
) -> None:
    """Simulate a scenario's day; per-segment service with 95% confidence intervals, occupancy per group."""
    s = _load(scenario)
    if out is not None:
        check_dir(out, "--out", [scenario], force)
    _check_work([s], s.simulation.replications if replications is None else replications, yes, scheduler=scheduler)
    if out is None:
        with _cluster(scheduler) as ex:
            res = run_simulation(s, replications, seed, executor=ex)
    else:  # call logs go to Parquet as replications arrive (memory holds a few, not all)
        with staged_dir(out, [scenario]) as tmp:
            sink = ParquetLog(tmp / "call_log.parquet")
            try:
                with _cluster(scheduler) as ex:
                    res = run_simulation(s, replications, seed, executor=ex, log_sink=sink)
            finally:
                sink.close()
            _write_simulation(s, res, tmp, sink.sample)
    if as_json:
        _print_json(_simulate_json(s, res))
        return
    _print_simulation(s, res)
    if out is not None:
        console.print(f"call log and metrics written to {out}/")


_CALLBACK_COLS = ("callbacks_offered", "callbacks_accepted", "callbacks_made", "callbacks_within_window",
                  "callbacks_late", "callbacks_expired", "callbacks_pending", "callback_service_level",
                  "callback_resolution_s", "capped_abandon", "capped_overflow", "capped_callback")


def _has_callbacks(s: Scenario) -> bool:
    """Any segment offers callbacks or caps its queue (the simulate output then has their columns)."""
    return any(x.callback is not None or x.max_queue_s is not None for x in s.segments)


def _simulate_json(s: Scenario, res) -> dict:
    """The ``simulate --json`` object. Service level, ASA and abandonment are long-run ratios over all
    replications (ratio of sums, delta-method CI); ``service_level_daily_mean`` is the mean of the days' own
    service levels; ``days_meeting`` the share of days meeting the target (Wilson CI)."""
    return {
        "segments": {
            r["segment"]: {
                "offered": finite(r["offered"]), "answered": finite(r["answered"]),
                "abandoned": finite(r["abandoned"]), "service_level": finite(r["service_level"]),
                "service_level_ci": _ci(r, "service_level"), "asa_s": finite(r["asa_s"]),
                "abandon_rate": finite(r["abandon_rate"]), "wait_p90_s": finite(r["wait_p90_s"]),
                "blocked": finite(r["blocked"]), "disconnected": finite(r["disconnected"]),
                "retries": finite(r["offered_retry"]),
                "service_level_definition": s.sl_definition(r["segment"]),
                "asa_s_ci": _ci(r, "asa_s"), "abandon_rate_ci": _ci(r, "abandon_rate"),
                "service_level_daily_mean": finite(r["service_level_daily_mean"]),
                "days_meeting": finite(r["days_meeting"]), "days_meeting_ci": _ci(r, "days_meeting"),
                "daily_sl_p10": finite(r["daily_sl_p10"]),
                **({c: finite(r[c]) for c in _CALLBACK_COLS} if _has_callbacks(s) else {}),
            }
            for _, r in res.summary["segments"].iterrows()
        },
        "groups": {r["group"]: {"occupancy": finite(r["occupancy"])} for _, r in res.summary["groups"].iterrows()},
    }


def _print_simulation(s: Scenario, res) -> None:
    """The simulate command's tables on the terminal."""
    seg = res.summary["segments"]
    grp = res.summary["groups"]
    console.print(f"[bold]{_safe(s.name)}[/bold] — {res.replications} replications, seed {res.seed}, routing {s.routing.policy}")
    t = Table(title="Per segment (calls per day; service level, ASA and abandonment over all simulated days; "
                    "± half-width of the 95% CI)", title_justify="left")
    lost_cols = [c for c, on in (("blocked", s.capacity.lines is not None),
                                 ("disconnected", s.simulation.at_close == "disconnect")) if on]
    for col in ("segment", "offered", "answered", "abandoned", *lost_cols, "service level", "target",
                "days meeting", "day SL p10", "ASA s", "abandonment", "wait p90 s", "retries"):
        t.add_column(col, justify="left" if col == "segment" else "right")

    def ci(r, col: str, fmt: str) -> str:
        return row_ci(r, col, fmt, " ±")

    def days(r) -> str:
        if pd_isna(r["days_meeting"]):
            return "-"
        if pd_isna(r["days_meeting_ci_low"]):
            return f"{r['days_meeting']:.0%}"
        return f"{r['days_meeting']:.0%}\n[{r['days_meeting_ci_low']:.0%}–{r['days_meeting_ci_high']:.0%}]"

    for _, r in seg.iterrows():
        sl_ok = r["service_level"] >= s.sl_target(r["segment"])
        mark = "[green]✓[/green]" if sl_ok else "[red]✗[/red]"
        t.add_row(_safe(r["segment"]), f"{r['offered']:,.0f}", f"{r['answered']:,.0f}", f"{r['abandoned']:,.0f}",
                  *[f"{r[c]:,.1f}" for c in lost_cols], ci(r, "service_level", ".1%") + f" {mark}",
                  _safe(target_text(s, r["segment"])), days(r),
                  "-" if pd_isna(r["daily_sl_p10"]) else f"{r['daily_sl_p10']:.1%}", ci(r, "asa_s", ".1f"),
                  ci(r, "abandon_rate", ".2%"), ci(r, "wait_p90_s", ".0f"), f"{r['offered_retry']:,.0f}")
    console.print(t)
    console.print(f"[dim]{_safe(sl_caption(s))}; over all simulated days = all good calls ÷ all counted calls "
                  "of every replication, as an ACD reports many days. Days meeting: share of simulated days whose "
                  "own service level meets the target [95% CI]; day SL p10: one day in ten is worse.[/dim]")
    if s.simulation.busyness_cv > 0 or any(x.busyness_cv > 0 for x in s.segments):
        console.print("[dim]Volumes vary from replication to replication (busyness_cv): the intervals include "
                      "that uncertainty; the planner's formulas do not.[/dim]")
    g = Table(title="Per agent group", title_justify="left")
    for col in ("group", "occupancy", "calls handled", "overtime agent-h"):
        g.add_column(col, justify="left" if col == "group" else "right")
    for _, r in grp.iterrows():
        g.add_row(_safe(r["group"]), ci(r, "occupancy", ".1%"), f"{r['handled']:,.0f}", f"{r['overtime_s'] / 3600:,.1f}")
    console.print(g)
    if _has_callbacks(s):
        cb = Table(title="Callbacks and queue caps (per day; callback SL = made within the window / accepted; "
                         "resolution = arrival to the end of the call back)", title_justify="left")
        for col in ("segment", "offered", "accepted", "made", "within window", "late", "expired", "pending",
                    "callback SL", "resolution s", "cap", "capped abandon", "capped overflow", "capped callback"):
            cb.add_column(col, justify="left" if col in ("segment", "cap") else "right")
        by_seg = seg.set_index("segment")
        for x in s.segments:
            if x.name not in by_seg.index:
                continue
            r = by_seg.loc[x.name]
            cb.add_row(_safe(x.name), *[f"{r[c]:,.1f}" for c in _CALLBACK_COLS[:7]],
                       "-" if pd_isna(r["callback_service_level"]) else ci(r, "callback_service_level", ".1%"),
                       "-" if pd_isna(r["callback_resolution_s"]) else ci(r, "callback_resolution_s", ".0f"),
                       "-" if x.max_queue_s is None else _safe(f"{x.max_queue_s:g} s -> {x.max_queue_outcome}"),
                       *[f"{r[c]:,.1f}" for c in _CALLBACK_COLS[9:]])
        console.print(cb)


def _write_simulation(s: Scenario, res, folder: Path, sample: list) -> None:
    """simulate --out: every metric table (CSV), economics and two charts (the call log is already written);
    the waiting-time chart uses the first replications' logs (``sample``)."""
    import pandas as pd

    from ccplan import charts
    from ccplan.economics import price_simulation

    for name, df in res.summary.items():
        write_csv(df, folder / f"{name}.csv")
    for name, df in res.per_replication.items():
        write_csv(df, folder / f"{name}_per_replication.csv")
    write_csv(price_simulation(res).summary, folder / "economics.csv")
    shown = "" if len(sample) == res.replications else f" (the first {len(sample)} of {res.replications} replications)"
    _save(charts.wait_distribution_figure(pd.concat(sample, ignore_index=True),
                                          {k: s.answer_within_s(k) for k in s.segment_names},
                                          title=f"Waiting time per segment — {s.name}{shown}"), folder / "waits.png")
    _save(charts.day_figure(res.summary["intervals"], res.summary["group_intervals"],
                            title=f"Queue and occupancy over the day — {s.name}"), folder / "day.png")


def _save(fig, path: Path) -> None:
    fig.savefig(path, dpi=110)


def _compare_tables(cmp, currency: str) -> None:
    from ccplan.economics import TOTAL

    base = cmp.variants[0][0]
    for metric, fmt, title in (("service_level", ".1%", "Service level"), ("asa_s", ".1f", "ASA (s)"),
                               ("abandon_rate", ".2%", "Abandonment"), ("agent_cost", ",.0f", f"Agent cost ({currency})"),
                               ("profit", ",.0f", f"Profit contribution ({currency})")):
        what = f" ({_safe(sl_caption(cmp.variants[0][1].scenario))})" if metric == "service_level" else ""
        how = "per day" if metric in ("agent_cost", "profit") else "over all simulated days"
        t = Table(title=f"{title}{what} — {how} ±95% CI; Δ vs '{base}' with paired CI \\[unpaired CI]",
                  title_justify="left")
        t.add_column("segment")
        for name, _, _ in cmp.variants:
            t.add_column(name, justify="right")
        segs = list(dict.fromkeys(cmp.table["segment"]))
        for seg in segs:
            cells = []
            for k, (name, _, _) in enumerate(cmp.variants):
                rows = cmp.table[(cmp.table["variant"] == name) & (cmp.table["segment"] == seg)]
                if rows.empty:  # compared files need not have the same segments
                    cells.append("[dim]no such segment[/dim]")
                    continue
                r = rows.iloc[0]
                cell = row_ci(r, metric, fmt, " ±")
                diff = cmp.differences[(cmp.differences["variant"] == name) & (cmp.differences["segment"] == seg)
                                       & (cmp.differences["metric"] == metric)] if k > 0 else None
                if diff is not None and len(diff):
                    d = diff.iloc[0]
                    sig = not (d["ci_low"] <= 0 <= d["ci_high"])
                    color = "bold" if sig else "dim"
                    cell += (f"\n[{color}]Δ {delta_text(d['diff'], metric)} [{delta_text(d['ci_low'], metric, False)}, "
                             f"{delta_text(d['ci_high'], metric, False)}][/{color}] "
                             f"[dim][{delta_text(d['unpaired_ci_low'], metric, False)}, "
                             f"{delta_text(d['unpaired_ci_high'], metric, False)}][/dim]")
                cells.append(cell)
            t.add_row(_safe(seg) if seg != TOTAL else "[bold]total[/bold]", *cells)
        console.print(t)
        if metric == "service_level":  # the days behind the long-run ratio
            t = Table(title="Days meeting the target — share of simulated days whose own service level meets it "
                            "\\[95% CI]; day SL p10: one day in ten is worse", title_justify="left")
            t.add_column("segment")
            for name, _, _ in cmp.variants:
                t.add_column(name, justify="right")
            for seg in segs:
                if seg == TOTAL:
                    continue
                cells = []
                for name, _, _ in cmp.variants:
                    rows = cmp.table[(cmp.table["variant"] == name) & (cmp.table["segment"] == seg)]
                    if rows.empty or pd_isna(rows.iloc[0]["days_meeting"]):
                        cells.append("[dim]-[/dim]")
                        continue
                    r = rows.iloc[0]
                    ci_text = "" if pd_isna(r["days_meeting_ci_low"]) else \
                        f" \\[{r['days_meeting_ci_low']:.0%}–{r['days_meeting_ci_high']:.0%}]"
                    p10 = "-" if pd_isna(r["daily_sl_p10"]) else f"{r['daily_sl_p10']:.1%}"
                    cells.append(f"{r['days_meeting']:.0%}{ci_text}\np10 {p10}")
                t.add_row(_safe(seg), *cells)
            console.print(t)
    console.print("Δ in bold: the paired 95% CI excludes zero (a real difference, not noise).")


def _variants(scenarios: list[Path], vary: list[str]):
    from ccplan.comparison import variants_of

    out = []
    for path in scenarios:
        base = _load(path)
        for name, sc in variants_of(base, vary):
            label = name if vary else f"{path.stem}"
            if vary and len(scenarios) > 1:
                label = f"{path.stem}: {name}"
            out.append((label, sc))
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        out = [(f"{i + 1}. {n}", sc) for i, (n, sc) in enumerate(out)]
    return out


def _run_compare(variants, replications: Optional[int], seed: Optional[int], keep_log: bool = False,
                 executor=None):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ccplan.comparison import compare as run

    base = variants[0][1]
    reps = base.simulation.replications if replications is None else replications
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("replications"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(f"simulating {len(variants)} variants", total=reps * len(variants))
        return run(variants, replications=reps, seed=seed, keep_log=keep_log, executor=executor,
                   progress=lambda done, total: bar.update(task, completed=done))


@app.command()
def compare(
    scenarios: Annotated[list[Path], typer.Argument(help="Scenario TOML files; the first is the baseline.")],
    vary: Annotated[Optional[list[str]], typer.Option("--vary", help="PATH=V1,V2,... or PATH=START:STOP[:STEP]; e.g. routing.policy=fifo,priority or agent_groups.generalists.agents=36,40,44.")] = None,
    replications: Annotated[Optional[int], typer.Option("--replications", "-r", min=2, max=10_000, help="Replications per variant (default: the first scenario's).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="Master seed, shared by all variants (common random numbers).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for comparison tables (CSV) and charts (PNG).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run replications on this Dask scheduler (tcp://host:8786); default: $CCPLAN_SCHEDULER, else locally.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
    yes: Yes = False,
) -> None:
    """Simulate scenarios or variants side by side with common random numbers: service, cost, profit,
    and each variant's difference to the first with its paired 95% CI."""
    variants = _variants(scenarios, vary or [])
    if len(variants) < 2:
        raise UserError("compare needs at least two variants: give several files or --vary with several values")
    if out is not None:
        check_dir(out, "--out", list(scenarios), force)
    reps = variants[0][1].simulation.replications if replications is None else replications
    if not as_json:
        err_console.print(f"{len(variants)} variants x {reps} replications")
    _check_work([sc for _, sc in variants], reps, yes, scheduler=scheduler)
    with _cluster(scheduler) as ex:
        cmp = _run_compare(variants, replications, seed, executor=ex)
    currency = variants[0][1].currency
    if out is not None:
        from ccplan import charts

        with staged_dir(out, list(scenarios)) as tmp:
            write_csv(cmp.table, tmp / "comparison.csv")
            write_csv(cmp.differences, tmp / "differences.csv")
            first = cmp.variants[0][1].scenario
            for metric in ("service_level", "asa_s", "abandon_rate", "agent_cost", "profit"):
                targets = {k: first.sl_target(k) for k in first.segment_names} if metric == "service_level" else None
                _save(charts.comparison_figure(cmp.table, metric, currency, targets=targets),
                      tmp / f"compare_{metric}.png")
    if as_json:
        _print_json(cmp.to_json())
        return
    n_rep = cmp.variants[0][1].replications
    console.print(f"[bold]{len(variants)} variants[/bold], {n_rep} replications each, seed {cmp.variants[0][1].seed} "
                  f"({_safe(cmp.callers_note())})")
    _compare_tables(cmp, currency)
    if out is not None:
        console.print(f"tables and charts written to {out}/")


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    vary: Annotated[str, typer.Option("--vary", help="PATH=START:STOP[:STEP] or PATH=V1,V2,...; e.g. agent_groups.generalists.agents=30:50.")],
    replications: Annotated[Optional[int], typer.Option("--replications", "-r", min=2, max=10_000, help="Replications per point (default: the scenario's).")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="Master seed (common random numbers across points).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for the frontier table (CSV) and chart (PNG).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run replications on this Dask scheduler (tcp://host:8786); default: $CCPLAN_SCHEDULER, else locally.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the frontier as JSON records.")] = False,
    force: Force = False,
    yes: Yes = False,
) -> None:
    """Cost vs service-level frontier per segment over a range of one setting; marks the profit-maximising point."""
    from ccplan.comparison import frontier, parse_vary

    path, values = parse_vary(vary)
    if len(values) < 2:
        raise UserError("sweep needs at least two values, e.g. --vary agent_groups.team.agents=40:60")
    if out is not None:
        check_dir(out, "--out", [scenario], force)
    variants = _variants([scenario], [vary])
    reps = variants[0][1].simulation.replications if replications is None else replications
    if not as_json:
        err_console.print(f"{len(variants)} points x {reps} replications")
    _check_work([sc for _, sc in variants], reps, yes, scheduler=scheduler)
    with _cluster(scheduler) as ex:
        cmp = _run_compare(variants, replications, seed, executor=ex)
    fr = frontier(cmp, path)
    sc = variants[0][1]
    if out is not None:
        from ccplan import charts

        with staged_dir(out, [scenario]) as tmp:
            write_csv(fr, tmp / "frontier.csv")
            _save(charts.frontier_figure(fr, {k: sc.sl_target(k) for k in sc.segment_names}, path, sc.currency),
                  tmp / "frontier.png")
    if as_json:
        recs = records(fr)
        _print_json({"path": path, "frontier": recs})
        return
    t = Table(title=f"Frontier: {path} — service level (over all simulated days) and allocated agent cost per day "
                    "per segment; ★ = highest total profit",
              title_justify="left")
    t.add_column(path, justify="right")
    segs = [x for x in dict.fromkeys(fr["segment"]) if x != "total"]
    for seg in segs:
        t.add_column(f"{seg} SL", justify="right")
        t.add_column(f"{seg} cost", justify="right")
    t.add_column(f"total profit ({sc.currency})", justify="right")
    for v in dict.fromkeys(fr["variant"]):
        d = fr[fr["variant"] == v].set_index("segment")
        cells = []
        for seg in segs:
            ok = d.loc[seg, "service_level"] >= sc.sl_target(seg)
            cells += [f"{d.loc[seg, 'service_level']:.1%}{'' if ok else ' ✗'}", f"{d.loc[seg, 'agent_cost']:,.0f}"]
        star = " ★" if d["best"].any() else ""
        t.add_row(f"{_safe(d['value'].iloc[0])}{star}", *cells, f"{d.loc['total', 'profit']:,.0f}")
    console.print(t)
    if out is not None:
        console.print(f"frontier table and chart written to {out}/")


@app.command()
def forecast(
    history: Annotated[Path, typer.Argument(help="History CSV: timestamp (or date + interval_start), offered, optionally segment and aht_s.")],
    start: Annotated[Optional[str], typer.Option("--start", help="First forecast day, YYYY-MM-DD (default: the day after the history).")] = None,
    days: Annotated[int, typer.Option("--days", help="Calendar days to forecast (closed weekdays get no rows).")] = 7,
    interval_minutes: Annotated[int, typer.Option("--interval-minutes", help="Forecast interval: 15, 30 or 60 minutes (not finer than the history).")] = 30,
    segment_column: Annotated[str, typer.Option("--segment-column", help="Name of the history's segment column.")] = "segment",
    method: Annotated[str, typer.Option("--method", help="auto (the combination unless one method wins clearly and consistently in the nested backtest), last_week, mean_4_weeks, median_6_weeks, trimmed_mean_8_weeks, level_profile, top_down, ets or combination.")] = "auto",
    quantile: Annotated[float, typer.Option("--quantile", help="Which quantile of the forecast the scenarios get (0.5 = median).")] = 0.5,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the forecast as CSV (and a PNG chart beside it).")] = None,
    scenario: Annotated[Optional[Path], typer.Option("--scenario", help="Base scenario for --to-dir.")] = None,
    to_dir: Annotated[Optional[Path], typer.Option("--to-dir", help="With --scenario: write one scenario per forecast day (YYYY-MM-DD.toml).")] = None,
    country: Annotated[Optional[str], typer.Option("--country", help="Public holidays of this country (ISO code, e.g. US, GB, DE; a region as US-NY) are kept out of the patterns and marked in the forecast (default: none).")] = None,
    exclude_dates: Annotated[Optional[Path], typer.Option("--exclude-dates", help="Text/CSV file of days to keep out of the patterns: one YYYY-MM-DD a line, optionally ',label'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
) -> None:
    """Forecast calls per interval from history, with a calibrated p10-p90 band and a nested rolling-origin
    backtest of every method (by horizon week)."""
    from ccplan import forecasting
    from ccplan.history import read_history, read_special_dates
    from planner import forecast as fc

    try:  # every input is checked before the backtest starts
        forecasting.check_options(days, interval_minutes, quantile, method, country)
        first = forecasting.parse_start(start)
    except fc.ForecastError as exc:
        raise UserError(str(exc)) from None
    if (scenario is None) != (to_dir is None):
        raise UserError("--scenario and --to-dir go together: the base scenario and the folder for one scenario per day")
    inputs = [history] + ([scenario] if scenario is not None else []) + ([exclude_dates] if exclude_dates else [])
    if out is not None:
        if out.suffix.lower() == ".png":
            raise UserError(f"--out {out}: give a .csv name (the chart goes beside it as .png)")
        check_file(out, "--out", inputs, force)
        check_file(out.with_suffix(".png"), "--out (its chart)", inputs, force)
    if to_dir is not None:
        check_dir(to_dir, "--to-dir", inputs, force)
    base = _load(scenario) if scenario is not None else None
    if base is not None and base.interval_minutes != interval_minutes:
        raise UserError(f"{scenario} uses {base.interval_minutes}-minute intervals; forecast with --interval-minutes "
                        f"{base.interval_minutes}")
    excluded = read_special_dates(exclude_dates, str(exclude_dates)) if exclude_dates is not None else None
    h = read_history(history, str(history), segment_column=segment_column)
    try:
        job = forecasting.prepare(h, interval_minutes, first, days, method, quantile, base, country, excluded)
    except fc.ForecastError as exc:
        raise UserError(str(exc)) from None
    rolled, hist = job.rolled, job.segments
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("backtesting"), BarColumn(), TextColumn("{task.completed}/{task.total} segment × origin"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("", total=forecasting.backtest_units(job))
        bt = forecasting.backtest(job, progress=lambda d, t: bar.update(task, completed=d))
    try:
        fc_result = forecasting.run(job, bt)
    except fc.ForecastError as exc:
        raise UserError(str(exc)) from None
    result, per_day, notes = fc_result.intervals, fc_result.days, fc_result.notes
    written = []
    if base is not None and to_dir is not None:
        from ccplan.scenario import dump
        from ccplan.volumes import forecast_scenario

        with staged_dir(to_dir, inputs) as tmp:
            for date, day in result.groupby("date", sort=True):
                sc_day, day_notes = forecast_scenario(base, day.reset_index(drop=True), "q", interval_minutes,
                                                      label=f"p{round(quantile * 100):d}",
                                                      segments=[sh.segment for sh in hist])
                dump(sc_day, tmp / f"{date}.toml")
                written.append(str(to_dir / f"{date}.toml"))
                notes += [n for n in day_notes if n not in notes]
    table = result.drop(columns=["q"])
    if out is not None:
        from ccplan.charts import forecast_figure

        with staged_file(out, inputs) as tmp_csv, staged_file(out.with_suffix(".png"), inputs) as tmp_png:
            write_csv(table, tmp_csv)
            forecast_figure(rolled, result).savefig(tmp_png, dpi=110, format="png")
    if as_json:
        _print_json({
            "history": {"rows": int(len(h.data)), "bucket_minutes": h.bucket_minutes,
                        "days": len(h.dates), "first": str(h.dates[0]), "last": str(h.dates[-1]),
                        "missing_days": {s.segment: [str(d) for d in s.missing] for s in hist}},
            "method": method, "chosen": bt.best, "chosen_because": bt.reasons, "quantile": quantile,
            "interval_minutes": interval_minutes, "country": country,
            "holidays": {str(d): n for d, n in job.holidays.items()},
            "backtest": records(bt.table), "backtest_by_week": records(bt.by_week),
            "backtest_choices": records(bt.choices), "forecast": records(table), "days": records(per_day),
            "scenarios": written, "notes": notes})
        return
    _print_forecast(history, h, hist, bt, per_day, result, method, quantile, days, interval_minutes, out, notes,
                    written, to_dir)


def _print_forecast(history, h, hist, bt, per_day, result, method: str, quantile: float, days: int,
                    interval_minutes: int, out, notes: list[str], written: list[str], to_dir) -> None:
    """The forecast command's tables and notes on the terminal."""
    import datetime as dt

    console.print(f"[bold]{_safe(history)}[/bold]: {len(h.data):,} rows of {h.bucket_minutes}-minute buckets, "
                  f"{len(h.dates)} days with data ({h.dates[0]} to {h.dates[-1]}), segments: "
                  f"{_safe(', '.join(h.segments))}")
    for s in hist:
        if s.missing:
            console.print(f"  {_safe(s.segment)}: no data on {', '.join(map(str, s.missing))} (left out of the patterns)")
    weeks = sorted(set(bt.by_week["week"])) if len(bt.by_week) else []
    t = Table(title=f"Backtest (nested rolling origin: at each weekly origin auto chooses and every band is sized "
                    f"on earlier origins only; horizon up to {min(days, 28)} days, {interval_minutes}-min intervals): "
                    "WAPE overall and by horizon week, p10–p90 coverage", title_justify="left")
    for col in ("segment", "method", "WAPE", *[f"week {w}" for w in weeks], "p10–p90 coverage", "origins",
                "horizon (open days)"):
        t.add_column(col, justify="left" if col in ("segment", "method") else "right")
    by_week = bt.by_week.set_index(["segment", "method", "week"]) if len(bt.by_week) else None
    for r in bt.table.itertuples():
        chosen = method == "auto" and bt.best.get(r.segment) == r.method
        mark = (" [yellow]← fallback (no backtest)[/yellow]" if r.segment in bt.fallback else
                " [green]← auto uses it[/green]") if chosen else ""
        cells = [("-" if by_week is None or (r.segment, r.method, w) not in by_week.index else
                  f"{by_week.loc[(r.segment, r.method, w), 'wape']:.1%}") for w in weeks]
        t.add_row(_safe(r.segment), r.method + mark, "n/a" if pd_isna(r.wape) else f"{r.wape:.1%}", *cells,
                  "n/a" if pd_isna(r.coverage_80) else f"{r.coverage_80:.0%}", str(r.origins), str(r.horizon_days))
    if len(bt.table):
        console.print(t)
        for seg, why in bt.reasons.items():
            console.print(f"[dim]auto for {_safe(seg)}: {_safe(bt.best[seg])} — {_safe(why)}[/dim]")
    d = Table(title=f"Forecast per day (calls; p{round(quantile * 100)} goes into scenarios)", title_justify="left")
    for col in ("date", "weekday", "segment", "method", "forecast", "p10", "p90", "open", "holiday"):
        d.add_column(col, justify="left" if col in ("date", "weekday", "segment", "method", "open", "holiday")
                     else "right")
    for r in per_day.itertuples():
        g = result[(result["date"] == r.date) & (result["segment"] == r.segment)]
        d.add_row(r.date, dt.date.fromisoformat(r.date).strftime("%a"), _safe(r.segment), r.method,
                  f"{r.forecast:,.0f}", f"{r.p10:,.0f}", f"{r.p90:,.0f}",
                  f"{g['interval_start'].iloc[0]}–{g['interval_start'].iloc[-1]}", _safe(r.holiday) or "-")
    console.print(d)
    if out is not None:
        console.print(f"forecast written to {out} (chart: {out.with_suffix('.png')})")
    for n in notes:
        console.print(f"[yellow]note:[/yellow] {_safe(n)}")
    if written:
        console.print(f"{len(written)} scenario(s) written to {to_dir}/ (e.g. ccplan staff {written[0]})")


@app.command()
def backtest(
    history: Annotated[Path, typer.Argument(help="History CSV of what happened (as for ccplan forecast).")],
    scenario: Annotated[Path, typer.Option("--scenario", help="Base scenario: each day's forecast and actual volumes go into it (its segments must match the history's).")],
    origins: Annotated[int, typer.Option("--origins", help="Weekly origins to judge: the latest N the history allows.")] = 4,
    days: Annotated[int, typer.Option("--days", help="Calendar days forecast and simulated after each origin (at most 28).")] = 28,
    quantile: Annotated[float, typer.Option("--quantile", help="Staff each day for this quantile of its forecast (0.5 = median; higher buys service with agents).")] = 0.5,
    verify: Annotated[bool, typer.Option("--verify", help="Staff by simulation (ccplan.verification, without its confirmation on fresh callers, for speed) instead of the analytic plan.")] = False,
    replications: Annotated[int, typer.Option("--replications", "-r", help="Simulated replications of each actual day (the same callers under the three staffings).")] = 1,
    seed: Annotated[Optional[int], typer.Option("--seed", min=0, help="Master seed (default: the scenario's).")] = None,
    method: Annotated[str, typer.Option("--method", help="Forecast method at each origin: auto (default) or one of ccplan forecast's methods.")] = "auto",
    segment_column: Annotated[str, typer.Option("--segment-column", help="Name of the history's segment column.")] = "segment",
    country: Annotated[Optional[str], typer.Option("--country", help="Public holidays of this country (ISO code, e.g. US) are kept out of the patterns and marked (default: none).")] = None,
    exclude_dates: Annotated[Optional[Path], typer.Option("--exclude-dates", help="Text/CSV file of days to keep out of the patterns: one YYYY-MM-DD a line.")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for days.csv, service.csv, intervals.csv, summary.csv and backtest.png.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
    yes: Yes = False,
) -> None:
    """The whole chain against what happened: at each origin, forecast the next days from the history before it,
    staff each day at --quantile, and simulate it on its ACTUAL volumes; beside it, the staffing made from the
    actual volumes (oracle: the cost of forecast error) and from the naive forecast (mean of 4 same weekdays)."""
    from ccplan import backtesting as chain
    from ccplan.history import read_history, read_special_dates
    from planner import forecast as fc

    if not 0 < quantile < 1:
        raise UserError(f"--quantile must be between 0 and 1 (exclusive), got {quantile:g}")
    if replications < 1:
        raise UserError(f"--replications must be at least 1, got {replications}")
    try:
        from ccplan.forecasting import check_options

        check_options(1, 30, quantile, method, country)  # the days are checked with the history
    except fc.ForecastError as exc:
        raise UserError(str(exc)) from None
    inputs = [history, scenario] + ([exclude_dates] if exclude_dates else [])
    if out is not None:
        check_dir(out, "--out", inputs, force)
    base = _load(scenario)
    excluded = read_special_dates(exclude_dates, str(exclude_dates)) if exclude_dates is not None else None
    h = read_history(history, str(history), segment_column=segment_column)
    try:
        job = chain.prepare(h, base, origins, days, quantile, "verify" if verify else "plan", replications, seed,
                            method, country, excluded)
    except fc.ForecastError as exc:
        raise UserError(str(exc)) from None
    scenarios = list(job.actual.values())
    per_day = len(chain.KINDS) * (1 if not verify else 1 + max(20, len(base.agent_groups) * base.n_intervals))
    if not as_json:
        from ccplan.workload import estimate

        work = estimate(scenarios * per_day, replications)
        err_console.print(f"{len(job.origins)} origin(s) ({', '.join(map(str, job.origins))}) × {len(job.days)} "
                          f"simulated day(s) × 3 staffings ({'verify' if verify else 'analytic plan'}) × "
                          f"{replications} replication(s): {work.describe()}")
    _check_work(scenarios, replications, yes, per_variant=per_day)
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("forecasting", total=len(job.origins))
        res = chain.run(job, progress=lambda stage, done, total: bar.update(task, description=stage,
                                                                            completed=done, total=total))
    if out is not None:
        from ccplan.charts import chain_backtest_figure

        with staged_dir(out, inputs) as tmp:
            write_csv(res.days, tmp / "days.csv")
            write_csv(res.service, tmp / "service.csv")
            write_csv(res.intervals, tmp / "intervals.csv")
            import pandas as pd

            write_csv(pd.DataFrame([{"staffing": k, **v} for k, v in res.summary().items()]), tmp / "summary.csv")
            _save(chain_backtest_figure(res.days, res.service, {k: base.sl_target(k) for k in base.segment_names},
                                        base.currency), tmp / "backtest.png")
    if as_json:
        _print_json(res.to_json())
        return
    _print_chain(res, base, out)


def _print_chain(res, base: Scenario, out) -> None:
    """The backtest command's tables on the terminal."""
    job = res.job
    console.print(f"[bold]{_safe(job.history.source)}[/bold] against [bold]{_safe(base.name)}[/bold]: "
                  f"{len(job.origins)} origin(s), {job.horizon_days} days after each, staffed at "
                  f"p{round(job.quantile * 100)} by {'verify (no confirmation)' if job.staffing == 'verify' else 'the analytic plan'}, "
                  f"simulated on the actual volumes ({job.replications} replication(s), seed {job.seed})")
    segs = base.segment_names
    t = Table(title="Per day: service level on the actual volumes (✓ meets the target) and agent cost — staffed "
                    "from the forecast, the oracle (actual volumes) and the naive forecast", title_justify="left")
    for col in ("origin", "date", "calls", "forecast", *[f"SL {_safe(k)}" for k in segs],
                *[f"oracle SL {_safe(k)}" for k in segs], *[f"naive SL {_safe(k)}" for k in segs],
                "agent-h", "oracle agent-h", f"cost ({base.currency})", "oracle cost", "holiday"):
        t.add_column(col, justify="left" if col in ("origin", "date", "holiday") else "right")
    d = res.days.set_index(["origin", "date", "kind"])
    sv = res.service.set_index(["origin", "date", "kind", "segment"])
    for origin, date in dict.fromkeys(zip(res.days["origin"], res.days["date"])):
        f, o = d.loc[(origin, date, "forecast")], d.loc[(origin, date, "oracle")]

        def sl(kind: str, seg: str) -> str:
            r = sv.loc[(origin, date, kind, seg)]
            return "-" if pd_isna(r["service_level"]) else \
                f"{r['service_level']:.1%} {'[green]✓[/green]' if r['meets_target'] else '[red]✗[/red]'}"

        t.add_row(origin, date, f"{f['calls_actual']:,.0f}", f"{f['calls_planned']:,.0f}",
                  *[sl("forecast", k) for k in segs], *[sl("oracle", k) for k in segs],
                  *[sl("naive", k) for k in segs], f"{f['agent_hours']:,.0f}", f"{o['agent_hours']:,.0f}",
                  f"{f['cost']:,.0f}", f"{o['cost']:,.0f}", _safe(f["holiday"]) or "-")
    console.print(t)
    s = res.summary()
    from ccplan.backtesting import MIN_JUDGED_CALLS

    st_ = Table(title="Summary over every simulated day (an interval is judged with "
                      f"{MIN_JUDGED_CALLS:.0f}+ actual calls)", title_justify="left")
    for col in ("staffing", "intervals meeting target", "days meeting target", "service level", "agent-hours",
                f"cost ({base.currency})", "vs oracle"):
        st_.add_column(col, justify="left" if col == "staffing" else "right")
    for kind, label in (("forecast", f"forecast (p{round(job.quantile * 100)})"), ("oracle", "oracle (actual volumes)"),
                        ("naive", f"naive mean of 4 weeks (p{round(job.quantile * 100)})")):
        r = s[kind]
        extra = r["cost"] - s["oracle"]["cost"]
        st_.add_row(label, "-" if r["intervals_meeting_target"] is None else f"{r['intervals_meeting_target']:.1%}",
                    "-" if r["days_meeting_target"] is None else f"{r['days_meeting_target']:.1%}",
                    "-" if r["service_level"] is None else f"{r['service_level']:.1%}", f"{r['agent_hours']:,.0f}",
                    f"{r['cost']:,.0f}", "-" if kind == "oracle" else f"{extra:+,.0f} ({extra / s['oracle']['cost']:+.1%})")
    console.print(st_)
    console.print("[dim]oracle: the same staffing method fed the volumes that actually came; its cost gap is the cost "
                  "of forecast error. Where even the oracle misses the target, the staffing method itself (the "
                  "analytic plan treats each interval as a steady state) is short: try --verify.[/dim]")
    if out is not None:
        console.print(f"tables and chart written to {out}/ (days.csv, service.csv, intervals.csv, summary.csv, "
                      "backtest.png)")
    for n in res.notes:
        console.print(f"[yellow]note:[/yellow] {_safe(n)}")


@app.command("import-volumes")
def import_volumes(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    volumes: Annotated[Path, typer.Argument(help="CSV: one row per interval and one column per segment, or long format interval,segment,calls.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the new scenario (TOML).")],
    force: Force = False,
) -> None:
    """Fill each segment's calls_per_interval from an interval export (CSV) and write a new scenario."""
    from ccplan.scenario import dump
    from ccplan.volumes import apply_volumes, read_volumes

    check_file(out, "--out", [scenario, volumes], force)
    s = _load(scenario)
    if not volumes.exists():
        raise UserError(f"{volumes}: no such file")
    notes: list[str] = []
    new = apply_volumes(s, read_volumes(volumes, s, str(volumes), notes=notes))
    with staged_file(out, [scenario, volumes]) as tmp:
        dump(new, tmp)
    total = {k: float(sum(new.calls_per_interval(k))) for k in new.segment_names}
    console.print(f"ok: wrote {_safe(out)} — " + ", ".join(f"{_safe(k)} {v:,.0f} calls" for k, v in total.items()))
    for n in notes:
        console.print(f"note: {_safe(n)}")


@app.command()
def capacity(
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="Capacity plan (TOML): horizon, groups, hiring classes, fixed hires and the requirement's source (see docs/capacity.md).")],
    optimize: Annotated[bool, typer.Option("--optimize", help="Also find the cheapest hiring plan (MILP, HiGHS): hiring cost + salaries + understaffing penalty, shown beside no hiring and the fixed hires.")] = False,
    time_limit: Annotated[float, typer.Option("--time-limit", help="Time limit in seconds for each solve; the best plan found is reported with its MIP gap, and none found in time is an error (exit 1).")] = 30.0,
    vary: Annotated[Optional[str], typer.Option("--vary", help="Sweep one setting, e.g. attrition_per_month=0.02:0.06:0.01 or volume_growth=0,0.005,0.01 (weekly compound growth of the requirement): the optimal plan and its cost for each value (implies --optimize).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder for weeks.csv, hiring.csv, comparison.csv, requirement.csv and capacity.png (with --vary also sweep.csv, sweep_hires.csv and sweep.png).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    force: Force = False,
) -> None:
    """Headcount over weeks: attrition, hiring classes, training and ramp-up against the required FTE; with
    --optimize, the cheapest hiring plan (MILP, HiGHS).

    Planned FTE counts productive people (trainees 0, ramp-up at its share); over/under = planned - required;
    cost = hiring + salaries of everyone employed + the understaffing penalty per FTE-week short.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from ccplan import capacity as cap
    from planner.capacity import CapacityError

    if not time_limit > 0:
        raise UserError(f"--time-limit must be > 0 seconds, got {time_limit:g}")
    p = cap.load_plan(plan_file)
    inputs = [plan_file, *cap.input_paths(p)]
    if out is not None:
        check_dir(out, "--out", inputs, force)
    path, values = cap.parse_vary(vary, p) if vary else (None, [])
    optimize = optimize or vary is not None

    def counting(label: str, what: str) -> Progress:
        return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(what), TimeElapsedColumn(),
                        console=err_console, transient=True)

    try:
        with counting("reading the requirement", "files") as bar:
            task = bar.add_task("", total=None)
            req = cap.read_requirement(p, lambda d, t: bar.update(task, completed=d, total=t))
        with Progress(TextColumn("solving the hiring plan (HiGHS)"), BarColumn(), TextColumn("time limit {task.total:.0f} s"),
                      TimeElapsedColumn(), console=err_console, transient=True) as bar:
            task = bar.add_task("", total=time_limit)
            rep = cap.run(p, req, optimize, time_limit, lambda d, t: bar.update(task, completed=d))
        sw = None
        if path is not None:
            with counting(f"sweeping {path}", "values") as bar:
                task = bar.add_task("", total=len(values))
                sw = cap.sweep(p, req, path, values, time_limit, lambda d, t: bar.update(task, completed=d))
    except CapacityError as exc:
        raise UserError(str(exc)) from None
    m = rep.main
    if out is not None and m.ok:
        with staged_dir(out, inputs) as tmp:
            write_csv(m.weeks, tmp / "weeks.csv")
            write_csv(m.hires, tmp / "hiring.csv")
            write_csv(rep.comparison(), tmp / "comparison.csv")
            write_csv(req.table, tmp / "requirement.csv")
            _save(cap.capacity_figure(m.weeks, m.hires, f"Required and planned FTE — {p.name} ({m.label})"),
                  tmp / "capacity.png")
            if sw is not None:
                write_csv(sw.table, tmp / "sweep.csv")
                write_csv(sw.hires, tmp / "sweep_hires.csv")
                _save(cap.sweep_figure(sw), tmp / "sweep.png")
    if as_json:
        obj = rep.to_json()
        if sw is not None:
            obj["sweep"] = cap.sweep_json(sw)
        _print_json(obj)
        if not m.ok:
            sys.exit(1)
        return
    _print_capacity(rep, sw)
    if m.ok and out is not None:
        console.print(f"written to {out}/ (weeks.csv, hiring.csv, comparison.csv, requirement.csv, capacity.png"
                      + (", sweep.csv, sweep_hires.csv, sweep.png" if sw is not None else "") + ")")
    if not m.ok:
        raise UserError(f"no hiring plan: {m.message}")


def _print_capacity(rep, sw) -> None:
    """The capacity command's tables: the plans side by side, the classes, the weeks, the sweep."""
    from ccplan.capacity import COMPARISON_COLUMNS, HIRE_COLUMNS, SWEEP_COLUMNS, column_label

    p, m, cur = rep.plan, rep.main, rep.plan.currency
    status = {"optimal": "[green]optimal[/green] (gap 0)", "evaluated": "evaluated",
              "time limit": f"[yellow]time limit[/yellow], gap {m.gap_text}"}.get(m.status, f"[red]{m.status}[/red]")
    console.print(f"[bold]{_safe(p.name)}[/bold] — {p.weeks} weeks from {p.start.isoformat()}, requirement: "
                  f"{_safe(rep.requirement.source)}" + (f", growing {p.volume_growth:+.2%} a week" if p.volume_growth
                                                        else ""))
    console.print(f"Shown: {m.label} — {status}" + (f", solved in {m.solve_time_s:.1f} s" if m.label == "optimal"
                                                     else ""))
    t = Table(title=f"Hiring plans side by side (over the horizon, {_safe(cur)})", title_justify="left")
    cmp = rep.comparison()
    cols = [c for c in cmp.columns if c != "meets_min_coverage" or p.min_coverage is not None]
    for c in cols:
        t.add_column(_safe(column_label(c, "", COMPARISON_COLUMNS)), justify="left" if c in ("plan", "status")
                     else "right")
    for r in cmp.to_dict(orient="records"):
        cells = []
        for c in cols:
            v = r[c]
            if c in ("plan", "status", "meets_min_coverage"):
                cells.append(_safe(str(v)) + (" ★" if c == "plan" and v == m.label and len(cmp) > 1 else ""))
            elif v is None or pd_isna(v):
                cells.append("-")
            elif c in ("hires", "classes", "weeks_short"):
                cells.append(f"{int(v):,}")
            elif c == "shortfall_fte_weeks":
                cells.append(f"{v:,.1f}")
            else:
                cells.append(f"{v:,.0f}")
        t.add_row(*cells)
    console.print(t)
    if not m.ok:
        console.print(f"[red]{_safe(m.message)}[/red]")
        return
    if len(m.hires):
        h = Table(title=f"Hiring classes ({m.label})", title_justify="left")
        for c in m.hires.columns:
            h.add_column(_safe(column_label(c, cur, HIRE_COLUMNS)), justify="left" if c in ("group", "week_start") else "right")
        for r in m.hires.itertuples(index=False):
            h.add_row(_safe(r.group), str(r.week), r.week_start, str(r.count), str(r.productive_from_week),
                      str(r.full_from_week), f"{r.hiring_cost:,.0f}")
        console.print(h)
    else:
        console.print(f"No hiring classes ({m.label}).")
    w = Table(title=f"Per week ({m.label}): FTE; over/under = planned − required", title_justify="left")
    for c in ("week", "week of", "group", "required", "planned", "over/under", "in training", "class starts",
              f"cost ({cur})"):
        w.add_column(_safe(c), justify="left" if c in ("week of", "group") else "right")
    for r in m.weeks.itertuples(index=False):
        shown = round(float(r.over_under), 1) + 0.0  # no "-0.0": a shortfall under 0.05 FTE rounds to 0
        ou = f"{shown:+,.1f}"
        w.add_row(str(r.week), r.week_start, _safe(r.group), f"{r.required_fte:,.1f}", f"{r.planned_fte:,.1f}",
                  f"[red]{ou}[/red]" if shown < 0 else ou, f"{r.in_training:,.1f}",
                  f"+{r.hires}" if r.hires else "", f"{r.cost:,.0f}")
    console.print(w)
    console.print(f"Total cost {m.cost:,.0f} {_safe(cur)}: hiring {m.total('hiring_cost'):,.0f}, salaries "
                  f"{m.total('salary_cost'):,.0f}, understaffing penalty {m.total('understaff_cost'):,.0f} "
                  f"({m.total('shortfall_fte'):,.1f} FTE-weeks short × {p.understaff_penalty_per_fte_week:,.0f}).")
    if m.status == "time limit":
        console.print(f"[yellow]note:[/yellow] {_safe(m.message)}")
    for n in rep.notes:
        console.print(f"[yellow]note:[/yellow] {_safe(n)}")
    if sw is not None:
        s = Table(title=f"Sweep of {_safe(sw.path)}: the optimal plan for each value ({_safe(cur)})",
                  title_justify="left")
        for c in sw.table.columns:
            s.add_column(_safe(column_label(c, "", SWEEP_COLUMNS)), justify="left" if c == "status" else "right")
        for r in sw.table.to_dict(orient="records"):
            cells = []
            for c in sw.table.columns:
                v = r[c]
                if c == "status":
                    cells.append(_safe(v))
                elif c == "value":
                    cells.append(_safe(f"{v:g}" if isinstance(v, (int, float)) else str(v)))
                elif v is None or pd_isna(v):
                    cells.append("-")
                elif c == "gap":
                    cells.append(f"{v:.2%}")
                elif c in ("hires", "classes"):
                    cells.append(f"{int(v):,}")
                elif c == "shortfall_fte_weeks":
                    cells.append(f"{v:,.1f}")
                else:
                    cells.append(f"{v:,.0f}")
            s.add_row(*cells)
        console.print(s)


def pd_isna(x) -> bool:
    import math

    return x is None or (isinstance(x, float) and math.isnan(x))


def _interrupted(signum=None, frame=None) -> None:
    """Ctrl-C or SIGTERM: end every worker now, say so and exit 130. Further signals are ignored from the
    first, so a second Ctrl-C cannot interrupt the clean-up (no deadlock); exiting without waiting for
    queued work, thread pools or the solver's thread is what makes it prompt. Output files are written
    under temporary names (:mod:`ccplan.outputs`), and those are removed: nothing partial is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from ccplan.outputs import remove_staged
    from sim.runner import kill_workers

    kill_workers()
    remove_staged()
    try:
        if sys.stderr.isatty():
            sys.stderr.write("\x1b[?25h")  # the progress bar hides the cursor: show it again
        sys.stderr.write("\ninterrupted\n")
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        os._exit(130)


def main() -> None:
    """Entry point: run the CLI, turning user errors into one message and an exit code.

    Typer handles command-line errors itself (usage message, exit code 2).
    """
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        app()
    except (ScenarioError, UserError, OutputError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted()
    except OSError as exc:  # the machine refused (a full disk, a lost permission): say what and where
        if os.environ.get("CCPLAN_DEBUG") or exc.errno is None:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"error: {where}{exc.strerror or exc}\n")
        sys.exit(1)
    except MemoryError:
        sys.stderr.write("error: out of memory: the job is larger than this machine allows; use fewer "
                         "replications, a shorter day or a coarser model\n")
        sys.exit(1)
    except Exception as exc:  # a bug of ours: one line, details on request
        if os.environ.get("CCPLAN_DEBUG"):
            raise
        sys.stderr.write(f"internal error: {type(exc).__name__}: {exc} (set CCPLAN_DEBUG=1 for details)\n")
        sys.exit(3)
