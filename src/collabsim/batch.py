"""The engine: a batch of replicates of one scenario, advanced as one set of arrays.

:class:`Batch` holds the members' state (:class:`collabsim.members.Members`, arrays
``(B, C, ...)`` with an ``active`` mask; ``C`` is the founders plus one slot per
scheduled joiner), the partnership's joint state
(:class:`collabsim.mechanisms.Joint`) and each replicate's pre-drawn random numbers.
:meth:`Batch.step` is the table of contents: it calls the mechanisms of
:mod:`collabsim.mechanisms` in the order of docs/ODD.md. A single run, and
:class:`collabsim.model.PartnershipModel`, is a batch of one.

Random numbers: replicate ``k``'s generator is made from its own ``SeedSequence``,
draws the founders, then the whole run's per-step random numbers in fixed-size blocks
(a uniform, a normal and an exponential block per step, each sized by the capacity,
not by who is active). A replicate therefore consumes the same numbers whatever batch
it is in, and the step never loops over replicates (docs/batching.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.infrastructure import effects
from collabsim.mechanisms import (
    Joint,
    adaptation,
    contribution,
    delivery,
    environment,
    exit,
    meeting,
    trust,
)
from collabsim.members import EXIT_REASONS, D, Members
from collabsim.metrics import SUMMARY_COLUMNS, classify, polarisation, summarise_batch
from collabsim.population import (
    Founders,
    cultural_distance,
    generate,
    goal_distance,
    lower_across_goals,
    trust_beta,
)
from collabsim.rules import DECISION, FUNDING, GOVERNANCE
from collabsim.rules.governance import Draws
from collabsim.scenario import Scenario, Shock
from collabsim.schema import CARE_PROFESSIONS, GOVERNANCE_MODES, SECTOR_GOALS, SECTORS
from collabsim.services import SERVICE_COLUMNS, ServiceDemand

if TYPE_CHECKING:
    from collabsim.runner import RunResult

MODES = GOVERNANCE_MODES  #: governance mode codes, in order

#: Joint and member state a meeting, delivery, trust and exit may change: kept as it
#: was where fewer than two members are left (no partnership meets or delivers).
MEMBERS_KEPT_IDLE = ("power", "prosociality", "understanding", "trust", "satisfaction",
                     "low_steps", "cum_net", "cum_paid", "plan_acc", "shortfall",
                     "last_benefit", "last_contribution", "last_net", "relative_net",
                     "exp_return", "obligation", "active", "exit_step", "exit_reason",
                     "scar")

#: Step-table columns, one ``(steps, B)`` array each (the service submodel's columns
#: come after ``free_riding`` when it is on).
COLUMNS = ("step", "decided", "rounds", "meeting_time", "acceptability", "acceptability_sd",
           "contested", "contribution", "fair_total", "asked_total", "free_riding", "spent",
           "capacity", "queued", "pot", "joint_output", "solo_output", "coordination_cost",
           "productivity", "diversity", "shared_understanding", "fit", "advantage",
           "plan_currency", "members", "governance", "mean_trust", "trust_density",
           "prosociality", "satisfaction", "budget", "pressure", "own_acceptability",
           "own_equity_sd")
#: Columns a replicate with fewer than two members records as 0 (or NaN).
IDLE_ZERO = ("decided", "rounds", "meeting_time", "contested", "contribution", "fair_total",
             "asked_total", "spent", "capacity", "joint_output", "solo_output",
             "coordination_cost", "productivity", "diversity", "shared_understanding", "fit")
IDLE_NAN = ("acceptability", "acceptability_sd", "free_riding", "own_acceptability",
            "own_equity_sd")
#: Step-table columns stored as integers and booleans in a run's table.
INT_COLUMNS = ("step", "rounds", "meeting_time", "members")
BOOL_COLUMNS = ("decided", "contested")
#: The per-member (agent) table's columns from the members' fields.
AGENT_FIELDS = {"power": "power", "budget": "budget", "contribution": "last_contribution",
                "benefit": "last_benefit", "net_benefit": "last_net",
                "satisfaction": "satisfaction", "prosociality": "prosociality",
                "paid": "cum_paid", "saved": "cum_saved"}


#: What a member's row of the members table reports of its fields.
MEMBER_TOTALS = ("base_budget", "cum_paid", "cum_saved", "cum_net")


@dataclass
class Blocks:
    """One batch's pre-drawn random numbers, ``(steps, B, ...)`` each."""

    uniform: np.ndarray  # (T, B, 2C + W + 2): turnover, shift, broker's picks, scandal, who
    normal: np.ndarray  # (T, B, C, D): political-shift directions
    exponential: np.ndarray  # (T, B, C): shared-governance proposer keys
    sign_off: np.ndarray | None = None  # (T, B, C): ratification, where plans need it


