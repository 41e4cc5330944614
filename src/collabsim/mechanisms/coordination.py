"""Coordination costs that grow with the partnership's size, under every governance mode.

Each active member keeps up a relationship with each other member: ``n − 1`` ties at
``coordination.tie_cost`` £m per tie per step, so the partnership's total grows as
``n(n − 1)`` while what it pools grows as ``n``; bigger is not always better. A lead
organisation or a broker takes ``coordination.hub_relief`` of that off members
(hub-and-spoke, after Provan & Kenis 2008), but the cost still grows with size. With
``coordination.tie_cost`` at 0 nothing is charged.
"""

from __future__ import annotations

import numpy as np


def tie_costs(active: np.ndarray, brokered: np.ndarray, tie_cost: float, hub_relief: float
              ) -> np.ndarray:
    """Each member's cost of its relationships ``(B, C)``, £m this step.

    Args:
        active: ``(B, C)`` who is a member.
        brokered: ``(B,)`` whether a lead or a broker governs.
        tie_cost: £m per relationship per step.
        hub_relief: Share of the cost a hub takes off members.
    """
    ties = np.maximum(active.sum(axis=1) - 1, 0)
    per = tie_cost * ties * np.where(brokered, 1.0 - hub_relief, 1.0)
    return per[:, None] * active
