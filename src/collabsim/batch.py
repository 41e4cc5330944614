"""PROTOTYPE (work in progress, not wired in): a batch of replicates as one set of arrays.

Every member field gets a leading replicate axis ``(B, C, ...)`` where ``C`` is the
capacity (founders plus scheduled joiners), pairwise fields are ``(B, C, C)`` and an
``active`` mask ``(B, C)`` says who is a member now; leaving clears a bit of the mask,
so a slot keeps its position and row order is that of the one-at-a-time model. The
partnership's joint state (plan, currency, pot, queue, advantage, governance mode,
lead) is one array per quantity with shape ``(B,)`` or ``(B, D)``.

Random numbers: replicate ``k``'s generator is made from its own ``SeedSequence``,
draws the founders exactly as :func:`collabsim.population.generate` does, then draws
the whole run's per-step random numbers in fixed-size blocks (a uniform block, a
normal block and an exponential block per step, each sized by the capacity, not by
who is active). A replicate therefore consumes the same numbers whatever batch it is
in, and the step never loops over replicates; the order of draws differs from the
one-at-a-time model, which draws only what each step needs.

Covered: environment (austerity, random turnover, political shifts, scandals,
scheduled shocks and joiners), the meeting (anchoring, vision pull, deliberation,
tabling under shared, lead and nao governance with per-replicate modes, all five
decision rules, extra rounds until a plan passes, lead tilt, meeting cost), every
trust change, contribution, delivery and the service submodel, exit and hand-over,
governance evolution, an idle partnership, and per-replicate step tables, summaries,
events and members tables. Not yet: per-member (agent) tables, and the wiring:
``PartnershipModel``, ``run`` and ``run_replicates`` do not use this module, and its
arithmetic repeats that of :mod:`collabsim.mechanisms` until they become these
batched functions (docs/batching.md lists the steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from collabsim.infrastructure import effects
from collabsim.mechanisms import (
    broker,
    coordination,
    decision_power,
    divorce,
    duty,
    voice,
)
from collabsim.mechanisms import memory as trust_memory
from collabsim.members import D
from collabsim.metrics import (
    SUMMARY_COLUMNS,
    classify,
    over_decisions,
    polarisation,
    summarise_batch,
)
from collabsim.population import cultural_distance, generate
from collabsim.rules import FUNDING
from collabsim.scenario import Scenario
from collabsim.schema import (
    CARE_PROFESSIONS,
    NEUTRAL_TRUST,
    QUARTERS_PER_YEAR,
    SECTOR_GOALS,
    SECTORS,
)
from collabsim.seeds import replicate_seed
from collabsim.services import HEALTH, INDEPENDENCE, PREVENTION, SOCIAL_CARE, priority_shares

if TYPE_CHECKING:
    from collabsim.runner import RunResult

MODES = ("shared", "lead", "nao")
EXIT_REASONS = ("dissatisfied", "ditched", "forced", "reviewed", "amicable")
SHARED, LEAD, NAO = range(3)
S = len(SECTORS)

#: State a meeting, delivery, trust and exit may change: kept as it was where fewer
#: than two members are left (no partnership meets or delivers).
MEETING_TO_EXIT = ("power", "prosociality", "understanding", "trust", "satisfaction",
                   "low_steps", "cum_net", "cum_paid", "plan_acc", "shortfall",
                   "last_benefit", "relative_net", "exp_return", "obligation", "active",
                   "exit_step", "exit_reason", "plan", "has_plan", "currency", "pot",
                   "queue", "advantage", "mode", "lead", "switch_step", "scar",
                   "divorce_streak")

#: Step-table columns the prototype records, one ``(steps, B)`` array each.
COLUMNS = ("step", "decided", "rounds", "meeting_time", "acceptability", "acceptability_sd",
           "contested", "contribution", "fair_total", "asked_total", "free_riding", "spent",
           "capacity", "queued", "pot", "joint_output", "solo_output", "coordination_cost",
           "productivity", "diversity", "shared_understanding", "fit", "advantage",
           "plan_currency", "members", "governance", "mean_trust", "trust_density",
           "prosociality", "satisfaction", "budget", "pressure", "own_acceptability",
           "own_equity_sd")
#: Step-table columns the batch adds to the one-at-a-time model's (docs/ODD.md 7.9):
#: the adopted plan measured against members' own goals.
OWN_GOAL_COLUMNS = ("own_acceptability", "own_equity_sd")
#: Columns a replicate with fewer than two members records as 0 (or NaN).
IDLE_ZERO = ("decided", "rounds", "meeting_time", "contested", "contribution", "fair_total",
             "asked_total", "spent", "capacity", "joint_output", "solo_output",
             "coordination_cost", "productivity", "diversity", "shared_understanding", "fit")
IDLE_NAN = ("acceptability", "acceptability_sd", "free_riding", *OWN_GOAL_COLUMNS)


def _gdist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`collabsim.population.goal_distance`, one goal dimension at a time.

    Summing the few goal dimensions one by one avoids a reduction over a tiny last
    axis (slow in numpy) and the ``(..., D)`` difference array; the sum is in the same
    order, so the result is the same.
    """
    total = np.zeros(np.broadcast_shapes(a.shape, b.shape)[:-1])
    for j in range(a.shape[-1]):  # over goal dimensions, not replicates
        d = a[..., j] - b[..., j]
        total += d * d
    return np.sqrt(total / a.shape[-1])


@dataclass
class Blocks:
    """One replicate-batch's pre-drawn random numbers, ``(steps, B, ...)`` each."""

    uniform: np.ndarray  # (T, B, 2C + W + 2): turnover, shift, broker's picks, scandal, who
    normal: np.ndarray  # (T, B, C, D): political-shift directions
    exponential: np.ndarray  # (T, B, C): shared-governance proposer keys


