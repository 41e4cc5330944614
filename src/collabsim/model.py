"""The partnership model: one step is one quarter of a year.

:class:`PartnershipModel` is a Mesa model that is a batch of one: it holds a
:class:`collabsim.batch.Batch` with one replicate, and :meth:`PartnershipModel.step`
advances it. Read :meth:`collabsim.batch.Batch.step` for the step itself: it is the
table of contents, calling each mechanism of :mod:`collabsim.mechanisms` in the order
of docs/ODD.md. The agents (:class:`~collabsim.agents.Organisation`) and the member
arrays (``model.budget``, ``model.trust`` …) are views onto the batch's replicate 0.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.time import Priority

from collabsim import ensemble
from collabsim.agents import Organisation
from collabsim.batch import BOOL_COLUMNS, INT_COLUMNS, MODES, Batch
from collabsim.mechanisms import environment
from collabsim.members import MEMBER_FIELDS, PAIR_FIELDS
from collabsim.metrics import SUMMARY
from collabsim.rules.funding import FundingRule
from collabsim.rules.governance import GovernanceMode
from collabsim.scenario import Scenario, Shock, load_scenario
from collabsim.schema import SECTORS
from collabsim.seeds import SeedLike, as_seed
from collabsim.services import SERVICE_METRICS, ServiceDemand


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
        params: The scenario being run, with the parameter set its seed draws from the
            calibrated ensemble where ``scenario.parameters`` asks for one.
        batch: The engine, a batch of one replicate.
        members: Active members, in the order of the member arrays.
        founders: The founding members, whether or not still active.
        everyone: Every organisation that was ever a member, in order of joining.
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
        # The parameter set this run simulates: the ensemble's draw for this seed, as
        # collabsim.run and run_replicates take it (scenario.parameters).
        scenario = ensemble.resolve(scenario, self.rng)
        self.params = scenario
        self.collect_agents = collect_agents
        # Mesa's generator has drawn its own integer seed, as the batch does per replicate.
        self.batch = Batch(scenario, [self.rng], agents=collect_agents)
        self.everyone: list[Organisation] = []
        self._sync()
        self.founders = list(self.everyone)
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_report, name) for name in self.summary_keys()})
        self._summary: tuple[int, dict[str, Any]] | None = None
        self._history: list[dict[str, Any]] = []
        self._scheduled = [_ScheduledShock(self, s) for s in scenario.shocks]
        for ev in self._scheduled:
            # At the end of the previous quarter, so the shock is felt from step `step` on.
            self.schedule_event(ev.fire, at=ev.shock.step - 1, priority=Priority.LOW)

    # ---------------------------------------------------------------------- step
    def step(self) -> None:
        """One quarter: :meth:`collabsim.batch.Batch.step`, in the order of docs/ODD.md."""
        self.batch.step()
        self._sync()
        if self.steps >= self.params["scenario.steps"]:  # the scenario has run its course
            self.running = False
            self.datacollector.collect(self)

    def apply_shock(self, shock: Shock) -> None:
        """Apply a scheduled event (called by Mesa's event list)."""
        self.batch.apply_shock(shock)
        self._sync()

    def _sync(self) -> None:
        """Agents follow the batch: joiners are added, leavers removed."""
        m = self.batch.m
        for agent in self.everyone:
            if agent.active is False and agent in self.agents:
                agent.leave()
        names = self.batch._names(0)
        for slot in range(len(self.everyone), self.batch.C):
            if m.join_step[0, slot] < 0:
                break
            sector = SECTORS[m.sector_code[0, slot]]
            self.everyone.append(Organisation(self, names[slot], sector, slot=slot,
                                              founding=slot < self.batch.n0))

    def run(self, steps: int | None = None) -> PartnershipModel:
        """Run for ``steps`` steps (default: the scenario's ``scenario.steps``)."""
        self.run_for(self.params["scenario.steps"] if steps is None else steps)
        return self

    # ------------------------------------------------------------------ views
    @property
    def p(self) -> Scenario:
        """Short alias of :attr:`params`."""
        return self.params

    @property
    def members(self) -> list[Organisation]:
        """The active members, in the order of the member arrays."""
        return [a for a in self.everyone if a.active]

    @property
    def n(self) -> int:
        """Number of active members."""
        return int(self.batch.m.n[0])

    @property
    def history(self) -> list[dict[str, Any]]:
        """One dict per step (the model table)."""
        table = self.batch.table
        for t in range(len(self._history), self.steps):
            row: dict[str, Any] = {}
            for c, values in table.items():
                v = float(values[t, 0])
                row[c] = (int(v) if c in INT_COLUMNS else bool(v) if c in BOOL_COLUMNS
                          else MODES[int(v)] if c == "governance"
                          else np.nan if np.isnan(v) else v)
            self._history.append(row)
        return self._history

    @property
    def events(self) -> list[tuple[int, str, str]]:
        """``(step, kind, who)`` for shocks, exits and governance changes."""
        return self.batch.events(0)

    def summary(self) -> dict[str, Any]:
        """The run's summary metrics so far (:func:`collabsim.metrics.summarise_batch`)."""
        if self._summary is None or self._summary[0] != self.steps:
            self._summary = (self.steps, self.batch.summaries()[0])
        return self._summary[1]

    def summary_keys(self) -> tuple[str, ...]:
        """The names :meth:`summary` reports for this scenario."""
        return SUMMARY + (SERVICE_METRICS if self.services is not None else ())

    @property
    def services(self) -> ServiceDemand | None:
        """The service-demand submodel, if the scenario switches it on."""
        return self.batch.services

    @property
    def funding(self) -> FundingRule:
        """The funding rule."""
        return self.batch.funding

    @property
    def mode_name(self) -> str:
        """The governance mode now."""
        return MODES[int(self.batch.joint.mode[0])]

    @property
    def governance(self) -> GovernanceMode:
        """The governance mode now."""
        return self.batch.modes[int(self.batch.joint.mode[0])]

    @property
    def governance_switch_step(self) -> int | None:
        """Step at which governance changed mode, or ``None``."""
        step = int(self.batch.joint.switch_step[0])
        return None if step < 0 else step

    @property
    def lead_name(self) -> str:
        """The lead organisation's name."""
        return self.batch._names(0)[int(self.batch.joint.lead[0])]

    def lead_row(self) -> int:
        """Row of the lead organisation (the most powerful member if it has left)."""
        self.batch._lead()
        m = self.batch.m
        return int(m.active[0, :self.batch.joint.lead[0]].sum())

    @property
    def plan(self) -> np.ndarray | None:
        """The adopted plan, or ``None`` before the first decision."""
        joint = self.batch.joint
        return joint.plan[0] if joint.has_plan[0] else None

    @property
    def currency(self) -> float:
        """How current the plan is (1 when adopted)."""
        return float(self.batch.joint.currency[0])

    @property
    def pot(self) -> float:
        """Money paid in, not yet committed to delivery, £m."""
        return float(self.batch.joint.pot[0])

    @property
    def queue(self) -> float:
        """Money committed to delivery, waiting for hub capacity, £m."""
        return float(self.batch.joint.queue[0])

    @property
    def advantage(self) -> float:
        """Cumulative collaborative advantage, £m."""
        return float(self.batch.joint.advantage[0])

    @property
    def demand_index(self) -> float:
        """Demand relative to the start."""
        return environment.demand_index(self.params.params, self.steps)


def _view(name: str, pair: bool) -> property:
    """``model.<name>``: the active members' rows of replicate 0.

    While the members are the first slots (nobody has left) it is a view that can be
    written through; otherwise a read-only copy (assign ``model.<name> = …`` instead).
    """

    def get(model: PartnershipModel) -> np.ndarray:
        m = model.batch.m
        values, active = getattr(m, name)[0], m.active[0]
        n = int(active.sum())
        if active[:n].all():
            return values[:n, :n] if pair else values[:n]
        out = values[np.ix_(active, active)] if pair else values[active]
        out.flags.writeable = False
        return out

    def put(model: PartnershipModel, value: np.ndarray) -> None:
        m = model.batch.m
        active = m.active[0]
        index = np.ix_(active, active) if pair else active
        getattr(m, name)[0][index] = value

    return property(get, put, doc=f"The members' ``{name}`` (:mod:`collabsim.members`).")


for _field in MEMBER_FIELDS:  # model.budget, model.goals, ... as views
    setattr(PartnershipModel, _field.name, _view(_field.name, pair=False))
for _field in PAIR_FIELDS:  # model.trust, model.culture
    setattr(PartnershipModel, _field.name, _view(_field.name, pair=True))
