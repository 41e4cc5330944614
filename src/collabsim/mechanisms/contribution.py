"""Contribution: willingness, what each member is asked for and pays, its shortfall.

Willingness rises with prosociality, trust in partners, expected return and shared
outcomes, and falls with budget pressure (Choi & Robertson 2019); a legal duty sets
a floor under it. The funding rule says what is asked and whether it is paid
regardless. Prosociality then follows what others are seen to pay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.infrastructure import Effects
from collabsim.mechanisms import voice
from collabsim.mechanisms.environment import fair_share
from collabsim.members import Members
from collabsim.rules.funding import FundingRule


def contribute(
    m: Members, p: Mapping[str, Any], fx: Effects, funding: FundingRule, currency: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """What each member pays this step (£m, ``(B, C)``), and the step's record of it.

    Sets each member's ``shortfall``: the share of what it was asked that it did not pay.
    """
    fair = fair_share(m, p) * m.active
    willingness = np.clip(
        p["dynamics.willingness_prosocial"] * m.prosociality
        + p["dynamics.willingness_trust"] * m.trust_out()
        + p["dynamics.willingness_return"] * (m.exp_return - 1.0)
        + fx.accountability_push
        + voice.push(p["participation.rung"], p["participation.voice"])
        - p["dynamics.willingness_pressure"] * (1 - fx.pressure_shield) * m.pressure,
        0.0, 1.0,
    )
    if p["governance.mandated"]:  # a statutory duty sets a floor under what is paid
        willingness = np.maximum(willingness, p["dynamics.mandate_compliance"])
    asked = funding.asked(fair, m.commitment, currency)
    c = np.minimum(funding.contributions(asked, willingness), m.budget) * m.active
    paid = np.where(asked > 1e-12, c / np.where(asked > 1e-12, asked, 1.0), 1.0)
    m.shortfall = np.maximum(1.0 - paid, 0.0) * m.active
    asked_total = asked.sum(axis=1)
    record = dict(contribution=c.sum(axis=1), fair_total=fair.sum(axis=1),
                  asked_total=asked_total,
                  free_riding=np.where(asked_total > 0, m.shortfall.sum(axis=1)
                                       / np.maximum(m.n, 1), np.nan))
    return c, record


def adapt_prosociality(m: Members, p: Mapping[str, Any], seen: float) -> None:
    """Prosociality follows what the others pay, as far as it can be seen."""
    actual = (1.0 - m.shortfall) * m.active
    others = (actual.sum(axis=1, keepdims=True) - actual) / np.maximum(m.n - 1, 1)[:, None]
    rate = p["dynamics.prosociality_adaptation"] * seen
    m.prosociality += rate * m.active * (others - m.prosociality)
