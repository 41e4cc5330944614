"""Delivery and production: the pot, the queue at the hub, output and benefits.

Money paid in waits in the pot until a plan is current enough to commit it; committed
money queues for the hub's admin capacity (the narrow funnel). What is spent produces
output in proportion to the diversity of the sectors paying, the plan's fit and the
members' shared understanding; each member benefits in proportion to how much the
plan serves it and its budget, plus the costs the service submodel says it avoided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms import Joint
from collabsim.mechanisms.environment import fair_share
from collabsim.members import Members
from collabsim.population import goal_distance
from collabsim.rules.funding import FundingRule
from collabsim.schema import SECTORS
from collabsim.services import Partnership, ServiceDemand


def deliver(
    m: Members, p: Mapping[str, Any], fx: Effects, hub: np.ndarray,
    funding: FundingRule, joint: Joint, c: np.ndarray, services: ServiceDemand | None,
    demand: float, live: np.ndarray,
) -> dict[str, np.ndarray]:
    """Spend, produce and share out this step's joint work; return the step's record.

    ``hub (B,)`` is the governance hub's admin capacity (£m per step), ``c (B, C)``
    what each member paid this step (£m), ``demand`` the demand index, and ``live (B,)``
    the replicates with a partnership left (two members or more); the others' care
    pathway runs with no joint money.

    Sets each member's ``last_contribution``, ``last_benefit``, ``last_net`` and
    ``relative_net``, and adds to its ``cum_net``, ``cum_paid`` and ``cum_saved``.
    """
    a = m.active
    n = np.maximum(m.n, 1)
    paid = c.sum(axis=1)
    joint.pot += paid
    commit = joint.has_plan & (joint.currency >= p["dynamics.live_plan"])
    joint.queue += np.where(commit, joint.pot, 0.0)
    joint.pot = np.where(commit, 0.0, joint.pot)
    capacity = funding.hub_capacity(hub, m.admin * a) * fx.delivery_capacity
    spent = np.minimum(joint.queue, capacity)
    joint.queue -= spent

    weights = np.where((paid > 0)[:, None], c, fair_share(m, p) * a)
    shares = (weights[..., None] * (m.sector_code[..., None] == np.arange(len(SECTORS)))).sum(1)
    total = shares.sum(axis=1)
    diversity = np.where(total > 0, 1.0 - ((shares / np.where(total > 0, total, 1.0)[:, None])
                                           ** 2).sum(axis=1), 0.0)
    spread = (goal_distance(m.understanding, m.mean(m.understanding)[:, None, :]) * a).sum(1) / n
    shared_understanding = np.maximum(
        0.0, 1.0 - p["dynamics.understanding_spread_penalty"] * spread)
    fit = np.where(joint.has_plan,
                   np.minimum(1.0, (m.plan_acc * a).sum(axis=1) / n + fx.participation_fit), 0.0)
    stale = p["dynamics.stale_plan_productivity"]
    productivity = ((1.0 + p["dynamics.synergy"] * diversity) * fit * shared_understanding
                    * (stale + (1.0 - stale) * joint.currency))
    if funding.role_conflict:  # stress in merged teams costs output (Carpenter 2003)
        # at worst it stops output; it cannot turn money spent into harm
        productivity *= np.maximum(0.0, 1.0 - fx.role_conflict * (m.care * a).sum(axis=1) / n)
    gross = spent * productivity
    coordination = (m.meeting_cost * a).sum(axis=1)
    joint_output = gross - coordination
    joint.advantage += joint_output - paid

    relevance = m.plan_acc * m.budget * a
    rsum = relevance.sum(axis=1, keepdims=True)
    benefit = np.where(rsum > 0, gross[:, None] * relevance / np.where(rsum > 0, rsum, 1.0), 0.0)
    record: dict[str, np.ndarray] = {}
    if services is not None:  # costs a member's own budget avoided count as benefit
        record, saved = services.step(
            Partnership(joint.plan, joint.has_plan, m.goals, m.budget, m.base_budget,
                        m.sector_code, a, demand),
            spent * live, productivity * live, c * live[:, None])
        m.cum_saved += saved
        benefit = benefit + saved
        if p["services.count_in_output"]:  # acute and care costs avoided are output too
            avoided = record["acute_cost_avoided"] + record["care_cost_avoided"]
            joint_output = joint_output + avoided
            joint.advantage += avoided
    # Under budget pressure a £ for joint work is a £ taken from statutory services.
    felt = c * (1.0 + p["dynamics.opportunity_cost"] * m.pressure)
    net = (benefit - felt - m.meeting_cost) * a
    m.cum_net += net
    m.cum_paid += c
    m.last_contribution, m.last_benefit, m.last_net = c, benefit, net
    m.relative_net = net / reference(m, p)
    record.update(spent=spent, capacity=capacity, joint_output=joint_output, solo_output=paid,
                  coordination_cost=coordination, productivity=productivity,
                  diversity=diversity, shared_understanding=shared_understanding, fit=fit)
    return record


def reference(m: Members, p: Mapping[str, Any]) -> np.ndarray:
    """What a member's gains are measured against: its fair share before hand-overs, £m."""
    return np.maximum(p["funding.pooled_share"] * m.budget, 1e-9)
