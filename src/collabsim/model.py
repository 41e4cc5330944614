"""The partnership model: one step is one quarter of a year.

Read :meth:`PartnershipModel.step` first; each phase it calls is a short method below,
in the order of the model brief (section 3) and of docs/ODD.md. Per-member state is
held in numpy arrays with one row per active member; pairwise state (trust, cultural
distance) in ``(n, n)`` arrays. All randomness comes from ``self.rng``.
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
from collabsim.metrics import SUMMARY, summarise
from collabsim.population import (
    D,
    cultural_distance,
    generate,
    goal_distance,
    initial_trust,
)
from collabsim.rules import DECISION, FUNDING, GOVERNANCE
from collabsim.rules.decision import Ballot
from collabsim.rules.governance import BROKER
from collabsim.scenario import Scenario, Shock, load_scenario
from collabsim.schema import (
    CARE_PROFESSIONS,
    NEUTRAL_TRUST,
    QUARTERS_PER_YEAR,
    SECTOR_GOALS,
    SECTORS,
)
from collabsim.seeds import SeedLike, as_seed
from collabsim.services import SERVICE_METRICS, Partnership, ServiceDemand

#: Per-member arrays, kept row-aligned with ``self.members``.
MEMBER_ARRAYS = (
    "power", "budget", "base_budget", "admin", "prosociality", "commitment", "goals",
    "understanding",
    "satisfaction", "exp_return", "obligation", "low_steps", "cum_net", "sector_code",
    "care", "plan_acc", "last_contribution", "last_benefit", "last_net", "cum_paid", "cum_saved",
)


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
        n = len(f.names)
        self.power, self.budget, self.admin = f.power, f.budget, f.admin
        self.base_budget = f.budget.copy()
        self.prosociality = f.prosociality
        self.commitment = f.commitment
        self.goals = f.goals
        self.understanding = f.goals.copy()
        self.trust = f.trust
        self.culture = self.culture_between(f.sectors)
        self.sector_code = np.array([SECTORS.index(s) for s in f.sectors])
        self.care = np.isin(f.sectors, list(CARE_PROFESSIONS))
        self.satisfaction, self.cum_net, self.plan_acc = np.zeros(n), np.zeros(n), np.zeros(n)
        self.last_contribution, self.last_benefit = np.zeros(n), np.zeros(n)
        self.last_net, self.cum_paid, self.cum_saved = np.zeros(n), np.zeros(n), np.zeros(n)
        self.exp_return = np.ones(n)
        self.obligation = np.ones(n)
        self.low_steps = np.zeros(n, dtype=int)

        self.members = [
            Organisation(self, name, sector, row=i, founding=True)
            for i, (name, sector) in enumerate(zip(f.names, f.sectors, strict=True))
        ]
        self.founders = list(self.members)
        self.everyone = list(self.members)
        self.lead_name = scenario["governance.lead"] or f.names[int(np.argmax(f.power))]
        self.mode_name = scenario["governance.mode"]

        self.plan: np.ndarray | None = None
        self.currency = 0.0
        self.pot = 0.0
        self.queue = 0.0
        self.advantage = 0.0
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

    # ------------------------------------------------------------------ helpers
    @property
    def p(self) -> Scenario:
        """Short alias of :attr:`params`."""
        return self.params

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
        n = self.n
        if n < 2:
            return np.zeros(n)
        return (self.trust.sum(axis=1) - np.diag(self.trust)) / (n - 1)

    def lead_row(self) -> int:
        """Row of the lead organisation (the most powerful member if it has left)."""
        for row, agent in enumerate(self.members):
            if agent.name == self.lead_name:
                return row
        row = int(np.argmax(self.power))
        self.lead_name = self.members[row].name
        return row

    def cultural_scale(self) -> float:
        """Cultural distance between sectors under this funding rule."""
        return self.fx.cultural_distance * self.funding.culture_merge

    def culture_between(self, sectors: list[str]) -> np.ndarray:
        """``(n, n)`` cultural distance between members of ``sectors``."""
        return cultural_distance(sectors, self.cultural_scale(),
                                 self.params["dynamics.family_distance"])

    def preferences(self) -> np.ndarray:
        """Plans members prefer: their interests blended with their understanding."""
        w = self.params["dynamics.understanding_weight"]
        return (1 - w) * self.goals + w * self.understanding

    def acceptability(self, plans: np.ndarray, pref: np.ndarray) -> np.ndarray:
        """Acceptability of ``plans`` (K, D) to each member: ``(K, n)`` in [0, 1]."""
        dist = goal_distance(plans[:, None, :], pref[None, :, :])
        return np.clip(1.0 - dist / self.params["dynamics.acceptability_scale"], 0.0, 1.0)

    def vote(
        self, alts: np.ndarray, proposers: np.ndarray, pref: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Put alternatives ``(K, D)`` tabled by ``proposers`` to the decision rule.

        A member votes for an alternative it finds acceptable enough, counting its trust
        in whoever tabled it (the broker's credibility comes from facilitation).

        Returns:
            Acceptability ``(K, n)``, yes votes ``(K, n)`` and which pass ``(K,)``.
        """
        p = self.params
        threshold = p["dynamics.acceptance_threshold"]
        acc = self.acceptability(alts, pref)
        base = p["dynamics.broker_credibility"]
        broker_trust = base + (1.0 - base) * p["governance.facilitation"]
        credit = np.where(proposers[:, None] == BROKER, broker_trust,
                          self.trust[:, np.maximum(proposers, 0)].T)
        yes = acc + p["dynamics.trust_acceptance_bonus"] * (credit - NEUTRAL_TRUST) >= threshold
        ballot = Ballot(yes, acc, self.power, self.governance.decider(self.power, self.lead_row()),
                        p["governance.supermajority"], threshold)
        return acc, yes, self.decision.passes(ballot)

    def propose(self, pref: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Alternatives ``(K, D)`` and who tabled them, under the governance mode."""
        return self.governance.propose(
            pref, self.power, self.trust_out(), self.lead_row(), k,
            lambda alts, proposers: self.vote(alts, proposers, pref)[2])

    def partnership(self) -> Partnership:
        """What the service submodel sees of the partnership this quarter."""
        return Partnership(self.plan, self.goals, self.budget, self.base_budget,
                           self.sector_code, self.demand_index)

    def fair_share(self) -> np.ndarray:
        """What each member is asked to put in per step, £m."""
        return self.params["funding.pooled_share"] * self.budget * self.obligation

    def pressure(self) -> np.ndarray:
        """Budget pressure in [0, 1]: the gap between budget and what is asked of it."""
        need = self.base_budget * self.demand_index * self.obligation
        covered = np.divide(self.budget, need, out=np.ones_like(need), where=need > 0)
        return np.clip(1.0 - covered, 0.0, 1.0)

    @property
    def demand_index(self) -> float:
        """Demand relative to the start, from ``environment.demand_growth``."""
        return (1.0 + self.params["environment.demand_growth"]) ** (self.steps / QUARTERS_PER_YEAR)

    # ---------------------------------------------------------------------- step
    def step(self) -> None:
        """One quarter: environment, meeting, contribution, delivery, trust, exit."""
        self._random_events()
        self.pressure_now = self.pressure()
        rec: dict[str, Any] = {"step": self.steps}
        if self.n >= 2:
            self._meeting(rec)
            contributions = self._contribute(rec)
            self._deliver(contributions, rec)
            self._update_trust(contributions, rec)
            self._motivation_and_exit()
            if self.params["governance.adaptive"]:
                self._evolve_governance()
        else:
            self._idle(rec)
        self._record(rec)
        if self.steps >= self.params["scenario.steps"]:  # the scenario has run its course
            self.running = False
            self.datacollector.collect(self)

    # 1. Environment ------------------------------------------------------------
    def _random_events(self) -> None:
        p, n = self.params, self.n
        cut = p["environment.austerity"]
        if cut:
            self.budget *= (1.0 - cut) ** (1.0 / QUARTERS_PER_YEAR)
        if n == 0:
            return
        turnover = np.flatnonzero(self.rng.random(n) < p["environment.turnover_rate"])
        if turnover.size:
            self._turnover(turnover, p["environment.turnover_size"])
        shifted = np.flatnonzero(self.rng.random(n) < p["environment.political_shift_rate"])
        if shifted.size:
            self._shift_goals(shifted, p["environment.political_shift_size"])
        if self.rng.random() < p["environment.scandal_rate"]:
            self._scandal(np.array([self.rng.integers(n)]), p["environment.scandal_size"])

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
        if kind == "budget_cut":
            self.budget[rows] *= 1.0 - size
        elif kind == "turnover":
            self._turnover(rows, size)
        elif kind == "political_shift":
            self._shift_goals(rows, size)
        elif kind == "scandal":
            self._scandal(rows, size)
        elif kind == "leave" and self.n > 0:
            self._remove(rows, "forced")

    def _target_rows(self, target: str, pick_one: bool) -> np.ndarray:
        if not target:
            if pick_one and self.n:
                return np.array([self.rng.integers(self.n)])
            return np.arange(self.n)
        if target in SECTORS:
            return np.flatnonzero(self.sector_code == SECTORS.index(target))
        return np.array([a.row for a in self.members if a.name == target], dtype=int)

    def _turnover(self, rows: np.ndarray, size: float) -> None:
        """New leadership: trust to and from the member moves back towards the prior."""
        prior = self.params["population.initial_trust"]
        self.trust[rows, :] += size * (prior - self.trust[rows, :])
        self.trust[:, rows] += size * (prior - self.trust[:, rows])
        self.trust[rows, rows] = 1.0
        self.understanding[rows] += size * (self.goals[rows] - self.understanding[rows])

    def _shift_goals(self, rows: np.ndarray, size: float) -> None:
        step = self.rng.normal(0.0, 1.0, size=(rows.size, D))
        step *= size / np.maximum(np.linalg.norm(step, axis=1, keepdims=True) / np.sqrt(D), 1e-9)
        self.goals[rows] = np.clip(self.goals[rows] + step, 0.0, 1.0)

    def _scandal(self, rows: np.ndarray, size: float) -> None:
        """A safeguarding incident: everyone's trust in the members involved drops."""
        self.trust[:, rows] *= 1.0 - size
        self.trust[rows, rows] = 1.0

    def _join(self, target: str, size: float) -> None:
        self._joined += 1
        sectors = self.params["population.sectors"]
        sector = target if target in SECTORS else sectors[self.rng.integers(len(sectors))]
        p = self.params
        floor = p["population.power_floor"]
        budget_per_power = float(np.mean(self.base_budget / np.maximum(self.power, floor))) if \
            self.n else p["population.mean_budget"]
        power = max(size, floor)
        goals = np.clip(np.array(SECTOR_GOALS[sector])
                        + self.rng.normal(0, p["population.joiner_goal_noise"], D), 0, 1)
        n = self.n
        new = {
            "power": power, "budget": budget_per_power * power,
            "base_budget": budget_per_power * power,
            "admin": p["population.admin_capacity"] * power / p["population.reference_power"],
            "prosociality": self.params["population.prosociality"], "commitment": 1.0,
            "goals": goals,
            "understanding": goals, "satisfaction": 0.0, "exp_return": 1.0,
            "obligation": 1.0, "low_steps": 0, "cum_net": 0.0,
            "sector_code": SECTORS.index(sector), "care": sector in CARE_PROFESSIONS,
            "plan_acc": 0.0, "last_contribution": 0.0, "last_benefit": 0.0, "last_net": 0.0,
            "cum_paid": 0.0, "cum_saved": 0.0,
        }
        for name in MEMBER_ARRAYS:
            arr = getattr(self, name)
            setattr(self, name, np.concatenate([arr, np.asarray([new[name]], dtype=arr.dtype)
                                                .reshape((1, *arr.shape[1:]))]))
        goals_all = self.goals
        fresh = initial_trust(goals_all, self.params, self.rng)
        trust = fresh
        trust[:n, :n] = self.trust
        self.trust = trust
        sectors_now = [SECTORS[c] for c in self.sector_code]
        self.culture = self.culture_between(sectors_now)
        joiner = Organisation(self, f"{sector}_joiner_{self._joined}", sector, row=n,
                              founding=False)
        self.members.append(joiner)
        self.everyone.append(joiner)

    # 2. Deliberation and decision ---------------------------------------------
    def _deliberate(self, weights: np.ndarray) -> None:
        """One round: understanding moves towards trusted, culturally close partners."""
        totals = weights.sum(axis=1, keepdims=True)
        target = np.divide(weights @ self.understanding, totals,
                           out=self.understanding.copy(), where=totals > 0)
        self.understanding += self.fx.deliberation_speed * (target - self.understanding)

    def _meeting(self, rec: dict[str, Any]) -> None:
        p, fx = self.params, self.fx
        n = self.n
        self.understanding += p["dynamics.anchoring"] * (self.goals - self.understanding)
        if fx.vision_pull:
            centre = self.understanding.sum(axis=0) / n
            self.understanding += fx.vision_pull * (centre - self.understanding)
        weights = self.trust * (1.0 - self.culture)
        np.fill_diagonal(weights, 0.0)
        rounds = p["governance.deliberation_rounds"]
        k = p["dynamics.alternatives"]
        self.governance.new_meeting()
        for _ in range(rounds):  # deliberation before the first vote
            self._deliberate(weights)
        used = rounds
        adopted = -1
        for attempt in range(rounds + 1):  # votes, with up to `rounds` extra rounds
            if attempt:
                self._deliberate(weights)
                used += 1
            pref = self.preferences()
            alts, proposers = self.propose(pref, k)
            acc, yes, passes = self.vote(alts, proposers, pref)
            if passes.any():  # alternatives are taken in the order they were tabled
                adopted = int(np.argmax(passes))
                break
        person_rounds = (used + 1) * n
        cost = (p["governance.meeting_cost"] * (used + 1) * fx.meeting_time_cost
                * self.governance.coordination_load(n) + fx.participation_cost)
        self.meeting_cost = np.full(n, cost)
        running = self.governance.running_cost()
        if running:  # the broker's running cost is shared in proportion to budget
            total = self.budget.sum()
            self.meeting_cost += running * (self.budget / total if total > 0 else 1.0 / n)
        rec.update(decided=adopted >= 0, rounds=used + 1, meeting_time=person_rounds)
        if adopted >= 0:
            plan = alts[adopted]
            tilt = self.funding.lead_tilt
            if tilt:
                plan = (1 - tilt) * plan + tilt * pref[self.lead_row()]
            self.plan = plan
            self.currency = 1.0
            decision_acc = acc[adopted]
            no_votes = ~yes[adopted]
            mean_acc = float(decision_acc.sum()) / n
            rec.update(acceptability=mean_acc,
                       acceptability_sd=float(np.sqrt(((decision_acc - mean_acc) ** 2).sum() / n)),
                       contested=bool(no_votes.sum() >= p["metrics.contested_share"] * n))
            supporters = yes[adopted].astype(float)
            # Those who carried a decision together trust each other a little more...
            self.trust += (p["dynamics.alliance_gain"] * np.outer(supporters, supporters)
                           * 2.0 * self.trust * (1.0 - self.trust))
            if no_votes.any():  # ...and an imposed decision is a power play against the outvoted,
                # who lose trust in its powerful supporters; the supporters in turn resent,
                # half as much, those who opposed them.
                loss = p["dynamics.power_play_loss"] * fx.power_play_damping
                against = no_votes.astype(float)
                self.trust -= loss * (np.outer(against, supporters * self.power)
                                      + p["dynamics.resentment"]
                                      * np.outer(supporters, against * self.power)
                                      ) * self.trust
        else:
            self.currency *= 1.0 - p["dynamics.plan_decay"]
            self.trust *= 1.0 - p["dynamics.frustration_loss"]
            rec.update(acceptability=np.nan, acceptability_sd=np.nan, contested=False)
        np.fill_diagonal(self.trust, 1.0)
        self.plan_acc = (self.acceptability(self.plan[None, :], self.preferences())[0]
                         if self.plan is not None else np.zeros(n))

    # 3. Contribution -------------------------------------------------------------
    def _contribute(self, rec: dict[str, Any]) -> np.ndarray:
        p, fx = self.params, self.fx
        fair = self.fair_share()
        willingness = np.clip(
            p["dynamics.willingness_prosocial"] * self.prosociality
            + p["dynamics.willingness_trust"] * self.trust_out()
            + p["dynamics.willingness_return"] * (self.exp_return - 1.0)
            + fx.accountability_push
            - p["dynamics.willingness_pressure"] * (1 - fx.pressure_shield) * self.pressure_now,
            0.0, 1.0,
        )
        if p["governance.mandated"]:  # a statutory duty sets a floor under what is paid
            willingness = np.maximum(willingness, p["dynamics.mandate_compliance"])
        asked = self.funding.asked(fair, self.commitment, self.currency)
        c = np.minimum(self.funding.contributions(asked, willingness), self.budget)
        paid = np.divide(c, asked, out=np.ones_like(c), where=asked > 1e-12)
        self.shortfall = np.maximum(1.0 - paid, 0.0)
        asked_total = float(asked.sum())
        rec.update(contribution=float(c.sum()), fair_total=float(fair.sum()),
                   asked_total=asked_total,
                   free_riding=float(self.shortfall.sum()) / self.n if asked_total > 0 else np.nan)
        return c

    # 4-6. Delivery, production, benefits -----------------------------------------
    def _deliver(self, c: np.ndarray, rec: dict[str, Any]) -> None:
        p = self.params
        self.pot += float(c.sum())
        if self.plan is not None and self.currency >= p["dynamics.live_plan"]:
            self.queue += self.pot
            self.pot = 0.0
        capacity = self.funding.hub_capacity(self.governance.hub_capacity(self.admin), self.admin)
        capacity *= self.fx.delivery_capacity
        spent = min(self.queue, capacity)
        self.queue -= spent

        weights = c if c.sum() > 0 else self.fair_share()
        shares = np.bincount(self.sector_code, weights=weights, minlength=len(SECTORS))
        total = shares.sum()
        diversity = 1.0 - float(((shares / total) ** 2).sum()) if total > 0 else 0.0
        n = self.n
        spread = float(goal_distance(self.understanding, self.understanding.sum(0) / n).sum()) / n
        shared_understanding = max(0.0, 1.0 - p["dynamics.understanding_spread_penalty"] * spread)
        fit = min(1.0, float(self.plan_acc.sum()) / n + self.fx.participation_fit) \
            if self.plan is not None else 0.0
        stale = p["dynamics.stale_plan_productivity"]
        productivity = ((1.0 + p["dynamics.synergy"] * diversity) * fit * shared_understanding
                        * (stale + (1.0 - stale) * self.currency))
        if self.funding.role_conflict:  # stress in merged teams costs output (Carpenter 2003)
            productivity *= 1.0 - self.fx.role_conflict * float(self.care.mean())
        gross = spent * productivity
        coordination = float(self.meeting_cost.sum())
        joint, solo = gross - coordination, float(c.sum())
        self.advantage += joint - solo

        relevance = self.plan_acc * self.budget
        benefit = gross * relevance / relevance.sum() if relevance.sum() > 0 else np.zeros(self.n)
        if self.services is not None:  # costs a member's own budget avoided count as benefit
            service_record, saved = self.services.step(self.partnership(), spent, productivity, c)
            self.cum_saved += saved
            benefit = benefit + saved
            rec.update(service_record)
        # Under budget pressure a £ for joint work is a £ taken from statutory services.
        felt = c * (1.0 + p["dynamics.opportunity_cost"] * self.pressure_now)
        net = benefit - felt - self.meeting_cost
        self.cum_net += net
        self.cum_paid += c
        self.last_contribution, self.last_benefit, self.last_net = c, benefit, net
        ref = np.maximum(p["funding.pooled_share"] * self.budget, 1e-9)
        self.relative_net = net / ref
        m = p["dynamics.satisfaction_memory"]
        self.exp_return = (1 - m) * self.exp_return + m * benefit / ref
        rec.update(spent=spent, capacity=capacity, queued=self.queue, pot=self.pot,
                   joint_output=joint, solo_output=solo, coordination_cost=coordination,
                   productivity=productivity, diversity=diversity,
                   shared_understanding=shared_understanding, fit=fit,
                   advantage=self.advantage, plan_currency=self.currency)

    # 7. Trust ------------------------------------------------------------------
    def _update_trust(self, c: np.ndarray, rec: dict[str, Any]) -> None:
        p, fx = self.params, self.fx
        detection = min(1.0, fx.detection + self.funding.visibility)
        seen = detection * self.shortfall
        delivered = 1.0 - seen
        win = np.clip(self.relative_net, 0.0, 1.0)
        t = self.trust
        gain = p["dynamics.trust_gain"] * fx.trust_building * fx.evidence
        # Trust grows on trust: slowly from a low base, slowly near the top (logistic);
        # it is lost in proportion to what there is, so a betrayal is quick to do and slow
        # to undo.
        t += gain * np.outer(win, delivered) * 2.0 * t * (1.0 - t)
        t -= p["dynamics.trust_loss"] * fx.loss_damping * seen[None, :] * t
        np.clip(t, 0.0, 1.0, out=t)
        np.fill_diagonal(t, 1.0)
        # Motivation: prosociality follows what others contribute, as far as it can be seen.
        n = self.n
        actual = 1.0 - self.shortfall
        others = (actual.sum() - actual) / (n - 1)
        rate = p["dynamics.prosociality_adaptation"] * detection
        self.prosociality += rate * (others - self.prosociality)

    # 8. Motivation and exit --------------------------------------------------------
    def _motivation_and_exit(self) -> None:
        p = self.params
        m = p["dynamics.satisfaction_memory"]
        strain = self.fx.role_conflict * self.care if self.funding.role_conflict else 0.0
        self.satisfaction = (1 - m) * self.satisfaction + m * (self.relative_net - strain)
        if p["governance.mandated"]:
            return
        unhappy = ((self.satisfaction < p["dynamics.exit_threshold"] - self.funding.exit_cost)
                   & (self.trust_out() < p["dynamics.exit_trust"]))
        self.low_steps = np.where(unhappy, self.low_steps + 1, 0)
        leave = self.low_steps >= p["dynamics.exit_patience"]
        ditch = ((self.pressure_now >= p["dynamics.ditch_pressure"]) & (self.satisfaction < 0.0)
                 & (self.trust_out() < p["dynamics.ditch_trust"])
                 & (self.funding.exit_cost < 1.0) & ~leave)
        if ditch.any():
            self._hand_over(np.flatnonzero(ditch))
        rows = np.flatnonzero(leave | ditch)
        if rows.size:
            reasons = np.where(ditch[rows], "ditched", "dissatisfied")
            self._remove(rows, reasons)

    def _hand_over(self, rows: np.ndarray) -> None:
        """A ditching member's share of the joint work falls on the partners who stay."""
        fair = self.fair_share()
        stay = np.ones(self.n, dtype=bool)
        stay[rows] = False
        if stay.any() and fair[stay].sum() > 1e-12:
            self.obligation[stay] *= 1.0 + fair[rows].sum() / fair[stay].sum()

    def _remove(self, rows: np.ndarray, reasons: Any) -> None:
        reasons = np.broadcast_to(np.asarray(reasons), rows.shape)
        for row, reason in zip(rows, reasons, strict=True):
            self.members[row].leave(str(reason))
            self.events.append((self.steps, f"exit:{reason}", self.members[row].name))
        keep = np.ones(self.n, dtype=bool)
        keep[rows] = False
        for name in MEMBER_ARRAYS:  # per-step scratch arrays are rebuilt before use
            setattr(self, name, getattr(self, name)[keep])
        self.trust = self.trust[np.ix_(keep, keep)]
        self.culture = self.culture[np.ix_(keep, keep)]
        self.members = [a for a, k in zip(self.members, keep, strict=True) if k]
        for i, agent in enumerate(self.members):
            agent.row = i

    # 9. Governance evolution ------------------------------------------------------
    def _evolve_governance(self) -> None:
        """Shared governance gives way as size grows or trust falls (Provan & Kenis 2008)."""
        p = self.params
        if self.mode_name != "shared" or self.n < 2:
            return
        trust = float(self.trust_out().mean())
        if self.n > p["dynamics.shared_max_size"] or trust < p["dynamics.shared_min_trust"]:
            consensus = float(self.plan_acc.mean()) if self.plan is not None else 0.0
            self.mode_name = "nao" if consensus >= p["dynamics.acceptance_threshold"] else "lead"
            self.governance = GOVERNANCE[self.mode_name](self.params.params, self.rng)
            self.governance_switch_step = self.steps
            self.events.append((self.steps, f"governance:{self.mode_name}", ""))

    # Recording ----------------------------------------------------------------------
    def _idle(self, rec: dict[str, Any]) -> None:
        """Fewer than two members: no partnership is left to meet or deliver."""
        self.meeting_cost = np.zeros(self.n)
        rec.update(decided=False, rounds=0, meeting_time=0, acceptability=np.nan,
                   acceptability_sd=np.nan, contested=False, contribution=0.0,
                   fair_total=0.0, asked_total=0.0, free_riding=np.nan, spent=0.0,
                   capacity=0.0, queued=self.queue, pot=self.pot, joint_output=0.0,
                   solo_output=0.0, coordination_cost=0.0, productivity=0.0, diversity=0.0,
                   shared_understanding=0.0, fit=0.0, advantage=self.advantage,
                   plan_currency=self.currency)
        if self.services is not None:
            record, saved = self.services.step(self.partnership(), 0.0, 0.0, np.zeros(self.n))
            self.cum_saved += saved
            rec.update(record)

    def _record(self, rec: dict[str, Any]) -> None:
        n = self.n
        out = self.trust_out()
        if n >= 2:  # off-diagonal means; the diagonal is 1
            pairs = n * (n - 1)
            mean_trust = float((self.trust.sum() - n) / pairs)
            density = float(((self.trust >= self.params["metrics.dense_trust"]).sum() - n) / pairs)
        else:
            mean_trust = density = 0.0
        rec.update(
            members=n, governance=self.mode_name, mean_trust=mean_trust, trust_density=density,
            prosociality=float(self.prosociality.mean()) if n else 0.0,
            satisfaction=float(self.satisfaction.mean()) if n else 0.0,
            budget=float(self.budget.sum()),
            pressure=float(self.pressure_now.mean()) if n >= 2 else 0.0,
        )
        self.history.append(rec)
        if self.collect_agents and n:
            self.agent_rows.append({
                "step": np.full(n, self.steps),
                "name": np.array([a.name for a in self.members], dtype=object),
                "sector": np.array([a.sector for a in self.members], dtype=object),
                "power": self.power.copy(), "budget": self.budget.copy(),
                "contribution": self.last_contribution.copy(),
                "benefit": self.last_benefit.copy(), "net_benefit": self.last_net.copy(),
                "satisfaction": self.satisfaction.copy(),
                "prosociality": self.prosociality.copy(), "trust_out": out.copy(),
                "trust_in": (self.trust.sum(axis=0) - 1.0) / max(n - 1, 1),
                "paid": self.cum_paid.copy(), "saved": self.cum_saved.copy(),
            })

    def run(self, steps: int | None = None) -> PartnershipModel:
        """Run for ``steps`` steps (default: the scenario's ``scenario.steps``)."""
        self.run_for(self.params["scenario.steps"] if steps is None else steps)
        return self
