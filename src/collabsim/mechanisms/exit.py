"""Expected return, satisfaction and exit.

Members remember what joint work returned them (``dynamics.satisfaction_memory``).
A member dissatisfied for ``dynamics.exit_patience`` steps running, who no longer
trusts its partners, leaves; one under budget pressure, dissatisfied and distrustful
hands its responsibilities to the partners who stay and leaves at once (ditch and
run). The funding rule's exit cost holds members in; a legal duty forbids leaving.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms.delivery import reference
from collabsim.mechanisms.environment import fair_share
from collabsim.members import Members
from collabsim.rules.funding import FundingRule


def remember(m: Members, p: Mapping[str, Any], fx: Effects, funding: FundingRule) -> None:
    """Update each member's expected return and satisfaction from this step."""
    memory = p["dynamics.satisfaction_memory"]
    m.exp_return = (1 - memory) * m.exp_return + memory * m.last_benefit / reference(m, p)
    strain = fx.role_conflict * m.care if funding.role_conflict else 0.0
    m.satisfaction = (1 - memory) * m.satisfaction + memory * (m.relative_net - strain)


def leavers(
    m: Members, p: Mapping[str, Any], funding: FundingRule
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the members who leave this step, and why (``dissatisfied``, ``ditched``).

    Ditchers' obligations pass to the partners who stay.
    """
    none = np.empty(0, dtype=int)
    if p["governance.mandated"]:
        return none, none.astype(str)
    trust_out = m.trust_out()
    unhappy = ((m.satisfaction < p["dynamics.exit_threshold"] - funding.exit_cost)
               & (trust_out < p["dynamics.exit_trust"]))
    m.low_steps = np.where(unhappy, m.low_steps + 1, 0)
    leave = m.low_steps >= p["dynamics.exit_patience"]
    ditch = ((m.pressure >= p["dynamics.ditch_pressure"]) & (m.satisfaction < 0.0)
             & (trust_out < p["dynamics.ditch_trust"])
             & (funding.exit_cost < 1.0) & ~leave)
    if ditch.any():
        hand_over(m, p, np.flatnonzero(ditch))
    rows = np.flatnonzero(leave | ditch)
    return rows, np.where(ditch[rows], "ditched", "dissatisfied")


def hand_over(m: Members, p: Mapping[str, Any], rows: np.ndarray) -> None:
    """A ditching member's share of the joint work falls on the partners who stay."""
    fair = fair_share(m, p)
    stay = np.ones(m.n, dtype=bool)
    stay[rows] = False
    if stay.any() and fair[stay].sum() > 1e-12:
        m.obligation[stay] *= 1.0 + fair[rows].sum() / fair[stay].sum()
