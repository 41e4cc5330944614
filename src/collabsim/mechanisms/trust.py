"""Every change of trust between members (Vangen & Huxham 2003; Ansell & Gash 2008).

Trust grows on trust: slowly from a low base and slowly near the top (logistic,
``2 t (1 - t)``, which is 1/2 at t = 1/2); it is lost in proportion to what there
is, so a betrayal is quick to do and slow to undo. A member's trust in itself is 1.
Initial trust is drawn in :mod:`collabsim.population`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.rules.funding import FundingRule


def turnover(trust: np.ndarray, rows: np.ndarray, size: float, prior: float) -> None:
    """New leadership: trust to and from the members moves back towards the prior."""
    trust[rows, :] += size * (prior - trust[rows, :])
    trust[:, rows] += size * (prior - trust[:, rows])
    trust[rows, rows] = 1.0


def scandal(trust: np.ndarray, rows: np.ndarray, size: float) -> None:
    """A safeguarding incident: everyone's trust in the members involved drops."""
    trust[:, rows] *= 1.0 - size
    trust[rows, rows] = 1.0


def after_decision(
    trust: np.ndarray, yes: np.ndarray, power: np.ndarray, p: Mapping[str, Any], fx: Effects
) -> None:
    """An adopted decision: its supporters' alliance, and the power play it may be.

    Those who carried a decision together trust each other a little more; an imposed
    decision is a power play against the outvoted, who lose trust in its powerful
    supporters, and the supporters in turn resent those who opposed them.
    """
    supporters = yes.astype(float)
    trust += p["dynamics.alliance_gain"] * np.outer(supporters, supporters) * 2.0 * trust \
        * (1.0 - trust)
    no_votes = ~yes
    if no_votes.any():
        loss = p["dynamics.power_play_loss"] * fx.power_play_damping
        against = no_votes.astype(float)
        trust -= loss * (np.outer(against, supporters * power)
                         + p["dynamics.resentment"] * np.outer(supporters, against * power)
                         ) * trust
    np.fill_diagonal(trust, 1.0)


def after_no_decision(trust: np.ndarray, p: Mapping[str, Any]) -> None:
    """A meeting that decides nothing wears goodwill all round."""
    trust *= 1.0 - p["dynamics.frustration_loss"]
    np.fill_diagonal(trust, 1.0)


def detection(fx: Effects, funding: FundingRule) -> float:
    """Share of a partner's shortfall that the others see."""
    return min(1.0, fx.detection + funding.visibility)


def after_delivery(
    trust: np.ndarray, relative_net: np.ndarray, shortfall: np.ndarray, seen_share: float,
    p: Mapping[str, Any], fx: Effects,
) -> None:
    """Trust after delivery: it grows when partners deliver and falls on seen shortfalls.

    Trust grows in partners who delivered when the partnership won, in proportion
    to the win, and falls on the share of their shortfalls that the others saw.
    """
    seen = seen_share * shortfall
    delivered = 1.0 - seen
    win = np.clip(relative_net, 0.0, 1.0)
    gain = p["dynamics.trust_gain"] * fx.trust_building * fx.evidence
    trust += gain * np.outer(win, delivered) * 2.0 * trust * (1.0 - trust)
    trust -= p["dynamics.trust_loss"] * fx.loss_damping * seen[None, :] * trust
    np.clip(trust, 0.0, 1.0, out=trust)
    np.fill_diagonal(trust, 1.0)
