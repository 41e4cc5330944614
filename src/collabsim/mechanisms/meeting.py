"""The meeting: deliberation, tabling, votes, the adopted plan and the meeting's cost.

Between meetings each member's understanding drifts back to its own interests and,
with a shared strategy, towards the members' common picture. At the meeting members
deliberate (understanding moves towards trusted, culturally close partners), the
governance mode tables alternatives and the decision rule decides; a meeting that
cannot decide deliberates again, up to ``governance.deliberation_rounds`` more
times (Choi & Robertson 2014).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms import Joint
from collabsim.members import Members
from collabsim.population import goal_distance
from collabsim.rules.decision import Ballot, DecisionRule
from collabsim.rules.funding import FundingRule
from collabsim.rules.governance import BROKER, GovernanceMode
from collabsim.schema import NEUTRAL_TRUST


@dataclass(frozen=True)
class Outcome:
    """What a meeting did.

    Attributes:
        record: The step-table columns of the meeting.
        yes: ``(n,)`` who voted for the adopted plan, or ``None`` if none was adopted.
    """

    record: dict[str, Any]
    yes: np.ndarray | None


def preferences(m: Members, p: Mapping[str, Any]) -> np.ndarray:
    """Plans members prefer: their interests blended with their understanding."""
    w = p["dynamics.understanding_weight"]
    return (1 - w) * m.goals + w * m.understanding


def acceptability(plans: np.ndarray, pref: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """Acceptability of ``plans`` (K, D) to each member: ``(K, n)`` in [0, 1]."""
    dist = goal_distance(plans[:, None, :], pref[None, :, :])
    return np.clip(1.0 - dist / p["dynamics.acceptability_scale"], 0.0, 1.0)


@dataclass(frozen=True)
class Chair:
    """Everything a vote needs besides the alternatives: the members and the rules."""

    m: Members
    p: Mapping[str, Any]
    governance: GovernanceMode
    decision: DecisionRule
    lead: int

    def vote(
        self, alts: np.ndarray, proposers: np.ndarray, pref: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Put alternatives ``(K, D)`` tabled by ``proposers`` to the decision rule.

        A member votes for an alternative it finds acceptable enough, counting its trust
        in whoever tabled it (the broker's credibility comes from facilitation).

        Returns:
            Acceptability ``(K, n)``, yes votes ``(K, n)`` and which pass ``(K,)``.
        """
        p, m = self.p, self.m
        threshold = p["dynamics.acceptance_threshold"]
        acc = acceptability(alts, pref, p)
        base = p["dynamics.broker_credibility"]
        broker_trust = base + (1.0 - base) * p["governance.facilitation"]
        credit = np.where(proposers[:, None] == BROKER, broker_trust,
                          m.trust[:, np.maximum(proposers, 0)].T)
        yes = acc + p["dynamics.trust_acceptance_bonus"] * (credit - NEUTRAL_TRUST) >= threshold
        ballot = Ballot(yes, acc, m.power, self.governance.decider(m.power, self.lead),
                        p["governance.supermajority"], threshold)
        return acc, yes, self.decision.passes(ballot)

    def propose(self, pref: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Alternatives ``(K, D)`` and who tabled them, under the governance mode."""
        return self.governance.propose(
            pref, self.m.power, self.m.trust_out(), self.lead, k,
            lambda alts, proposers: self.vote(alts, proposers, pref)[2])


def deliberate(m: Members, weights: np.ndarray, speed: float) -> None:
    """One round: understanding moves towards trusted, culturally close partners."""
    totals = weights.sum(axis=1, keepdims=True)
    target = np.divide(weights @ m.understanding, totals,
                       out=m.understanding.copy(), where=totals > 0)
    m.understanding += speed * (target - m.understanding)


def hold(chair: Chair, fx: Effects, funding: FundingRule, joint: Joint) -> Outcome:
    """Hold this step's meeting; adopt a plan into ``joint`` if one passes.

    Sets each member's ``meeting_cost`` and ``plan_acc``.
    """
    m, p, governance = chair.m, chair.p, chair.governance
    n = m.n
    m.understanding += p["dynamics.anchoring"] * (m.goals - m.understanding)
    if fx.vision_pull:
        centre = m.understanding.sum(axis=0) / n
        m.understanding += fx.vision_pull * (centre - m.understanding)
    weights = m.trust * (1.0 - m.culture)
    np.fill_diagonal(weights, 0.0)
    rounds = p["governance.deliberation_rounds"]
    k = p["dynamics.alternatives"]
    governance.new_meeting()
    for _ in range(rounds):  # deliberation before the first vote
        deliberate(m, weights, fx.deliberation_speed)
    used = rounds
    adopted = -1
    for attempt in range(rounds + 1):  # votes, with up to `rounds` extra rounds
        if attempt:
            deliberate(m, weights, fx.deliberation_speed)
            used += 1
        pref = preferences(m, p)
        alts, proposers = chair.propose(pref, k)
        acc, yes, passes = chair.vote(alts, proposers, pref)
        if passes.any():  # alternatives are taken in the order they were tabled
            adopted = int(np.argmax(passes))
            break
    cost = (p["governance.meeting_cost"] * (used + 1) * fx.meeting_time_cost
            * governance.coordination_load(n) + fx.participation_cost)
    m.meeting_cost = np.full(n, cost)
    running = governance.running_cost()
    if running:  # the broker's running cost is shared in proportion to budget
        total = m.budget.sum()
        m.meeting_cost += running * (m.budget / total if total > 0 else 1.0 / n)
    record: dict[str, Any] = dict(decided=adopted >= 0, rounds=used + 1,
                                  meeting_time=(used + 1) * n)
    outcome_yes = None
    if adopted >= 0:
        plan = alts[adopted]
        tilt = funding.lead_tilt
        if tilt:
            plan = (1 - tilt) * plan + tilt * pref[chair.lead]
        joint.plan = plan
        joint.currency = 1.0
        decision_acc = acc[adopted]
        outcome_yes = yes[adopted]
        mean_acc = float(decision_acc.sum()) / n
        record.update(
            acceptability=mean_acc,
            acceptability_sd=float(np.sqrt(((decision_acc - mean_acc) ** 2).sum() / n)),
            contested=bool((~outcome_yes).sum() >= p["metrics.contested_share"] * n))
    else:
        joint.currency *= 1.0 - p["dynamics.plan_decay"]
        record.update(acceptability=np.nan, acceptability_sd=np.nan, contested=False)
    m.plan_acc = (acceptability(joint.plan[None, :], preferences(m, p), p)[0]
                  if joint.plan is not None else np.zeros(n))
    return Outcome(record, outcome_yes)
