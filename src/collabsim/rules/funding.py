"""Funding rules: how members pay for joint work (Section 75 of the NHS Act 2006).

``separate`` and ``aligned`` contributions are voluntary each step, so free-riding is
possible; ``pooled``, ``lead_commissioning`` and ``integrated`` commit each member's
share in advance. The rules also differ in how visible shortfalls are, how costly it
is to leave, whose capacity commissions the work and the role conflict of merged
teams ("soup, not salad"; Carpenter et al. 2003). Their constants are scenario
parameters (``funding.<rule>_visibility``, ``funding.<rule>_exit_cost``, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.rules.registry import Registry


class FundingRule:
    """Base class for funding rules, made once per model from its parameters.

    Attributes:
        committed: Contributions are paid in advance, whatever members would choose.
        role_conflict: Care professionals suffer role conflict (integrated teams).
        visibility: Added to the share of shortfalls detected.
        exit_cost: Satisfaction a member gives up by leaving (held by sunk money).
        lead_tilt: Share of the delivered plan bent towards the lead's priorities.
        culture_merge: Multiplier on cultural distance (merged teams share a culture).
        hub_admin: The hub's admin capacity, ``governance.admin_capacity``.
    """

    name = ""
    committed = False
    role_conflict = False

    def __init__(self, params: Mapping[str, Any]) -> None:
        def own(constant: str, default: float) -> float:
            return float(params.get(f"funding.{self.name}_{constant}", default))

        self.visibility = own("visibility", 0.0)
        self.exit_cost = own("exit_cost", 0.0)
        self.culture_merge = own("culture_merge", 1.0)
        self.lead_tilt = float(params["funding.lead_tilt"]) if self.name == "lead_commissioning" \
            else 0.0
        self.hub_admin = float(params["governance.admin_capacity"])

    def asked(self, fair: np.ndarray, commitment: np.ndarray, currency: np.ndarray
              ) -> np.ndarray:
        """What each member is expected to pay this step, £m: ``(B, C)``.

        Voluntary rules ask for the share a member has committed, while the plan is
        current (``currency``, ``(B,)``); committed rules take the full fair share in
        advance.
        """
        if self.committed:
            return fair.copy()
        return fair * commitment * currency[:, None]

    def contributions(self, asked: np.ndarray, willingness: np.ndarray) -> np.ndarray:
        """Money each member puts in this step, £m."""
        return asked.copy() if self.committed else asked * willingness

    def hub_capacity(self, governance_capacity: np.ndarray, member_admin: np.ndarray
                     ) -> np.ndarray:
        """Admin capacity joint money passes through ``(B,)``, given the governance hub's.

        ``member_admin`` is ``(B, C)``, 0 for slots that are not members.
        """
        return governance_capacity


FUNDING: Registry[FundingRule] = Registry()


@FUNDING.register("separate")
class Separate(FundingRule):
    """Each pays its own way each step, as far as it is willing."""


@FUNDING.register("aligned")
class Aligned(FundingRule):
    """Separate budgets planned together: shortfalls are seen by all."""


@FUNDING.register("pooled")
class Pooled(FundingRule):
    """Each pays ``funding.pooled_share`` of its budget into one pot, in advance."""

    committed = True


@FUNDING.register("lead_commissioning")
class LeadCommissioning(FundingRule):
    """Partners pay into a pot that the lead commissions from, by its own lights."""

    committed = True

    def hub_capacity(self, governance_capacity, member_admin):
        """The lead's hub commissions everything, whatever the governance mode."""
        return np.full(len(member_admin), self.hub_admin)


@FUNDING.register("integrated")
class Integrated(FundingRule):
    """Staff, budgets and management merged: no free-riding, but role conflict.

    Merged teams shrink the cultural distance between partners, but care professionals'
    role conflict and stress cost satisfaction and a share of productivity.
    """

    committed = True
    role_conflict = True

    def hub_capacity(self, governance_capacity, member_admin):
        """Every member's admin capacity and the hub's work as one."""
        return member_admin.sum(axis=1) + self.hub_admin
