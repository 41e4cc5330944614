"""The members' state as one struct of arrays: every field declared once.

Each per-member field has one row per active member, each pairwise field one row and
one column; :data:`MEMBER_FIELDS` and :data:`PAIR_FIELDS` name them with their dtype,
shape and what a joiner starts with. Joining (:meth:`Members.append`) and leaving
(:meth:`Members.keep`) are done here and nowhere else, so every field, the per-step
ones included, always has one row per member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from collabsim.schema import GOAL_DIMENSIONS

D = len(GOAL_DIMENSIONS)


@dataclass(frozen=True)
class Field:
    """One field of the members' state.

    Attributes:
        name: Attribute name, on :class:`Members` and on the model.
        dtype: numpy dtype.
        shape: Shape of one member's value: ``()`` or ``(D,)``.
        joiner: A joiner's value, or ``None`` where it is computed when it joins.
        meaning: One line.
    """

    name: str
    dtype: type
    shape: tuple[int, ...] = ()
    joiner: Any = None
    meaning: str = ""


MEMBER_FIELDS: tuple[Field, ...] = (
    Field("power", float, meaning="statutory weight and control of the purse strings, 0-1"),
    Field("budget", float, meaning="resources per step now, £m"),
    Field("base_budget", float, meaning="resources per step at joining, £m"),
    Field("admin", float, meaning="joint money it can process per step, £m"),
    Field("prosociality", float, meaning="willingness to contribute beyond self-interest"),
    Field("commitment", float, joiner=1.0, meaning="share of its fair share it agreed to pay"),
    Field("goals", float, (D,), meaning="its own priorities over the goal dimensions"),
    Field("understanding", float, (D,), meaning="its picture of what the partnership is for"),
    Field("sector_code", int, meaning="index of its sector in schema.SECTORS"),
    Field("care", bool, meaning="a care profession (role conflict in integrated teams)"),
    Field("satisfaction", float, joiner=0.0, meaning="running net benefit per £ of fair share"),
    Field("exp_return", float, joiner=1.0, meaning="expected return per £ contributed"),
    Field("obligation", float, joiner=1.0, meaning="multiplier on its fair share (hand-overs)"),
    Field("low_steps", int, joiner=0, meaning="consecutive unhappy steps"),
    Field("cum_net", float, joiner=0.0, meaning="cumulative net benefit, £m"),
    Field("cum_paid", float, joiner=0.0, meaning="cumulative contributions, £m"),
    Field("cum_saved", float, joiner=0.0, meaning="cumulative costs avoided (services), £m"),
    Field("plan_acc", float, joiner=0.0, meaning="acceptability of the current plan"),
    # This step's values, recomputed before they are read.
    Field("pressure", float, joiner=0.0, meaning="budget pressure this step, 0-1"),
    Field("meeting_cost", float, joiner=0.0, meaning="cost of this step's meeting, £m"),
    Field("shortfall", float, joiner=0.0, meaning="share of what was asked not paid"),
    Field("last_contribution", float, joiner=0.0, meaning="paid this step, £m"),
    Field("last_benefit", float, joiner=0.0, meaning="benefit this step, £m"),
    Field("last_net", float, joiner=0.0, meaning="net benefit this step, £m"),
    Field("relative_net", float, joiner=0.0, meaning="net benefit per £ of fair share"),
)

PAIR_FIELDS: tuple[Field, ...] = (
    Field("trust", float, meaning="trust[i, j]: i's trust in j, 1 on the diagonal"),
    Field("culture", float, meaning="cultural distance between i's and j's sectors"),
)


class Members:
    """The active members' state, one row per member.

    One array per field of :data:`MEMBER_FIELDS` and :data:`PAIR_FIELDS`.
    """

    power: np.ndarray
    budget: np.ndarray
    base_budget: np.ndarray
    admin: np.ndarray
    prosociality: np.ndarray
    commitment: np.ndarray
    goals: np.ndarray
    understanding: np.ndarray
    sector_code: np.ndarray
    care: np.ndarray
    satisfaction: np.ndarray
    exp_return: np.ndarray
    obligation: np.ndarray
    low_steps: np.ndarray
    cum_net: np.ndarray
    cum_paid: np.ndarray
    cum_saved: np.ndarray
    plan_acc: np.ndarray
    pressure: np.ndarray
    meeting_cost: np.ndarray
    shortfall: np.ndarray
    last_contribution: np.ndarray
    last_benefit: np.ndarray
    last_net: np.ndarray
    relative_net: np.ndarray
    trust: np.ndarray
    culture: np.ndarray

    def __init__(self, **given: np.ndarray) -> None:
        n = len(given["power"])
        for f in MEMBER_FIELDS:
            value = given[f.name] if f.name in given else np.full((n, *f.shape), f.joiner)
            setattr(self, f.name, np.asarray(value, dtype=f.dtype).copy())
        for f in PAIR_FIELDS:
            setattr(self, f.name, np.asarray(given[f.name], dtype=f.dtype).copy())

    @property
    def n(self) -> int:
        """Number of active members."""
        return len(self.power)

    def append(self, values: dict[str, Any], pairs: dict[str, np.ndarray]) -> None:
        """Add one member.

        Args:
            values: Its computed fields; the rest take their joiner defaults.
            pairs: The pairwise fields, already grown to ``(n + 1, n + 1)``.
        """
        for f in MEMBER_FIELDS:
            value = values.get(f.name, f.joiner)
            if value is None:
                raise ValueError(f"a joiner needs a value for {f.name}")
            row = np.asarray(value, dtype=f.dtype).reshape((1, *f.shape))
            setattr(self, f.name, np.concatenate([getattr(self, f.name), row]))
        for f in PAIR_FIELDS:
            setattr(self, f.name, np.asarray(pairs[f.name], dtype=f.dtype))

    def keep(self, keep: np.ndarray) -> None:
        """Keep only the members where ``keep`` is True (leavers are dropped)."""
        for f in MEMBER_FIELDS:
            setattr(self, f.name, getattr(self, f.name)[keep])
        for f in PAIR_FIELDS:
            setattr(self, f.name, getattr(self, f.name)[np.ix_(keep, keep)])

    def trust_out(self) -> np.ndarray:
        """Each member's mean trust in the other members."""
        n = self.n
        if n < 2:
            return np.zeros(n)
        return (self.trust.sum(axis=1) - np.diag(self.trust)) / (n - 1)
