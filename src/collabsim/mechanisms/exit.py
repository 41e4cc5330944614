"""Expected return, satisfaction and exit.

Members remember what joint work returned them (``dynamics.satisfaction_memory``).
A member dissatisfied for ``dynamics.exit_patience`` steps running, who no longer
trusts its partners, leaves; one under budget pressure, dissatisfied and distrustful
hands its responsibilities to the partners who stay and leaves at once (ditch and
run). The funding rule's exit cost holds members in; a legal duty forbids leaving
(``legal_duty.exit_ban``) or, as cited, lets a member leave after review where the
partnership is clearly not efficient for it (:mod:`~collabsim.mechanisms.duty`). Members
may also agree together to wind the partnership down
(:mod:`~collabsim.mechanisms.divorce`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms import Joint, divorce, duty, memory
from collabsim.mechanisms.delivery import reference
from collabsim.mechanisms.environment import fair_share
from collabsim.members import Members
from collabsim.rules.funding import FundingRule


def remember(m: Members, p: Mapping[str, Any], fx: Effects, funding: FundingRule) -> None:
    """Update each member's expected return and satisfaction from this step."""
    a, memory = m.active, p["dynamics.satisfaction_memory"]
    m.exp_return = np.where(a, (1 - memory) * m.exp_return
                            + memory * m.last_benefit / reference(m, p), m.exp_return)
    strain = fx.role_conflict * m.care if funding.role_conflict else 0.0
    m.satisfaction = np.where(a, (1 - memory) * m.satisfaction
                              + memory * (m.relative_net - strain), m.satisfaction)


def leavers(
    m: Members, p: Mapping[str, Any], funding: FundingRule, joint: Joint
) -> dict[str, np.ndarray]:
    """Who leaves this step: ``(B, C)`` masks by exit reason, in the order they leave.

    Members who agree to wind down leave first (``amicable``); a mandated member may
    leave only after review (``reviewed``); the others leave ``dissatisfied`` or
    ``ditched``. Ditchers' obligations pass to the partners who stay.
    """
    out: dict[str, np.ndarray] = {}
    if p["governance.mandated"] and p["legal_duty.exit_ban"]:
        return out
    a = m.active
    if p["divorce.enabled"]:
        agreed, joint.divorce_streak = divorce.agree(
            m.satisfaction, a, joint.divorce_streak, p["divorce.quorum"],
            p["divorce.satisfaction"], p["divorce.patience"])
        out["amicable"] = a & agreed[:, None]
        a = a & ~out["amicable"]
    if p["governance.mandated"]:
        floor = p["dynamics.exit_threshold"] - funding.exit_cost - p["legal_duty.review_margin"]
        out["reviewed"], m.low_steps = duty.review(m.satisfaction, m.low_steps, a, floor,
                                                   p["dynamics.exit_patience"])
        return out
    trust_out = m.trust_out()
    unhappy = ((m.satisfaction < p["dynamics.exit_threshold"] - funding.exit_cost)
               & (trust_out < p["dynamics.exit_trust"]))
    m.low_steps = np.where(a & unhappy, m.low_steps + 1, 0)
    leave = a & (m.low_steps >= p["dynamics.exit_patience"])
    ditch = (a & (m.pressure >= p["dynamics.ditch_pressure"]) & (m.satisfaction < 0.0)
             & (trust_out < p["dynamics.ditch_trust"]) & (funding.exit_cost < 1.0) & ~leave)
    if ditch.any():
        m.scar = memory.after_ditching(m.scar, ditch, a, p["memory.ditch_scar"])
        hand_over(m, p, ditch)
    out.update(dissatisfied=leave, ditched=ditch)
    return out


def hand_over(m: Members, p: Mapping[str, Any], ditch: np.ndarray) -> None:
    """A ditching member's share of the joint work falls on the partners who stay."""
    fair = fair_share(m, p)
    stay = m.active & ~ditch
    left = (fair * ditch).sum(axis=1, keepdims=True)
    kept = (fair * stay).sum(axis=1, keepdims=True)
    grow = np.where(kept > 1e-12, 1.0 + left / np.where(kept > 1e-12, kept, 1.0), 1.0)
    m.obligation = np.where(stay & ditch.any(axis=1, keepdims=True), m.obligation * grow,
                            m.obligation)
