"""Governance modes: who tables alternatives, who decides, and the hub that delivers.

Provan & Kenis (2008) distinguish participant-governed networks (``shared``),
lead-organisation networks (``lead``) and network administrative organisations
(``nao``: an independent broker). Each mode here says who puts alternatives to a
meeting, whose trust lends them credibility, and what admin capacity joint money
passes through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from collabsim.rules.registry import Registry

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

BROKER = -1  #: proposer index meaning "the broker tabled this"


class GovernanceMode:
    """Base class for governance modes."""

    name = ""

    def propose(
        self, m: PartnershipModel, pref: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - interface
        """Return ``(alternatives (K, D), proposer rows (K,))`` for one meeting round."""
        raise NotImplementedError

    def hub_capacity(self, m: PartnershipModel) -> float:
        """Admin capacity (£m per step) that joint money passes through."""
        return m.p["governance.admin_capacity"]

    def running_cost(self, m: PartnershipModel) -> float:
        """Fixed cost of the governance arrangement per step, £m."""
        return 0.0

    def decider(self, m: PartnershipModel) -> int | None:
        """Row of the member who decides under ``lead_decides`` (None: the broker)."""
        return m.lead_row()

    def coordination_load(self, n: int) -> float:
        """Meeting time per member relative to an eight-member hub-and-spoke board."""
        return 1.0


GOVERNANCE: Registry[GovernanceMode] = Registry()


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

    steps = np.linspace(0.0, 1.0, 5)  #: strategic concessions tried, as shares of the most

    def propose(self, m, pref, k):  # noqa: D102
        if m.proposers is None:
            # Weighted sampling without replacement (Efraimidis & Spirakis 2006):
            # the k smallest of Exp(1) / weight.
            keys = m.rng.exponential(size=len(pref)) / (m.power + 1e-9)
            rows = np.argsort(keys, kind="stable")[:k]
            m.proposers = rows[np.argsort(-m.power[rows], kind="stable")]
        rows = m.proposers
        view = self.in_view(m.p["dynamics.shared_max_size"], len(pref))
        trust = m.trust_out()[rows]
        gap = pref.mean(axis=0) - pref[rows]
        tried = (view * trust)[:, None] * self.steps[None, :]  # (K, L) concessions
        plans = pref[rows][:, None, :] + tried[..., None] * gap[:, None, :]
        passes = m.vote(plans.reshape(-1, pref.shape[1]), np.repeat(rows, len(self.steps)),
                        pref)[2].reshape(tried.shape)
        needed = tried[np.arange(len(rows)), np.argmax(passes, axis=1)]
        needed = np.where(passes.any(axis=1), needed, tried[:, -1])
        conceded = np.maximum(needed, view * np.clip(2.0 * trust - 1.0, 0.0, 1.0))
        return pref[rows] + conceded[:, None] * gap, rows

    @staticmethod
    def in_view(span: int, n: int) -> float:
        """Share of its partners a member can keep in view in a partnership of ``n``."""
        return min(1.0, (span - 1) / (n - 1)) if n > 1 else 1.0

    def hub_capacity(self, m):  # noqa: D102
        return float(m.admin.sum())

    def decider(self, m):  # noqa: D102
        return int(np.argmax(m.power))

    def coordination_load(self, n):
        """Every member deals with every other: time grows with the n - 1 relationships."""
        return (n - 1) / 7.0


@GOVERNANCE.register("lead")
class Lead(GovernanceMode):
    """The lead tables its own plan and fallbacks that concede ever more to the centre.

    All joint money passes through the lead's admin capacity for the partnership.
    """

    def propose(self, m, pref, k):  # noqa: D102
        lead = m.lead_row()
        centre = pref.mean(axis=0)
        concession = np.linspace(0.0, 0.5, k)[:, None]
        alts = (1 - concession) * pref[lead] + concession * centre
        return alts, np.full(k, lead)


@GOVERNANCE.register("nao")
class Nao(GovernanceMode):
    """An independent broker synthesises alternatives around the members' centre.

    Its first alternative is the members' unweighted centre; the others lean towards
    individual members, less so the better the facilitation. The broker has its own
    admin capacity and running cost.
    """

    def propose(self, m, pref, k):  # noqa: D102
        centre = pref.mean(axis=0)
        n = len(pref)
        if m.proposers is None:
            m.proposers = m.rng.choice(n, size=k - 1, replace=n < k - 1) if k > 1 else []
        lean = 0.5 * (1.0 - m.p["governance.facilitation"])
        alts = np.vstack([centre, centre + lean * (pref[m.proposers] - centre)])
        return alts, np.full(len(alts), BROKER)

    def running_cost(self, m):  # noqa: D102
        return m.p["governance.nao_cost"]

    def decider(self, m):  # noqa: D102
        return None
