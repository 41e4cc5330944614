"""Funding rules: how members pay for joint work (Section 75 of the NHS Act 2006).

``separate`` and ``aligned`` contributions are voluntary each step, so free-riding is
possible; ``pooled``, ``lead_commissioning`` and ``integrated`` commit each member's
share in advance. The rules also differ in how visible shortfalls are, how costly it
is to leave, whose capacity commissions the work and the role conflict of merged
teams ("soup, not salad"; Carpenter et al. 2003).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from collabsim.rules.registry import Registry

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel


class FundingRule:
    """Base class for funding rules.

    Attributes:
        committed: Contributions are paid in advance, whatever members would choose.
        visibility: Added to the share of shortfalls detected.
        exit_cost: Satisfaction a member gives up by leaving (held by sunk money).
        role_conflict: Care professionals suffer role conflict (integrated teams).
        lead_tilt: Share of the delivered plan bent towards the lead's priorities.
        culture_merge: Multiplier on cultural distance (merged teams share a culture).
    """

    name = ""
    committed = False
    visibility = 0.0
    exit_cost = 0.0
    role_conflict = False
    lead_tilt = 0.0
    culture_merge = 1.0

    def asked(self, fair: np.ndarray, commitment: np.ndarray, currency: float) -> np.ndarray:
        """What each member is expected to pay this step, £m.

        Voluntary rules ask for the share a member has committed, while the plan is
        current; committed rules take the full fair share in advance.
        """
        if self.committed:
            return fair.copy()
        return fair * commitment * currency

    def contributions(self, asked: np.ndarray, willingness: np.ndarray) -> np.ndarray:
        """Money each member puts in this step, £m."""
        return asked.copy() if self.committed else asked * willingness

    def hub_capacity(self, m: PartnershipModel, governance_capacity: float) -> float:
        """Admin capacity joint money passes through, given the governance hub's."""
        return governance_capacity


FUNDING: Registry[FundingRule] = Registry()


@FUNDING.register("separate")
class Separate(FundingRule):
    """Each pays its own way each step, as far as it is willing."""


@FUNDING.register("aligned")
class Aligned(FundingRule):
    """Separate budgets planned together: shortfalls are seen by all."""

    visibility = 0.3
    exit_cost = 0.1


@FUNDING.register("pooled")
class Pooled(FundingRule):
    """Each pays ``funding.pooled_share`` of its budget into one pot, in advance."""

    committed = True
    visibility = 0.2
    exit_cost = 0.5


@FUNDING.register("lead_commissioning")
class LeadCommissioning(FundingRule):
    """Partners pay into a pot that the lead commissions from, by its own lights."""

    committed = True
    visibility = 0.1
    exit_cost = 0.4
    lead_tilt = 0.4

    def hub_capacity(self, m, governance_capacity):  # noqa: D102
        return m.p["governance.admin_capacity"]


@FUNDING.register("integrated")
class Integrated(FundingRule):
    """Staff, budgets and management merged: no free-riding, but role conflict.

    Merged teams halve the cultural distance between partners, but care professionals'
    role conflict and stress cost satisfaction and a share of productivity.
    """

    committed = True
    visibility = 0.3
    exit_cost = 1.0
    role_conflict = True
    culture_merge = 0.5

    def hub_capacity(self, m, governance_capacity):  # noqa: D102
        return float(m.admin.sum()) + m.p["governance.admin_capacity"]
