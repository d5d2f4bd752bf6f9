"""The SimPy model of a call-center day: calls, queues, agent groups and their schedules.

Design (a dispatcher, not one process per call): a SimPy environment drives the
day (:class:`sim.calendar.DayEnvironment`, whose bucketed calendar costs the same
per event on a day of 4 thousand or 2 million calls), and every happening is a
plain callback on its calendar — an arrival (the first attempts are fed in
advance), a caller's patience running out, a call ending, an overflow group's
wait threshold, an interval boundary. Waiting calls sit in one FIFO queue per
segment (plus one for escalations); when an agent becomes free, the routing
policy picks among the heads of the queues the agent's group may serve. This
avoids a generator, a resource request and a condition event per call.

Rules:
- An arriving call goes to a free agent of the first group that is skilled for it
  and may take it, in the segment's ``groups`` order (default: scenario order);
  with ``routing.agent_choice = "random"`` a group is drawn with probability
  proportional to its free agents, with ``"longest_idle"`` the group whose free
  agent has been idle longest takes it. A segment's own ``agent_choice``
  overrides the routing's for its calls. Otherwise the call waits.
- Queue caps: a caller of a segment with ``max_queue_s`` still waiting that long
  leaves the queue: ``abandon`` (an abandonment at the cap: exactly a patience of
  min(patience, cap), same draw), ``callback`` (offered a callback; one who
  declines hangs up) or ``overflow:SEGMENT`` (moved to that queue in arrival-time
  order, keeping its arrival time and patience; not capped again).
- Callbacks (``[segments.callback]``): a caller is offered a callback after
  waiting ``offer_after_s`` (mode ``waited``; 0: as soon as it queues) or, mode
  ``expected_wait``, on arrival when (calls ahead + 1) x mean handle time / agents
  on duty for the segment exceeds it; accepted with ``accept_probability`` (the
  caller leaves the queue). A callback ranks below every inbound call: an agent of
  one of the segment's groups makes it only when no inbound call waits in any
  queue its group serves; the earliest due first. Each attempt reaches the
  customer with ``answer_probability`` (then aht_factor x the call's handle time);
  an unanswered one costs no agent time and is retried window_s / attempts later,
  up to ``attempts``, then expires. At closing, ``serve`` makes the pending ones in
  overtime; ``disconnect`` expires them.
- A free agent takes, among the queue heads its group may serve, the first in
  the group's ``serves`` order when given, else the routing policy's choice.
- With ``capacity.lines``, a call arriving when that many calls are in the system
  (waiting or in service, escalation included) is blocked; blocked and abandoned
  callers retry with the segment's retrial settings (exponential or fixed delay;
  ``retrial_same_caller`` keeps the attempt's patience and handle time).
- A group's ``handle_time_factor`` for a segment multiplies the handle time of
  the calls of that segment it answers (the escalation leg is not scaled).
- ``aht_s`` and ``patience_s`` given per interval: a call's handle time and patience
  are drawn with the values of the interval in which it (or its retry) arrives.
- ``busyness_cv`` (day and per segment) multiplies the arrival rates by gamma
  factors with mean 1, one per replication, from their own streams.
- A group with ``accepts_after_s`` only takes calls that waited that long; a group
  with ``reserve`` keeps that many agents free for ``reserve_for`` segments.
- Available agents per interval = floor(scheduled x (1 - shrinkage)). At an
  interval boundary free agents leave at once; busy ones finish their call first.
- Abandoned callers call again with ``retrial_probability`` after an exponential
  delay (a new attempt, flagged ``retry``), at most ``max_retrials`` times per
  caller; a retry after closing is served in overtime (``at_close = "serve"``, an
  agent called back if all have gone) or disconnected (``"disconnect"``).
- An answered call is escalated with ``escalation_probability`` when its handle
  time ends: it waits (first, ahead of every other call) for a group with the
  ``escalation`` skill and takes ``escalation_aht_s``.
- After the last interval no call arrives; agents stay until the queues they
  serve are empty (overtime), then leave. Callers keep abandoning meanwhile.
  With ``simulation.at_close = "disconnect"`` the calls still waiting for a first
  answer are disconnected at closing instead (escalations in the queue are served).

Times in seconds from the start of the first interval.
"""

from __future__ import annotations

import gc
from array import array
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from ccplan.scenario import ESCALATION_SKILL, Scenario, read_samples
from sim.arrivals import busyness_factor, distribution, poisson_arrivals, stream
from sim.calendar import DayEnvironment, bucket_width
from sim.routing import Policy, policy_for

WAITING, ANSWERED, ABANDONED, BLOCKED, DISCONNECTED = 0, 1, 2, 3, 4
CALLBACK = 5  # an inbound attempt whose caller accepted a callback (left the queue)
CAP_ABANDON, CAP_OVERFLOW, CAP_CALLBACK = 1, 2, 3  # how a queue cap (max_queue_s) ended a wait
CB_NONE, CB_PENDING, CB_DONE, CB_EXPIRED = 0, 1, 2, 3  # a callback's state (c_cb_state)
_NEG_INF = float("-inf")


def _per_interval(value) -> np.ndarray | None:
    """A per-interval list as an array; None for a single value (or no value)."""
    return np.asarray(value, float) if isinstance(value, tuple) else None


def _scaled(draws: np.ndarray, scale: np.ndarray | None, where: np.ndarray) -> np.ndarray:
    """Unit-mean draws times each call's arrival-interval value; draws unchanged for a single value."""
    return draws if scale is None else draws * scale[where]



class _Absent:
    """A per-call column a scenario never uses (escalation without escalation groups): appends are dropped, and
    it reads back as a constant array of the calls' length (no memory per call)."""

    def __init__(self, typecode: str, fill: float) -> None:
        self.typecode = typecode
        self.fill = fill

    def append(self, _value) -> None:
        pass

    def __getitem__(self, _index):
        return self.fill

    def __len__(self) -> int:
        return 0


_DTYPES = {"d": np.float64, "i": np.int32, "b": np.int8, "h": np.int16}


