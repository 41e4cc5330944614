"""The organisation agent.

An :class:`Organisation` holds a member's identity and membership history. Its
numbers (budget, power, trust…) live in the model's numpy arrays, one row per
active member, so that pairwise arithmetic is vectorised; each attribute below reads
and writes the agent's row while it is a member, and a frozen copy after it has left.
A member that leaves is removed from ``model.agents``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

#: Per-member arrays an agent exposes as attributes.
EXPOSED = ("power", "budget", "base_budget", "admin", "prosociality", "satisfaction", "cum_net",
           "cum_paid", "cum_saved")


class _Row:
    """An attribute that is one element of a model array: the agent's row of it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Organisation | None, owner: type) -> Any:
        if agent is None:
            return self
        if agent.row is None:
            return agent._final[self.name]
        return float(getattr(agent.model, self.name)[agent.row])

    def __set__(self, agent: Organisation, value: float) -> None:
        if agent.row is None:
            raise AttributeError(f"{agent.name} has left; its {self.name} can no longer change")
        getattr(agent.model, self.name)[agent.row] = value


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
        power, budget, base_budget, admin, prosociality, satisfaction, cum_net,
            cum_paid, cum_saved: The member's row of the model's arrays (settable
            while it is a member).
    """

    model: PartnershipModel

    power = _Row()
    budget = _Row()
    base_budget = _Row()
    admin = _Row()
    prosociality = _Row()
    satisfaction = _Row()
    cum_net = _Row()
    cum_paid = _Row()
    cum_saved = _Row()

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

    def leave(self, reason: str) -> None:
        """Record the member's exit and remove it from the model's agents.

        The model drops its row from the member arrays afterwards.
        """
        self._final = {attr: getattr(self, attr) for attr in EXPOSED}
        self.exit_step = self.model.steps
        self.exit_reason = reason
        self.row = None
        self.remove()

    def __repr__(self) -> str:
        state = "active" if self.active else f"left at step {self.exit_step} ({self.exit_reason})"
        return f"Organisation({self.name!r}, {self.sector}, {state})"


assert all(isinstance(vars(Organisation).get(a), _Row) for a in EXPOSED)
