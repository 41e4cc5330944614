"""The meeting: deliberation, tabling, votes, the adopted plan and the meeting's cost.

Between meetings each member's understanding drifts back to its own interests and,
with a shared strategy, towards the members' common picture. At the meeting members
deliberate (understanding moves towards trusted, culturally close partners), the
governance mode tables alternatives and the decision rule decides; a meeting that
cannot decide deliberates again, up to ``governance.deliberation_rounds`` more
times (Choi & Robertson 2014). Where plans need ratification, the home organisations
then sign the adopted plan off (:mod:`~collabsim.mechanisms.ratification`).

Every function works on a batch of partnerships: a partnership that has adopted a
plan stops deliberating while the others go on (a loop over attempts, never over
replicates), and each replicate's governance mode tables for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms import Joint, coordination, decision_power, ratification
from collabsim.members import Members
from collabsim.population import goal_distance
from collabsim.rules.decision import Ballot, DecisionRule
from collabsim.rules.funding import FundingRule
from collabsim.rules.governance import BROKER, Draws, GovernanceMode, Table
from collabsim.schema import NEUTRAL_TRUST


def preferences(m: Members, p: Mapping[str, Any]) -> np.ndarray:
    """Plans members prefer ``(B, C, D)``: their interests blended with their understanding."""
    w = p["dynamics.understanding_weight"]
    return (1 - w) * m.goals + w * m.understanding


def acceptability(plans: np.ndarray, pref: np.ndarray, p: Mapping[str, Any]) -> np.ndarray:
    """Acceptability of ``plans (B, K, D)`` to each member: ``(B, K, C)`` in [0, 1]."""
    dist = goal_distance(plans[:, :, None, :], pref[:, None, :, :])
    return np.clip(1.0 - dist / p["dynamics.acceptability_scale"], 0.0, 1.0)


@dataclass(frozen=True)
class Chair:
    """Everything a vote needs besides the alternatives: the members and the rules.

    Attributes:
        modes: One instance per governance mode, in code order.
        mode: ``(B,)`` each replicate's governance mode, an index into ``modes``.
        lead: ``(B,)`` slot of the lead organisation.
    """

    m: Members
    p: Mapping[str, Any]
    modes: tuple[GovernanceMode, ...]
    mode: np.ndarray
    decision: DecisionRule
    lead: np.ndarray

    def by_mode(self, values: list[np.ndarray]) -> np.ndarray:
        """Each replicate's value from the list of every mode's values."""
        return np.choose(self.mode, values) if len(values) > 1 else values[0]

    def per_mode(self, value: Callable[[GovernanceMode], np.ndarray]) -> np.ndarray:
        """Each replicate's ``value(its mode)``, computed only for the modes in use.

        Where every replicate has the same mode (a single run always does) only that
        mode's value is computed; otherwise as :meth:`by_mode` over every mode.
        """
        if self.mode.size and (self.mode == self.mode[0]).all():
            return np.array(value(self.modes[self.mode[0]]))
        return self.by_mode([value(g) for g in self.modes])

    def decider(self) -> np.ndarray:
        """``(B,)`` slot of who decides under ``lead_decides`` (-1: the broker)."""
        m = self.m
        return self.per_mode(lambda g: g.decider(m.power, m.active, self.lead))

    def vote(
        self, alts: np.ndarray, proposers: np.ndarray, valid: np.ndarray, pref: np.ndarray,
        decider: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Put alternatives ``(B, K, D)`` tabled by ``proposers (B, K)`` to the decision rule.

        A member votes for an alternative it finds acceptable enough, counting its trust
        in whoever tabled it (the broker's credibility comes from facilitation). The
        rule counts the votes cast, shifted by power where the rule makes that matter
        (:mod:`~collabsim.mechanisms.decision_power`); the yes votes returned are the
        sincere ones, which trust and contest follow.

        Returns:
            Acceptability ``(B, K, C)``, yes votes ``(B, K, C)`` and which pass ``(B, K)``.
        """
        p, m = self.p, self.m
        threshold = p["dynamics.acceptance_threshold"]
        acc = acceptability(alts, pref, p)
        base = p["dynamics.broker_credibility"]
        broker_trust = base + (1.0 - base) * p["governance.facilitation"]
        # credit[b, k, i] = trust[b, i, proposers[b, k]]
        credit = m.trust[np.arange(m.B)[:, None, None], np.arange(m.C)[None, None, :],
                         np.maximum(proposers, 0)[:, :, None]]  # (B, K, C)
        credit = np.where(proposers[:, :, None] == BROKER, broker_trust, credit)
        leaning = acc + p["dynamics.trust_acceptance_bonus"] * (credit - NEUTRAL_TRUST)
        shift = decision_power.power_shift(m.power, proposers, p["governance.decision_rule"],
                                           p["decision.deference"], p["decision.veto_guard"])
        cast = (leaning + shift >= threshold) & m.active[:, None, :]
        yes = cast if isinstance(shift, float) else (leaning >= threshold) & m.active[:, None, :]
        ballot = Ballot(cast, acc, m.power, m.active, decider, p["governance.supermajority"],
                        threshold)
        return acc, yes, self.decision.passes(ballot) & valid

    def propose(
        self, pref: np.ndarray, k: int, draws: Draws, decider: np.ndarray,
        trust_out: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Alternatives ``(B, K, D)``, who tabled them and which exist, by governance mode.

        ``trust_out (B, C)`` is each member's mean trust in the others (trust does not
        change during a meeting).
        """
        m = self.m
        table = Table(pref, m.power, trust_out, m.active, self.lead)

        def vote(alts: np.ndarray, who: np.ndarray, valid: np.ndarray) -> np.ndarray:
            return self.vote(alts, who, valid, pref, decider)[2]

        tabled = {code: g.propose(table, k, vote, draws) for code, g in enumerate(self.modes)
                  if (self.mode == code).any()}
        if len(tabled) == 1:
            return next(iter(tabled.values()))
        alts = np.zeros((m.B, k, pref.shape[2]))
        who = np.full((m.B, k), BROKER)
        valid = np.ones((m.B, k), dtype=bool)
        for code, (alts_g, who_g, valid_g) in tabled.items():  # over modes, not replicates
            here = self.mode == code
            alts[here], who[here], valid[here] = alts_g[here], who_g[here], valid_g[here]
        return alts, who, valid


def spread(values: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over the active members of ``values (B, C)``, ``(B,)`` each."""
    n = np.maximum(active.sum(axis=1), 1)
    mean = (values * active).sum(axis=1) / n
    return mean, np.sqrt((((values - mean[:, None]) ** 2) * active).sum(axis=1) / n)


