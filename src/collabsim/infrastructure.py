"""Collaborative infrastructure, participation and facilitation as named mechanisms.

Collaborate CIC (Randle; docs/sources.md) names nine elements of collaborative
infrastructure that pull a place towards or away from collaboration. Each lever in
``[infrastructure]`` acts through exactly one mechanism below; the model reads the
resulting :class:`Effects` and never the raw levers, so every lever's influence is in
one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collabsim.schema import INFRASTRUCTURE

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

ACCOUNTABILITY_DETECTION = {"none": 0.0, "mutual": 0.15, "formal": 0.3}


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
    return Effects(
        vision_pull=0.1 * lever["strategy"],
        meeting_time_cost=1.0 - 0.5 * lever["governance"],
        power_play_damping=1.0 - 0.5 * lever["governance"],
        accountability_push=0.3 * lever["outcomes"],
        pressure_shield=0.6 * lever["funding"],
        cultural_distance=p["dynamics.cultural_distance"] * (1.0 - 0.7 * lever["culture"]),
        role_conflict=p["dynamics.role_conflict"] * (1.0 - 0.7 * lever["culture"]),
        delivery_capacity=1.0 + lever["delivery"],
        detection=min(
            1.0,
            p["dynamics.detection_base"]
            + 0.4 * lever["data"]
            + ACCOUNTABILITY_DETECTION[p["governance.accountability"]],
        ),
        evidence=0.5 + 0.5 * lever["data"],
        trust_building=1.0 + lever["learning"],
        deliberation_speed=min(
            1.0,
            p["dynamics.deliberation_rate"]
            * (1.0 + lever["communications"])
            * (1.0 + facilitation),
        ),
        loss_damping=1.0 - 0.5 * facilitation,
        # Rungs 1-3 (manipulation, decoration, tokenism) are non-participation: they
        # cost engagement time but do not change what is delivered.
        participation_fit=p["dynamics.participation_fit_gain"] * max(0, rung - 3) / 5,
        participation_cost=p["dynamics.participation_cost"] * (0.0 if rung == 1 else 1.0),
    )
