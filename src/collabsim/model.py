"""The partnership model: one step is one quarter of a year.

Read :meth:`PartnershipModel.step` first: it is the table of contents, calling each
mechanism of :mod:`collabsim.mechanisms` in the order of docs/ODD.md. The members'
state is one struct of arrays (:class:`collabsim.members.Members`, one row per
active member); what the partnership holds in common is a
:class:`~collabsim.mechanisms.Joint`. All randomness comes from ``self.rng``.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.time import Priority

from collabsim.agents import Organisation
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
from collabsim.members import MEMBER_FIELDS, PAIR_FIELDS, D, Members
from collabsim.metrics import SUMMARY, summarise
from collabsim.population import cultural_distance, generate, initial_trust
from collabsim.rules import DECISION, FUNDING, GOVERNANCE
from collabsim.scenario import Scenario, Shock, load_scenario
from collabsim.schema import CARE_PROFESSIONS, SECTOR_GOALS, SECTORS
from collabsim.seeds import SeedLike, as_seed
from collabsim.services import SERVICE_METRICS, ServiceDemand

#: Step-table columns a step with fewer than two members records, with their values.
IDLE = dict(decided=False, rounds=0, meeting_time=0, acceptability=np.nan,
            acceptability_sd=np.nan, contested=False, contribution=0.0, fair_total=0.0,
            asked_total=0.0, free_riding=np.nan, spent=0.0, capacity=0.0)
IDLE_OUTPUT = dict(joint_output=0.0, solo_output=0.0, coordination_cost=0.0,
                   productivity=0.0, diversity=0.0, shared_understanding=0.0, fit=0.0)


class _ScheduledShock:
    """Keeps a scheduled event alive for Mesa's weakly referenced event list."""

    def __init__(self, model: PartnershipModel, shock: Shock) -> None:
        self.model = model
        self.shock = shock

    def fire(self) -> None:
        self.model.apply_shock(self.shock)


def _report(name: str, model: PartnershipModel) -> Any:
    return model.summary()[name]


