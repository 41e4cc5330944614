"""The service-demand submodel: a care pathway for a population with complex needs.

Switched on per scenario with ``services.enabled``. Each quarter a cohort of people with
complex needs (``services.population``) has emergency admissions at a rate that grows
with demand and falls with the partnership's prevention. Admissions become bed-days;
the share who need a care package to go home wait in hospital (delayed transfers of
care) when social care has too few packages, and social care's capacity follows its
budget. The partnership's joint spending is split across the plan's priorities:
the prevention share builds a prevention stock that avoids admissions with diminishing
returns, the independence share buys extra care packages.

Wrong-pocket accounting: every member's contributions are what it paid; the acute cost
avoided (bed-days not used) is saved by the health members, the care-package cost
avoided by adult social care, each in proportion to budget (Section 75 guidance and
the "NHS saves bed-days, social care pays" of Goemans' lecture; docs/sources.md).

Defaults and their sources are in docs/ODD.md (service-demand submodel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from collabsim.metrics import SERVICE_METRICS  # noqa: F401  (re-exported)
from collabsim.schema import GOAL_DIMENSIONS, SECTORS

PREVENTION = GOAL_DIMENSIONS.index("prevention")
INDEPENDENCE = GOAL_DIMENSIONS.index("independence")
HEALTH = SECTORS.index("health")
SOCIAL_CARE = SECTORS.index("adult_social_care")



def priority_shares(goals: np.ndarray) -> np.ndarray:
    """Goal vectors (last axis) as shares of spending across the goal dimensions."""
    total = goals.sum(axis=-1, keepdims=True)
    return np.divide(goals, total, out=np.zeros_like(goals, dtype=float), where=total > 0)


@dataclass(frozen=True)
class Partnership:
    """What the pathway needs to know of the partnership this quarter.

    Attributes:
        plan: The adopted plan ``(D,)``, or ``None`` before the first decision.
        goals: ``(n, D)`` members' own priorities.
        budget: ``(n,)`` members' budgets now, £m.
        base_budget: ``(n,)`` members' budgets at the start, £m.
        sector_code: ``(n,)`` index of each member's sector in ``SECTORS``.
        demand_index: Demand relative to the start.
    """

    plan: np.ndarray | None
    goals: np.ndarray
    budget: np.ndarray
    base_budget: np.ndarray
    sector_code: np.ndarray
    demand_index: float


class ServiceDemand:
    """State of the care pathway: prevention stock and cumulative totals."""

    def __init__(self, p: Mapping[str, Any]) -> None:
        self.p = p
        self.factor = 1.0  #: social care's budget relative to the start, when last seen
        self.stock = 0.0
        self.base_admissions = p["services.population"] * p["services.admission_rate"]
        self.base_capacity = p["services.care_capacity"] * self.base_admissions \
            * p["services.discharge_need"]
        self.package_cost = p["services.care_package_cost"] * p["services.package_weeks"]
        self.half = p["services.prevention_half"] * p["services.population"] / 10_000
        self.totals = dict.fromkeys(("bed_days", "delayed_days", "unmet", "prevention_spend",
                                     "acute_avoided", "care_avoided"), 0.0)

    def step(
        self, partnership: Partnership, spent: float, productivity: float,
        contributions: np.ndarray,
    ) -> tuple[dict[str, Any], np.ndarray]:
        """Advance the pathway one quarter.

        Args:
            partnership: What the pathway sees of the partnership.
            spent: Joint money spent this quarter, £m.
            productivity: What a £ of joint money achieves relative to a £ spent alone.
            contributions: What each member put in this quarter, £m.

        Returns:
            The step's record, and what each member saved this step (£m).
        """
        p = self.p
        plan = partnership.plan
        shares = priority_shares(plan) if plan is not None else np.zeros(len(GOAL_DIMENSIONS))
        fence = p["services.prevention_ringfence"]
        shares = (1.0 - fence) * shares
        shares[PREVENTION] += fence
        prevention_spend = spent * shares[PREVENTION]
        # Re-badged money: what the non-additional part of the contributions used to buy
        # in members' own services (at the solo counterfactual, £1 buys £1, split by the
        # member's own priorities) is lost when it moves into the pot.
        moved = (1.0 - p["services.additionality"]) * contributions
        lost = moved @ priority_shares(partnership.goals)
        effective = prevention_spend * productivity - lost[PREVENTION]
        self.stock = (1.0 - p["services.prevention_decay"]) * self.stock + effective

        unprevented = self.base_admissions * partnership.demand_index
        # Diminishing returns either way: a negative stock (prevention lost) adds admissions.
        scale = abs(self.stock) + self.half
        reach = self.stock / scale if scale > 0 else 0.0
        avoided = unprevented * p["services.prevention_max"] * reach
        admissions = unprevented - avoided
        needing = admissions * p["services.discharge_need"]

        budget_factor = self._capacity_factor(partnership)
        bought = ((spent * shares[INDEPENDENCE] * productivity - lost[INDEPENDENCE]) * 1e6
                  / self.package_cost if self.package_cost > 1e-9 else 0.0)  # £, not free
        capacity = max(0.0, self.base_capacity * budget_factor + bought)
        unmet = max(0.0, needing - capacity)
        delayed = unmet * p["services.delay_days"]
        bed_days = admissions * p["services.length_of_stay"] + delayed

        acute_avoided = avoided * p["services.length_of_stay"] * p["services.bed_day_cost"] / 1e6
        care_avoided = avoided * p["services.discharge_need"] * self.package_cost / 1e6
        saved = (self._book(partnership, HEALTH, acute_avoided)
                 + self._book(partnership, SOCIAL_CARE, care_avoided))

        t = self.totals
        t["bed_days"] += bed_days
        t["delayed_days"] += delayed
        t["unmet"] += unmet
        t["prevention_spend"] += prevention_spend
        t["acute_avoided"] += acute_avoided
        t["care_avoided"] += care_avoided
        record = {"admissions": admissions, "avoided_admissions": avoided,
                  "emergency_bed_days": bed_days, "delayed_transfer_days": delayed,
                  "unmet_need": unmet, "care_capacity": capacity,
                  "prevention_spend": prevention_spend, "prevention_stock": self.stock,
                  "acute_cost_avoided": acute_avoided, "care_cost_avoided": care_avoided}
        return record, saved

    def _capacity_factor(self, partnership: Partnership) -> float:
        """Social care's budget now relative to the start (its members' mean ratio).

        Social care keeps providing packages after it leaves the partnership, with the
        budget it had when it left.
        """
        members = partnership.sector_code == SOCIAL_CARE
        if members.any():
            self.factor = float((partnership.budget[members] / np.maximum(
                partnership.base_budget[members], 1e-12)).mean())
        return self.factor

    @staticmethod
    def _book(partnership: Partnership, sector: int, amount: float) -> np.ndarray:
        """A saving shared among a sector's members in proportion to their budgets."""
        budget = partnership.budget * (partnership.sector_code == sector)
        total = budget.sum()
        return amount * budget / total if amount and total > 0 else np.zeros(len(budget))

    def summary(self) -> dict[str, float]:
        """The submodel's summary metrics for the run."""
        t = self.totals
        spend = t["prevention_spend"]
        return {
            "emergency_bed_days": t["bed_days"],
            "delayed_transfer_days": t["delayed_days"],
            "unmet_need": t["unmet"],
            "acute_saving_per_pound": t["acute_avoided"] / spend if spend > 1e-12 else 0.0,
        }
