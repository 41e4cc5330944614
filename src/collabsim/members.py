"""The members' state as one struct of arrays: every field declared once.

A batch of ``B`` replicates of one scenario has ``C`` member slots each (founders,
then one slot per scheduled joiner). Each per-member field is an array
``(B, C, *shape)`` and each pairwise field ``(B, C, C)``; :data:`MEMBER_FIELDS` and
:data:`PAIR_FIELDS` name them with their dtype, shape and what a joiner starts with.
The mask ``active (B, C)`` says who is a member now. Leaving clears a bit of the mask
(:meth:`Members.leave`) and joining fills a reserved slot (:meth:`Members.fill`); both
are done here and nowhere else. A slot keeps its position, so the active members are
always in order of joining. Inactive slots keep stale values that are only ever read
through the mask.
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
    Field("scar", float, joiner=0.0,
          meaning="scar[i, j]: i's memory of j's betrayals, capping trust (mechanisms.memory)"),
)


#: ``exit_reason`` codes
EXIT_REASONS = ("dissatisfied", "ditched", "forced", "reviewed", "amicable")


class Members:
    """``B`` replicates' members: one array per field, ``(B, C, ...)``.

    Args:
        B: Replicates.
        C: Slots per replicate.
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
    scar: np.ndarray

    def __init__(self, B: int, C: int) -> None:
        self.B, self.C = B, C
        for f in MEMBER_FIELDS:
            fill = 0 if f.joiner is None else f.joiner
            setattr(self, f.name, np.full((B, C, *f.shape), fill, dtype=f.dtype))
        for f in PAIR_FIELDS:
            setattr(self, f.name, np.zeros((B, C, C), dtype=f.dtype))
        self.active = np.zeros((B, C), dtype=bool)
        self.exit_step = np.full((B, C), -1)  #: step of leaving, -1 while a member
        self.exit_reason = np.full((B, C), -1)  #: index into EXIT_REASONS
        self.join_step = np.full((B, C), -1)  #: step of joining, -1 before
        self.eye = np.eye(C, dtype=bool)
        self.off_diagonal = ~self.eye
        self.diagonal = np.arange(C)
        self._scratch: list[np.ndarray] = []

    def scratch(self, k: int) -> np.ndarray:
        """Reusable ``(B, C, C)`` float work array number ``k``; its contents are undefined.

        The pairwise arithmetic writes its temporaries here (``out=``) instead of
        allocating several fresh ``(B, C, C)`` arrays a step; a caller must be done
        with the array before anything else asks for the same ``k``.
        """
        while len(self._scratch) <= k:
            self._scratch.append(np.empty((self.B, self.C, self.C)))
        return self._scratch[k]

    @property
    def n(self) -> np.ndarray:
        """Active members per replicate ``(B,)``."""
        return self.active.sum(axis=1)

    def mean(self, x: np.ndarray) -> np.ndarray:
        """Mean over the active members (axis 1) of ``(B, C, ...)``; 0 where none."""
        a = self.active.reshape(self.active.shape + (1,) * (x.ndim - 2))
        return (x * a).sum(axis=1) / np.maximum(self.n, 1).reshape((-1,) + (1,) * (x.ndim - 2))

    def total(self, x: np.ndarray) -> np.ndarray:
        """Sum over the active members of ``(B, C)``."""
        return (x * self.active).sum(axis=1)

    def pairs(self) -> np.ndarray:
        """``(B, C, C)``: both ends active, off the diagonal."""
        pairs = self.active[:, :, None] & self.active[:, None, :]
        pairs[:, self.diagonal, self.diagonal] = False
        return pairs

    def trust_out(self) -> np.ndarray:
        """Each member's mean trust in the other active members ``(B, C)``."""
        off = np.multiply(self.trust, self.active[:, None, :], out=self.scratch(0))
        off[:, self.diagonal, self.diagonal] = 0.0
        return off.sum(axis=2) / np.maximum(self.n - 1, 1)[:, None]

    def trust_in(self) -> np.ndarray:
        """The other active members' mean trust in each member ``(B, C)``."""
        off = np.multiply(self.trust, self.active[:, :, None], out=self.scratch(0))
        off[:, self.diagonal, self.diagonal] = 0.0
        return off.sum(axis=1) / np.maximum(self.n - 1, 1)[:, None]

    def trust_in_self(self) -> None:
        """A member's trust in itself is 1."""
        self.trust[:, self.diagonal, self.diagonal] = 1.0

    def kth_active(self, k: np.ndarray) -> np.ndarray:
        """Slot of each replicate's ``k``-th active member."""
        from collabsim.rules.governance import kth_active

        return kth_active(self.active, k)

    def leave(self, rows: np.ndarray, reason: str, step: int) -> None:
        """The members at ``rows`` ``(B, C)`` leave at ``step`` for ``reason``."""
        rows = rows & self.active
        self.exit_step = np.where(rows, step, self.exit_step)
        self.exit_reason = np.where(rows, EXIT_REASONS.index(reason), self.exit_reason)
        self.active = self.active & ~rows

    def fill(self, slot: int, values: dict[str, Any], step: int) -> None:
        """A joiner takes ``slot`` in every replicate.

        Args:
            slot: Its reserved slot.
            values: Its computed fields, ``(B, *shape)`` each (the pairwise ones: its
                row ``(B, C)``, and ``<name>_in`` for its column); the rest take
                their joiner defaults.
            step: The step it joins at.
        """
        for f in MEMBER_FIELDS:
            value = values.get(f.name, f.joiner)
            if value is None:
                raise ValueError(f"a joiner needs a value for {f.name}")
            getattr(self, f.name)[:, slot] = value
        for f in PAIR_FIELDS:
            pair = getattr(self, f.name)
            row = values.get(f.name, f.joiner)
            if row is None:
                raise ValueError(f"a joiner needs a value for {f.name}")
            pair[:, slot, :] = row
            pair[:, :, slot] = values.get(f"{f.name}_in", row)
        self.trust[:, slot, slot] = 1.0
        self.active[:, slot] = True
        self.join_step[:, slot] = step
