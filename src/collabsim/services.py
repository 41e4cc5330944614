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
    """What the pathway needs to know of ``B`` partnerships this quarter.

    Attributes:
        plan: ``(B, D)`` the adopted plan (ignored where ``has_plan`` is False).
        has_plan: ``(B,)`` a plan has been adopted.
        goals: ``(B, C, D)`` members' own priorities.
        budget: ``(B, C)`` members' budgets now, £m.
        base_budget: ``(B, C)`` members' budgets at the start, £m.
        sector_code: ``(B, C)`` index of each member's sector in ``SECTORS``.
        active: ``(B, C)`` who is a member.
        demand_index: Demand relative to the start.
    """

    plan: np.ndarray
    has_plan: np.ndarray
    goals: np.ndarray
    budget: np.ndarray
    base_budget: np.ndarray
    sector_code: np.ndarray
    active: np.ndarray
    demand_index: float


#: The submodel's step-table columns, in order.
SERVICE_COLUMNS = ("admissions", "avoided_admissions", "emergency_bed_days",
                   "delayed_transfer_days", "unmet_need", "care_capacity", "prevention_spend",
                   "prevention_stock", "acute_cost_avoided", "care_cost_avoided")


class ServiceDemand:
    """State of ``B`` care pathways: prevention stock and cumulative totals, ``(B,)`` each."""

    def __init__(self, p: Mapping[str, Any], B: int) -> None:
        self.p = p
        self.factor = np.ones(B)  #: social care's budget relative to the start, when last seen
        self.stock = np.zeros(B)
        self.base_admissions = p["services.population"] * p["services.admission_rate"]
        self.base_capacity = p["services.care_capacity"] * self.base_admissions \
            * p["services.discharge_need"]
        self.package_cost = p["services.care_package_cost"] * p["services.package_weeks"]
        self.half = p["services.prevention_half"] * p["services.population"] / 10_000
        self.totals = {k: np.zeros(B) for k in ("bed_days", "delayed_days", "unmet",
                                                "prevention_spend", "acute_avoided",
                                                "care_avoided")}

    def step(
        self, partnership: Partnership, spent: np.ndarray, productivity: np.ndarray,
        contributions: np.ndarray,
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Advance the pathways one quarter.

        Args:
            partnership: What the pathway sees of the partnerships.
            spent: ``(B,)`` joint money spent this quarter, £m.
            productivity: ``(B,)`` what a £ of joint money achieves relative to a £ alone.
            contributions: ``(B, C)`` what each member put in this quarter, £m.

        Returns:
            The step's record (``(B,)`` per column), and what each member saved (£m).
        """
        p, pt = self.p, partnership
        shares = np.where(pt.has_plan[:, None], priority_shares(pt.plan), 0.0)
        fence = p["services.prevention_ringfence"]
        shares = (1.0 - fence) * shares
        shares[:, PREVENTION] += fence
        prevention_spend = spent * shares[:, PREVENTION]
        # Re-badged money: what the non-additional part of the contributions used to buy
        # in members' own services (at the solo counterfactual, £1 buys £1, split by the
        # member's own priorities) is lost when it moves into the pot.
        moved = (1.0 - p["services.additionality"]) * contributions * pt.active
        lost = (moved[..., None] * priority_shares(pt.goals)).sum(axis=1)
        effective = prevention_spend * productivity - lost[:, PREVENTION]
        self.stock = (1.0 - p["services.prevention_decay"]) * self.stock + effective

        unprevented = self.base_admissions * pt.demand_index
        # Diminishing returns either way: a negative stock (prevention lost) adds admissions.
        scale = np.abs(self.stock) + self.half
        reach = np.where(scale > 0, self.stock / np.where(scale > 0, scale, 1.0), 0.0)
        avoided = unprevented * p["services.prevention_max"] * reach
        admissions = unprevented - avoided
        needing = admissions * p["services.discharge_need"]

        budget_factor = self._capacity_factor(pt)
        bought = ((spent * shares[:, INDEPENDENCE] * productivity - lost[:, INDEPENDENCE]) * 1e6
                  / self.package_cost if self.package_cost > 1e-9 else 0.0)  # £, not free
        capacity = np.maximum(0.0, self.base_capacity * budget_factor + bought)
        unmet = np.maximum(0.0, needing - capacity)
        delayed = unmet * p["services.delay_days"]
        bed_days = admissions * p["services.length_of_stay"] + delayed

        acute_avoided = avoided * p["services.length_of_stay"] * p["services.bed_day_cost"] / 1e6
        care_avoided = avoided * p["services.discharge_need"] * self.package_cost / 1e6
        saved = _book(pt, HEALTH, acute_avoided) + _book(pt, SOCIAL_CARE, care_avoided)

        t = self.totals
        t["bed_days"] += bed_days
        t["delayed_days"] += delayed
        t["unmet"] += unmet
        t["prevention_spend"] += prevention_spend
        t["acute_avoided"] += acute_avoided
        t["care_avoided"] += care_avoided
        values = (admissions, avoided, bed_days, delayed, unmet, capacity, prevention_spend,
                  self.stock.copy(), acute_avoided, care_avoided)
        return dict(zip(SERVICE_COLUMNS, values, strict=True)), saved

    def _capacity_factor(self, pt: Partnership) -> np.ndarray:
        """Social care's budget now relative to the start (its members' mean ratio).

        Social care keeps providing packages after it leaves the partnership, with the
        budget it had when it left.
        """
        care = pt.active & (pt.sector_code == SOCIAL_CARE)
        ratio = pt.budget / np.maximum(pt.base_budget, 1e-12)
        seen = care.any(axis=1)
        self.factor = np.where(seen, (ratio * care).sum(axis=1) / np.maximum(care.sum(axis=1), 1),
                               self.factor)
        return self.factor

    def summary(self) -> list[dict[str, float]]:
        """Each pathway's summary metrics for the run."""
        t = self.totals
        spend = t["prevention_spend"]
        per_pound = np.where(spend > 1e-12, t["acute_avoided"] / np.where(spend > 1e-12, spend,
                                                                          1.0), 0.0)
        columns = {"emergency_bed_days": t["bed_days"], "delayed_transfer_days": t["delayed_days"],
                   "unmet_need": t["unmet"], "acute_saving_per_pound": per_pound}
        return [{k: float(v[b]) for k, v in columns.items()} for b in range(len(spend))]


def _book(pt: Partnership, sector: int, amount: np.ndarray) -> np.ndarray:
    """A saving shared among a sector's members in proportion to their budgets."""
    budget = pt.budget * (pt.active & (pt.sector_code == sector))
    total = budget.sum(axis=1, keepdims=True)
    ok = (amount != 0)[:, None] & (total > 0)
    return np.where(ok, amount[:, None] * budget / np.where(total > 0, total, 1.0), 0.0)
