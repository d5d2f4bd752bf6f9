"""A SimPy environment for long days: a bucketed event calendar and plain callbacks as events.

SimPy's :class:`simpy.Environment` keeps every scheduled event in one binary heap. On a day of millions of
calls tens of thousands of call endings are pending at once, and each push and pop then walks 15 levels of
that heap: the cost per call grows with the size of the day. :class:`DayEnvironment` is the same SimPy
environment (processes, timeouts, conditions and ``run(until=...)`` work unchanged) with two differences:

- **A bucketed calendar** (a calendar queue in the sense of Brown, 1988, "Calendar queues: a fast O(1)
  priority queue implementation for the simulation event set problem", CACM 31(10)). Time is cut into
  buckets of ``bucket_s`` seconds. Only the events of the current bucket are in a heap; an event scheduled
  in a later bucket is appended to that bucket's list, which is made a heap when the clock reaches it. With
  a bucket holding a few dozen events, pushes and pops cost the same on a 4-thousand and a 2-million-call
  day. The order is exactly SimPy's: by time, then priority, then scheduling order.
- **Plain callbacks as events** (:meth:`call_at`): ``fn(*args)`` runs at a time, with no Event object, no
  callback list and no ``partial`` per event. The call-center model schedules every abandonment, call
  ending and interval boundary this way. SimPy events and callbacks share the one calendar.
- **A feed of pre-drawn times** (:meth:`feed`): ``fn(i)`` at ``times[i]`` for a sorted array (the day's
  first call attempts, drawn in advance), entered in the calendar a bucket at a time when the clock reaches
  that bucket rather than each one by the one before.

``now`` is a plain attribute here (SimPy's is a read-only property): callbacks read it millions of times.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush
from typing import Any, Callable, Sequence

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, Event

_NEVER = 1 << 62  # a bucket index no time reaches


def _process(event: Event) -> None:
    """What :meth:`simpy.Environment.step` does with a popped SimPy event: run its callbacks, then crash the
    environment when the event failed and nobody defused it."""
    callbacks, event.callbacks = event.callbacks, None
    try:
        for callback in callbacks:
            callback(event)
    except StopSimulation:
        # as SimPy does: the event's remaining callbacks run when the simulation resumes
        event.callbacks = callbacks[callbacks.index(callback) + 1:]
        event.env.schedule(event, URGENT)
        raise
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


class DayEnvironment(simpy.Environment):
    """A SimPy environment whose event calendar costs the same per event whatever the number pending.

    ``bucket_s``: the calendar's bucket width in seconds (pick it so that a bucket holds a few dozen events:
    :func:`bucket_width`). Entries are ``(time_s, priority, sequence, fn, args)``; SimPy events are entries
    whose ``fn`` processes the event."""

    now: float = 0.0  # a plain attribute (shadows SimPy's property): set by the run loop, read by callbacks

    def __init__(self, bucket_s: float, initial_time: float = 0.0) -> None:
        if not bucket_s > 0:
            raise ValueError(f"bucket_s must be > 0, got {bucket_s}")
        self._inv_w = 1.0 / bucket_s
        self._near: list = []  # heap of the current bucket's entries
        self._far: dict[int, list] = {}  # later buckets: index -> unsorted entries
        self._buckets: list[int] = []  # heap of the indices in _far
        self._cur = int(initial_time * self._inv_w)
        self._seq = 0
        self._feed_times: Any = ()  # the feed: fn(i) at times[i] for _feed_i <= i < _feed_n
        self._feed_fn: Callable[[int], Any] | None = None
        self._feed_i = self._feed_n = 0
        self._feed_b = _NEVER  # bucket of the feed's next time
        super().__init__(initial_time)
        # SimPy's one heap and its counter are replaced by the calendar: gone, so that nothing can use them
        # unnoticed (and a copy of the environment holds no itertools.count, which Python 3.14 cannot copy)
        del self._queue, self._eid

    # SimPy's methods read and write ``_now``; here it is the plain ``now``
    @property
    def _now(self) -> float:  # type: ignore[override]
        return self.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.now = value

    def __len__(self) -> int:
        """Entries scheduled and not yet processed (the feed's times not yet entered included)."""
        return len(self._near) + sum(len(v) for v in self._far.values()) + self._feed_n - self._feed_i

    def pending(self) -> list[tuple]:
        """Every scheduled entry ``(time_s, priority, sequence, fn, args)``, in no particular order (without
        the feed's times not yet entered in the calendar)."""
        out = list(self._near)
        for lst in self._far.values():
            out.extend(lst)
        return out

    def call_at(self, time_s: float, fn: Callable[..., Any], args: tuple = (), priority: int = NORMAL) -> None:
        """Run ``fn(*args)`` at ``time_s`` (never before :attr:`now`: not checked, millions of calls per day),
        after what is already scheduled then at the same ``priority`` (URGENT before NORMAL, as in SimPy)."""
        self._seq = seq = self._seq + 1
        entry = (time_s, priority, seq, fn, args)
        b = int(time_s * self._inv_w)
        if b == self._cur:
            heappush(self._near, entry)
        else:
            lst = self._far.get(b)
            if lst is None:
                self._far[b] = [entry]
                heappush(self._buckets, b)
            else:
                lst.append(entry)

    def schedule(self, event: Event, priority: int = NORMAL, delay: float = 0) -> None:
        """Schedule a SimPy event (SimPy's contract: processed at ``now + delay``, URGENT before NORMAL)."""
        self.call_at(self.now + delay, _process, (event,), priority)

    def feed(self, times: Sequence[float], fn: Callable[[int], Any], n: int | None = None) -> None:
        """Call ``fn(i)`` at ``times[i]`` for i < ``n`` (default: all); ``times`` sorted, none before
        :attr:`now`. The entries of a bucket are made when the clock reaches it, numbered then in the
        order of the times (so at one instant they follow what was scheduled for it earlier)."""
        if self._feed_i < self._feed_n:
            raise RuntimeError("a feed is still running: one feed at a time")
        self._feed_times, self._feed_fn = times, fn
        self._feed_i, self._feed_n = 0, len(times) if n is None else n
        self._feed_b = int(times[0] * self._inv_w) if self._feed_n else _NEVER
        if self._feed_b <= self._cur:
            self._take_feed(self._near)
            heapify(self._near)

    def _take_feed(self, into: list) -> None:
        """Append the feed's entries of the current bucket to ``into`` (not yet a heap)."""
        times, fn, inv, b = self._feed_times, self._feed_fn, self._inv_w, self._cur
        i, n, seq = self._feed_i, self._feed_n, self._seq
        while i < n:
            t = times[i]
            if int(t * inv) > b:
                break
            seq += 1
            into.append((t, NORMAL, seq, fn, (i,)))
            i += 1
        self._feed_i, self._seq = i, seq
        if i < n:
            self._feed_b = int(times[i] * inv)
        else:  # the feed has ended: drop it (its callback is often a bound method of the owner of this
            # environment, a reference cycle that would keep a finished day's memory until a collection)
            self._feed_b, self._feed_times, self._feed_fn = _NEVER, (), None

    def _advance(self, limit: int | None = None) -> bool:
        """Make the next non-empty bucket (at most ``limit``) the current one; False when there is none."""
        fb = self._feed_b
        b = self._buckets[0] if self._buckets and self._buckets[0] < fb else fb
        if b == _NEVER or (limit is not None and b > limit):
            return False
        if self._buckets and self._buckets[0] == b:
            heappop(self._buckets)
            near = self._far.pop(b)
        else:
            near = []
        self._cur = b
        if fb == b:
            self._take_feed(near)
        heapify(near)
        self._near = near
        return True

    def peek(self) -> float:
        """The time of the next scheduled entry, or infinity."""
        if self._near:
            return self._near[0][0]
        nxt = self._feed_times[self._feed_i] if self._feed_i < self._feed_n else float("inf")
        if self._buckets:
            return min(min(self._far[self._buckets[0]])[0], nxt)
        return nxt

    def step(self) -> None:
        """Process the next entry (raise :exc:`simpy.core.EmptySchedule` when there is none)."""
        if not self._near and not self._advance():
            raise EmptySchedule()
        self.now, _, _, fn, args = heappop(self._near)
        fn(*args)

    def run(self, until: float | Event | None = None) -> Any:
        """Process entries until none is left, until the clock reaches ``until`` (entries at exactly that
        time are left for later, as in SimPy), or until the event ``until`` is processed (its value is
        returned)."""
        if isinstance(until, Event):
            return super().run(until)  # SimPy's loop (step() above) with its StopSimulation callback
        if until is None:
            # inlined for speed: step() without its checks (the day's millions of events)
            pop = heappop
            while True:
                near = self._near
                while near:
                    self.now, _, _, fn, args = pop(near)
                    fn(*args)
                if not self._advance():
                    return None
        at = float(until)
        if at <= self.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        limit = int(at * self._inv_w)
        while True:
            near = self._near
            if not near and not self._advance(limit):
                break
            near = self._near
            if near[0][0] >= at:
                break
            self.now, _, _, fn, args = heappop(near)
            fn(*args)
        self.now = at
        return None


def bucket_width(events: float, span_s: float, per_bucket: float = 32.0) -> float:
    """A bucket width (seconds) giving about ``per_bucket`` events per bucket when ``events`` are spread over
    ``span_s`` seconds."""
    if events <= 0 or span_s <= 0:
        return max(span_s, 1.0)
    return max(span_s * per_bucket / events, 1e-3)


