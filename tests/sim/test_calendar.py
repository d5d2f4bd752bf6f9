"""The day's event calendar: SimPy's order and semantics, whatever the bucket width."""

from __future__ import annotations

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calendar import DayEnvironment, bucket_width

WIDTHS = st.sampled_from([1e-3, 0.37, 1.0, 5.0, 1e6])


def _shop(env: simpy.Environment, log: list) -> None:
    """A small SimPy model written the idiomatic way: processes, a Resource, timeouts and conditions."""
    desk = simpy.Resource(env, capacity=2)

    def customer(i: int, service: float, patience: float):
        arrive = env.now
        with desk.request() as req:
            got = yield req | env.timeout(patience)
            if req in got:
                log.append(("start", i, env.now - arrive))
                yield env.timeout(service)
                log.append(("end", i, env.now))
            else:
                log.append(("gave up", i, env.now))

    def source():
        for i in range(40):
            yield env.timeout(0.5 + (i * 7 % 5) * 0.3)
            env.process(customer(i, 1.0 + (i * 3 % 4), 2.0 + (i % 3)))

    env.process(source())


@settings(max_examples=25, deadline=None)
@given(width=WIDTHS)
def test_simpy_processes_run_as_on_simpys_own_environment(width):
    ref_log: list = []
    ref = simpy.Environment()
    _shop(ref, ref_log)
    ref.run()
    log: list = []
    env = DayEnvironment(width)
    _shop(env, log)
    env.run()
    assert log == ref_log and len(log) > 40
    assert env.now == ref.now


@settings(max_examples=60, deadline=None)
@given(times=st.lists(st.integers(0, 40).map(lambda k: k * 0.25), min_size=1, max_size=60),
       width=WIDTHS, stops=st.lists(st.floats(0.1, 12.0), max_size=3))
def test_callbacks_run_in_time_then_scheduling_order(times, width, stops):
    """Equal times run in the order they were scheduled (SimPy's rule), across bucket boundaries and
    ``run(until=...)`` stops, including callbacks that schedule more callbacks."""
    env = DayEnvironment(width)
    seen: list[tuple[float, int]] = []

    def fire(k: int) -> None:
        seen.append((env.now, k))
        if k % 3 == 0 and k < 1000:  # schedule a follow-up, sometimes at the same instant
            env.call_at(env.now + (k % 2) * 0.25, fire, (k + 1000,))

    for k, t in enumerate(times):
        env.call_at(t, fire, (k,))
    for stop in sorted(stops):
        if stop > env.now:
            env.run(until=stop)
            assert env.now == stop
            assert all(t < stop for t, _ in seen)
    env.run()
    assert [t for t, _ in seen] == sorted(t for t, _ in seen)
    firsts = [k for _, k in seen if k < 1000]
    assert firsts == sorted(range(len(times)), key=lambda k: times[k])  # ties keep scheduling order
    assert len(seen) == len(times) + sum(1 for k in range(len(times)) if k % 3 == 0)
    assert len(env) == 0


def test_run_until_leaves_events_at_that_time_for_later():
    env = DayEnvironment(1.0)
    seen = []
    env.call_at(2.0, seen.append, ("at 2",))
    env.call_at(1.5, seen.append, ("at 1.5",))
    env.run(until=2.0)
    assert seen == ["at 1.5"] and env.now == 2.0 and env.peek() == 2.0
    env.run()
    assert seen == ["at 1.5", "at 2"]
    with pytest.raises(ValueError, match="must be greater"):
        env.run(until=1.0)


def test_run_until_an_event_returns_its_value():
    env = DayEnvironment(0.5)

    def proc():
        yield env.timeout(3)
        return "done"

    assert env.run(until=env.process(proc())) == "done"
    assert env.now == 3


def test_a_failed_event_nobody_handles_crashes_the_run_as_in_simpy():
    env = DayEnvironment(1.0)

    def proc():
        yield env.timeout(1)
        raise KeyError("boom")

    env.process(proc())
    with pytest.raises(KeyError, match="boom"):
        env.run()


def test_the_bucket_width_gives_a_few_dozen_events_per_bucket():
    assert bucket_width(2_000_000, 57_600) == pytest.approx(57_600 * 32 / 2_000_000)
    assert bucket_width(0, 3600) == 3600
    with pytest.raises(ValueError, match="bucket_s"):
        DayEnvironment(0.0)


@settings(max_examples=60, deadline=None)
@given(fed=st.lists(st.integers(0, 40).map(lambda k: k * 0.25), max_size=50),
       others=st.lists(st.integers(0, 40).map(lambda k: k * 0.25), max_size=30),
       width=WIDTHS, stops=st.lists(st.floats(0.1, 12.0), max_size=3))
def test_a_feed_runs_in_time_order_with_the_other_callbacks(fed, others, width, stops):
    """``feed`` gives the same order as scheduling each fed time when the clock reaches its bucket: by time,
    every fed time exactly once, interleaved with ordinary callbacks and ``run(until=...)`` stops."""
    fed = sorted(fed)
    env = DayEnvironment(width)
    seen: list[tuple[float, str, int]] = []
    env.feed(fed, lambda i: seen.append((env.now, "fed", i)))
    for k, t in enumerate(others):
        env.call_at(t, lambda k=k: seen.append((env.now, "other", k)))
    assert len(env) == len(fed) + len(others)
    for stop in sorted(stops):
        if stop > env.now:
            env.run(until=stop)
            assert all(t < stop for t, _, _ in seen)
    env.run()
    assert [t for t, _, _ in seen] == sorted(t for t, _, _ in seen)
    assert [i for _, kind, i in seen if kind == "fed"] == list(range(len(fed)))
    assert all(t == fed[i] for t, kind, i in seen if kind == "fed")
    assert sorted(k for _, kind, k in seen if kind == "other") == list(range(len(others)))
    assert len(env) == 0


def test_a_feed_takes_only_its_first_n_times_and_one_feed_runs_at_a_time():
    env = DayEnvironment(1.0)
    seen = []
    times = [0.5, 1.5, 2.5, 3.5]
    env.feed(times, seen.append, n=3)
    with pytest.raises(RuntimeError, match="one feed at a time"):
        env.feed(times, seen.append)
    assert env.peek() == 0.5
    env.run()
    assert seen == [0, 1, 2] and env.now == 2.5
    env.feed([4.0], seen.append)  # the first one has ended
    env.run()
    assert seen == [0, 1, 2, 0] and env.now == 4.0


def test_a_finished_day_is_freed_at_once_without_waiting_for_the_garbage_collector():
    """No reference cycle outlives a run: a 2-million-call day must not keep its memory until a collection."""
    import gc
    import weakref

    from ccplan.scenario import load, presets
    from sim.model import CallCenterModel

    model = CallCenterModel(load(presets()["trainer"]), replication=0, seed=1)
    ref = weakref.ref(model)
    was_on = gc.isenabled()
    gc.disable()
    try:
        model.run()
        del model
        assert ref() is None
    finally:
        if was_on:
            gc.enable()