class Batch:
    """``B`` replicates of one scenario, advanced together.

    Args:
        scenario: The scenario.
        seeds: One ``SeedSequence`` per replicate.
    """

    satisfaction: np.ndarray
    low_steps: np.ndarray
    cum_net: np.ndarray
    cum_paid: np.ndarray
    cum_saved: np.ndarray
    plan_acc: np.ndarray
    pressure: np.ndarray
    meeting_cost: np.ndarray
    shortfall: np.ndarray
    last_benefit: np.ndarray
    last_contribution: np.ndarray
    relative_net: np.ndarray
    exp_return: np.ndarray
    obligation: np.ndarray

    def __init__(self, scenario: Scenario, seeds: Sequence[np.random.SeedSequence]) -> None:
        self.p = p = scenario
        self.fx = effects(scenario)
        self.funding = FUNDING[p["funding.rule"]](scenario.params)
        self.T = T = p["scenario.steps"]
        B = len(seeds)
        # Joiners take slots in the order they join (the file's order within a step).
        self.joins = sorted((sh for sh in scenario.shocks if sh.kind == "join"),
                            key=lambda sh: sh.step)
        J, H = len(self.joins), len(scenario.shocks)
        founders, uniform, normal, expo, shock_u, shock_z, join_z, join_b, bias = (
            [] for _ in range(9))
        m = float(np.clip(p["population.initial_trust"], 1e-3, 1 - 1e-3))
        conc = p["population.trust_concentration"]
        for seed in seeds:  # once per run, not per step
            rng = np.random.default_rng(seed)
            rng.integers(np.iinfo(np.int32).max)  # as mesa.Model does for its own seed
            f = generate(scenario, rng)
            n0 = len(f.power)
            C = n0 + J  # capacity: founders, then one slot per scheduled joiner
            founders.append(f)
            W = max(C, p["dynamics.alternatives"] - 1)  # the broker's picks
            uniform.append(rng.random((T, 2 * C + W + 2)))
            normal.append(rng.standard_normal((T, C, D)))
            expo.append(rng.standard_exponential((T, C)))
            shock_u.append(rng.random((max(H, 1), 2)))  # who is hit; a joiner's sector
            shock_z.append(rng.standard_normal((max(H, 1), C, D)))
            join_z.append(rng.standard_normal((max(J, 1), D)))
            join_b.append(rng.beta(m * conc, (1 - m) * conc, size=(max(J, 1), 2, C)))
            # Drawn last, so that every other draw is the same with or without it.
            bias.append(rng.standard_normal((C, D)) if p["broker.misperception"]
                        else np.zeros((C, D)))
        self.blocks = Blocks(np.stack(uniform, 1), np.stack(normal, 1), np.stack(expo, 1))
        self.shock_u, self.shock_z = np.stack(shock_u), np.stack(shock_z)
        self.join_z, self.join_b = np.stack(join_z), np.stack(join_b)
        self.broker_bias = np.stack(bias)
        self.B, self.C, self.n0 = B, C, n0

        def stack(name: str) -> np.ndarray:
            x = np.stack([np.asarray(getattr(f, name), dtype=float) for f in founders])
            pairs = 2 if name == "trust" else 1  # joiners' slots, filled when they join
            pad = [(0, 0)] + [(0, J)] * pairs + [(0, 0)] * (x.ndim - 1 - pairs)
            return np.pad(x, pad)

        self.power, self.budget, self.admin = stack("power"), stack("budget"), stack("admin")
        self.base_budget = self.budget.copy()
        self.prosociality, self.commitment = stack("prosociality"), stack("commitment")
        self.goals = stack("goals")
        self.understanding = self.goals.copy()
        self.trust = stack("trust")
        self.names = list(founders[0].names)
        sectors = founders[0].sectors
        self.sector_code = np.pad(np.broadcast_to(
            np.array([SECTORS.index(s) for s in sectors]), (B, n0)), [(0, 0), (0, J)])
        self.culture_scale = self.fx.cultural_distance * self.funding.culture_merge
        culture = cultural_distance(sectors, self.culture_scale, p["dynamics.family_distance"])
        self.culture = np.pad(np.broadcast_to(culture, (B, n0, n0)), [(0, 0), (0, J), (0, J)])
        # Distance between every pair of sectors, for joiners (0 within a sector).
        self.sector_distance = cultural_distance(list(SECTORS), self.culture_scale,
                                                 p["dynamics.family_distance"])
        self._sectors_changed()
        zeros = np.zeros((B, C))
        for name in ("satisfaction", "low_steps", "cum_net", "cum_paid", "cum_saved", "plan_acc",
                     "pressure", "meeting_cost", "shortfall", "last_benefit", "last_contribution",
                     "relative_net"):
            setattr(self, name, zeros.copy())
        self.exp_return, self.obligation = np.ones((B, C)), np.ones((B, C))
        self.scar = np.zeros((B, C, C))  # memory of betrayals (mechanisms/memory.py)
        self.divorce_streak = np.zeros(B, dtype=int)
        self.active = np.zeros((B, C), dtype=bool)
        self.active[:, :n0] = True
        self.exit_step = np.full((B, C), -1)  # step of leaving, -1 while a member
        self.exit_reason = np.full((B, C), -1)  # index into EXIT_REASONS
        self.join_step = np.where(np.arange(C) < n0, 0, -1)[None, :].repeat(B, 0)
        self.switch_step = np.full(B, -1)
        self.plan = np.zeros((B, D))
        self.has_plan = np.zeros(B, dtype=bool)
        self.currency, self.pot = np.zeros(B), np.zeros(B)
        self.queue, self.advantage = np.zeros(B), np.zeros(B)
        self.mode = np.full(B, MODES.index(p["governance.mode"]))
        lead = p["governance.lead"]
        self.lead = (np.full(B, founders[0].names.index(lead)) if lead
                     else np.argmax(self.power, axis=1))
        self.steps = 0
        self.services = ServiceBatch(p, B) if p["services.enabled"] else None
        # The service submodel's columns come after the contributions', as in the model.
        cut = COLUMNS.index("free_riding") + 1
        columns = (COLUMNS[:cut] + (SERVICE_COLUMNS if self.services is not None else ())
                   + COLUMNS[cut:])
        self.table = {c: np.zeros((T, B)) for c in columns}
        self.eye = np.eye(C, dtype=bool)

    # ---------------------------------------------------------------- helpers
    def _sectors_changed(self) -> None:
        self.onehot = (self.sector_code[..., None] == np.arange(S)).astype(float)
        self.care = np.isin(self.sector_code, [SECTORS.index(c) for c in CARE_PROFESSIONS])

    @property
    def n(self) -> np.ndarray:
        """Active members per replicate ``(B,)``."""
        return self.active.sum(axis=1)

    def mean(self, x: np.ndarray) -> np.ndarray:
        """Mean over active members (axis 1) of ``(B, C, ...)``."""
        a = self.active.reshape(self.active.shape + (1,) * (x.ndim - 2))
        return (x * a).sum(axis=1) / np.maximum(self.n, 1).reshape((-1,) + (1,) * (x.ndim - 2))

    def trust_out(self) -> np.ndarray:
        """Each member's mean trust in the other active members ``(B, C)``."""
        off = self.trust * self.active[:, None, :] * ~self.eye
        return off.sum(axis=2) / np.maximum(self.n - 1, 1)[:, None]

    def pairs(self) -> np.ndarray:
        """``(B, C, C)``: both ends active, off the diagonal."""
        return self.active[:, :, None] & self.active[:, None, :] & ~self.eye

    def fair(self) -> np.ndarray:
        """Fair share per member."""
        return self.p["funding.pooled_share"] * self.budget * self.obligation

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """One quarter for every replicate (the order of ``PartnershipModel.step``)."""
        p, t = self.p, self.steps
        self.steps += 1
        with np.errstate(divide="ignore", invalid="ignore"):
            self._environment(t)
            live = self.n >= 2
            keep = self._snapshot()
            rec = self._meeting(t)
            c = self._contribute(rec)
            self._deliver(c, rec, live, keep)
            self._after_delivery()
            self.trust, self.scar = trust_memory.remember(self.trust, self.scar,
                                                          p["memory.scar_decay"])
            self._exit()
            if p["governance.adaptive"]:
                self._adapt()
            self._restore(keep, ~live)
            for k in IDLE_ZERO:
                rec[k] = np.where(live, rec[k], 0.0)
            for k in IDLE_NAN:
                rec[k] = np.where(live, rec[k], np.nan)
            self._record(t, rec)

    def _snapshot(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k).copy() for k in MEETING_TO_EXIT}

    def _restore(self, saved: dict[str, np.ndarray], idle: np.ndarray) -> None:
        """Replicates with fewer than two members neither meet nor deliver."""
        if not idle.any():
            return
        for k, old in saved.items():
            new = getattr(self, k)
            np.copyto(new, old, where=idle.reshape((-1,) + (1,) * (new.ndim - 1)))
        self.meeting_cost[idle] = 0.0

    def _environment(self, t: int) -> None:
        p, C = self.p, self.C
        cut = p["environment.austerity"]
        if cut:
            self.budget *= (1.0 - cut) ** (1.0 / QUARTERS_PER_YEAR)
        u = self.blocks.uniform[t]
        a = self.active
        turned = a & (u[:, :C] < p["environment.turnover_rate"])
        if turned.any():
            self._turnover(turned, p["environment.turnover_size"])
        shifted = a & (u[:, C:2 * C] < p["environment.political_shift_rate"])
        if shifted.any():
            size = p["environment.political_shift_size"]
            z = self.blocks.normal[t]
            z = z * (size / np.maximum(np.linalg.norm(z, axis=2, keepdims=True) / np.sqrt(D),
                                       1e-9))
            self.goals = np.where(shifted[..., None], np.clip(self.goals + z, 0, 1), self.goals)
        scandal = (u[:, -2] < p["environment.scandal_rate"]) & (self.n > 0)
        if scandal.any():
            who = self._kth_active(np.floor(u[:, -1] * self.n).astype(int))
            hit = (np.arange(C)[None, :] == who[:, None]) & scandal[:, None]
            self._scandal(hit, p["environment.scandal_size"])
        # Mesa counts the step before running it: step t + 1 sees demand at t + 1.
        demand = (1.0 + p["environment.demand_growth"]) ** ((t + 1) / QUARTERS_PER_YEAR)
        need = self.base_budget * demand * self.obligation
        covered = np.where(need > 0, self.budget / need, 1.0)
        self.pressure = np.clip(1.0 - covered, 0.0, 1.0)
        self._pressure_mean = np.where(self.n >= 2, self.mean(self.pressure), 0.0)

    def _kth_active(self, k: np.ndarray) -> np.ndarray:
        """Slot of each replicate's ``k``-th active member (``k``: ``(B,)`` or ``(B, m)``)."""
        rank = np.cumsum(self.active, axis=1) - 1
        if k.ndim == 1:
            return np.argmax((rank == k[:, None]) & self.active, axis=1)
        hit = (rank[:, None, :] == k[..., None]) & self.active[:, None, :]
        return np.argmax(hit, axis=2)

    def _turnover(self, rows: np.ndarray, size: float) -> None:
        prior = self.p["population.initial_trust"]
        size = trust_memory.turnover_reach(size, self.p["memory.inheritance"])
        self.scar = trust_memory.forget(self.scar, rows, size)
        r = rows.astype(float)
        self.trust += size * r[:, :, None] * (prior - self.trust)
        self.trust += size * r[:, None, :] * (prior - self.trust)
        self.trust[:, self.eye] = 1.0
        self.understanding += size * r[..., None] * (self.goals - self.understanding)

    def _scandal(self, hit: np.ndarray, size: float) -> None:
        self.trust *= 1.0 - size * hit[:, None, :]
        self.trust[:, self.eye] = 1.0
        self.scar = trust_memory.after_scandal(self.scar, hit, size,
                                               self.p["memory.scandal_scar"])

    # ------------------------------------------------------------------ meeting
    def _pref(self) -> np.ndarray:
        w = self.p["dynamics.understanding_weight"]
        return (1 - w) * self.goals + w * self.understanding

    def _acc(self, plans: np.ndarray, pref: np.ndarray) -> np.ndarray:
        """``(B, K, C)`` acceptability of plans ``(B, K, D)``."""
        dist = _gdist(plans[:, :, None, :], pref[:, None, :, :])
        return np.clip(1.0 - dist / self.p["dynamics.acceptability_scale"], 0.0, 1.0)

    def _vote(self, alts: np.ndarray, who: np.ndarray, valid: np.ndarray, pref: np.ndarray,
              decider: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Acceptability, yes votes ``(B, K, C)`` and which pass ``(B, K)``."""
        p = self.p
        threshold = p["dynamics.acceptance_threshold"]
        acc = self._acc(alts, pref)
        base = p["dynamics.broker_credibility"]
        broker = base + (1.0 - base) * p["governance.facilitation"]
        # credit[b, k, i] = trust[b, i, who[b, k]]
        credit = np.take_along_axis(self.trust, np.maximum(who, 0)[:, None, :], axis=2)
        credit = np.where(who[:, :, None] < 0, broker, credit.transpose(0, 2, 1))
        rule = p["governance.decision_rule"]
        shift = decision_power.power_shift(self.power, who, rule, p["decision.deference"],
                                           p["decision.veto_guard"])
        leaning = acc + p["dynamics.trust_acceptance_bonus"] * (credit - NEUTRAL_TRUST)
        yes = (leaning + shift >= threshold) & self.active[:, None, :]  # the votes cast
        n = np.maximum(self.n, 1)[:, None]
        if rule == "unanimity":
            passes = (yes | ~self.active[:, None, :]).all(axis=2)
        elif rule == "supermajority":
            passes = yes.sum(2) / n >= p["governance.supermajority"] - 1e-12
        elif rule == "majority":
            passes = yes.sum(2) / n > 0.5
        elif rule == "power_weighted":
            power = self.power * self.active
            total = power.sum(1)[:, None]
            passes = np.where(total > 0, (yes * power[:, None, :]).sum(2) / total > 0.5,
                              yes.sum(2) / n > 0.5)
        else:  # lead_decides: the decider's vote, or the broker's reading of the room
            by_member = np.take_along_axis(yes, np.maximum(decider, 0)[:, None, None],
                                           axis=2)[..., 0]
            room = (acc * self.active[:, None, :]).sum(2) / n >= threshold
            passes = np.where(decider[:, None] < 0, room, by_member)
        if not isinstance(shift, float):  # trust and contest follow what members think
            yes = (leaning >= threshold) & self.active[:, None, :]
        return acc, yes, passes & valid

    def _tabling(self, t: int, pref: np.ndarray, decider: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Alternatives ``(B, K, D)``, who tabled them ``(B, K)`` and which exist."""
        p, B, C = self.p, self.B, self.C
        K = p["dynamics.alternatives"]
        centre = self.mean(pref)
        alts = np.zeros((B, K, D))
        who = np.full((B, K), -1)
        valid = np.ones((B, K), dtype=bool)
        b = np.arange(B)
        if (self.mode == LEAD).any():
            most = p["governance.lead_max_concession"]
            c = np.linspace(0.0, most, K)[None, :, None]
            lead_alts = (1 - c) * pref[b, self.lead][:, None, :] + c * centre[:, None, :]
            m = self.mode == LEAD
            alts[m], who[m] = lead_alts[m], self.lead[m, None]
        if (self.mode == NAO).any():
            pref = broker.perceived(pref, self.broker_bias, p["broker.misperception"])
            centre = self.mean(pref)
            u = self.blocks.uniform[t][:, 2 * C:-2]
            n = self.n
            keys = np.where(self.active, u[:, :C], np.inf)
            without = np.argsort(keys, axis=1, kind="stable")[:, :K - 1]
            if without.shape[1] < K - 1:  # never used: fewer slots than picks
                without = np.pad(without, [(0, 0), (0, K - 1 - without.shape[1])])
            # Fewer members than picks: with replacement, as Generator.choice does.
            with_ = self._kth_active(np.floor(u[:, :K - 1] * n[:, None]).astype(int))
            picks = np.where((n < K - 1)[:, None], with_, without)
            lean = p["governance.broker_lean"] * (1.0 - p["governance.facilitation"])
            picked = np.take_along_axis(pref, picks[..., None], axis=1)
            nao_alts = np.concatenate(
                [centre[:, None, :], centre[:, None, :] + lean * (picked - centre[:, None, :])],
                axis=1)
            m = self.mode == NAO
            alts[m], who[m] = nao_alts[m], -1
        if (self.mode == SHARED).any():
            m = self.mode == SHARED
            alts_s, who_s, valid_s = self._shared(t, pref, decider)
            alts[m], who[m], valid[m] = alts_s[m], who_s[m], valid_s[m]
        return alts, who, valid

    def _shared(self, t: int, pref: np.ndarray, decider: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = self.p
        K = p["dynamics.alternatives"]
        power = self.power
        keys = np.where(self.active, self.blocks.exponential[t] / (power + 1e-9), np.inf)
        rows = np.argsort(keys, axis=1, kind="stable")[:, :K]
        k = rows.shape[1]
        valid = np.arange(k)[None, :] < np.minimum(self.n, K)[:, None]
        rp = np.where(valid, np.take_along_axis(power, rows, 1), -np.inf)
        order = np.argsort(-rp, axis=1, kind="stable")
        rows = np.take_along_axis(rows, order, 1)
        valid = np.take_along_axis(valid, order, 1)
        span = int(p["dynamics.shared_max_size"])
        n = self.n
        view = np.where(n > 1, np.minimum(1.0, (span - 1) / np.maximum(n - 1, 1)), 1.0)
        trust = np.take_along_axis(self.trust_out(), rows, 1)
        own = np.take_along_axis(pref, rows[..., None], 1)  # (B, k, D)
        gap = self.mean(pref)[:, None, :] - own
        steps = np.linspace(0.0, 1.0, p["governance.concession_steps"])
        L = len(steps)
        tried = (view[:, None] * trust)[..., None] * steps  # (B, k, L)
        plans = own[:, :, None, :] + tried[..., None] * gap[:, :, None, :]
        _, _, passes = self._vote(plans.reshape(self.B, k * L, D), np.repeat(rows, L, 1),
                                  np.repeat(valid, L, 1), pref, decider)
        passes = passes.reshape(self.B, k, L)
        first = np.argmax(passes, axis=2)
        needed = np.take_along_axis(tried, first[..., None], 2)[..., 0]
        needed = np.where(passes.any(axis=2), needed, tried[..., -1])
        accord = np.clip((trust - NEUTRAL_TRUST) / (1.0 - NEUTRAL_TRUST), 0.0, 1.0)
        conceded = np.maximum(needed, view[:, None] * accord)
        alts = own + conceded[..., None] * gap
        if k < K:
            pad = K - k
            alts = np.concatenate([alts, np.zeros((self.B, pad, D))], 1)
            rows = np.concatenate([rows, np.zeros((self.B, pad), int)], 1)
            valid = np.concatenate([valid, np.zeros((self.B, pad), bool)], 1)
        return alts, rows, valid

    def _deliberate(self, weights: np.ndarray, where: np.ndarray) -> None:
        totals = weights.sum(axis=2, keepdims=True)
        target = np.where(totals > 0, (weights @ self.understanding) / totals,
                          self.understanding)
        self.understanding += (self.fx.deliberation_speed * where[:, None, None]
                               * (target - self.understanding))

    def _meeting(self, t: int) -> dict[str, np.ndarray]:
        p, fx, B = self.p, self.fx, self.B
        a = self.active
        n = self.n
        self.understanding += p["dynamics.anchoring"] * (self.goals - self.understanding)
        if fx.vision_pull:
            centre = self.mean(self.understanding)
            self.understanding += fx.vision_pull * a[..., None] * (
                centre[:, None, :] - self.understanding)
        weights = self.trust * (1.0 - self.culture) * self.pairs()
        rounds = p["governance.deliberation_rounds"]
        everyone = np.ones(B, dtype=bool)
        for _ in range(rounds):
            self._deliberate(weights, everyone)
        self._lead_row()
        decider = np.where(self.mode == SHARED,
                           np.argmax(np.where(a, self.power, -np.inf), axis=1),
                           np.where(self.mode == NAO, -1, self.lead))
        used = np.full(B, rounds)
        open_ = np.ones(B, dtype=bool)
        plan = np.zeros((B, D))
        acc_adopted = np.zeros((B, self.C))
        yes_adopted = np.zeros((B, self.C), dtype=bool)
        pref_at = np.zeros((B, self.C, D))
        for attempt in range(rounds + 1):
            if attempt:
                self._deliberate(weights, open_)
                used += open_
            pref = self._pref()
            alts, who, valid = self._tabling(t, pref, decider)
            acc, yes, passes = self._vote(alts, who, valid, pref, decider)
            now = open_ & passes.any(axis=1)
            first = np.argmax(passes, axis=1)
            b = np.arange(B)
            plan[now] = alts[b, first][now]
            acc_adopted[now] = acc[b, first][now]
            yes_adopted[now] = yes[b, first][now]
            pref_at[now] = pref[now]
            open_ &= ~now
            if not open_.any():
                break
        decided = ~open_
        load = np.where(self.mode == SHARED,
                        (n - 1) / (int(p["dynamics.shared_max_size"]) - 1), 1.0)
        cost = (p["governance.meeting_cost"] * (used + 1) * fx.meeting_time_cost * load
                + fx.participation_cost)
        self.meeting_cost = np.where(a, cost[:, None], 0.0)
        if p["coordination.tie_cost"]:
            self.meeting_cost += coordination.tie_costs(
                a, self.mode != SHARED, p["coordination.tie_cost"], p["coordination.hub_relief"])
        nao = self.mode == NAO
        if nao.any():
            budget = self.budget * a
            total = budget.sum(1, keepdims=True)
            share = np.where(total > 0, budget / total, a / np.maximum(n, 1)[:, None])
            self.meeting_cost += p["governance.nao_cost"] * nao[:, None] * share
        tilt = self.funding.lead_tilt
        if tilt:
            plan = (1 - tilt) * plan + tilt * pref_at[np.arange(B), self.lead]
        self.plan = np.where(decided[:, None], plan, self.plan)
        self.has_plan |= decided
        self.currency = np.where(decided, 1.0, self.currency * (1.0 - p["dynamics.plan_decay"]))
        mean_acc = (acc_adopted * a).sum(1) / np.maximum(n, 1)
        sd = np.sqrt((((acc_adopted - mean_acc[:, None]) ** 2) * a).sum(1) / np.maximum(n, 1))
        contested = decided & ((~yes_adopted & a).sum(1) >= p["metrics.contested_share"] * n)
        self.plan_acc = np.where(self.has_plan[:, None] & a,
                                 self._acc(self.plan[:, None, :], self._pref())[:, 0], 0.0)
        self._trust_after_meeting(decided, yes_adopted)
        own = self._acc(plan[:, None, :], self.goals)[:, 0]  # against members' own goals
        own_mean = (own * a).sum(1) / np.maximum(n, 1)
        own_sd = np.sqrt((((own - own_mean[:, None]) ** 2) * a).sum(1) / np.maximum(n, 1))
        return {"own_acceptability": np.where(decided, own_mean, np.nan),
                "own_equity_sd": np.where(decided, own_sd, np.nan),
                "decided": decided.astype(float), "rounds": (used + 1).astype(float),
                "meeting_time": ((used + 1) * n).astype(float),
                "acceptability": np.where(decided, mean_acc, np.nan),
                "acceptability_sd": np.where(decided, sd, np.nan),
                "contested": contested.astype(float)}

    def _lead_row(self) -> None:
        gone = ~self.active[np.arange(self.B), self.lead]
        if gone.any():
            best = np.argmax(np.where(self.active, self.power, -np.inf), axis=1)
            self.lead = np.where(gone, best, self.lead)

    # -------------------------------------------------------------------- trust
    def _trust_after_meeting(self, decided: np.ndarray, yes: np.ndarray) -> None:
        p, fx = self.p, self.fx
        T = self.trust
        s = (yes & self.active).astype(float)
        against = (~yes & self.active).astype(float)
        after = T + p["dynamics.alliance_gain"] * s[:, :, None] * s[:, None, :] * 2.0 * T \
            * (1.0 - T)
        loss = p["dynamics.power_play_loss"] * fx.power_play_damping
        sp, ap = s * self.power, against * self.power
        after = after - loss * (against[:, :, None] * sp[:, None, :]
                                + p["dynamics.resentment"] * s[:, :, None] * ap[:, None, :]) * after
        frustrated = T * (1.0 - p["dynamics.frustration_loss"])
        self.trust = np.where(decided[:, None, None], after, frustrated)
        self.trust[:, self.eye] = 1.0

    def _after_delivery(self) -> None:
        p, fx = self.p, self.fx
        seen_share = min(1.0, fx.detection + self.funding.visibility)
        seen = seen_share * self.shortfall * self.active
        self.scar = trust_memory.after_shortfall(self.scar, seen, self.active,
                                                 p["memory.shortfall_scar"])
        win = np.clip(self.relative_net, 0.0, 1.0) * self.active
        gain = p["dynamics.trust_gain"] * fx.trust_building * fx.evidence
        T = self.trust
        T += gain * win[:, :, None] * (1.0 - seen)[:, None, :] * 2.0 * T * (1.0 - T)
        T -= p["dynamics.trust_loss"] * fx.loss_damping * seen[:, None, :] * T
        np.clip(T, 0.0, 1.0, out=T)
        T[:, self.eye] = 1.0
        actual = (1.0 - self.shortfall) * self.active
        others = (actual.sum(1, keepdims=True) - actual) / np.maximum(self.n - 1, 1)[:, None]
        rate = p["dynamics.prosociality_adaptation"] * seen_share
        self.prosociality += rate * self.active * (others - self.prosociality)

    # ------------------------------------------------------- contribution, delivery
    def _contribute(self, rec: dict[str, np.ndarray]) -> np.ndarray:
        p, fx, funding = self.p, self.fx, self.funding
        fair = self.fair() * self.active
        will = np.clip(
            p["dynamics.willingness_prosocial"] * self.prosociality
            + p["dynamics.willingness_trust"] * self.trust_out()
            + p["dynamics.willingness_return"] * (self.exp_return - 1.0)
            + fx.accountability_push
            + voice.push(p["participation.rung"], p["participation.voice"])
            - p["dynamics.willingness_pressure"] * (1 - fx.pressure_shield) * self.pressure,
            0.0, 1.0)
        if p["governance.mandated"]:
            will = np.maximum(will, p["dynamics.mandate_compliance"])
        asked = fair if funding.committed else fair * self.commitment * self.currency[:, None]
        c = np.minimum(asked if funding.committed else asked * will, self.budget) * self.active
        paid = np.where(asked > 1e-12, c / asked, 1.0)
        self.shortfall = np.maximum(1.0 - paid, 0.0) * self.active
        asked_total = asked.sum(1)
        rec.update(contribution=c.sum(1), asked_total=asked_total, fair_total=fair.sum(1),
                   free_riding=np.where(asked_total > 0, self.shortfall.sum(1)
                                        / np.maximum(self.n, 1), np.nan))
        return c

    def _deliver(self, c: np.ndarray, rec: dict[str, np.ndarray], live: np.ndarray,
                 before: dict[str, np.ndarray]) -> None:
        p, fx, funding = self.p, self.fx, self.funding
        a = self.active
        n = np.maximum(self.n, 1)
        self.pot += c.sum(1)
        live = self.has_plan & (self.currency >= p["dynamics.live_plan"])
        self.queue += np.where(live, self.pot, 0.0)
        self.pot = np.where(live, 0.0, self.pot)
        admin = (self.admin * a).sum(1)
        hub = np.where(self.mode == SHARED, admin, float(p["governance.admin_capacity"]))
        if funding.name == "lead_commissioning":
            hub = np.full(self.B, funding.hub_admin)
        elif funding.name == "integrated":
            hub = admin + funding.hub_admin
        capacity = hub * fx.delivery_capacity
        spent = np.minimum(self.queue, capacity)
        self.queue -= spent
        weights = np.where((c.sum(1) > 0)[:, None], c, self.fair() * a)
        shares = (weights[..., None] * self.onehot).sum(1)
        total = shares.sum(1)
        diversity = np.where(total > 0, 1.0 - ((shares / total[:, None]) ** 2).sum(1), 0.0)
        centre = self.mean(self.understanding)
        spread = (_gdist(self.understanding, centre[:, None, :]) * a).sum(1) / n
        understanding = np.maximum(0.0, 1.0 - p["dynamics.understanding_spread_penalty"] * spread)
        fit = np.where(self.has_plan,
                       np.minimum(1.0, (self.plan_acc * a).sum(1) / n + fx.participation_fit),
                       0.0)
        stale = p["dynamics.stale_plan_productivity"]
        productivity = ((1.0 + p["dynamics.synergy"] * diversity) * fit * understanding
                        * (stale + (1.0 - stale) * self.currency))
        if funding.role_conflict:
            productivity *= 1.0 - fx.role_conflict * (self.care * a).sum(1) / n
        gross = spent * productivity
        coordination = (self.meeting_cost * a).sum(1)
        joint_output, solo = gross - coordination, c.sum(1)
        self.advantage += joint_output - solo
        relevance = self.plan_acc * self.budget * a
        rsum = relevance.sum(1, keepdims=True)
        benefit = np.where(rsum > 0, gross[:, None] * relevance / rsum, 0.0)
        if self.services is not None:  # idle replicates' pathway runs with no joint money
            plan = np.where(live[:, None], self.plan, before["plan"])
            has_plan = np.where(live, self.has_plan, before["has_plan"])
            saved = self.services.step(self, plan, has_plan, spent * live,
                                       productivity * live, c * live[:, None], rec)
            self.cum_saved += saved
            benefit = benefit + saved
            if p["services.count_in_output"]:  # acute and care costs avoided are output too
                avoided = rec["acute_cost_avoided"] + rec["care_cost_avoided"]
                joint_output = joint_output + avoided
                self.advantage += avoided
        felt = c * (1.0 + p["dynamics.opportunity_cost"] * self.pressure)
        net = (benefit - felt - self.meeting_cost) * a
        self.cum_net += net
        self.cum_paid += c
        self.last_contribution = c
        self.last_benefit = benefit
        self.relative_net = net / self._reference()
        rec.update(spent=spent, capacity=capacity, joint_output=joint_output,
                   solo_output=solo, coordination_cost=coordination,
                   productivity=productivity, diversity=diversity,
                   shared_understanding=understanding, fit=fit)

    def _reference(self) -> np.ndarray:
        return np.maximum(self.p["funding.pooled_share"] * self.budget, 1e-9)

    # --------------------------------------------------------------------- exit
    def _exit(self) -> None:
        p, fx, funding = self.p, self.fx, self.funding
        a = self.active
        memory = p["dynamics.satisfaction_memory"]
        self.exp_return = np.where(a, (1 - memory) * self.exp_return
                                   + memory * self.last_benefit / self._reference(),
                                   self.exp_return)
        strain = fx.role_conflict * self.care if funding.role_conflict else 0.0
        self.satisfaction = np.where(a, (1 - memory) * self.satisfaction
                                     + memory * (self.relative_net - strain), self.satisfaction)
        banned = p["governance.mandated"] and p["legal_duty.exit_ban"]
        if p["divorce.enabled"] and not banned:
            wind_down, self.divorce_streak = divorce.agree(
                self.satisfaction, a, self.divorce_streak, p["divorce.quorum"],
                p["divorce.satisfaction"], p["divorce.patience"])
            self._leave(a & wind_down[:, None], EXIT_REASONS.index("amicable"))
        if p["governance.mandated"]:
            if not banned:
                floor = (p["dynamics.exit_threshold"] - funding.exit_cost
                         - p["legal_duty.review_margin"])
                reviewed, self.low_steps = duty.review(
                    self.satisfaction, self.low_steps, self.active, floor,
                    p["dynamics.exit_patience"])
                self._leave(reviewed, EXIT_REASONS.index("reviewed"))
            return
        out = self.trust_out()
        unhappy = ((self.satisfaction < p["dynamics.exit_threshold"] - funding.exit_cost)
                   & (out < p["dynamics.exit_trust"]))
        self.low_steps = np.where(a & unhappy, self.low_steps + 1, 0)
        leave = a & (self.low_steps >= p["dynamics.exit_patience"])
        ditch = (a & (self.pressure >= p["dynamics.ditch_pressure"])
                 & (self.satisfaction < 0.0) & (out < p["dynamics.ditch_trust"])
                 & (funding.exit_cost < 1.0) & ~leave)
        if ditch.any():
            self.scar = trust_memory.after_ditching(self.scar, ditch, a, p["memory.ditch_scar"])
            fair = self.fair()
            stay = a & ~ditch
            left = (fair * ditch).sum(1, keepdims=True)
            kept = (fair * stay).sum(1, keepdims=True)
            grow = np.where(kept > 1e-12, 1.0 + left / kept, 1.0)
            self.obligation = np.where(stay & ditch.any(1, keepdims=True),
                                       self.obligation * grow, self.obligation)
        self._leave(leave, EXIT_REASONS.index("dissatisfied"))
        self._leave(ditch, EXIT_REASONS.index("ditched"))

    def _adapt(self) -> None:
        p = self.p
        n = self.n
        shared = (self.mode == SHARED) & (n >= 2)
        out = self.mean(self.trust_out())
        change = shared & ((n > p["dynamics.shared_max_size"])
                           | (out < p["dynamics.shared_min_trust"]))
        consensus = np.where(self.has_plan, self.mean(self.plan_acc), 0.0)
        to = np.where(consensus >= p["dynamics.acceptance_threshold"], NAO, LEAD)
        self.mode = np.where(change, to, self.mode)
        self.switch_step = np.where(change, self.steps, self.switch_step)

    # ------------------------------------------------------------------- record
    def _record(self, t: int, rec: dict[str, np.ndarray]) -> None:
        n = self.n
        pairs = self.pairs()
        mean_trust = np.where(n >= 2, (self.trust * pairs).sum((1, 2))
                              / np.maximum(n * (n - 1), 1), 0.0)
        dense = (self.trust >= self.p["metrics.dense_trust"]) & pairs
        density = np.where(n >= 2, dense.sum((1, 2)) / np.maximum(n * (n - 1), 1), 0.0)
        rec.update(step=np.full(self.B, float(self.steps)), members=n.astype(float),
                   mean_trust=mean_trust, trust_density=density, governance=self.mode,
                   plan_currency=self.currency,
                   # the mean over the step's members, recorded if two are still left
                   pressure=np.where(n >= 2, self._pressure_mean, 0.0),
                   prosociality=self.mean(self.prosociality),
                   satisfaction=self.mean(self.satisfaction),
                   budget=(self.budget * self.active).sum(1), advantage=self.advantage,
                   queued=self.queue, pot=self.pot)
        for k, column in self.table.items():
            column[t] = rec[k]

    def run(self) -> dict[str, Any]:
        """Run every step; return the step table, ``(steps, B)`` per column.

        A shock scheduled for step ``s`` is applied at the end of step ``s - 1``.
        """
        for _ in range(self.T):
            for h, shock in enumerate(self.p.shocks):
                if shock.step - 1 == self.steps:
                    self.apply_shock(h, shock)
            self.step()
        return self.table

    # ------------------------------------------------------------------ results
    def results(self) -> list[RunResult]:
        """Each replicate's result, as :func:`collabsim.run` gives it; call after :meth:`run`.

        Steps, summary, events and members (not the per-member table).
        """
        from collabsim.runner import RunResult, members_table  # the runner imports this

        steps = self.steps
        summaries = self.summaries()
        out = []
        for k in range(self.B):  # once per replicate, after the run
            table = {c: v[:steps, k] for c, v in self.table.items()}
            frame = pd.DataFrame(table)
            for c in ("step", "rounds", "meeting_time", "members"):
                frame[c] = frame[c].astype(int)
            for c in ("decided", "contested"):
                frame[c] = frame[c].astype(bool)
            frame["governance"] = [MODES[int(g)] for g in table["governance"]]
            view = _Replicate(self, k)
            out.append(RunResult(frame, summaries[k], None, self._events(k),
                                 members_table(view)))  # type: ignore[arg-type]
        return out

    def summaries(self) -> list[dict[str, Any]]:
        """Each replicate's summary (:func:`collabsim.metrics.summarise`), from arrays."""
        F = self.n0
        left = self.exit_step[:, :F] >= 0
        founders = {
            "power": self.power[:, :F], "cum_net": self.cum_net[:, :F],
            "active": ~left, "ditched": self.exit_reason[:, :F] == EXIT_REASONS.index("ditched"),
            "exit_step": np.where(left, self.exit_step[:, :F], np.nan)}
        steps = {c: self.table[c][:self.steps] for c in SUMMARY_COLUMNS}
        out = summarise_batch(steps, founders, self.queue, self.pot,
                              polarisation(self.goals, self.trust, self.active), self.p)
        own = {c: over_decisions(self.table[c][:self.steps], self.table["decided"][:self.steps])
               for c in OWN_GOAL_COLUMNS}
        for k, row in enumerate(out):
            row.update({c: float(v[k]) for c, v in own.items()})
            if self.services is not None:
                row.update(self.services.summary(k))
            row["archetype"] = classify(row, self.p.params)
        return out

    def _names(self, k: int) -> list[str]:
        joiners = [f"{SECTORS[self.sector_code[k, self.n0 + j]]}_joiner_{j + 1}"
                   for j in range(len(self.joins))]
        return self.names + joiners

    def _events(self, k: int) -> list[tuple[int, str, str]]:
        """``(step, kind, who)`` in the order the one-at-a-time model records them."""
        names = self._names(k)
        timed: list[tuple[tuple[int, int, int, int], tuple[int, str, str]]] = []
        forced = EXIT_REASONS.index("forced")
        for h, shock in enumerate(self.p.shocks):
            if shock.step - 1 < self.steps:
                timed.append(((shock.step - 1, 2, h, -1), (shock.step, shock.kind,
                                                           shock.target)))
        for slot in np.flatnonzero(self.exit_step[k] >= 0):
            t, reason = int(self.exit_step[k, slot]), int(self.exit_reason[k, slot])
            if reason == forced:  # recorded just after the shock that forced it
                h = next(i for i, sh in enumerate(self.p.shocks)
                         if sh.kind == "leave" and sh.step - 1 == t)
                key = (t, 2, h, int(slot))
            else:
                key = (t, 0, 0, int(slot))
            timed.append((key, (t, f"exit:{EXIT_REASONS[reason]}", names[slot])))
        if self.switch_step[k] >= 0:
            timed.append(((int(self.switch_step[k]), 1, 0, 0),
                          (int(self.switch_step[k]), f"governance:{MODES[self.mode[k]]}", "")))
        return [event for _, event in sorted(timed)]

    # ------------------------------------------------------------------- shocks
    def apply_shock(self, h: int, shock: Any) -> None:
        """Apply scheduled event ``h`` to every replicate."""
        kind, size, target = shock.kind, shock.size, shock.target
        if kind == "join":
            self._join(self.joins.index(shock), target, size)
            return
        a = self.active
        if not target:
            if kind in ("turnover", "scandal", "leave"):
                who = self._kth_active(np.floor(self.shock_u[:, h, 0] * self.n).astype(int))
                rows = (np.arange(self.C)[None, :] == who[:, None]) & (self.n > 0)[:, None]
            else:
                rows = a.copy()
        elif target in SECTORS:
            rows = a & (self.sector_code == SECTORS.index(target))
        else:
            rows = a & self._named(target)
        if kind == "budget_cut":
            self.budget *= 1.0 - size * rows
        elif kind == "turnover":
            self._turnover(rows, size)
        elif kind == "political_shift":
            z = self.shock_z[:, h]
            z = z * (size / np.maximum(np.linalg.norm(z, axis=2, keepdims=True) / np.sqrt(D),
                                       1e-9))
            self.goals = np.where(rows[..., None], np.clip(self.goals + z, 0, 1), self.goals)
        elif kind == "scandal":
            self._scandal(rows, size)
        elif kind == "leave":
            self._leave(rows, EXIT_REASONS.index("forced"))

    def _named(self, name: str) -> np.ndarray:
        """``(B, C)``: the slot of the member called ``name`` in each replicate."""
        if name in self.names:
            return np.broadcast_to(np.arange(self.C) == self.names.index(name), (self.B, self.C))
        hit = np.zeros((self.B, self.C), dtype=bool)
        for j, _ in enumerate(self.joins):  # joiners are named by sector and order
            slot = self.n0 + j
            code = np.array([SECTORS.index(x) if name == f"{x}_joiner_{j + 1}" else -1
                             for x in SECTORS])
            hit[:, slot] = np.isin(self.sector_code[:, slot], code[code >= 0])
        return hit

    def _leave(self, rows: np.ndarray, reason: int) -> None:
        rows = rows & self.active
        self.exit_step = np.where(rows, self.steps, self.exit_step)
        self.exit_reason = np.where(rows, reason, self.exit_reason)
        self.active = self.active & ~rows

    def _join(self, j: int, target: str, size: float) -> None:
        """Joiner ``j`` takes its slot: power ``size``, budget and capacity to match."""
        p, B = self.p, self.B
        slot = self.n0 + j
        b = np.arange(B)
        sectors = [SECTORS.index(x) for x in p["population.sectors"]]
        if target in SECTORS:
            code = np.full(B, SECTORS.index(target))
        else:
            pick = np.floor(self.shock_u[:, self.p.shocks.index(self.joins[j]), 1]
                            * len(sectors)).astype(int)
            code = np.asarray(sectors)[pick]
        floor = p["population.power_floor"]
        a = self.active
        n = self.n
        per_power = np.where(n > 0, (self.base_budget / np.maximum(self.power, floor) * a).sum(1)
                             / np.maximum(n, 1), p["population.mean_budget"])
        power = max(size, floor)
        goals = np.clip(np.array([SECTOR_GOALS[SECTORS[c]] for c in code])
                        + p["population.joiner_goal_noise"] * self.join_z[:, j], 0, 1)
        self.sector_code[:, slot] = code
        self._sectors_changed()
        self.power[:, slot] = power
        self.budget[:, slot] = self.base_budget[:, slot] = per_power * power
        self.admin[:, slot] = (p["population.admin_capacity"] * power
                               / p["population.reference_power"])
        self.prosociality[:, slot] = p["population.prosociality"]
        self.commitment[:, slot] = 1.0
        self.goals[:, slot] = self.understanding[:, slot] = goals
        for name, value in (("satisfaction", 0.0), ("exp_return", 1.0), ("obligation", 1.0),
                            ("low_steps", 0.0), ("cum_net", 0.0), ("cum_paid", 0.0),
                            ("plan_acc", 0.0)):
            getattr(self, name)[:, slot] = value
        # Trust to and from the joiner: drawn as for founders, lower across distant goals.
        gap = np.sqrt(((self.goals - goals[:, None, :]) ** 2).sum(2) / D)  # (B, C)
        penalty = p["population.trust_goal_penalty"]
        row = np.clip(self.join_b[:, j, 0] - penalty * gap, 0.0, 1.0)
        col = np.clip(self.join_b[:, j, 1] - penalty * gap, 0.0, 1.0)
        self.trust[:, slot, :] = row
        self.trust[:, :, slot] = col
        self.trust[:, slot, slot] = 1.0
        dist = self.sector_distance[code[:, None], self.sector_code]  # (B, C)
        self.culture[:, slot, :] = dist
        self.culture[:, :, slot] = dist
        self.active[b, slot] = True
        self.join_step[:, slot] = self.steps + 1


def summaries(scenario: Scenario, n: int, seed: int, batch_size: int = 500) -> pd.DataFrame:
    """Replicates ``0 … n - 1`` of ``seed`` in batches: one summary row per replicate.

    What :func:`collabsim.run_replicates` will return once it runs on the batch.
    """
    rows: list[dict[str, Any]] = []
    for first in range(0, n, batch_size):
        ks = range(first, min(n, first + batch_size))
        batch = Batch(scenario, [replicate_seed(seed, k) for k in ks])
        batch.run()
        rows += [{"replicate": k, **row} for k, row in zip(ks, batch.summaries(), strict=True)]
    return pd.DataFrame(rows)


SERVICE_COLUMNS = ("admissions", "avoided_admissions", "emergency_bed_days",
                   "delayed_transfer_days", "unmet_need", "care_capacity", "prevention_spend",
                   "prevention_stock", "acute_cost_avoided", "care_cost_avoided")


class ServiceBatch:
    """The service-demand submodel (:mod:`collabsim.services`) for ``B`` replicates."""

    def __init__(self, p: Any, B: int) -> None:
        self.p = p
        self.factor = np.ones(B)
        self.stock = np.zeros(B)
        self.base_admissions = p["services.population"] * p["services.admission_rate"]
        self.base_capacity = p["services.care_capacity"] * self.base_admissions \
            * p["services.discharge_need"]
        self.package_cost = p["services.care_package_cost"] * p["services.package_weeks"]
        self.half = p["services.prevention_half"] * p["services.population"] / 10_000
        self.totals = {k: np.zeros(B) for k in ("bed_days", "delayed_days", "unmet",
                                                "prevention_spend", "acute_avoided",
                                                "care_avoided")}

    def step(self, batch: Batch, plan: np.ndarray, has_plan: np.ndarray, spent: np.ndarray,
             productivity: np.ndarray, c: np.ndarray, rec: dict[str, np.ndarray]
             ) -> np.ndarray:
        """Advance every replicate's pathway one quarter; return each member's saving."""
        p = self.p
        a = batch.active
        shares = np.where(has_plan[:, None], priority_shares(plan), 0.0)
        fence = p["services.prevention_ringfence"]
        shares = (1.0 - fence) * shares
        shares[:, PREVENTION] += fence
        prevention_spend = spent * shares[:, PREVENTION]
        moved = (1.0 - p["services.additionality"]) * c * a
        lost = (moved[..., None] * priority_shares(batch.goals)).sum(1)
        effective = prevention_spend * productivity - lost[:, PREVENTION]
        self.stock = (1.0 - p["services.prevention_decay"]) * self.stock + effective
        demand = (1.0 + p["environment.demand_growth"]) ** (batch.steps / QUARTERS_PER_YEAR)
        unprevented = self.base_admissions * demand
        scale = np.abs(self.stock) + self.half
        reach = np.where(scale > 0, self.stock / np.where(scale > 0, scale, 1.0), 0.0)
        avoided = unprevented * p["services.prevention_max"] * reach
        admissions = unprevented - avoided
        needing = admissions * p["services.discharge_need"]
        care = a & (batch.sector_code == SOCIAL_CARE)
        ratio = batch.budget / np.maximum(batch.base_budget, 1e-12)
        seen = care.any(1)
        self.factor = np.where(seen, (ratio * care).sum(1) / np.maximum(care.sum(1), 1),
                               self.factor)
        bought = ((spent * shares[:, INDEPENDENCE] * productivity - lost[:, INDEPENDENCE]) * 1e6
                  / self.package_cost if self.package_cost > 1e-9 else 0.0)
        capacity = np.maximum(0.0, self.base_capacity * self.factor + bought)
        unmet = np.maximum(0.0, needing - capacity)
        delayed = unmet * p["services.delay_days"]
        bed_days = admissions * p["services.length_of_stay"] + delayed
        acute = avoided * p["services.length_of_stay"] * p["services.bed_day_cost"] / 1e6
        care_avoided = avoided * p["services.discharge_need"] * self.package_cost / 1e6
        saved = (self._book(batch, HEALTH, acute) + self._book(batch, SOCIAL_CARE, care_avoided))
        t = self.totals
        t["bed_days"] += bed_days
        t["delayed_days"] += delayed
        t["unmet"] += unmet
        t["prevention_spend"] += prevention_spend
        t["acute_avoided"] += acute
        t["care_avoided"] += care_avoided
        rec.update(admissions=admissions, avoided_admissions=avoided,
                   emergency_bed_days=bed_days, delayed_transfer_days=delayed,
                   unmet_need=unmet, care_capacity=capacity,
                   prevention_spend=prevention_spend, prevention_stock=self.stock.copy(),
                   acute_cost_avoided=acute, care_cost_avoided=care_avoided)
        return saved

    def summary(self, k: int) -> dict[str, float]:
        """Replicate ``k``'s summary metrics, as :meth:`ServiceDemand.summary`."""
        t = {name: float(v[k]) for name, v in self.totals.items()}
        spend = t["prevention_spend"]
        return {
            "emergency_bed_days": t["bed_days"],
            "delayed_transfer_days": t["delayed_days"],
            "unmet_need": t["unmet"],
            "acute_saving_per_pound": t["acute_avoided"] / spend if spend > 1e-12 else 0.0,
        }

    @staticmethod
    def _book(batch: Batch, sector: int, amount: np.ndarray) -> np.ndarray:
        budget = batch.budget * (batch.active & (batch.sector_code == sector))
        total = budget.sum(1, keepdims=True)
        ok = (amount != 0)[:, None] & (total > 0)
        return np.where(ok, amount[:, None] * budget / np.where(total > 0, total, 1.0), 0.0)


class _Replicate:
    """What :func:`collabsim.runner.members_table` reads of a model, for one replicate."""

    def __init__(self, batch: Batch, k: int) -> None:
        self.batch, self.k = batch, k
        self.everyone = [self._member(slot, name) for slot, name in
                         enumerate(batch._names(k)) if batch.join_step[k, slot] >= 0]

    def _member(self, slot: int, name: str) -> SimpleNamespace:
        b, k = self.batch, self.k
        left = b.exit_step[k, slot] >= 0
        return SimpleNamespace(
            name=name, sector=SECTORS[b.sector_code[k, slot]], founding=slot < b.n0,
            active=not left, exit_step=int(b.exit_step[k, slot]) if left else None,
            exit_reason=EXIT_REASONS[b.exit_reason[k, slot]] if left else None,
            power=float(b.power[k, slot]), base_budget=float(b.base_budget[k, slot]),
            cum_paid=float(b.cum_paid[k, slot]), cum_saved=float(b.cum_saved[k, slot]),
            cum_net=float(b.cum_net[k, slot]))
