"""Routing policies: which waiting call a free agent takes.

A policy is a small strategy object with one method, ``key(priority, enqueued_s,
now_s)``: among the heads of the queues an agent may serve, the call with the
smallest key is taken. Queues are FIFO within a segment, so each queue's head is
its longest-waiting call and the only candidate it needs to offer.
"""

from __future__ import annotations

from dataclasses import dataclass


class Policy:
    name: str

    def key(self, priority: int, enqueued_s: float, now_s: float) -> tuple[float, float]:  # pragma: no cover
        raise NotImplementedError


@dataclass(frozen=True)
class Fifo(Policy):
    """The longest-waiting call among the segments the agent is skilled for."""

    name: str = "fifo"

    def key(self, priority: int, enqueued_s: float, now_s: float) -> tuple[float, float]:
        return (0.0, enqueued_s)


@dataclass(frozen=True)
class StrictPriority(Policy):
    """Lowest priority number first, FIFO within a priority (non-preemptive)."""

    name: str = "priority"

    def key(self, priority: int, enqueued_s: float, now_s: float) -> tuple[float, float]:
        return (float(priority), enqueued_s)


@dataclass(frozen=True)
class Aging(Policy):
    """Priority minus waited seconds / aging_s: a call climbs one step per ``aging_s`` waited."""

    aging_s: float = 120.0
    name: str = "aging"

    def key(self, priority: int, enqueued_s: float, now_s: float) -> tuple[float, float]:
        return (priority - (now_s - enqueued_s) / self.aging_s, enqueued_s)


def policy_for(routing) -> Policy:
    """The policy object named by a scenario's ``[routing]`` table."""
    if routing.policy == "fifo":
        return Fifo()
    if routing.policy == "priority":
        return StrictPriority()
    if routing.policy == "aging":
        return Aging(routing.aging_s)
    raise ValueError(f"unknown routing policy {routing.policy!r}")
