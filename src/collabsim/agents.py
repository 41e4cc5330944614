"""The organisation agent.

An :class:`Organisation` holds a member's identity and membership history. Its
numbers (budget, power, trust…) live in the engine's arrays
(:class:`collabsim.batch.Batch`, replicate 0 of a :class:`~collabsim.model.PartnershipModel`),
one slot per organisation, so that pairwise arithmetic is vectorised; each attribute
below reads and writes the agent's slot while it is a member, and a frozen copy after
it has left. A member that leaves is removed from ``model.agents``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa

from collabsim.members import EXIT_REASONS

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

#: Per-member arrays an agent exposes as attributes.
EXPOSED = ("power", "budget", "base_budget", "admin", "prosociality", "satisfaction", "cum_net",
           "cum_paid", "cum_saved")


class _Slot:
    """An attribute that is one element of an engine array: the agent's slot of it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, agent: Organisation | None, owner: type) -> Any:
        if agent is None:
            return self
        if not agent.active:
            return agent._final[self.name]
        return float(getattr(agent.model.batch.m, self.name)[0, agent.slot])

    def __set__(self, agent: Organisation, value: float) -> None:
        if not agent.active:
            raise AttributeError(f"{agent.name} has left; its {self.name} can no longer change")
        getattr(agent.model.batch.m, self.name)[0, agent.slot] = value


class Organisation(mesa.Agent):
    """A partner organisation: an NHS body, a council, the police, a charity.

    Attributes:
        name: Unique name.
        sector: One of :data:`collabsim.schema.SECTORS`.
        founding: A founding member (counts towards retention).
        slot: Its slot in the engine's member arrays.
        joined_step: Step at which it joined (0 for founders).
        power, budget, base_budget, admin, prosociality, satisfaction, cum_net,
            cum_paid, cum_saved: The member's slot of the engine's arrays (settable
            while it is a member).
    """

    model: PartnershipModel

    power = _Slot()
    budget = _Slot()
    base_budget = _Slot()
    admin = _Slot()
    prosociality = _Slot()
    satisfaction = _Slot()
    cum_net = _Slot()
    cum_paid = _Slot()
    cum_saved = _Slot()

    def __init__(
        self, model: PartnershipModel, name: str, sector: str, slot: int, founding: bool
    ) -> None:
        super().__init__(model)
        self.name = name
        self.sector = sector
        self.slot = slot
        self.founding = founding
        self.joined_step = model.steps
        self._final: dict[str, Any] = {}

    @property
    def active(self) -> bool:
        """Still a member of the partnership."""
        return bool(self.model.batch.m.active[0, self.slot])

    @property
    def row(self) -> int | None:
        """Its row in the model's member views (``model.budget`` …), ``None`` once it has left."""
        m = self.model.batch.m
        return int(m.active[0, :self.slot].sum()) if self.active else None

    @property
    def exit_step(self) -> int | None:
        """Step at which it left, or ``None``."""
        step = int(self.model.batch.m.exit_step[0, self.slot])
        return None if step < 0 else step

    @property
    def exit_reason(self) -> str | None:
        """Why it left, or ``None``.

        ``dissatisfied``, ``ditched`` (handed over its responsibilities) or ``forced``
        (a scheduled or random leave).
        """
        code = int(self.model.batch.m.exit_reason[0, self.slot])
        return None if code < 0 else EXIT_REASONS[code]

    def leave(self) -> None:
        """Keep its last figures and remove it from the model's agents (it has left)."""
        m = self.model.batch.m
        self._final = {attr: float(getattr(m, attr)[0, self.slot]) for attr in EXPOSED}
        self.remove()

    def __repr__(self) -> str:
        state = "active" if self.active else f"left at step {self.exit_step} ({self.exit_reason})"
        return f"Organisation({self.name!r}, {self.sector}, {state})"


assert all(isinstance(vars(Organisation).get(a), _Slot) for a in EXPOSED)
