"""Every change of trust between members (Vangen & Huxham 2003; Ansell & Gash 2008).

Trust grows on trust: slowly from a low base and slowly near the top (logistic,
``2 t (1 - t)``, which is 1/2 at t = 1/2); it is lost in proportion to what there
is, so a betrayal is quick to do and slow to undo. A member's trust in itself is 1.
Initial trust is drawn in :mod:`collabsim.population`. ``trust[b, i, j]`` is
replicate ``b``'s member ``i``'s trust in ``j``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms import memory
from collabsim.members import Members
from collabsim.rules.funding import FundingRule


def turnover(m: Members, rows: np.ndarray, size: float, prior: float) -> None:
    """New leadership at ``rows (B, C)``: trust to and from them moves back to the prior.

    Scars to and from them fade as far (:mod:`~collabsim.mechanisms.memory`).
    """
    m.scar = memory.forget(m.scar, rows, size)
    b, i = np.nonzero(rows)  # the few members concerned, in any replicate
    T = m.trust
    T[b, i, :] += size * (prior - T[b, i, :])
    T[b, :, i] += size * (prior - T[b, :, i])
    m.trust_in_self()


def scandal(m: Members, hit: np.ndarray, size: float, p: Mapping[str, Any]) -> None:
    """A safeguarding incident: everyone's trust in the members ``hit (B, C)`` drops.

    It may leave a scar (``memory.scandal_scar``) that caps that trust until it fades.
    """
    b, i = np.nonzero(hit)
    m.trust[b, :, i] *= 1.0 - size
    m.trust_in_self()
    m.scar = memory.after_scandal(m.scar, hit, size, p["memory.scandal_scar"])


def after_meeting(
    m: Members, decided: np.ndarray, yes: np.ndarray, p: Mapping[str, Any], fx: Effects
) -> None:
    """Trust after the meeting: an adopted decision, or a meeting that decided nothing.

    Those who carried a decision together trust each other a little more; an imposed
    decision is a power play against the outvoted, who lose trust in its powerful
    supporters, and the supporters in turn resent those who opposed them. A meeting
    that decides nothing (``decided (B,)`` False) wears goodwill all round.
    """
    T = m.trust
    if decided.any():
        s = (yes & m.active).astype(float)
        against = (~yes & m.active).astype(float)
        # 2 t (1 - t) growth; the factor 2 is applied to the (B, C) factor first (the same
        # numbers: scaling by 2 is exact), which saves a pass over the (B, C, C) array.
        # Temporaries go to the members' scratch arrays (no fresh (B, C, C) a step).
        gain = np.multiply((2.0 * p["dynamics.alliance_gain"] * s)[:, :, None],
                           s[:, None, :], out=m.scratch(0))
        gain *= T
        gain *= np.subtract(1.0, T, out=m.scratch(1))
        after = gain
        after += T
        if against.any():
            loss = p["dynamics.power_play_loss"] * fx.power_play_damping
            sp, ap = s * m.power, against * m.power
            play = np.multiply(against[:, :, None], sp[:, None, :], out=m.scratch(1))
            play += np.multiply(p["dynamics.resentment"] * s[:, :, None], ap[:, None, :],
                                out=m.scratch(2))
            play *= loss
            play *= after
            after -= play
        if decided.all():
            np.copyto(T, after)
        else:
            m.trust = np.where(decided[:, None, None], after,
                               T * (1.0 - p["dynamics.frustration_loss"]))
    else:
        T *= 1.0 - p["dynamics.frustration_loss"]
    m.trust_in_self()


def detection(fx: Effects, funding: FundingRule) -> float:
    """Share of a partner's shortfall that the others see."""
    return min(1.0, fx.detection + funding.visibility)


def after_delivery(m: Members, seen_share: float, p: Mapping[str, Any], fx: Effects) -> None:
    """Trust after delivery: it grows when partners deliver and falls on seen shortfalls.

    Trust grows in partners who delivered when the partnership won, in proportion
    to the win, and falls on the share of their shortfalls that the others saw.
    """
    seen = seen_share * m.shortfall * m.active
    m.scar = memory.after_shortfall(m.scar, seen, m.active, p["memory.shortfall_scar"])
    win = np.clip(m.relative_net, 0.0, 1.0) * m.active
    gain = p["dynamics.trust_gain"] * fx.trust_building * fx.evidence
    T = m.trust
    if win.any():
        grow = np.multiply((2.0 * gain * win)[:, :, None], (1.0 - seen)[:, None, :],
                           out=m.scratch(0))  # 2 t (1 - t)
        grow *= T
        grow *= np.subtract(1.0, T, out=m.scratch(1))
        T += grow
    if seen.any():
        lost = np.multiply(p["dynamics.trust_loss"] * fx.loss_damping * seen[:, None, :], T,
                           out=m.scratch(0))
        T -= lost
    np.clip(T, 0.0, 1.0, out=T)
    m.trust_in_self()


def remember(m: Members, p: Mapping[str, Any]) -> None:
    """Trust may not rise above what scars allow; then scars fade a step."""
    if not memory.scarring(p):  # no scar can have formed: nothing to cap or fade
        return
    m.trust, m.scar = memory.remember(m.trust, m.scar, p["memory.scar_decay"])