@dataclass
class _Group:
    name: str
    index: int
    queue_ids: list[int]
    accepts_after_s: float
    reserve: int
    reserve_set: frozenset[int]
    free: list[int] = field(default_factory=list)
    off: list[int] = field(default_factory=list)
    busy: int = 0
    leaving: int = 0
    target: int = 0
    next_id: int = 0
    overtime_s: float = 0.0
    finishing_s: float = 0.0
    leave_since: float = 0.0
    handled: int = 0
    serves_q: list[int] = field(default_factory=list)  # queue preference (``serves``); empty: the policy decides
    since: dict[int, float] = field(default_factory=dict)  # agent -> time it became free (longest_idle)


class CallCenterModel:
    """One replication of a scenario's day. Build, then :meth:`run`; results are in :meth:`log_arrays`."""

    def __init__(self, scenario: Scenario, replication: int = 0, seed: int | None = None,
                 policy: Policy | None = None, check_invariants: bool = False,
                 available: np.ndarray | None = None) -> None:
        """``available`` (groups x intervals, optional) replaces the agents on the phones that the
        scenario's schedule and shrinkage give: the verifier tries staffing variants this way
        without building a new Scenario for each."""
        self.scenario = scenario
        self.seed = scenario.simulation.seed if seed is None else seed
        self.replication = replication
        self.policy = policy or policy_for(scenario.routing)
        self.check = check_invariants
        self.violations: list[str] = []
        self.interval_s = scenario.interval_s
        self.n_intervals = scenario.n_intervals
        self.close_s = self.n_intervals * self.interval_s
        self.closed = False

        segs = scenario.segments
        self.n_seg = len(segs)
        esc_groups = scenario.escalation_groups()
        self.esc_q = self.n_seg if esc_groups else -1
        n_q = self.n_seg + (1 if esc_groups else 0)
        self.queues: list[deque] = [deque() for _ in range(n_q)]
        self.q_prio = [s.priority for s in segs] + ([0] if esc_groups else [])

        # groups; a segment with ``groups`` is served by those only, in that order
        seg_index = {s.name: i for i, s in enumerate(segs)}
        allowed = {i: set(s.groups) for i, s in enumerate(segs) if s.groups is not None}
        self.groups: list[_Group] = []
        for gi, g in enumerate(scenario.agent_groups):
            qids = [seg_index[k] for k in g.skills if k in seg_index and (seg_index[k] not in allowed
                                                                          or g.name in allowed[seg_index[k]])]
            if ESCALATION_SKILL in g.skills and esc_groups:
                qids = [self.esc_q] + qids  # escalations first
            self.groups.append(_Group(
                name=g.name, index=gi, queue_ids=qids, accepts_after_s=g.accepts_after_s, reserve=g.reserve,
                reserve_set=frozenset(seg_index[k] for k in g.reserve_for),
                serves_q=[seg_index[k] for k in (g.serves or ()) if k in seg_index and seg_index[k] in qids],
            ))
        by_name = {grp.name: grp for grp in self.groups}
        self.q_groups = [[grp for grp in self.groups if q in grp.queue_ids] for q in range(n_q)]
        for i, s in enumerate(segs):
            if s.groups is not None:
                self.q_groups[i] = [by_name[name] for name in s.groups]
        # handle_time_factor: how much longer a group takes on a segment (proficiency); None when all are 1
        factors = [[scenario.handle_factor(g, sg.name) for sg in segs] for g in scenario.agent_groups]
        self.factor = factors if any(f != 1.0 for row in factors for f in row) else None
        self.choice = scenario.routing.agent_choice
        # a segment's own agent_choice overrides the routing's for its arriving calls (escalations: the routing's)
        self.q_choice = [s.agent_choice or self.choice for s in segs] + ([self.choice] if esc_groups else [])
        # flags read once per call (inlined for speed: no string compares on the hot path)
        self.by_preference = all(c == "preference" for c in self.q_choice)
        self.longest_idle = any(c == "longest_idle" for c in self.q_choice)  # agents' idle times are tracked
        self.idle_first = [c == "longest_idle" for c in self.q_choice]  # per queue: the longest-idle agent answers
        # a stream is made only when the scenario draws from it (making one costs 36 us; streams are keyed by
        # name, so skipping one changes no other)
        self.route_rng = stream(self.seed, replication, "__routing__", "routing") \
            if "random" in self.q_choice else None
        # queue caps: per segment None or (max_queue_s, target queue or -1 for "abandon"); None when no segment
        # has one, so the arrival path pays one test
        caps = [None if s.max_queue_s is None else
                (s.max_queue_s, seg_index[s.max_queue_outcome[len("overflow:"):]]
                 if s.max_queue_outcome.startswith("overflow:") else (-2 if s.max_queue_outcome == "callback" else -1))
                for s in segs]
        self.caps = caps if any(c is not None for c in caps) else None
        # callbacks: per segment the [segments.callback] settings or None; None when no segment offers them
        cbs = [s.callback for s in segs]
        self.cb = cbs if any(c is not None for c in cbs) else None
        self.cb_rng = [stream(self.seed, replication, s.name, "callback") if s.callback is not None else None
                       for s in segs] if self.cb is not None else None
        self.cb_queues: list[deque] = [deque() for _ in segs]  # accepted callbacks waiting for an agent, by due time
        # a queued call needs more than its patience timer (caps or callbacks): one test on the queueing path
        self.extras = self.caps is not None or self.cb is not None
        self.lines = scenario.capacity.lines
        self.in_system = 0
        self.disconnect = scenario.simulation.at_close == "disconnect"
        self.q_overflow = [[grp for grp in gl if grp.accepts_after_s > 0] for gl in self.q_groups]
        # per group: the segments with callbacks whose calls it takes (callbacks are made by the segment's groups)
        self.cb_q = [[q for q in range(self.n_seg) if self.cb is not None and self.cb[q] is not None
                      and any(x is grp for x in self.q_groups[q])] for grp in self.groups]
        if available is None:
            self.avail = np.vstack([scenario.available_per_interval(g) for g in scenario.agent_groups])
        else:
            self.avail = np.asarray(available, dtype=np.int64).reshape(len(scenario.agent_groups), self.n_intervals)

        # random streams and pre-drawn callers (common random numbers)
        self.handle_dist = []
        self.esc_handle_dist = []
        self.patience_dist = []
        self.esc_p = []
        self.retry_p = []
        self.retry_delay = []
        self.retry_rng = []
        self.scales: list[tuple] = []  # per segment: per-interval handle, patience, escalation scales (or None)
        self.retry_fixed = [s.retrial_delay == "fixed" for s in segs]
        self.retry_max = [s.max_retrials for s in segs]
        self.retry_same = [s.retrial_same_caller for s in segs]
        day_cv = scenario.simulation.busyness_cv
        day_busy = busyness_factor(stream(self.seed, replication, "__day__", "busyness"), day_cv) if day_cv > 0 \
            else 1.0
        has_esc = self.esc_q >= 0
        seg_ids, times, handle, patience, esc_u, esc_handle = [], [], [], [], [], []
        for i, s in enumerate(segs):
            rng_arr = stream(self.seed, replication, s.name, "arrivals")
            busy = day_busy * (busyness_factor(stream(self.seed, replication, s.name, "busyness"), s.busyness_cv)
                               if s.busyness_cv > 0 else 1.0)
            t = poisson_arrivals(rng_arr, scenario.calls_per_interval(s) * busy, self.interval_s)
            n = len(t)
            # a value per interval: draw with mean 1 and scale by the arrival interval's value
            h_scale = _per_interval(s.aht_s)
            p_scale = _per_interval(s.patience_s)
            e_scale = None if s.escalation_aht_s is not None else h_scale
            h_samples = read_samples(s.handle_time_file) if s.handle_time == "empirical" else None
            p_samples = read_samples(s.patience_file) if s.patience == "empirical" else None
            aht_one = s.aht_s if s.aht_s is not None else (None if h_samples is None else float(h_samples.mean()))
            hd = distribution(s.handle_time, 1.0 if h_scale is not None else aht_one, s.handle_cv, h_samples)
            pd_ = distribution(s.patience, 1.0 if p_scale is not None else s.patience_s, s.patience_coef_var,
                               p_samples)
            ed = distribution(s.handle_time, 1.0 if e_scale is not None else (s.escalation_aht_s or aht_one),
                              s.handle_cv, h_samples)
            self.handle_dist.append(hd)
            self.esc_handle_dist.append(ed)
            self.patience_dist.append(pd_)
            self.scales.append((h_scale, p_scale, e_scale))
            self.esc_p.append(s.escalation_probability)
            self.retry_p.append(s.retrial_probability)
            self.retry_delay.append(s.retrial_delay_s)
            self.retry_rng.append(stream(self.seed, replication, s.name, "retrial") if s.retrial_probability > 0
                                  else None)
            seg_ids.append(np.full(n, i))
            times.append(t)
            where = np.minimum((t // self.interval_s).astype(np.int64), self.n_intervals - 1)
            handle.append(_scaled(hd.sample(stream(self.seed, replication, s.name, "handle"), n), h_scale, where))
            patience.append(_scaled(pd_.sample(stream(self.seed, replication, s.name, "patience"), n), p_scale, where))
            if has_esc:
                esc_u.append(stream(self.seed, replication, s.name, "escalation").random(n))
                esc_handle.append(_scaled(ed.sample(stream(self.seed, replication, s.name, "escalation_handle"), n),
                                          e_scale, where))
        t_all = np.concatenate(times)
        order = np.argsort(t_all, kind="stable")
        self.n_first = len(order)
        # per-call columns as typed arrays: fast element access, 1-8 bytes per value, retries append
        def col(code: str, values) -> array:
            out = array(code)
            out.frombytes(np.ascontiguousarray(values, dtype=_DTYPES[code]).tobytes())
            return out

        n = self.n_first
        # about 2.2 events per call (arrival, ending, abandonment timer of those who wait)
        self.env = DayEnvironment(bucket_width(2.5 * n + self.n_intervals, self.close_s))
        self.c_seg = col("i", np.concatenate(seg_ids)[order])
        self.c_arrival = col("d", t_all[order])
        self.c_handle = col("d", np.concatenate(handle)[order])
        self.c_patience = col("d", np.concatenate(patience)[order])
        # without escalation groups the escalation columns are never read or written: no memory for them
        self.c_esc_u = col("d", np.concatenate(esc_u)[order]) if has_esc else _Absent("d", 0.0)
        self.c_esc_handle = col("d", np.concatenate(esc_handle)[order]) if has_esc else _Absent("d", 0.0)
        self.c_caller = col("i", np.arange(n))  # the original caller of each attempt
        self.c_attempt = array("h", [0]) * n  # retries before this attempt (bounded by max_retrials)
        nan_d = array("d", [np.nan])
        self.c_retry = array("b", [0]) * n
        self.c_state = array("b", [WAITING]) * n
        self.c_answer = nan_d * n
        self.c_end = nan_d * n
        self.c_abandon = nan_d * n
        self.c_group = array("i", [-1]) * n
        self.c_agent = array("i", [-1]) * n
        # the queue cap that ended a wait (CAP_ABANDON, CAP_OVERFLOW): a column only when a segment has a cap
        self.c_cap = array("b", [0]) * n if self.caps is not None else _Absent("b", 0)
        if self.cb is not None:  # the callback leg of each attempt (offer, acceptance, the call made)
            self.c_cb_offer, self.c_cb_answer, self.c_cb_end = nan_d * n, nan_d * n, nan_d * n
            self.c_cb_accept = nan_d * n
            self.c_cb_state = array("b", [CB_NONE]) * n
            self.c_cb_tries = array("h", [0]) * n
            self.c_cb_group = array("i", [-1]) * n
            self.c_cb_agent = array("i", [-1]) * n
        else:
            self.c_cb_offer, self.c_cb_answer, self.c_cb_end, self.c_cb_accept = (_Absent("d", np.nan)
                                                                                   for _ in range(4))
            self.c_cb_state, self.c_cb_tries = _Absent("b", 0), _Absent("h", 0)
            self.c_cb_group, self.c_cb_agent = _Absent("i", -1), _Absent("i", -1)
        if has_esc:
            self.c_esc = array("b", [0]) * n
            self.c_esc_enq = nan_d * n
            self.c_esc_answer = nan_d * n
            self.c_esc_end = nan_d * n
            self.c_esc_group = array("i", [-1]) * n
            self.c_esc_agent = array("i", [-1]) * n
        else:
            self.c_esc, self.c_esc_group, self.c_esc_agent = _Absent("b", 0), _Absent("i", -1), _Absent("i", -1)
            self.c_esc_enq, self.c_esc_answer, self.c_esc_end = (_Absent("d", np.nan) for _ in range(3))

    # ------------------------------------------------------------------ scheduling
    def _at(self, delay: float, fn, *args) -> None:
        """Call ``fn(*args)`` ``delay`` seconds from now (a plain callback on the day's calendar)."""
        env = self.env
        env.call_at(env.now + delay, fn, args)

    def run(self) -> "CallCenterModel":
        """Simulate the whole day, overtime included.

        Python's cyclic garbage collector is off during the run: the events and calls are freed by reference
        counting as they finish, and the collector's passes over the growing heap of live objects cost up to
        40% on a day of millions of calls (``python -m benchmarks percall``)."""
        self.start()
        was_on = gc.isenabled()
        gc.disable()
        try:
            self.env.run()
        finally:
            if was_on:
                gc.enable()
        return self

    def start(self) -> None:
        """Schedule the day's first events (interval boundaries, closing, the first arrival)."""
        for i in range(self.n_intervals):
            self._at(i * self.interval_s, self._boundary, i)
        self._at(self.close_s, self._close)
        # the first attempts are drawn in advance: the calendar enters them a bucket at a time
        self.env.feed(self.c_arrival, self._arrive, self.n_first)

    def run_until_interval(self, interval: int) -> None:
        """Advance a started model to the start of ``interval``, before its staffing change is applied,
        so that a copy (``copy.deepcopy``) can go on with other agents from there."""
        until = interval * self.interval_s
        if until > self.env.now:
            self.env.run(until=until)

    # ------------------------------------------------------------------ events
    def _may_take(self, g: _Group, q: int) -> bool:
        return g.free and g.accepts_after_s == 0 and (
            g.reserve == 0 or len(g.free) > g.reserve or q in g.reserve_set or self.closed)

    def _arrive(self, cid: int) -> None:
        q = self.c_seg[cid]
        if self.lines is not None:
            if self.in_system >= self.lines:
                self.c_state[cid] = BLOCKED
                self._maybe_retry(cid, q, self.env.now)
                return
            self.in_system += 1
        if self.by_preference:
            for g in self.q_groups[q]:
                # inlined for speed: _may_take(g, q)
                if g.free and not g.accepts_after_s and (
                        not g.reserve or len(g.free) > g.reserve or q in g.reserve_set or self.closed):
                    self._start(g, cid, 0)
                    return
        else:
            cands = [g for g in self.q_groups[q] if self._may_take(g, q)]
            if cands:
                self._start(self._choose(cands, q), cid, 0)
                return
        self.queues[q].append(cid)
        pat = self.c_patience[cid]
        if self.extras:
            if self._queued_extras(cid, q, pat):
                return
        elif pat != float("inf"):
            env = self.env
            env.call_at(env.now + pat, self._abandon, (cid,))
        for g in self.q_overflow[q]:
            self._at(g.accepts_after_s, self._overflow_check, g)

    def _queued_extras(self, cid: int, q: int, pat: float) -> bool:
        """Timers of a call just queued in a scenario with caps or callbacks; True when it accepted a callback
        on arrival (it left the queue)."""
        cb = self.cb[q] if self.cb is not None else None
        if cb is not None:
            if cb.mode == "expected_wait":
                if self._expected_wait(q) > cb.offer_after_s and self._offer(cid, q):
                    return True
            elif cb.offer_after_s <= 0:
                if self._offer(cid, q):
                    return True
            elif cb.offer_after_s < pat:
                self._at(cb.offer_after_s, self._offer_timer, cid, q)
        if self.caps is not None and self.caps[q] is not None and self.caps[q][0] < pat:
            self._cap_timer(cid, q, pat)
        elif pat != float("inf"):
            self._at(pat, self._abandon, cid)
        return False

    # ------------------------------------------------------------------ callbacks
    def _expected_wait(self, q: int) -> float:
        """The wait a caller queueing now can expect: (calls ahead + 1) x the segment's mean handle time / the
        agents on duty in the groups that take it (infinite when none are)."""
        dq = self.queues[q]
        ahead = sum(1 for c in dq if self.c_state[c] == WAITING)  # the caller itself included (just queued)
        agents = sum(len(g.free) + g.busy for g in self.q_groups[q])
        return ahead * float(self.handle_dist[q].mean if self.scales[q][0] is None else
                             np.mean(self.scales[q][0])) / agents if agents else float("inf")

    def _offer_timer(self, cid: int, q: int) -> None:
        if self.c_state[cid] == WAITING:
            self._offer(cid, q)

    def _offer(self, cid: int, q: int) -> bool:
        """Offer a waiting caller a callback; on acceptance the caller leaves the queue and the callback waits
        for an agent (True)."""
        cb = self.cb[q]
        now = self.env.now
        self.c_cb_offer[cid] = now
        if self.cb_rng[q].random() >= cb.accept_probability:
            return False
        self.c_state[cid] = CALLBACK
        self.c_cb_accept[cid] = now
        self.c_cb_state[cid] = CB_PENDING
        if self.lines is not None:
            self.in_system -= 1  # the caller hung up
        self._cb_enqueue(cid, q)
        return True

    def _cb_enqueue(self, cid: int, q: int) -> None:
        """A callback (new, or due for another attempt) waits for an agent of the segment's groups."""
        if self.closed and self.disconnect:
            self.c_cb_state[cid] = CB_EXPIRED  # the center has closed: the promise is broken
            return
        self.cb_queues[q].append(cid)
        if self.closed and not any(g.busy or g.free for g in self.q_groups[q]):
            self._recall(self.q_groups[q][0])
        for g in self.q_groups[q]:
            if g.free:
                self._dispatch(g)

    def _inbound_waiting(self, g: _Group) -> bool:
        state = self.c_state
        for q in g.queue_ids:
            dq = self.queues[q]
            if q != self.esc_q:
                while dq and state[dq[0]] != WAITING:
                    dq.popleft()
            if dq:
                return True
        return False

    def _dispatch_callbacks(self, g: _Group) -> None:
        """Callbacks rank below inbound calls: a free agent makes one only when no inbound call waits in any
        queue its group serves (escalations included); among the callbacks of the segments it takes, the one
        due first (acceptance + window_s)."""
        cbq = self.cb_queues
        while g.free and not self._inbound_waiting(g):
            best, best_due = -1, None
            for q in self.cb_q[g.index]:
                if cbq[q]:
                    due = self.c_cb_accept[cbq[q][0]] + self.cb[q].window_s
                    if best_due is None or due < best_due:
                        best, best_due = q, due
            if best < 0:
                return
            self._callback_attempt(g, cbq[best].popleft(), best)

    def _callback_attempt(self, g: _Group, cid: int, q: int) -> None:
        """An agent calls the customer back: reached with answer_probability (the agent then serves aht_factor x
        the call's handle time), else another attempt window_s / attempts later, or the callback expires."""
        cb = self.cb[q]
        self.c_cb_tries[cid] += 1
        if self.cb_rng[q].random() < cb.answer_probability:
            agent = g.free.pop()
            g.busy += 1
            g.handled += 1
            now = self.env.now
            self.c_cb_answer[cid] = now
            self.c_cb_group[cid] = g.index
            self.c_cb_agent[cid] = agent
            ht = self.c_handle[cid] * cb.aht_factor
            if self.factor is not None:
                ht *= self.factor[g.index][q]
            self.env.call_at(now + ht, self._finish, (g, agent, cid, 2))
        elif self.c_cb_tries[cid] >= cb.attempts:
            self.c_cb_state[cid] = CB_EXPIRED
        else:
            self._at(cb.window_s / cb.attempts, self._cb_enqueue, cid, q)

    def _cap_timer(self, cid: int, q: int, pat: float) -> None:
        """A queued call whose segment's cap comes before its patience: one timer at the cap. With outcome
        ``abandon`` it replaces the patience timer, so a cap is exactly a patience of min(patience, cap) drawn
        from the same patience stream; with ``overflow`` the patience timer stays (the caller keeps waiting
        elsewhere)."""
        env = self.env
        cap, target = self.caps[q]
        if target == -2:
            env.call_at(env.now + cap, self._cap_callback, (cid, q))
            return
        if target < 0:
            env.call_at(env.now + cap, self._cap_abandon, (cid,))
            return
        if pat != float("inf"):
            env.call_at(env.now + pat, self._abandon, (cid,))
        env.call_at(env.now + cap, self._cap_overflow, (cid, q, target))

    def _cap_abandon(self, cid: int) -> None:
        if self.c_state[cid] == WAITING:
            self.c_cap[cid] = CAP_ABANDON
            self._abandon(cid)

    def _cap_callback(self, cid: int, q: int) -> None:
        """Outcome ``callback``: the caller still waiting at the cap is offered a callback; one who declines
        hangs up (an abandonment at the cap)."""
        if self.c_state[cid] == WAITING:
            self.c_cap[cid] = CAP_CALLBACK
            if not self._offer(cid, q):
                self._abandon(cid)

    def _cap_overflow(self, cid: int, q: int, target: int) -> None:
        """The call leaves its queue for ``target``'s, placed by its arrival time (it keeps it); it is not capped
        again there."""
        if self.c_state[cid] != WAITING:
            return
        self.c_cap[cid] = CAP_OVERFLOW
        self.queues[q].remove(cid)
        cands = [g for g in self.q_groups[target] if self._may_take(g, target)]
        if cands:
            self._start(self._choose(cands, target), cid, 0)
            return
        dq = self.queues[target]
        t = self.c_arrival[cid]
        i = len(dq)
        while i > 0 and self.c_arrival[dq[i - 1]] > t:
            i -= 1
        dq.insert(i, cid)
        for g in self.q_overflow[target]:
            self._at(max(0.0, g.accepts_after_s - (self.env.now - t)), self._overflow_check, g)

    def _choose(self, cands: list[_Group], q: int) -> _Group:
        """Among groups that may take a call of queue ``q``, by that queue's agent choice: the first (preference),
        random (in proportion to free agents) or the group of the longest-idle agent."""
        choice = self.q_choice[q]
        if len(cands) == 1 or choice == "preference":
            return cands[0]
        if choice == "random":
            u = self.route_rng.random() * sum(len(g.free) for g in cands)
            for g in cands:
                u -= len(g.free)
                if u < 0:
                    return g
            return cands[-1]
        return min(cands, key=lambda g: g.since.get(g.free[0], 0.0))

    def _arrive_closed(self, cid: int) -> None:
        """A retry arriving after closing: with ``at_close = "disconnect"`` it is disconnected; with ``"serve"`` it
        is served in overtime (if every agent who may take it has gone home, one is called back)."""
        if self.disconnect:
            self.c_state[cid] = DISCONNECTED
            return
        q = self.c_seg[cid]
        if any(g.busy or g.free for g in self.q_groups[q]) or (self.lines is not None and self.in_system >= self.lines):
            self._arrive(cid)
            return
        if self.lines is not None:
            self.in_system += 1
        self._start(self._recall(self.q_groups[q][0]), cid, 0)

    def _recall(self, g: _Group) -> _Group:
        """After closing, call one agent of ``g`` back (overtime counts from the recall)."""
        if g.off:
            g.free.append(g.off.pop())
        else:
            g.free.append(g.next_id)
            g.next_id += 1
        g.overtime_s -= self.env.now - self.close_s
        return g

    def _abandon(self, cid: int) -> None:
        if self.c_state[cid] != WAITING:
            return
        self.c_state[cid] = ABANDONED
        now = self.env.now
        self.c_abandon[cid] = now
        if self.lines is not None:
            self.in_system -= 1
        self._maybe_retry(cid, self.c_seg[cid], now)

    def _maybe_retry(self, cid: int, s: int, now: float) -> None:
        """An abandoned or blocked caller calls again with the segment's retrial probability and delay."""
        p = self.retry_p[s]
        if p > 0 and self.c_attempt[cid] < self.retry_max[s]:
            rng = self.retry_rng[s]
            if rng.random() < p:
                t = now + (self.retry_delay[s] if self.retry_fixed[s] else rng.exponential(self.retry_delay[s]))
                # a retry after closing reaches a closed center: served in overtime or disconnected (at_close)
                self._at(t - now, self._arrive if t < self.close_s else self._arrive_closed,
                         self._new_retry(cid, s, t, rng))

    def _new_retry(self, parent: int, s: int, t: float, rng: np.random.Generator) -> int:
        cid = len(self.c_seg)
        self.c_caller.append(self.c_caller[parent])
        self.c_attempt.append(min(self.c_attempt[parent] + 1, 32767))
        self.c_seg.append(s)
        self.c_arrival.append(t)
        if self.retry_same[s]:  # the same caller with the same need and patience
            self.c_handle.append(self.c_handle[parent])
            self.c_patience.append(self.c_patience[parent])
            self.c_esc_u.append(self.c_esc_u[parent])
            self.c_esc_handle.append(self.c_esc_handle[parent])
        else:
            h_scale, p_scale, e_scale = self.scales[s]
            i = min(int(t // self.interval_s), self.n_intervals - 1)
            self.c_handle.append(float(self.handle_dist[s].sample(rng, 1)[0]) * (1.0 if h_scale is None else h_scale[i]))
            self.c_patience.append(float(self.patience_dist[s].sample(rng, 1)[0])
                                   * (1.0 if p_scale is None else p_scale[i]))
            self.c_esc_u.append(float(rng.random()))
            self.c_esc_handle.append(float(self.esc_handle_dist[s].sample(rng, 1)[0])
                                     * (1.0 if e_scale is None else e_scale[i]))
        for lst, v in ((self.c_retry, 1), (self.c_state, WAITING), (self.c_answer, np.nan), (self.c_end, np.nan),
                       (self.c_abandon, np.nan), (self.c_group, -1), (self.c_agent, -1), (self.c_esc, 0),
                       (self.c_esc_enq, np.nan), (self.c_esc_answer, np.nan), (self.c_esc_end, np.nan),
                       (self.c_esc_group, -1), (self.c_esc_agent, -1)):
            lst.append(v)
        self.c_cap.append(0)
        for lst, v in ((self.c_cb_offer, np.nan), (self.c_cb_answer, np.nan), (self.c_cb_end, np.nan),
                       (self.c_cb_accept, np.nan), (self.c_cb_state, CB_NONE), (self.c_cb_tries, 0),
                       (self.c_cb_group, -1), (self.c_cb_agent, -1)):
            lst.append(v)
        return cid

    def _overflow_check(self, g: _Group) -> None:
        if g.free:
            self._dispatch(g)

    def _start(self, g: _Group, cid: int, leg: int) -> None:
        # the longest-idle agent is the first freed (g.free keeps the order agents became free)
        agent = g.free.pop(0) if self.longest_idle and self.idle_first[self.c_seg[cid] if leg == 0 else self.esc_q] \
            else g.free.pop()
        g.busy += 1
        g.handled += 1
        now = self.env.now
        if leg == 0:
            self.c_state[cid] = ANSWERED
            self.c_answer[cid] = now
            self.c_group[cid] = g.index
            self.c_agent[cid] = agent
            ht = self.c_handle[cid]
            if self.factor is not None:
                ht *= self.factor[g.index][self.c_seg[cid]]
        else:
            self.c_esc_answer[cid] = now
            self.c_esc_group[cid] = g.index
            self.c_esc_agent[cid] = agent
            ht = self.c_esc_handle[cid]
        self.env.call_at(now + ht, self._finish, (g, agent, cid, leg))

    def _finish(self, g: _Group, agent: int, cid: int, leg: int) -> None:
        now = self.env.now
        if leg == 0:
            self.c_end[cid] = now
            if self.esc_q >= 0 and self.c_esc_u[cid] < self.esc_p[self.c_seg[cid]]:
                self.c_esc[cid] = 1
                self.c_esc_enq[cid] = now
                self._escalate(cid)
            elif self.lines is not None:
                self.in_system -= 1
        elif leg == 2:  # a callback made
            self.c_cb_end[cid] = now
            self.c_cb_state[cid] = CB_DONE
        else:
            self.c_esc_end[cid] = now
            if self.lines is not None:
                self.in_system -= 1
        g.busy -= 1
        if self.longest_idle:
            g.since[agent] = now
        if self.closed:
            g.free.append(agent)
            self._dispatch(g)
        elif g.leaving > 0:
            g.leaving -= 1
            g.off.append(agent)
            g.finishing_s += now - g.leave_since
        else:
            g.free.append(agent)
            self._dispatch(g)
        if self.check:
            self._check(g)

    def _escalate(self, cid: int) -> None:
        q = self.esc_q
        for g in self.q_groups[q]:
            if self._may_take(g, q):
                self._start(g, cid, 1)
                return
        if self.closed and not any(g.busy or g.free for g in self.q_groups[q]):
            # after closing every escalation agent has gone home: call one back
            self._start(self._recall(self.q_groups[q][0]), cid, 1)
            return
        self.queues[q].append(cid)
        for g in self.q_overflow[q]:
            self._at(g.accepts_after_s, self._overflow_check, g)

    def _pick(self, g: _Group) -> int:
        """The queue whose head this group's free agent takes now, or -1."""
        now = self.env.now
        best_q, best_key = -1, None
        state = self.c_state
        if g.serves_q:  # the group's own queue order comes first (after escalations)
            for q in g.serves_q:
                dq = self.queues[q]
                while dq and state[dq[0]] != WAITING:
                    dq.popleft()
                if not dq or (self.esc_q in g.queue_ids and self.queues[self.esc_q]):
                    continue
                enq = self.c_arrival[dq[0]]
                if not self.closed:
                    if g.accepts_after_s and now - enq < g.accepts_after_s - 1e-9:
                        continue
                    if g.reserve and len(g.free) <= g.reserve and q not in g.reserve_set:
                        continue
                return q
        for q in g.queue_ids:
            dq = self.queues[q]
            if q == self.esc_q:
                if not dq:
                    continue
                enq = self.c_esc_enq[dq[0]]
                key = (_NEG_INF, enq)
            else:
                while dq and state[dq[0]] != WAITING:
                    dq.popleft()
                if not dq:
                    continue
                enq = self.c_arrival[dq[0]]
                key = self.policy.key(self.q_prio[q], enq, now)
            if not self.closed:
                if g.accepts_after_s and now - enq < g.accepts_after_s - 1e-9:
                    continue
                if g.reserve and len(g.free) <= g.reserve and q not in g.reserve_set:
                    continue
            if best_key is None or key < best_key:
                best_q, best_key = q, key
        return best_q

    def _dispatch(self, g: _Group) -> None:
        while g.free:
            q = self._pick(g)
            if q < 0:
                break
            cid = self.queues[q].popleft()
            self._start(g, cid, 1 if q == self.esc_q else 0)
        if self.cb is not None and g.free:
            self._dispatch_callbacks(g)
        if self.closed and g.free:
            # nothing left for these agents: they go home (overtime counted to now)
            g.overtime_s += (self.env.now - self.close_s) * len(g.free)
            g.off.extend(g.free)
            g.free.clear()

    def _set_target(self, g: _Group, target: int) -> None:
        g.target = target
        on = len(g.free) + g.busy - g.leaving
        if target > on:
            add = target - on
            cancel = min(g.leaving, add)
            g.leaving -= cancel
            for _ in range(add - cancel):
                if g.off:
                    g.free.append(g.off.pop())
                else:
                    g.free.append(g.next_id)
                    g.next_id += 1
                if self.longest_idle:
                    g.since[g.free[-1]] = self.env.now
            self._dispatch(g)
        elif target < on:
            remove = on - target
            k = min(remove, len(g.free))
            for _ in range(k):
                g.off.append(g.free.pop())
            if remove > k:
                g.leaving += remove - k
                g.leave_since = self.env.now

    def _boundary(self, i: int) -> None:
        for g in self.groups:
            self._set_target(g, int(self.avail[g.index, i]))
        if self.check:
            for g in self.groups:
                self._check(g)

    def _close(self) -> None:
        self.closed = True
        if self.disconnect:  # calls still waiting for a first answer are cut off
            for q in range(self.n_seg):
                for cid in self.queues[q]:
                    if self.c_state[cid] == WAITING:
                        self.c_state[cid] = DISCONNECTED
                        if self.lines is not None:
                            self.in_system -= 1
                self.queues[q].clear()
            if self.cb is not None:  # callbacks not yet made will not be: the promise is broken
                for dq in self.cb_queues:
                    for cid in dq:
                        self.c_cb_state[cid] = CB_EXPIRED
                    dq.clear()
        for g in self.groups:
            g.leaving = 0
            g.target = 0
        for g in self.groups:
            self._dispatch(g)

    def _check(self, g: _Group) -> None:
        if self.lines is not None and not 0 <= self.in_system <= self.lines:
            self.violations.append(f"t={self.env.now:.1f}: {self.in_system} calls in the system, {self.lines} lines")
        if self.closed:
            return
        on = len(g.free) + g.busy - g.leaving
        if on > g.target or g.busy < 0 or g.leaving < 0 or len(set(g.free)) != len(g.free):
            self.violations.append(f"t={self.env.now:.1f} group {g.name}: on-duty {on} > target {g.target}")

    # ------------------------------------------------------------------ results
    def overtime_s(self) -> dict[str, float]:
        """Agent-seconds worked after closing, per group (including calls in hand at closing)."""
        return {g.name: g.overtime_s for g in self.groups}

    def finishing_s(self) -> dict[str, float]:
        """Agent-seconds spent finishing a call after the agent's shift ended during the day, per group."""
        return {g.name: g.finishing_s for g in self.groups}

    _COLUMNS = ("c_seg", "c_arrival", "c_answer", "c_end", "c_abandon", "c_state", "c_retry", "c_caller", "c_group",
                "c_agent", "c_handle", "c_cap", "c_cb_offer", "c_cb_accept", "c_cb_answer", "c_cb_end",
                "c_cb_state", "c_cb_group", "c_cb_agent", "c_esc", "c_esc_enq", "c_esc_answer", "c_esc_end", "c_esc_group",
                "c_esc_agent")

    def raw_columns(self, copy: bool = True) -> dict[str, np.ndarray]:
        """The per-call columns as numpy arrays keyed by attribute name: copies, or (``copy=False``, for a model
        that will not run on) read-only views of the model's own buffers, which cost no memory. A column the
        scenario never uses is a constant of the calls' length."""
        out = {}
        n = len(self.c_seg)
        for name in self._COLUMNS:
            a = getattr(self, name)
            dtype = _DTYPES[a.typecode]
            if isinstance(a, _Absent):
                out[name] = np.broadcast_to(np.array(a.fill, dtype), (n,))
            elif not len(a):
                out[name] = np.zeros(0, dtype)
            else:
                view = np.frombuffer(a, dtype=dtype)
                out[name] = view.copy() if copy else view
        return out

    def log_arrays(self) -> dict[str, np.ndarray]:
        """The call log as columns (one row per call attempt); the time columns are views of the model's buffers,
        so call it when the model has finished running."""
        return log_from_columns(self.raw_columns(copy=False))

    # ------------------------------------------------------------------ coupling (exact shortcuts for copies)
    def can_couple(self) -> bool:
        """True when a copy whose state equals this model's at an interval boundary has the same future
        (:meth:`state_key`): no retrials (they add attempts and draw random numbers as they go) and an
        agent choice that does not depend on agent identities or draws."""
        return not any(p > 0 for p in self.retry_p) and self.by_preference and self.cb is None \
            and not any(c is not None and c[1] >= 0 for c in (self.caps or ()))

    def state_key(self, interval: int) -> tuple:
        """Everything the rest of the day depends on, taken just before ``interval``'s boundary (as
        :meth:`run_until_interval` leaves the model), with agents as counts per group (they are
        interchangeable): the calls waiting in each queue (escalations with their queueing time), the
        calls in service with their group and end time, pending overflow checks, and each group's free,
        busy and leaving agents after the boundary's staffing change, and the calls in the system. Two
        models (same scenario and seed, same staffing from ``interval`` on) with equal keys produce the
        same events from there on."""
        state = self.c_state
        queues = []
        for q, dq in enumerate(self.queues):
            if q == self.esc_q:
                queues.append(tuple((c, self.c_esc_enq[c]) for c in dq))
            else:
                queues.append(tuple(c for c in dq if state[c] == WAITING))
        finish, overflow = CallCenterModel._finish, CallCenterModel._overflow_check
        pending = []
        for t, _prio, _seq, fn, args in self.env.pending():
            fn = getattr(fn, "__func__", None)
            if fn is finish:
                g, _agent, cid, leg = args
                pending.append((t, 0, g.index, cid, leg))
            elif fn is overflow:
                pending.append((t, 1, args[0].index, 0, 0))
        pending.sort()
        groups = []
        for g in self.groups:  # what _set_target makes of the counts at the boundary
            free, busy, leaving = len(g.free), g.busy, g.leaving
            target = int(self.avail[g.index, interval])
            on = free + busy - leaving
            if target > on:
                cancel = min(leaving, target - on)
                leaving -= cancel
                free += target - on - cancel
            elif target < on:
                k = min(on - target, free)
                free -= k
                leaving += on - target - k
            groups.append((free, busy, leaving))
        return tuple(queues), tuple(pending), tuple(groups), self.in_system


def merge_coupled(copy_cols: dict[str, np.ndarray], base_cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The whole-day columns of a copy whose :meth:`CallCenterModel.state_key` matched the base model's at a
    boundary: what happened in the copy before it (``copy_cols``, taken there), the base's finished day
    (``base_cols``) for what was still open. Both without retrials (same rows)."""
    c, b = copy_cols, base_cols
    state = c["c_state"]
    open1 = (state == WAITING) | ((state == ANSWERED) & np.isnan(c["c_end"]))  # first leg waiting or in service
    open2 = open1 | ((c["c_esc"] == 1) & np.isnan(c["c_esc_end"]))  # escalation leg still to come or under way
    out = dict(c)
    for name in ("c_answer", "c_end", "c_abandon", "c_state", "c_group", "c_agent", "c_cap", "c_esc"):
        out[name] = np.where(open1, b[name], c[name])
    out["c_esc_enq"] = np.where(open1, b["c_esc_enq"], c["c_esc_enq"])
    for name in ("c_esc_answer", "c_esc_end", "c_esc_group", "c_esc_agent"):
        out[name] = np.where(open2, b[name], c[name])
    return out


def log_from_columns(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The call log (one row per call attempt) from :meth:`CallCenterModel.raw_columns`."""
    arrival, answer, abandon = cols["c_arrival"], cols["c_answer"], cols["c_abandon"]
    state = cols["c_state"].astype(np.int8)
    esc_enq, esc_answer = cols["c_esc_enq"], cols["c_esc_answer"]
    no_esc = esc_answer.strides == (0,) and len(esc_answer) > 0  # a constant column: no escalation in this scenario
    wait = np.where(state == ANSWERED, answer - arrival, np.where(state == ABANDONED, abandon - arrival, np.nan))
    return {
        "segment": cols["c_seg"].astype(np.int16),
        "arrival_s": arrival,
        "answer_s": answer,
        "end_s": cols["c_end"],
        "abandon_s": abandon,
        "wait_s": wait,
        "abandoned": state == ABANDONED,
        "answered": state == ANSWERED,
        "blocked": state == BLOCKED,
        "disconnected": state == DISCONNECTED,
        "retry": cols["c_retry"].astype(bool),
        "caller": cols["c_caller"].astype(np.int64),
        "group": cols["c_group"].astype(np.int16),
        "agent": cols["c_agent"].astype(np.int32),
        "handle_s": cols["c_handle"],
        "queue_cap": cols["c_cap"].astype(np.int8),
        "callback": state == CALLBACK,  # the caller accepted a callback (left the queue)
        "callback_offer_s": cols["c_cb_offer"],
        "callback_accept_s": cols["c_cb_accept"],
        "callback_answer_s": cols["c_cb_answer"],
        "callback_end_s": cols["c_cb_end"],
        "callback_state": cols["c_cb_state"].astype(np.int8),
        "callback_group": cols["c_cb_group"].astype(np.int16),
        "callback_agent": cols["c_cb_agent"].astype(np.int32),
        "escalated": cols["c_esc"].astype(bool),
        "escalation_wait_s": esc_answer if no_esc else esc_answer - esc_enq,
        "escalation_answer_s": esc_answer,
        "escalation_end_s": cols["c_esc_end"],
        "escalation_group": cols["c_esc_group"].astype(np.int16),
        "escalation_agent": cols["c_esc_agent"].astype(np.int32),
    }
