"""Governance modes: who tables alternatives, who decides, and the hub that delivers.

Provan & Kenis (2008) distinguish participant-governed networks (``shared``),
lead-organisation networks (``lead``) and network administrative organisations
(``nao``: an independent broker). Each mode here says who puts alternatives to a
meeting, whose trust lends them credibility, and what admin capacity joint money
passes through. Every method works on a batch of ``B`` partnerships whose members
are slots ``C`` with an ``active (B, C)`` mask; the rule sees only the arrays it is
given, and the random numbers it needs are drawn for it (:class:`Draws`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from collabsim.mechanisms import broker
from collabsim.rules.registry import Registry
from collabsim.schema import NEUTRAL_TRUST

BROKER = -1  #: proposer index meaning "the broker tabled this"

#: ``vote(alternatives (B, K, D), proposers (B, K), valid (B, K)) -> passes (B, K)``.
Vote = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Draws:
    """This meeting's random numbers, drawn in fixed-size blocks per replicate.

    Attributes:
        uniform: ``(B, W)`` uniforms, ``W >= max(C, K - 1)``: the broker's picks.
        exponential: ``(B, C)`` ``Exp(1)`` keys: who tables under shared governance.
        bias: ``(B, C, D)`` the broker's lasting misreading of each member's preferences,
            standard normal, drawn once per run (:mod:`collabsim.mechanisms.broker`);
            ``None`` where it never misreads.
        sign_off: ``(B, C)`` uniforms for the home organisations' sign-off
            (:mod:`collabsim.mechanisms.ratification`); ``None`` where plans need none.
    """

    uniform: np.ndarray
    exponential: np.ndarray
    bias: np.ndarray | None = None
    sign_off: np.ndarray | None = None


@dataclass(frozen=True)
class Table:
    """What a governance mode sees when it tables alternatives.

    Attributes:
        pref: ``(B, C, D)`` plans members prefer.
        power: ``(B, C)`` members' power.
        trust_out: ``(B, C)`` each member's mean trust in the others.
        active: ``(B, C)`` who is a member.
        lead: ``(B,)`` slot of the lead organisation.
    """

    pref: np.ndarray
    power: np.ndarray
    trust_out: np.ndarray
    active: np.ndarray
    lead: np.ndarray

    @property
    def n(self) -> np.ndarray:
        """Members per partnership ``(B,)``."""
        return self.active.sum(axis=1)

    def centre(self) -> np.ndarray:
        """``(B, D)`` the members' unweighted centre of preferences."""
        a = self.active[..., None]
        return (self.pref * a).sum(axis=1) / np.maximum(self.n, 1)[:, None]