def deliberate(m: Members, weights: np.ndarray, totals: np.ndarray, speed: float,
               where: np.ndarray) -> None:
    """One round: understanding moves towards trusted, culturally close partners.

    ``weights (B, C, C)`` is how far each member listens to each other, ``totals
    (B, C, 1)`` its sum over partners. Only in the replicates ``where`` ``(B,)`` is True.
    """
    # (U^T W^T)^T: numpy hands this layout of the stacked product to BLAS (several times
    # faster for large partnerships, and the same whatever the batch).
    pulled = (m.understanding.transpose(0, 2, 1) @ weights.transpose(0, 2, 1)).transpose(0, 2, 1)
    target = np.where(totals > 0, pulled / np.where(totals > 0, totals, 1.0), m.understanding)
    m.understanding += speed * where[:, None, None] * (target - m.understanding)


def hold(
    chair: Chair, fx: Effects, funding: FundingRule, joint: Joint, draws: Draws,
    live: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Hold this step's meeting; adopt a plan into ``joint`` where one passes.

    Only replicates that are ``live`` ``(B,)`` can adopt a plan. Sets each member's
    ``meeting_cost`` and ``plan_acc``.

    Returns:
        The step's record of the meeting, which replicates decided ``(B,)`` and who
        voted for the adopted plan ``(B, C)``.
    """
    m, p = chair.m, chair.p
    B, a, n = m.B, m.active, m.n
    m.understanding += p["dynamics.anchoring"] * (m.goals - m.understanding)
    if fx.vision_pull:
        m.understanding += fx.vision_pull * a[..., None] * (
            m.mean(m.understanding)[:, None, :] - m.understanding)
    weights = np.subtract(1.0, m.culture, out=m.scratch(1))  # (trust_out uses scratch 0)
    weights *= m.trust
    weights *= m.pairs()
    totals = weights.sum(axis=2, keepdims=True)
    rounds = p["governance.deliberation_rounds"]
    everyone = np.ones(B, dtype=bool)
    for _ in range(rounds):  # deliberation before the first vote
        deliberate(m, weights, totals, fx.deliberation_speed, everyone)
    decider = chair.decider()
    trust_out = m.trust_out()
    k = p["dynamics.alternatives"]
    used = np.full(B, rounds)
    open_ = live.copy()
    plan = np.zeros((B, m.goals.shape[2]))
    acc_adopted = np.zeros(a.shape)
    yes_adopted = np.zeros(a.shape, dtype=bool)
    pref_at = np.zeros(m.goals.shape)
    b = np.arange(B)
    for attempt in range(rounds + 1):  # votes, with up to `rounds` extra rounds
        if attempt:
            deliberate(m, weights, totals, fx.deliberation_speed, open_)
            used += open_
        pref = preferences(m, p)
        alts, who, valid = chair.propose(pref, k, draws, decider, trust_out)
        acc, yes, passes = chair.vote(alts, who, valid, pref, decider)
        now = open_ & passes.any(axis=1)
        first = np.argmax(passes, axis=1)  # alternatives are taken in the order tabled
        plan[now] = alts[b, first][now]
        acc_adopted[now] = acc[b, first][now]
        yes_adopted[now] = yes[b, first][now]
        pref_at[now] = pref[now]
        open_ &= ~now
        if not open_.any():
            break
    decided = live & ~open_
    tilt = funding.lead_tilt
    if tilt:  # the lead commissions: what is implemented leans to its preferences
        plan = (1 - tilt) * plan + tilt * pref_at[b, chair.lead]
    # The plan against members' own goals, not the preferences deliberation moved.
    home = acceptability(plan[:, None, :], m.goals, p)  # (B, 1, C)
    if draws.sign_off is not None:  # the home organisations sign off what is implemented
        ok = ratification.signed_off(home[:, 0], m.pressure, a, draws.sign_off, p)
        ballot = Ballot(ok[:, None, :], home, m.power, a, decider,
                        p["governance.supermajority"], p["dynamics.acceptance_threshold"])
        decided &= ratification.counted(chair.decision, ballot, decider)
    load = chair.per_mode(lambda g: g.coordination_load(n))
    cost = (p["governance.meeting_cost"] * (used + 1) * fx.meeting_time_cost * load
            + fx.participation_cost)
    m.meeting_cost = np.where(a, cost[:, None], 0.0)
    if p["coordination.tie_cost"]:
        hub = np.array([g.name != "shared" for g in chair.modes])[chair.mode]
        m.meeting_cost += coordination.tie_costs(a, hub, p["coordination.tie_cost"],
                                                 p["coordination.hub_relief"])
    running = chair.per_mode(lambda g: np.full(B, g.running_cost()))
    if running.any():  # the broker's running cost is shared in proportion to budget
        budget = m.budget * a
        total = budget.sum(axis=1, keepdims=True)
        share = np.where(total > 0, budget / np.where(total > 0, total, 1.0),
                         a / np.maximum(n, 1)[:, None])
        m.meeting_cost += running[:, None] * share
    joint.plan = np.where(decided[:, None], plan, joint.plan)
    joint.has_plan = joint.has_plan | decided
    joint.currency = np.where(decided, 1.0, joint.currency * (1.0 - p["dynamics.plan_decay"]))
    mean_acc, sd = spread(acc_adopted, a)
    own_acc, own_sd = spread(home[:, 0], a)
    contested = decided & ((~yes_adopted & a).sum(axis=1) >= p["metrics.contested_share"] * n)
    m.plan_acc = np.where(joint.has_plan[:, None] & a,
                          acceptability(joint.plan[:, None, :], preferences(m, p), p)[:, 0], 0.0)
    record = {"decided": decided.astype(float), "rounds": (used + 1).astype(float),
              "meeting_time": ((used + 1) * n).astype(float),
              "acceptability": np.where(decided, mean_acc, np.nan),
              "acceptability_sd": np.where(decided, sd, np.nan),
              "contested": contested.astype(float),
              "own_acceptability": np.where(decided, own_acc, np.nan),
              "own_equity_sd": np.where(decided, own_sd, np.nan)}
    return record, decided, yes_adopted
