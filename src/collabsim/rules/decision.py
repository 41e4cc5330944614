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
    """The votes of one round of a meeting, for a batch of ``B`` partnerships.

    Members are slots ``C`` of which only the ``active`` ones vote.

    Attributes:
        yes: ``(B, K, C)`` bool, member ``i`` supports alternative ``k`` (False where
            inactive).
        acceptability: ``(B, K, C)`` acceptability of each alternative to each member.
        power: ``(B, C)`` members' power.
        active: ``(B, C)`` who is a member.
        decider: ``(B,)`` slot of the member who decides under ``lead_decides``; ``-1``
            where a broker (NAO) decides.
        supermajority: Threshold for the supermajority rule.
        threshold: Acceptability a broker needs to see on average to adopt a plan.
    """

    yes: np.ndarray
    acceptability: np.ndarray
    power: np.ndarray
    active: np.ndarray
    decider: np.ndarray
    supermajority: float
    threshold: float

    @property
    def share(self) -> np.ndarray:
        """``(B, K)`` share of the members supporting each alternative."""
        return self.yes.sum(axis=2) / np.maximum(self.active.sum(axis=1), 1)[:, None]


class DecisionRule:
    """Base class: ``passes(ballot)`` returns a ``(B, K)`` bool array. Rules are stateless."""

    name = ""

    def passes(self, b: Ballot) -> np.ndarray:  # pragma: no cover - interface
        """Which alternatives pass."""
        raise NotImplementedError


DECISION: Registry[DecisionRule] = Registry()


@DECISION.register("unanimity")
class Unanimity(DecisionRule):
    """Every member must support the alternative."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        return (b.yes | ~b.active[:, None, :]).all(axis=2)


@DECISION.register("supermajority")
class Supermajority(DecisionRule):
    """At least ``governance.supermajority`` of members must support it."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        return b.share >= b.supermajority - 1e-12


@DECISION.register("majority")
class Majority(DecisionRule):
    """More than half of members must support it."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        return b.share > 0.5


@DECISION.register("power_weighted")
class PowerWeighted(DecisionRule):
    """Supporters must hold more than half of the members' total power."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        power = b.power * b.active
        total = power.sum(axis=1)[:, None]
        weighted = (b.yes * power[:, None, :]).sum(axis=2) / np.where(total > 0, total, 1.0)
        return np.where(total > 0, weighted > 0.5, b.share > 0.5)


@DECISION.register("lead_decides")
class LeadDecides(DecisionRule):
    """The lead (or the broker) adopts what it finds acceptable, whatever others think."""

    def passes(self, b: Ballot) -> np.ndarray:  # noqa: D102
        by_member = np.take_along_axis(b.yes, np.maximum(b.decider, 0)[:, None, None],
                                       axis=2)[..., 0]
        n = np.maximum(b.active.sum(axis=1), 1)[:, None]
        room = (b.acceptability * b.active[:, None, :]).sum(axis=2) / n >= b.threshold
        return np.where(b.decider[:, None] < 0, room, by_member)
