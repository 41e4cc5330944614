"""Decision rules: which tabled alternatives a meeting may adopt.

Choi & Robertson (2014) compare unanimity, supermajority and majority rule in
collaborative governance; power-weighted voting and a lead who decides are the
common alternatives in UK partnership boards. Each rule maps a ballot to the
alternatives that pass; the meeting adopts the first passing alternative in the
order they were tabled, so whoever tables first has agenda power.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collabsim.rules.registry import Registry


@dataclass(frozen=True)
class Ballot:
    """The votes of one round of a meeting.

    Attributes:
        yes: ``(K, n)`` bool, member ``i`` supports alternative ``k``.
        acceptability: ``(K, n)`` acceptability of each alternative to each member.
        power: ``(n,)`` members' power.
        decider: Row of the member who decides under ``lead_decides``; ``None`` when
            a broker (NAO) decides.
        supermajority: Threshold for the supermajority rule.
        threshold: Acceptability a broker needs to see on average to adopt a plan.
    """

    yes: np.ndarray
    acceptability: np.ndarray
    power: np.ndarray
    decider: int | None
    supermajority: float
    threshold: float


class DecisionRule:
    """Base class: ``passes(ballot)`` returns a ``(K,)`` bool array. Rules are stateless."""

    name = ""

    def passes(self, b: Ballot) -> np.ndarray:  # pragma: no cover - interface
        """Which alternatives pass."""
        raise NotImplementedError


DECISION: Registry[DecisionRule] = Registry()


@DECISION.register("unanimity")
class Unanimity(DecisionRule):
    """Every member must support the alternative."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        return b.yes.all(axis=1)


@DECISION.register("supermajority")
class Supermajority(DecisionRule):
    """At least ``governance.supermajority`` of members must support it."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        return b.yes.mean(axis=1) >= b.supermajority - 1e-12


@DECISION.register("majority")
class Majority(DecisionRule):
    """More than half of members must support it."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        return b.yes.mean(axis=1) > 0.5


@DECISION.register("power_weighted")
class PowerWeighted(DecisionRule):
    """Supporters must hold more than half of the members' total power."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        total = b.power.sum()
        if total <= 0:
            return b.yes.mean(axis=1) > 0.5
        return (b.yes @ b.power) / total > 0.5


@DECISION.register("lead_decides")
class LeadDecides(DecisionRule):
    """The lead (or the broker) adopts what it finds acceptable, whatever others think."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        if b.decider is None:
            return b.acceptability.mean(axis=1) >= b.threshold
        return b.yes[:, b.decider].copy()