def kth_active(active: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Slot of each row's ``k``-th active member (``k``: ``(B,)`` or ``(B, m)``).

    Ranks count only active slots, so no index depends on other replicates.
    """
    rank = np.cumsum(active, axis=1) - 1
    if k.ndim == 1:
        return np.argmax((rank == k[:, None]) & active, axis=1)
    hit = (rank[:, None, :] == k[..., None]) & active[:, None, :]
    return np.argmax(hit, axis=2)


class GovernanceMode:
    """Base class for governance modes, made once per batch.

    Args:
        params: The scenario's parameters.
    """

    name = ""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    def propose(
        self, t: Table, k: int, vote: Vote, draws: Draws,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - interface
        """Alternatives ``(B, K, D)``, who tabled them ``(B, K)`` and which exist ``(B, K)``.

        Args:
            t: The members' preferences, power and trust.
            k: Alternatives to table.
            vote: The meeting's vote, for a proposer who tests what would pass.
            draws: This meeting's random numbers.
        """
        raise NotImplementedError

    def hub_capacity(self, member_admin: np.ndarray) -> np.ndarray:
        """Admin capacity (£m per step, ``(B,)``) joint money passes through.

        ``member_admin`` is ``(B, C)``, 0 for slots that are not members.
        """
        return np.full(len(member_admin), float(self.params["governance.admin_capacity"]))

    def running_cost(self) -> float:
        """Fixed cost of the governance arrangement per step, £m."""
        return 0.0

    def decider(self, power: np.ndarray, active: np.ndarray, lead: np.ndarray) -> np.ndarray:
        """Slot of the member who decides under ``lead_decides`` (``-1``: the broker)."""
        return lead

    def coordination_load(self, n: np.ndarray) -> np.ndarray:
        """Meeting time per member relative to a hub-and-spoke board."""
        return np.ones_like(n, dtype=float)


GOVERNANCE: Registry[GovernanceMode] = Registry()


def in_view(span: int, n: np.ndarray) -> np.ndarray:
    """Share of its partners a member can keep in view in a partnership of ``n``."""
    return np.where(n > 1, np.minimum(1.0, (span - 1) / np.maximum(n - 1, 1)), 1.0)


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

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.span = int(params["dynamics.shared_max_size"])
        #: strategic concessions tried, as shares of the most a proposer would make
        self.concessions = np.linspace(0.0, 1.0, params["governance.concession_steps"])

    def proposers(self, t: Table, k: int, draws: Draws) -> tuple[np.ndarray, np.ndarray]:
        """Who tables ``(B, k)``, most powerful first, and which of them exist.

        Weighted sampling without replacement (Efraimidis & Spirakis 2006): the ``k``
        smallest of ``Exp(1) / power`` among the members.
        """
        keys = np.where(t.active, draws.exponential / (t.power + 1e-9), np.inf)
        rows = np.argsort(keys, axis=1, kind="stable")[:, :k]
        valid = np.arange(rows.shape[1])[None, :] < np.minimum(t.n, k)[:, None]
        b = np.arange(rows.shape[0])[:, None]  # (direct indexing: take_along_axis's values)
        power = np.where(valid, t.power[b, rows], -np.inf)
        order = np.argsort(-power, axis=1, kind="stable")
        return rows[b, order], valid[b, order]

    def propose(self, t, k, vote, draws):  # noqa: D102
        B, D = t.pref.shape[0], t.pref.shape[2]
        rows, valid = self.proposers(t, k, draws)
        m = rows.shape[1]
        view = in_view(self.span, t.n)
        b = np.arange(B)[:, None]
        trust = t.trust_out[b, rows]
        own = t.pref[b, rows]  # (B, m, D)
        gap = t.centre()[:, None, :] - own
        L = len(self.concessions)
        tried = (view[:, None] * trust)[..., None] * self.concessions  # (B, m, L)
        plans = own[:, :, None, :] + tried[..., None] * gap[:, :, None, :]
        passes = vote(plans.reshape(B, m * L, D), np.repeat(rows, L, 1),
                      np.repeat(valid, L, 1)).reshape(B, m, L)
        needed = tried[b, np.arange(m)[None, :], np.argmax(passes, axis=2)]
        needed = np.where(passes.any(axis=2), needed, tried[..., -1])
        # Trust above neutral is conceded of the proposer's own accord.
        own_accord = np.clip((trust - NEUTRAL_TRUST) / (1.0 - NEUTRAL_TRUST), 0.0, 1.0)
        conceded = np.maximum(needed, view[:, None] * own_accord)
        alts = own + conceded[..., None] * gap
        if m < k:  # fewer slots than alternatives: the rest are not tabled
            alts = np.concatenate([alts, np.zeros((B, k - m, D))], 1)
            rows = np.concatenate([rows, np.zeros((B, k - m), int)], 1)
            valid = np.concatenate([valid, np.zeros((B, k - m), bool)], 1)
        return alts, rows, valid

    def hub_capacity(self, member_admin):  # noqa: D102
        return member_admin.sum(axis=1)

    def decider(self, power, active, lead):  # noqa: D102
        return np.argmax(np.where(active, power, -np.inf), axis=1)

    def coordination_load(self, n):
        """Every member deals with every other: time grows with the n - 1 relationships.

        The load is 1 at the largest partnership shared governance suits
        (``dynamics.shared_max_size``), as for a hub-and-spoke board.
        """
        return (np.asarray(n) - 1) / (self.span - 1)


@GOVERNANCE.register("lead")
class Lead(GovernanceMode):
    """The lead tables its own plan and fallbacks that concede ever more to the centre.

    All joint money passes through the lead's admin capacity for the partnership.
    """

    def propose(self, t, k, vote, draws):  # noqa: D102
        B = len(t.lead)
        most = self.params["governance.lead_max_concession"]
        c = np.linspace(0.0, most, k)[None, :, None]
        own = t.pref[np.arange(B), t.lead][:, None, :]
        alts = (1 - c) * own + c * t.centre()[:, None, :]
        return alts, np.repeat(t.lead[:, None], k, 1), np.ones((B, k), dtype=bool)


@GOVERNANCE.register("nao")
class Nao(GovernanceMode):
    """An independent broker synthesises alternatives around the members' centre.

    Its first alternative is the members' unweighted centre; the others lean towards
    ``K - 1`` members picked at random (without replacement where there are enough),
    less so the better the facilitation. It works from members' preferences as it reads
    them (``broker.misperception``). The broker has its own admin capacity and running
    cost.
    """

    def propose(self, t, k, vote, draws):  # noqa: D102
        t = replace(t, pref=broker.perceived(t.pref, draws.bias,
                                             self.params["broker.misperception"]))
        B, C = t.active.shape
        n = t.n
        u = draws.uniform
        keys = np.where(t.active, u[:, :C], np.inf)
        without = np.argsort(keys, axis=1, kind="stable")[:, :k - 1]
        if without.shape[1] < k - 1:  # never used: fewer slots than picks
            without = np.pad(without, [(0, 0), (0, k - 1 - without.shape[1])])
        # Fewer members than picks: with replacement.
        with_ = kth_active(t.active, np.floor(u[:, :k - 1] * n[:, None]).astype(int))
        picks = np.where((n < k - 1)[:, None], with_, without)
        p = self.params
        lean = p["governance.broker_lean"] * (1.0 - p["governance.facilitation"])
        centre = t.centre()[:, None, :]
        picked = np.take_along_axis(t.pref, picks[..., None], axis=1)
        alts = np.concatenate([centre, centre + lean * (picked - centre)], axis=1)
        return alts, np.full((B, k), BROKER), np.ones((B, k), dtype=bool)

    def running_cost(self):  # noqa: D102
        return float(self.params["governance.nao_cost"])

    def decider(self, power, active, lead):  # noqa: D102
        return np.full(len(lead), BROKER)
