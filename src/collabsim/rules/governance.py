"""Governance modes: who tables alternatives, who decides, and the hub that delivers.

Provan & Kenis (2008) distinguish participant-governed networks (``shared``),
lead-organisation networks (``lead``) and network administrative organisations
(``nao``: an independent broker). Each mode here says who puts alternatives to a
meeting, whose trust lends them credibility, and what admin capacity joint money
passes through. A model makes its own instance, which keeps the meeting's tabling
order; the rule sees only the arrays it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from collabsim.rules.registry import Registry
from collabsim.schema import NEUTRAL_TRUST

BROKER = -1  #: proposer index meaning "the broker tabled this"

#: ``vote(alternatives (K, D), proposers (K,)) -> passes (K,)``: the meeting's decision rule.
Vote = Callable[[np.ndarray, np.ndarray], np.ndarray]


class GovernanceMode:
    """Base class for governance modes, made once per model.

    Args:
        params: The scenario's parameters.
        rng: The model's random generator (used to pick who tables, once a meeting).
    """

    name = ""

    def __init__(self, params: Mapping[str, Any], rng: np.random.Generator) -> None:
        self.params = params
        self.rng = rng
        self.proposers: np.ndarray | None = None  #: this meeting's tablers, once drawn

    def new_meeting(self) -> None:
        """Forget the last meeting's tablers: they are drawn afresh at each meeting."""
        self.proposers = None

    def propose(
        self, pref: np.ndarray, power: np.ndarray, trust_out: np.ndarray, lead: int, k: int,
        vote: Vote,
    ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        """Return ``(alternatives (K, D), proposer rows (K,))`` for one meeting round.

        Args:
            pref: ``(n, D)`` plans members prefer.
            power: ``(n,)`` members' power.
            trust_out: ``(n,)`` each member's mean trust in the others.
            lead: Row of the lead organisation.
            k: Alternatives to table.
            vote: The meeting's vote, for a proposer who tests what would pass.
        """
        raise NotImplementedError

    def hub_capacity(self, member_admin: np.ndarray) -> float:
        """Admin capacity (£m per step) that joint money passes through."""
        return float(self.params["governance.admin_capacity"])

    def running_cost(self) -> float:
        """Fixed cost of the governance arrangement per step, £m."""
        return 0.0

    def decider(self, power: np.ndarray, lead: int) -> int | None:
        """Row of the member who decides under ``lead_decides`` (None: the broker)."""
        return lead

    def coordination_load(self, n: int) -> float:
        """Meeting time per member relative to a hub-and-spoke board."""
        return 1.0


GOVERNANCE: Registry[GovernanceMode] = Registry()


def in_view(span: int, n: int) -> float:
    """Share of its partners a member can keep in view in a partnership of ``n``."""
    return min(1.0, (span - 1) / (n - 1)) if n > 1 else 1.0


@GOVERNANCE.register("shared")
class Shared(GovernanceMode):
    """Members table plans of their own, chosen in proportion to their power.

    The most powerful proposer's plan is put to the vote first (agenda power). With no
    broker to synthesise, each proposer builds the common ground itself, moving its
    plan from its own preference towards the members' centre. Of its own accord it
    concedes as far as its trust in its partners exceeds the neutral 0.5; it concedes
    further if that is what it takes for the plan to pass under the decision rule, but
    never further than it trusts them. Both are scaled by the share of partners it can
    keep in view: at most ``dynamics.shared_max_size - 1``, so proposals in a large or
    distrustful partnership stay partisan (Provan & Kenis 2008: shared governance
    works with few members and dense trust).

    Every member spends its share through its own admin capacity, so there is no
    single hub to throttle delivery.
    """

    def __init__(self, params: Mapping[str, Any], rng: np.random.Generator) -> None:
        super().__init__(params, rng)
        self.span = int(params["dynamics.shared_max_size"])
        #: strategic concessions tried, as shares of the most a proposer would make
        self.concessions = np.linspace(0.0, 1.0, params["governance.concession_steps"])

    def propose(self, pref, power, trust_out, lead, k, vote):  # noqa: D102
        if self.proposers is None:
            # Weighted sampling without replacement (Efraimidis & Spirakis 2006):
            # the k smallest of Exp(1) / weight.
            keys = self.rng.exponential(size=len(pref)) / (power + 1e-9)
            rows = np.argsort(keys, kind="stable")[:k]
            self.proposers = rows[np.argsort(-power[rows], kind="stable")]
        rows = self.proposers
        view = in_view(self.span, len(pref))
        trust = trust_out[rows]
        gap = pref.mean(axis=0) - pref[rows]
        tried = (view * trust)[:, None] * self.concessions[None, :]  # (K, L) concessions
        plans = pref[rows][:, None, :] + tried[..., None] * gap[:, None, :]
        passes = vote(plans.reshape(-1, pref.shape[1]),
                      np.repeat(rows, len(self.concessions))).reshape(tried.shape)
        needed = tried[np.arange(len(rows)), np.argmax(passes, axis=1)]
        needed = np.where(passes.any(axis=1), needed, tried[:, -1])
        # Trust above neutral is conceded of the proposer's own accord.
        own_accord = (trust - NEUTRAL_TRUST) / (1.0 - NEUTRAL_TRUST)
        conceded = np.maximum(needed, view * np.clip(own_accord, 0.0, 1.0))
        return pref[rows] + conceded[:, None] * gap, rows

    def hub_capacity(self, member_admin):  # noqa: D102
        return float(member_admin.sum())

    def decider(self, power, lead):  # noqa: D102
        return int(np.argmax(power))

    def coordination_load(self, n):
        """Every member deals with every other: time grows with the n - 1 relationships.

        The load is 1 at the largest partnership shared governance suits
        (``dynamics.shared_max_size``), as for a hub-and-spoke board.
        """
        return (n - 1) / (self.span - 1)


@GOVERNANCE.register("lead")
class Lead(GovernanceMode):
    """The lead tables its own plan and fallbacks that concede ever more to the centre.

    All joint money passes through the lead's admin capacity for the partnership.
    """

    def propose(self, pref, power, trust_out, lead, k, vote):  # noqa: D102
        centre = pref.mean(axis=0)
        most = self.params["governance.lead_max_concession"]
        concession = np.linspace(0.0, most, k)[:, None]
        alts = (1 - concession) * pref[lead] + concession * centre
        return alts, np.full(k, lead)


@GOVERNANCE.register("nao")
class Nao(GovernanceMode):
    """An independent broker synthesises alternatives around the members' centre.

    Its first alternative is the members' unweighted centre; the others lean towards
    individual members, less so the better the facilitation. The broker has its own
    admin capacity and running cost.
    """

    def propose(self, pref, power, trust_out, lead, k, vote):  # noqa: D102
        centre = pref.mean(axis=0)
        n = len(pref)
        if self.proposers is None:
            self.proposers = (self.rng.choice(n, size=k - 1, replace=n < k - 1) if k > 1
                              else np.empty(0, dtype=int))
        p = self.params
        lean = p["governance.broker_lean"] * (1.0 - p["governance.facilitation"])
        alts = np.vstack([centre, centre + lean * (pref[self.proposers] - centre)])
        return alts, np.full(len(alts), BROKER)

    def running_cost(self):  # noqa: D102
        return float(self.params["governance.nao_cost"])

    def decider(self, power, lead):  # noqa: D102
        return None
