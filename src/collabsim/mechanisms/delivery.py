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
from collabsim.rules.governance import GovernanceMode
from collabsim.schema import SECTORS
from collabsim.services import Partnership, ServiceDemand


def deliver(
    m: Members, p: Mapping[str, Any], fx: Effects, governance: GovernanceMode,
    funding: FundingRule, joint: Joint, c: np.ndarray, services: ServiceDemand | None,
    demand: float,
) -> dict[str, Any]:
    """Spend, produce and share out this step's joint work; return the step's record.

    Sets each member's ``last_contribution``, ``last_benefit``, ``last_net`` and
    ``relative_net``, and adds to its ``cum_net``, ``cum_paid`` and ``cum_saved``.
    """
    joint.pot += float(c.sum())
    if joint.plan is not None and joint.currency >= p["dynamics.live_plan"]:
        joint.queue += joint.pot
        joint.pot = 0.0
    capacity = funding.hub_capacity(governance.hub_capacity(m.admin), m.admin)
    capacity *= fx.delivery_capacity
    spent = min(joint.queue, capacity)
    joint.queue -= spent

    weights = c if c.sum() > 0 else fair_share(m, p)
    shares = np.bincount(m.sector_code, weights=weights, minlength=len(SECTORS))
    total = shares.sum()
    diversity = 1.0 - float(((shares / total) ** 2).sum()) if total > 0 else 0.0
    n = m.n
    spread = float(goal_distance(m.understanding, m.understanding.sum(0) / n).sum()) / n
    shared_understanding = max(0.0, 1.0 - p["dynamics.understanding_spread_penalty"] * spread)
    fit = min(1.0, float(m.plan_acc.sum()) / n + fx.participation_fit) \
        if joint.plan is not None else 0.0
    stale = p["dynamics.stale_plan_productivity"]
    productivity = ((1.0 + p["dynamics.synergy"] * diversity) * fit * shared_understanding
                    * (stale + (1.0 - stale) * joint.currency))
    if funding.role_conflict:  # stress in merged teams costs output (Carpenter 2003)
        productivity *= 1.0 - fx.role_conflict * float(m.care.mean())
    gross = spent * productivity
    coordination = float(m.meeting_cost.sum())
    joint_output, solo = gross - coordination, float(c.sum())
    joint.advantage += joint_output - solo

    relevance = m.plan_acc * m.budget
    benefit = gross * relevance / relevance.sum() if relevance.sum() > 0 else np.zeros(n)
    record: dict[str, Any] = {}
    if services is not None:  # costs a member's own budget avoided count as benefit
        record, saved = services.step(partnership(m, joint, demand), spent, productivity, c)
        m.cum_saved += saved
        benefit = benefit + saved
    # Under budget pressure a £ for joint work is a £ taken from statutory services.
    felt = c * (1.0 + p["dynamics.opportunity_cost"] * m.pressure)
    net = benefit - felt - m.meeting_cost
    m.cum_net += net
    m.cum_paid += c
    m.last_contribution, m.last_benefit, m.last_net = c, benefit, net
    m.relative_net = net / reference(m, p)
    record.update(spent=spent, capacity=capacity, queued=joint.queue, pot=joint.pot,
                  joint_output=joint_output, solo_output=solo,
                  coordination_cost=coordination, productivity=productivity,
                  diversity=diversity, shared_understanding=shared_understanding, fit=fit,
                  advantage=joint.advantage, plan_currency=joint.currency)
    return record


def reference(m: Members, p: Mapping[str, Any]) -> np.ndarray:
    """What a member's gains are measured against: its fair share before hand-overs, £m."""
    return np.maximum(p["funding.pooled_share"] * m.budget, 1e-9)


def partnership(m: Members, joint: Joint, demand: float) -> Partnership:
    """What the service submodel sees of the partnership this quarter."""
    return Partnership(joint.plan, m.goals, m.budget, m.base_budget, m.sector_code, demand)
