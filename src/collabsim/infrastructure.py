"""Collaborative infrastructure, participation and facilitation as named mechanisms.

Collaborate CIC (Randle; docs/sources.md) names nine elements of collaborative
infrastructure that pull a place towards or away from collaboration. Each lever in
``[infrastructure]`` acts through exactly one mechanism below, with a strength set in
``[effects]``; the model reads the resulting :class:`Effects` and never the raw
levers, so every lever's influence is in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collabsim.schema import INFRASTRUCTURE, PARTICIPATION_RUNGS

#: Lever -> (mechanism, what it does). Also rendered in docs/ODD.md.
MECHANISMS: dict[str, tuple[str, str]] = {
    "strategy": ("vision_pull",
                 "each step, members' understanding drifts towards the shared vision "
                 "(the members' mean picture) at a rate proportional to the lever"),
    "governance": ("meeting_efficiency",
                   "system leadership shortens each deliberation round's cost and damps "
                   "the trust lost to decisions imposed by the powerful"),
    "outcomes": ("accountability_push",
                 "shared outcomes add to every member's willingness to pay its fair share"),
    "funding": ("pressure_shield",
                "flexible funding and commissioning shields contributions from budget "
                "pressure"),
    "culture": ("culture_bridge",
                "culture change shrinks the cultural distance between sectors, which "
                "slows deliberation, and the role conflict of integrated teams"),
    "delivery": ("delivery_capacity",
                 "integrated delivery multiplies the admin capacity through which joint "
                 "money is spent"),
    "data": ("shortfall_detection",
             "shared data raises the share of a partner's shortfall that is detected and "
             "the evidence of impact behind trust gains"),
    "learning": ("trust_building",
                 "learning and relationship spaces multiply the rate at which trust grows"),
    "communications": ("deliberation_speed",
                       "communications and engagement speed up the convergence of "
                       "understanding in deliberation"),
}
assert tuple(MECHANISMS) == INFRASTRUCTURE

#: Rungs at the foot of the ladder of participation are non-participation (Hart 1992).
NON_PARTICIPATION = ("manipulation", "decoration", "tokenism")
LAST_NON_PARTICIPATION = max(r for r, name in PARTICIPATION_RUNGS.items()
                             if name in NON_PARTICIPATION)
PARTICIPATION_SPAN = max(PARTICIPATION_RUNGS) - LAST_NON_PARTICIPATION


@dataclass(frozen=True)
class Effects:
    """Multipliers and rates derived once from a scenario's levers.

    Attributes:
        vision_pull: Share of the gap to the shared vision closed per step.
        meeting_time_cost: Multiplier on the cost of a deliberation round.
        power_play_damping: Multiplier on trust lost to imposed decisions.
        accountability_push: Addition to willingness to contribute.
        pressure_shield: Share of budget pressure kept away from contributions.
        cultural_distance: Scale of cultural distance between sectors.
        role_conflict: Satisfaction lost per step by care professionals in integrated teams.
        delivery_capacity: Multiplier on hub admin capacity.
        detection: Share of a shortfall detected, before the funding rule's visibility.
        evidence: Multiplier on trust gains from evidence of impact.
        trust_building: Multiplier on the rate of trust growth.
        deliberation_speed: Share of the gap to trusted partners closed per round.
        loss_damping: Multiplier on trust lost to shortfalls (facilitation).
        participation_fit: Gain in fit of what is delivered.
        participation_cost: Engagement cost per member per meeting, £m.
    """

    vision_pull: float
    meeting_time_cost: float
    power_play_damping: float
    accountability_push: float
    pressure_shield: float
    cultural_distance: float
    role_conflict: float
    delivery_capacity: float
    detection: float
    evidence: float
    trust_building: float
    deliberation_speed: float
    loss_damping: float
    participation_fit: float
    participation_cost: float


def effects(p: Any) -> Effects:
    """Derive the effects of infrastructure, participation and facilitation.

    Args:
        p: A scenario, or any mapping of dotted keys to values.
    """
    lever = {name: p[f"infrastructure.{name}"] for name in INFRASTRUCTURE}
    facilitation = p["governance.facilitation"]
    rung = p["participation.rung"]
    detection_by_regime = {"none": 0.0, "mutual": p["dynamics.detection_mutual"],
                           "formal": p["dynamics.detection_formal"]}
    evidence = p["effects.data_evidence"]
    culture = 1.0 - p["effects.culture"] * lever["culture"]
    return Effects(
        vision_pull=p["effects.strategy"] * lever["strategy"],
        meeting_time_cost=1.0 - p["effects.governance_meetings"] * lever["governance"],
        power_play_damping=1.0 - p["effects.governance_power_play"] * lever["governance"],
        accountability_push=p["effects.outcomes"] * lever["outcomes"],
        pressure_shield=p["effects.funding"] * lever["funding"],
        cultural_distance=p["dynamics.cultural_distance"] * culture,
        role_conflict=p["dynamics.role_conflict"] * culture,
        delivery_capacity=1.0 + p["effects.delivery"] * lever["delivery"],
        detection=min(
            1.0,
            p["dynamics.detection_base"]
            + p["effects.data_detection"] * lever["data"]
            + detection_by_regime[p["governance.accountability"]],
        ),
        evidence=(1.0 - evidence) + evidence * lever["data"],
        trust_building=1.0 + p["effects.learning"] * lever["learning"],
        deliberation_speed=min(
            1.0,
            p["dynamics.deliberation_rate"]
            * (1.0 + p["effects.communications"] * lever["communications"])
            * (1.0 + p["dynamics.facilitation_speedup"] * facilitation),
        ),
        loss_damping=1.0 - p["dynamics.facilitation_damping"] * facilitation,
        # Non-participation costs engagement time but does not change what is delivered;
        # manipulation (rung 1) does not even cost that.
        participation_fit=p["dynamics.participation_fit_gain"]
        * max(0, rung - LAST_NON_PARTICIPATION) / PARTICIPATION_SPAN,
        participation_cost=p["dynamics.participation_cost"] * (0.0 if rung == 1 else 1.0),
    )
