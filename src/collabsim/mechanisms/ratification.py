"""Ratification: a plan agreed at the table must be signed off by the home organisations.

Representatives deliberate and vote at the partnership's table, but each home
organisation judges the plan against its own goals, not against the understanding its
representative brought back from deliberation, and asks more of a plan the harder its
own budget is pressed. This is the two-level game of Putnam (1988): an agreement stands
only if it is ratified at home. Huxham & Vangen (2005) name accountability to the home
organisation as one source of collaborative inertia.

The sign-offs are counted by the partnership's own decision rule (a majority board needs
a majority of home organisations, a unanimous one all of them, a lead that decides its
own; where a broker decides, a majority of the home organisations it answers to). A plan that is not
ratified is not adopted: the meeting has decided nothing. On by default
(``ratification.enabled``); experiments/ratification.py shows what its bar does to
generic.toml and to the calibration targets (docs/calibration.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.rules.decision import Ballot, DecisionRule


def signed_off(home: np.ndarray, pressure: np.ndarray, active: np.ndarray, u: np.ndarray,
               p: Mapping[str, Any]) -> np.ndarray:
    """Which home organisations sign the plan off: ``(B, C)`` bool.

    Args:
        home: ``(B, C)`` the plan's acceptability against each member's own goals.
        pressure: ``(B, C)`` each member's budget pressure in [0, 1].
        active: ``(B, C)`` who is a member.
        u: ``(B, C)`` this meeting's uniforms.
        p: The parameters (``ratification.*``).

    An organisation signs off with a probability that rises smoothly (logistically,
    with width ``ratification.spread``) as the plan's acceptability to it passes its bar,
    ``ratification.threshold + ratification.pressure × pressure``.
    """
    bar = p["ratification.threshold"] + p["ratification.pressure"] * pressure
    z = (home - bar) / p["ratification.spread"]
    chance = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic function, without overflow
    return (u < chance) & active


def counted(rule: DecisionRule, ballot: Ballot, decider: np.ndarray) -> np.ndarray:
    """``(B,)`` whether the sign-offs in ``ballot`` (one alternative) ratify the plan.

    The partnership's own rule counts them; where a broker decides (``decider`` -1) it
    has no home organisation of its own, so a majority of the members' must sign off.
    """
    return np.where(decider < 0, ballot.share[:, 0] > 0.5, rule.passes(ballot)[:, 0])
