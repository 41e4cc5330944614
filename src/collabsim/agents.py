"""The organisation agent.

An :class:`Organisation` holds a member's identity and membership history. Its
numbers (budget, power, trust…) live in the model's numpy arrays, one row per
active member, so that pairwise arithmetic is vectorised; the properties below read
the agent's row while it is a member and a frozen copy after it has left.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

#: Per-member arrays an agent exposes as attributes.
EXPOSED = ("power", "budget", "base_budget", "admin", "prosociality", "satisfaction", "cum_net",
           "cum_paid", "cum_saved")


class Organisation(mesa.Agent):
    """A partner organisation: an NHS body, a council, the police, a charity.

    Attributes:
        name: Unique name.
        sector: One of :data:`collabsim.schema.SECTORS`.
        founding: A founding member (counts towards retention).
        row: Index into the model's member arrays, or ``None`` once it has left.
        joined_step: Step at which it joined (0 for founders).
        exit_step: Step at which it left, or ``None``.
        exit_reason: ``dissatisfied``, ``ditched`` (handed over its responsibilities),
            ``forced`` (a scheduled or random leave), or ``None``.
    """

    def __init__(
        self, model: PartnershipModel, name: str, sector: str, row: int, founding: bool
    ) -> None:
        super().__init__(model)
        self.name = name
        self.sector = sector
        self.row: int | None = row
        self.founding = founding
        self.joined_step = model.steps
        self.exit_step: int | None = None
        self.exit_reason: str | None = None
        self._final: dict[str, Any] = {}

    @property
    def active(self) -> bool:
        """Still a member of the partnership."""
        return self.row is not None

    def __getattr__(self, attr: str) -> Any:
        if attr in EXPOSED:
            if self.row is None:
                return self._final[attr]
            return float(getattr(self.model, attr)[self.row])
        raise AttributeError(attr)

    @property
    def mean_trust(self) -> float:
        """Mean trust this member places in the other members (0 once it has left)."""
        if self.row is None:
            return self._final["mean_trust"]
        return float(self.model.trust_out()[self.row])

    def leave(self, reason: str) -> None:
        """Record the member's exit; the model drops its row afterwards."""
        self._final = {attr: getattr(self, attr) for attr in EXPOSED}
        self._final["mean_trust"] = self.mean_trust
        self.exit_step = self.model.steps
        self.exit_reason = reason
        self.row = None

    def __repr__(self) -> str:
        state = "active" if self.active else f"left at step {self.exit_step} ({self.exit_reason})"
        return f"Organisation({self.name!r}, {self.sector}, {state})"