class Batch:
    """``B`` replicates of one scenario, advanced together.

    Args:
        scenario: The scenario.
        seeds: One ``SeedSequence`` per replicate (or a ``Generator`` that has already
            drawn Mesa's integer seed, as :class:`~collabsim.model.PartnershipModel`'s).
        agents: Also record each member's figures every step (the per-member table).
        steps: Steps to draw for (default ``scenario.steps``); a batch that runs longer
            draws more as it goes. Steps beyond the scenario's are drawn one at a time
            after everything else, so the first steps are the same however long it runs.
    """

    def __init__(self, scenario: Scenario, seeds: Sequence[np.random.SeedSequence
                                                         | np.random.Generator],
                 agents: bool = False, steps: int | None = None) -> None:
        self.p = p = scenario
        self.fx = effects(scenario)
        self.funding = FUNDING[p["funding.rule"]](scenario.params)
        self.decision = DECISION[p["governance.decision_rule"]]()
        self.modes = tuple(GOVERNANCE[name](scenario.params) for name in MODES)
        self.T = T = p["scenario.steps"]
        self.B = B = len(seeds)
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or steps < 1):
            raise InputError(f"steps = {steps!r} is not allowed; expected a whole number of "
                             "at least 1")
        self.length = T if steps is None else steps  #: steps :meth:`run` runs
        # Joiners take slots in the order they join (the file's order within a step).
        self.joins = sorted((sh for sh in scenario.shocks if sh.kind == "join"),
                            key=lambda sh: sh.step)
        f = self._draw(seeds)
        n0 = len(f.names)
        self.n0, self.C = n0, n0 + len(self.joins)
        self.m = m = Members(B, self.C)
        for name in ("power", "budget", "admin", "prosociality", "commitment", "goals"):
            getattr(m, name)[:, :n0] = getattr(f, name)
        m.base_budget = m.budget.copy()
        m.understanding = m.goals.copy()
        m.trust[:, :n0, :n0] = f.trust
        self.names = list(f.names)
        m.sector_code[:, :n0] = [SECTORS.index(s) for s in f.sectors]
        m.care[:, :n0] = [s in CARE_PROFESSIONS for s in f.sectors]
        scale = self.fx.cultural_distance * self.funding.culture_merge
        # Distance between every pair of sectors, for founders and joiners alike.
        self.sector_distance = cultural_distance(list(SECTORS), scale,
                                                 p["dynamics.family_distance"])
        m.culture[:, :n0, :n0] = self.sector_distance[np.ix_(m.sector_code[0, :n0],
                                                             m.sector_code[0, :n0])]
        m.active[:, :n0] = True
        m.join_step[:, :n0] = 0
        lead = p["governance.lead"]
        self.joint = Joint(B, D, MODES.index(p["governance.mode"]),
                           np.full(B, self.names.index(lead)) if lead
                           else np.argmax(m.power, axis=1))
        self.steps = 0
        self.services = ServiceDemand(p.params, B) if p["services.enabled"] else None
        cut = COLUMNS.index("free_riding") + 1
        columns = (COLUMNS[:cut] + (SERVICE_COLUMNS if self.services is not None else ())
                   + COLUMNS[cut:])
        self.table = {c: np.zeros((T, B)) for c in columns}
        self.agents: dict[str, np.ndarray] | None = None
        if agents:
            names = (*AGENT_FIELDS, "trust_out", "trust_in", "active")
            self.agents = {k: np.zeros((T, B, self.C), dtype=bool if k == "active" else float)
                           for k in names}
        self._grow(self.length)

    def _draw(self, seeds: Sequence[np.random.SeedSequence | np.random.Generator]) -> Founders:
        """Each replicate's founders and its whole run's random numbers, in a fixed order."""
        p, T = self.p, self.T
        J, H = len(self.joins), len(p.shocks)
        rngs = []
        for seed in seeds:
            if isinstance(seed, np.random.Generator):
                rngs.append(seed)
            else:
                rngs.append(np.random.default_rng(seed))
                rngs[-1].integers(np.iinfo(np.int32).max)  # as mesa.Model does for its seed
        founders = generate(p, rngs)
        C = len(founders.names) + J  # capacity: founders, then one slot per scheduled joiner
        W = max(C, p["dynamics.alternatives"] - 1)  # the broker's picks
        alpha, beta = trust_beta(p)
        uniform, normal, expo, shock_u, shock_z, join_z, join_b, bias, sign = (
            [] for _ in range(9))
        for rng in rngs:  # each replicate's own stream, once per run, not per step
            uniform.append(rng.random((T, 2 * C + W + 2)))
            normal.append(rng.standard_normal((T, C, D)))
            expo.append(rng.standard_exponential((T, C)))
            shock_u.append(rng.random((max(H, 1), 2)))  # who is hit; a joiner's sector
            shock_z.append(rng.standard_normal((max(H, 1), C, D)))
            join_z.append(rng.standard_normal((max(J, 1), D)))
            join_b.append(rng.beta(alpha, beta, size=(max(J, 1), 2, C)))
            # Drawn last, so that every other draw is the same with or without it.
            if p["broker.misperception"]:
                bias.append(rng.standard_normal((C, D)))
            if p["ratification.enabled"]:  # after the broker's, for the same reason
                sign.append(rng.random((T, C)))
        self.blocks = Blocks(np.stack(uniform, 1), np.stack(normal, 1), np.stack(expo, 1),
                             np.stack(sign, 1) if sign else None)
        self.shock_u, self.shock_z = np.stack(shock_u), np.stack(shock_z)
        self.join_z, self.join_b = np.stack(join_z), np.stack(join_b)
        self.broker_bias = np.stack(bias) if bias else None
        self._rngs = rngs
        return founders

    def _grow(self, steps: int) -> None:
        """Room and random numbers for ``steps`` steps, drawn one step at a time."""
        T = self.blocks.uniform.shape[0]
        if steps <= T:
            return
        b = self.blocks
        u, z, e, r = [], [], [], []
        for _ in range(steps - T):  # one step at a time, for each replicate
            draws = [(rng.random(b.uniform.shape[2:]), rng.standard_normal(b.normal.shape[2:]),
                      rng.standard_exponential(b.exponential.shape[2:]),
                      rng.random(b.sign_off.shape[2:]) if b.sign_off is not None else None)
                     for rng in self._rngs]
            u.append(np.stack([d[0] for d in draws]))
            z.append(np.stack([d[1] for d in draws]))
            e.append(np.stack([d[2] for d in draws]))
            if b.sign_off is not None:
                r.append(np.stack([d[3] for d in draws if d[3] is not None]))
        self.blocks = Blocks(np.concatenate([b.uniform, np.stack(u)]),
                             np.concatenate([b.normal, np.stack(z)]),
                             np.concatenate([b.exponential, np.stack(e)]),
                             np.concatenate([b.sign_off, np.stack(r)])
                             if b.sign_off is not None else None)
        grow = (0, steps - T)
        self.table = {c: np.pad(v, [grow, (0, 0)]) for c, v in self.table.items()}
        if self.agents is not None:
            self.agents = {k: np.pad(v, [grow, (0, 0), (0, 0)]) for k, v in self.agents.items()}

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """One quarter for every replicate, in the order of docs/ODD.md section 3."""
        m, p, fx, joint, funding = self.m, self.p.params, self.fx, self.joint, self.funding
        t = self.steps
        self._grow(t + 1)
        self.steps += 1
        u = self.blocks.uniform[t]
        with np.errstate(divide="ignore", invalid="ignore"):
            environment.austerity(m, p)
            environment.random_events(m, p, u, self.blocks.normal[t])
            demand = environment.demand_index(p, self.steps)
            m.pressure = environment.pressure(m, demand)
            live = m.n >= 2  # fewer than two members: no partnership meets or delivers
            pressure = m.mean(m.pressure)  # the step's members, recorded if two are left
            kept = self._snapshot(~live)
            self._lead()
            sign = self.blocks.sign_off
            draws = Draws(u[:, 2 * self.C:-2], self.blocks.exponential[t], self.broker_bias,
                          sign[t] if sign is not None else None)
            rec, decided, yes = meeting.hold(self.chair(), fx, funding, joint, draws, live)
            trust.after_meeting(m, decided, yes, p, fx)
            c, paid = contribution.contribute(m, p, fx, funding, joint.currency)
            rec.update(paid)
            rec.update(delivery.deliver(m, p, fx, self.hub(), funding, joint, c,
                                        self.services, demand, live))
            seen = trust.detection(fx, funding)
            trust.after_delivery(m, seen, p, fx)
            contribution.adapt_prosociality(m, p, seen)
            trust.remember(m, p)
            exit.remember(m, p, fx, funding)
            for reason, rows in exit.leavers(m, p, funding, joint).items():
                m.leave(rows, reason, self.steps)
            if p["governance.adaptive"]:
                change, to = adaptation.next_mode(joint.mode, m, p, joint.has_plan, MODES)
                joint.mode = np.where(change, to, joint.mode)
                joint.switch_step = np.where(change, self.steps, joint.switch_step)
            self._restore(kept, ~live)
            self._record(t, rec, live, pressure)

    def chair(self) -> meeting.Chair:
        """The meeting's chair: members, governance modes, decision rule and lead."""
        return meeting.Chair(self.m, self.p.params, self.modes, self.joint.mode, self.decision,
                             self.joint.lead)

    def hub(self) -> np.ndarray:
        """``(B,)`` each replicate's governance hub's admin capacity, £m per step."""
        admin = self.m.admin * self.m.active
        return self.chair().per_mode(lambda g: g.hub_capacity(admin))

    def _lead(self) -> None:
        """A lead that has left is replaced by the most powerful member."""
        m, joint = self.m, self.joint
        gone = ~m.active[np.arange(self.B), joint.lead]
        if gone.any():
            best = np.argmax(np.where(m.active, m.power, -np.inf), axis=1)
            joint.lead = np.where(gone, best, joint.lead)

    def _snapshot(self, idle: np.ndarray) -> dict[str, np.ndarray]:
        """The state of the ``idle`` replicates that the meeting to exit may change."""
        if not idle.any():
            return {}
        out = {k: getattr(self.m, k)[idle] for k in MEMBERS_KEPT_IDLE}
        out.update({f"joint.{k}": getattr(self.joint, k)[idle] for k in Joint.FIELDS})
        return out

    def _restore(self, saved: dict[str, np.ndarray], idle: np.ndarray) -> None:
        """Replicates with fewer than two members neither meet nor deliver."""
        if not saved:
            return
        for key, old in saved.items():
            owner, name = (self.joint, key[6:]) if key.startswith("joint.") else (self.m, key)
            getattr(owner, name)[idle] = old
        self.m.meeting_cost[idle] = 0.0

    def _record(self, t: int, rec: dict[str, np.ndarray], live: np.ndarray,
                pressure: np.ndarray) -> None:
        m, joint = self.m, self.joint
        if not live.all():  # (where every replicate is live there is nothing to blank)
            for k in IDLE_ZERO:
                rec[k] = np.where(live, rec[k], 0.0)
            for k in IDLE_NAN:
                rec[k] = np.where(live, rec[k], np.nan)
        n = m.n
        pairs = m.pairs()
        links = np.maximum(n * (n - 1), 1)
        dense = (m.trust >= self.p["metrics.dense_trust"]) & pairs
        trusted = np.multiply(m.trust, pairs, out=m.scratch(0)).sum((1, 2))
        rec.update(step=np.full(self.B, float(self.steps)), members=n.astype(float),
                   mean_trust=np.where(live, trusted / links, 0.0),
                   trust_density=np.where(live, dense.sum((1, 2)) / links, 0.0),
                   governance=joint.mode, plan_currency=joint.currency,
                   pressure=np.where(n >= 2, pressure, 0.0),
                   prosociality=m.mean(m.prosociality), satisfaction=m.mean(m.satisfaction),
                   budget=m.total(m.budget), advantage=joint.advantage, queued=joint.queue,
                   pot=joint.pot)
        for k, column in self.table.items():
            column[t] = rec[k]
        if self.agents is not None:
            a = self.agents
            for k, name in AGENT_FIELDS.items():
                a[k][t] = getattr(m, name)
            a["trust_out"][t] = m.trust_out()
            a["trust_in"][t] = m.trust_in()
            a["active"][t] = m.active

    def run(self) -> dict[str, np.ndarray]:
        """Run every step; return the step table, ``(steps, B)`` per column.

        A shock scheduled for step ``s`` is applied at the end of step ``s - 1``.
        """
        for _ in range(self.length - self.steps):
            for shock in self.p.shocks:
                if shock.step - 1 == self.steps:
                    self.apply_shock(shock)
            self.step()
        return self.table

    # ------------------------------------------------------------------- shocks
    def apply_shock(self, shock: Shock) -> None:
        """Apply a scheduled event to every replicate."""
        m, h = self.m, self.p.shocks.index(shock)
        kind, size, target = shock.kind, shock.size, shock.target
        if kind == "join":
            self._join(self.joins.index(shock), target, size)
            return
        if not target:
            if kind in ("turnover", "scandal", "leave"):
                rows = environment.one_of(m, self.shock_u[:, h, 0])
            else:
                rows = m.active.copy()
        elif target in SECTORS:
            rows = m.active & (m.sector_code == SECTORS.index(target))
        else:
            rows = m.active & self._named(target)
        if kind == "budget_cut":
            m.budget *= 1.0 - size * rows
        elif kind == "turnover":
            environment.turnover(m, rows, size, self.p.params)
        elif kind == "political_shift":
            environment.shift_goals(m, rows, size, self.shock_z[:, h])
        elif kind == "scandal":
            trust.scandal(m, rows, size, self.p.params)
        elif kind == "leave":
            m.leave(rows, "forced", self.steps)

    def _named(self, name: str) -> np.ndarray:
        """``(B, C)``: the slot of the member called ``name`` in each replicate."""
        if name in self.names:
            return np.broadcast_to(np.arange(self.C) == self.names.index(name), (self.B, self.C))
        hit = np.zeros((self.B, self.C), dtype=bool)
        for j, _ in enumerate(self.joins):  # joiners are named by sector and order
            slot = self.n0 + j
            code = np.array([SECTORS.index(x) if name == f"{x}_joiner_{j + 1}" else -1
                             for x in SECTORS])
            hit[:, slot] = np.isin(self.m.sector_code[:, slot], code[code >= 0])
        return hit

    def _join(self, j: int, target: str, size: float) -> None:
        """Joiner ``j`` takes its slot: power ``size``, budget and capacity to match."""
        p, m = self.p, self.m
        slot = self.n0 + j
        sectors = [SECTORS.index(x) for x in p["population.sectors"]]
        if target in SECTORS:
            code = np.full(self.B, SECTORS.index(target))
        else:
            pick = np.floor(self.shock_u[:, self.p.shocks.index(self.joins[j]), 1]
                            * len(sectors)).astype(int)
            code = np.asarray(sectors)[pick]
        floor = p["population.power_floor"]
        n = m.n
        per_power = np.where(n > 0, m.total(m.base_budget / np.maximum(m.power, floor))
                             / np.maximum(n, 1), p["population.mean_budget"])
        power = max(size, floor)
        goals = np.clip(np.array([SECTOR_GOALS[SECTORS[c]] for c in code])
                        + p["population.joiner_goal_noise"] * self.join_z[:, j], 0, 1)
        # Trust to and from the joiner: drawn as for founders, lower across distant goals.
        gap = goal_distance(m.goals, goals[:, None, :])  # (B, C)
        dist = self.sector_distance[code[:, None], m.sector_code]  # (B, C)
        m.fill(slot, {
            "power": power, "budget": per_power * power, "base_budget": per_power * power,
            "admin": p["population.admin_capacity"] * power / p["population.reference_power"],
            "prosociality": p["population.prosociality"], "goals": goals,
            "understanding": goals, "sector_code": code,
            "care": np.isin(code, [SECTORS.index(c) for c in CARE_PROFESSIONS]),
            "trust": lower_across_goals(self.join_b[:, j, 0], gap, p),
            "trust_in": lower_across_goals(self.join_b[:, j, 1], gap, p),
            "culture": dist}, self.steps + 1)

    # ------------------------------------------------------------------ results
    def frame(self, ks: Sequence[int] | None = None) -> pd.DataFrame:
        """The step table of replicates ``ks`` (default: all), stacked, one row per step.

        With ``ks`` of more than one replicate, a ``replicate`` column gives each row's
        position in ``ks``.
        """
        ks = list(range(self.B)) if ks is None else list(ks)
        steps = self.steps
        columns = {c: v[:steps, ks].T.reshape(-1) for c, v in self.table.items()}
        # Typed before the frame is built (one constructor call, no column assignments).
        for c in INT_COLUMNS:
            columns[c] = columns[c].astype(int)
        for c in BOOL_COLUMNS:
            columns[c] = columns[c].astype(bool)
        columns["governance"] = np.asarray(MODES, dtype=object)[
            columns["governance"].astype(int)]
        return pd.DataFrame(columns)

    def agent_frame(self, k: int) -> pd.DataFrame:
        """Replicate ``k``'s per-member table: one row per active member per step."""
        if self.agents is None:
            raise ValueError("this batch was not asked to record its members (agents=True)")
        a = self.agents
        t, slot = np.nonzero(a["active"][:self.steps, k])
        names = np.array(self._names(k), dtype=object)
        sectors = np.asarray(SECTORS, dtype=object)[self.m.sector_code[k]]
        out = {"step": t + 1, "name": names[slot], "sector": sectors[slot]}
        for c in (*AGENT_FIELDS, "trust_out", "trust_in"):
            out[c] = a[c][t, k, slot]
        frame = pd.DataFrame(out)
        return frame[["step", "name", "sector", "power", "budget", "contribution", "benefit",
                      "net_benefit", "satisfaction", "prosociality", "trust_out", "trust_in",
                      "paid", "saved"]]

    def result(self, k: int, summary: dict[str, Any] | None = None) -> RunResult:
        """Replicate ``k``'s result, as :func:`collabsim.run` gives it; call after :meth:`run`."""
        from collabsim.runner import RunResult, members_table  # the runner imports this

        return RunResult(self.frame([k]), summary or self.summaries()[k],
                         self.agent_frame(k) if self.agents is not None else None,
                         self.events(k), members_table(self.everyone(k)))

    def results(self) -> list[RunResult]:
        """Each replicate's result (:meth:`result`)."""
        summaries = self.summaries()
        return [self.result(k, summaries[k]) for k in range(self.B)]

    def summaries(self) -> list[dict[str, Any]]:
        """Each replicate's summary (:func:`collabsim.metrics.summarise_batch`), from arrays."""
        m, F = self.m, self.n0
        left = m.exit_step[:, :F] >= 0
        founders = {
            "power": m.power[:, :F], "cum_net": m.cum_net[:, :F], "active": ~left,
            "ditched": m.exit_reason[:, :F] == EXIT_REASONS.index("ditched"),
            "exit_step": np.where(left, m.exit_step[:, :F], np.nan)}
        steps = {c: self.table[c][:self.steps] for c in SUMMARY_COLUMNS}
        out = summarise_batch(steps, founders, self.joint.queue, self.joint.pot,
                              polarisation(m.goals, m.trust, m.active), self.p)
        services = self.services.summary() if self.services is not None else None
        for k, row in enumerate(out):
            if services is not None:
                row.update(services[k])
            row["archetype"] = classify(row, self.p.params)
        return out

    def _names(self, k: int) -> list[str]:
        joiners = [f"{SECTORS[self.m.sector_code[k, self.n0 + j]]}_joiner_{j + 1}"
                   for j in range(len(self.joins))]
        return self.names + joiners

    def events(self, k: int) -> list[tuple[int, str, str]]:
        """``(step, kind, who)`` of replicate ``k``: shocks, exits and governance changes."""
        m = self.m
        names = self._names(k)
        timed: list[tuple[tuple[int, int, int, int], tuple[int, str, str]]] = []
        forced = EXIT_REASONS.index("forced")
        for h, shock in enumerate(self.p.shocks):
            if shock.step - 1 < self.steps:
                timed.append(((shock.step - 1, 2, h, -1), (shock.step, shock.kind,
                                                           shock.target)))
        for slot in np.flatnonzero(m.exit_step[k] >= 0):
            t, reason = int(m.exit_step[k, slot]), int(m.exit_reason[k, slot])
            if reason == forced:  # recorded just after the shock that forced it
                h = next(i for i, sh in enumerate(self.p.shocks)
                         if sh.kind == "leave" and sh.step - 1 == t)
                key = (t, 2, h, int(slot))
            else:
                key = (t, 0, 0, int(slot))
            timed.append((key, (t, f"exit:{EXIT_REASONS[reason]}", names[slot])))
        switch = int(self.joint.switch_step[k])
        if switch >= 0:
            timed.append(((switch, 1, 0, 0),
                          (switch, f"governance:{MODES[self.joint.mode[k]]}", "")))
        return [event for _, event in sorted(timed)]

    def everyone(self, k: int) -> list[SimpleNamespace]:
        """Replicate ``k``'s members, past and present, in order of joining (a snapshot)."""
        m = self.m
        # Replicate k's rows as Python lists once (not a numpy scalar per member and field).
        join, leave = m.join_step[k].tolist(), m.exit_step[k].tolist()
        reason, sector = m.exit_reason[k].tolist(), m.sector_code[k].tolist()
        totals = {name: getattr(m, name)[k].tolist() for name in MEMBER_TOTALS}
        out = []
        for slot, name in enumerate(self._names(k)):
            if join[slot] < 0:
                continue
            left = leave[slot] >= 0
            out.append(SimpleNamespace(
                name=name, sector=SECTORS[sector[slot]], founding=slot < self.n0,
                active=not left, exit_step=leave[slot] if left else None,
                exit_reason=EXIT_REASONS[reason[slot]] if left else None,
                **{name: totals[name][slot] for name in MEMBER_TOTALS}))
        return out