class PartnershipModel(mesa.Model):
    """A partnership of public-service organisations.

    It is an ordinary Mesa model: ``model.agents`` holds the active members (leavers
    are removed, joiners added), ``run_model()`` runs the scenario's steps, and it runs
    under ``mesa.batch_run`` with a scenario file and any scenario keys as parameters,
    the run's summary metrics in the results::

        mesa.batch_run(PartnershipModel, {"scenario": "scenarios/baseline.toml",
                                          "population.initial_trust": [0.2, 0.8]})

    Our :class:`~collabsim.scenario.Scenario` is ``model.params``. Mesa 3.5's own
    ``model.scenario`` (its experimental scenario class, which carries the seed) is
    left to Mesa: the two are different things, so ours does not take its name.

    Args:
        scenario: A validated :class:`~collabsim.scenario.Scenario`, or the path of a
            scenario file.
        rng: An integer seed (replicate 0 of that seed, as for :func:`collabsim.run`
            and ``collabsim run --seed``; see :mod:`collabsim.seeds`), a
            ``SeedSequence`` or a ``Generator``.
        collect_agents: Also record one row per member per step.
        **overrides: Scenario keys to set, e.g. ``**{"population.initial_trust": 0.2}``.

    Attributes:
        params: The scenario being run.
        members: Active members, row-aligned with the member arrays.
        founders: The founding members, whether or not still active.
        everyone: Every organisation that was ever a member, in order of joining.
        trust: ``(n, n)`` directed trust, ``trust[i, j]`` = i's trust in j.
        history: One dict per step (the model table).
    """

    def __init__(
        self, scenario: Scenario | str | Path, rng: SeedLike = None, *,
        collect_agents: bool = False, **overrides: Any,
    ) -> None:
        super().__init__(rng=as_seed(rng))
        if not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        if overrides:
            scenario = scenario.with_overrides(overrides, source="PartnershipModel")
        self.params = scenario
        self.fx = effects(scenario)
        self.governance = GOVERNANCE[scenario["governance.mode"]](scenario.params, self.rng)
        self.decision = DECISION[scenario["governance.decision_rule"]]()
        self.funding = FUNDING[scenario["funding.rule"]](scenario.params)
        self.collect_agents = collect_agents

        f = generate(scenario, self.rng)
        self.state = Members(
            power=f.power, budget=f.budget, base_budget=f.budget, admin=f.admin,
            prosociality=f.prosociality, commitment=f.commitment, goals=f.goals,
            understanding=f.goals, sector_code=np.array([SECTORS.index(s) for s in f.sectors]),
            care=np.isin(f.sectors, list(CARE_PROFESSIONS)), trust=f.trust,
            culture=self.culture_between(f.sectors))
        self.joint = Joint()
        self.members = [
            Organisation(self, name, sector, row=i, founding=True)
            for i, (name, sector) in enumerate(zip(f.names, f.sectors, strict=True))
        ]
        self.founders = list(self.members)
        self.everyone = list(self.members)
        self.lead_name = scenario["governance.lead"] or f.names[int(np.argmax(f.power))]
        self.mode_name = scenario["governance.mode"]
        self.governance_switch_step: int | None = None
        self.history: list[dict[str, Any]] = []
        self.agent_rows: list[dict[str, np.ndarray]] = []
        self.events: list[tuple[int, str, str]] = []
        self._joined = 0
        self.services = ServiceDemand(scenario.params) if scenario["services.enabled"] else None

        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_report, name) for name in self.summary_keys()})
        self._summary: tuple[int, dict[str, Any]] | None = None

        self._scheduled = [_ScheduledShock(self, s) for s in scenario.shocks]
        for ev in self._scheduled:
            # At the end of the previous quarter, so the shock is felt from step `step` on.
            self.schedule_event(ev.fire, at=ev.shock.step - 1, priority=Priority.LOW)

    # ------------------------------------------------------------------ views
    @property
    def p(self) -> Scenario:
        """Short alias of :attr:`params`."""
        return self.params

    @property
    def plan(self) -> np.ndarray | None:
        """The adopted plan, or ``None`` before the first decision."""
        return self.joint.plan

    @property
    def currency(self) -> float:
        """How current the plan is (1 when adopted)."""
        return self.joint.currency

    @property
    def pot(self) -> float:
        """Money paid in, not yet committed to delivery, £m."""
        return self.joint.pot

    @property
    def queue(self) -> float:
        """Money committed to delivery, waiting for hub capacity, £m."""
        return self.joint.queue

    @property
    def advantage(self) -> float:
        """Cumulative collaborative advantage, £m."""
        return self.joint.advantage

    def summary(self) -> dict[str, Any]:
        """The run's summary metrics so far (:func:`collabsim.metrics.summarise`)."""
        if self._summary is None or self._summary[0] != self.steps:
            self._summary = (self.steps, summarise(self))
        return self._summary[1]

    def summary_keys(self) -> tuple[str, ...]:
        """The names :meth:`summary` reports for this scenario."""
        return SUMMARY + (SERVICE_METRICS if self.services is not None else ())

    @property
    def n(self) -> int:
        """Number of active members."""
        return len(self.members)

    def trust_out(self) -> np.ndarray:
        """Each member's mean trust in the other members."""
        return self.state.trust_out()

    def lead_row(self) -> int:
        """Row of the lead organisation (the most powerful member if it has left)."""
        for row, agent in enumerate(self.members):
            if agent.name == self.lead_name:
                return row
        row = int(np.argmax(self.state.power))
        self.lead_name = self.members[row].name
        return row

    def culture_between(self, sectors: list[str]) -> np.ndarray:
        """``(n, n)`` cultural distance between members of ``sectors``."""
        return cultural_distance(sectors, self.fx.cultural_distance * self.funding.culture_merge,
                                 self.params["dynamics.family_distance"])

    def chair(self) -> meeting.Chair:
        """The meeting's chair: members, governance mode, decision rule and lead."""
        return meeting.Chair(self.state, self.params.params, self.governance, self.decision,
                             self.lead_row())

    def preferences(self) -> np.ndarray:
        """Plans members prefer now."""
        return meeting.preferences(self.state, self.params.params)

    def propose(self, pref: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Alternatives ``(K, D)`` the governance mode tables, and who tabled them."""
        return self.chair().propose(pref, k)

    @property
    def demand_index(self) -> float:
        """Demand relative to the start."""
        return environment.demand_index(self.params.params, self.steps)

    # ---------------------------------------------------------------------- step
    def step(self) -> None:
        """One quarter, in the order of docs/ODD.md section 3."""
        m, p, fx, joint = self.state, self.params.params, self.fx, self.joint
        environment.austerity(m, p)
        environment.random_events(m, p, self.rng)
        m.pressure = environment.pressure(m, self.demand_index)
        rec: dict[str, Any] = {"step": self.steps}
        pressure = float(m.pressure.mean()) if m.n else 0.0
        if m.n >= 2:
            held = meeting.hold(self.chair(), fx, self.funding, joint)
            if held.yes is not None:
                trust.after_decision(m.trust, held.yes, m.power, p, fx)
            else:
                trust.after_no_decision(m.trust, p)
            rec.update(held.record)
            c, paid = contribution.contribute(m, p, fx, self.funding, joint.currency)
            rec.update(paid)
            rec.update(delivery.deliver(m, p, fx, self.governance, self.funding, joint, c,
                                        self.services, self.demand_index))
            seen = trust.detection(fx, self.funding)
            trust.after_delivery(m.trust, m.relative_net, m.shortfall, seen, p, fx)
            contribution.adapt_prosociality(m, p, seen)
            exit.remember(m, p, fx, self.funding)
            rows, reasons = exit.leavers(m, p, self.funding)
            if rows.size:
                self._remove(rows, reasons)
            if p["governance.adaptive"]:
                self._adapt()
        else:
            self._idle(rec)
        self._record(rec, pressure)
        if self.steps >= p["scenario.steps"]:  # the scenario has run its course
            self.running = False
            self.datacollector.collect(self)

    # Scheduled events and membership ----------------------------------------------
    def apply_shock(self, shock: Shock) -> None:
        """Apply a scheduled event (called by Mesa's event list)."""
        kind, size = shock.kind, shock.size
        self.events.append((self.steps + 1, kind, shock.target))
        if kind == "join":
            self._join(shock.target, size)
            return
        rows = self._target_rows(shock.target, pick_one=kind in ("turnover", "scandal", "leave"))
        if rows.size == 0:
            return
        m = self.state
        if kind == "budget_cut":
            m.budget[rows] *= 1.0 - size
        elif kind == "turnover":
            environment.turnover(m, rows, size, self.params["population.initial_trust"])
        elif kind == "political_shift":
            environment.shift_goals(m, rows, size, self.rng)
        elif kind == "scandal":
            trust.scandal(m.trust, rows, size)
        elif kind == "leave" and self.n > 0:
            self._remove(rows, "forced")

    def _target_rows(self, target: str, pick_one: bool) -> np.ndarray:
        if not target:
            if pick_one and self.n:
                return np.array([self.rng.integers(self.n)])
            return np.arange(self.n)
        if target in SECTORS:
            return np.flatnonzero(self.state.sector_code == SECTORS.index(target))
        return np.array([a.row for a in self.members if a.name == target], dtype=int)

    def _join(self, target: str, size: float) -> None:
        """A new member joins: its power is ``size``, its budget and capacity to match."""
        self._joined += 1
        p, m = self.params, self.state
        sectors = p["population.sectors"]
        sector = target if target in SECTORS else sectors[self.rng.integers(len(sectors))]
        floor = p["population.power_floor"]
        budget_per_power = float(np.mean(m.base_budget / np.maximum(m.power, floor))) if \
            self.n else p["population.mean_budget"]
        power = max(size, floor)
        goals = np.clip(np.array(SECTOR_GOALS[sector])
                        + self.rng.normal(0, p["population.joiner_goal_noise"], D), 0, 1)
        n = self.n
        all_goals = np.vstack([m.goals, goals[None, :]])
        grown = initial_trust(all_goals, p, self.rng)  # the joiner's row and column
        grown[:n, :n] = m.trust
        sectors_now = [SECTORS[c] for c in m.sector_code] + [sector]
        m.append(
            {"power": power, "budget": budget_per_power * power,
             "base_budget": budget_per_power * power,
             "admin": p["population.admin_capacity"] * power / p["population.reference_power"],
             "prosociality": p["population.prosociality"], "goals": goals,
             "understanding": goals, "sector_code": SECTORS.index(sector),
             "care": sector in CARE_PROFESSIONS},
            {"trust": grown, "culture": self.culture_between(sectors_now)})
        joiner = Organisation(self, f"{sector}_joiner_{self._joined}", sector, row=n,
                              founding=False)
        self.members.append(joiner)
        self.everyone.append(joiner)

    def _remove(self, rows: np.ndarray, reasons: Any) -> None:
        """Members leave: their agents are removed and their rows dropped."""
        reasons = np.broadcast_to(np.asarray(reasons), rows.shape)
        for row, reason in zip(rows, reasons, strict=True):
            self.members[row].leave(str(reason))
            self.events.append((self.steps, f"exit:{reason}", self.members[row].name))
        keep = np.ones(self.n, dtype=bool)
        keep[rows] = False
        self.state.keep(keep)
        self.members = [a for a, k in zip(self.members, keep, strict=True) if k]
        for i, agent in enumerate(self.members):
            agent.row = i

    def _adapt(self) -> None:
        """Governance evolution (:mod:`collabsim.mechanisms.adaptation`)."""
        mode = adaptation.next_mode(self.mode_name, self.state, self.params.params,
                                    self.joint.plan is not None)
        if mode is not None:
            self.mode_name = mode
            self.governance = GOVERNANCE[mode](self.params.params, self.rng)
            self.governance_switch_step = self.steps
            self.events.append((self.steps, f"governance:{mode}", ""))

    # Recording ----------------------------------------------------------------------
    def _idle(self, rec: dict[str, Any]) -> None:
        """Fewer than two members: no partnership is left to meet or deliver."""
        m, joint = self.state, self.joint
        m.meeting_cost = np.zeros(m.n)
        rec.update(IDLE, queued=joint.queue, pot=joint.pot, **IDLE_OUTPUT,
                   advantage=joint.advantage, plan_currency=joint.currency)
        if self.services is not None:
            record, saved = self.services.step(
                delivery.partnership(m, joint, self.demand_index), 0.0, 0.0, np.zeros(m.n))
            m.cum_saved += saved
            rec.update(record)

    def _record(self, rec: dict[str, Any], pressure: float) -> None:
        m = self.state
        n = m.n
        out = m.trust_out()
        if n >= 2:  # off-diagonal means; the diagonal is 1
            pairs = n * (n - 1)
            mean_trust = float((m.trust.sum() - n) / pairs)
            density = float(((m.trust >= self.params["metrics.dense_trust"]).sum() - n) / pairs)
        else:
            mean_trust = density = 0.0
        rec.update(
            members=n, governance=self.mode_name, mean_trust=mean_trust, trust_density=density,
            prosociality=float(m.prosociality.mean()) if n else 0.0,
            satisfaction=float(m.satisfaction.mean()) if n else 0.0,
            budget=float(m.budget.sum()),
            pressure=pressure if n >= 2 else 0.0,
        )
        self.history.append(rec)
        if self.collect_agents and n:
            self.agent_rows.append({
                "step": np.full(n, self.steps),
                "name": np.array([a.name for a in self.members], dtype=object),
                "sector": np.array([a.sector for a in self.members], dtype=object),
                "power": m.power.copy(), "budget": m.budget.copy(),
                "contribution": m.last_contribution.copy(),
                "benefit": m.last_benefit.copy(), "net_benefit": m.last_net.copy(),
                "satisfaction": m.satisfaction.copy(),
                "prosociality": m.prosociality.copy(), "trust_out": out.copy(),
                "trust_in": (m.trust.sum(axis=0) - 1.0) / max(n - 1, 1),
                "paid": m.cum_paid.copy(), "saved": m.cum_saved.copy(),
            })

    def run(self, steps: int | None = None) -> PartnershipModel:
        """Run for ``steps`` steps (default: the scenario's ``scenario.steps``)."""
        self.run_for(self.params["scenario.steps"] if steps is None else steps)
        return self


def _state_view(name: str) -> property:
    def get(model: PartnershipModel) -> np.ndarray:
        return getattr(model.state, name)

    def put(model: PartnershipModel, value: np.ndarray) -> None:
        setattr(model.state, name, value)

    return property(get, put, doc=f"The members' ``{name}`` (:mod:`collabsim.members`).")


for _field in (*MEMBER_FIELDS, *PAIR_FIELDS):  # model.trust, model.budget, ... as views
    setattr(PartnershipModel, _field.name, _state_view(_field.name))
