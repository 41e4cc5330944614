"""Mechanisms the evidence calls for (docs/ODD.md section 7.9), through the batched engine.

Each test shows the behaviour that makes a mechanism what it is. The mechanisms are on by
default; to isolate one, every scenario here starts with all of them off (:data:`OFF`, the
values that make each neutral) and a test switches on only those it is about.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pytest

from collabsim import load_scenario, run_replicates
from collabsim.batch import Batch
from collabsim.members import EXIT_REASONS
from collabsim.metrics import METRICS
from collabsim.scenario import Scenario, Shock
from collabsim.seeds import replicate_seed

from .conftest import EVIDENCE_OFF, ROOT

QUIET = {"environment.turnover_rate": 0.0, "environment.political_shift_rate": 0.0,
         "environment.scandal_rate": 0.0}
#: A hard place: low trust, much goal conflict (the review's "still 85% solid" case).
HARD = {"population.initial_trust": 0.3, "population.goal_conflict": 0.6}


OFF = EVIDENCE_OFF


def scenario(path: str = "scenarios/generic.toml", **overrides) -> Scenario:
    """The scenario at ``path`` with every evidence mechanism off, then ``overrides``."""
    s = load_scenario(ROOT / path).with_overrides(OFF, source="test")
    return s.with_overrides({k.replace("__", "."): v for k, v in overrides.items()},
                            source="test") if overrides else s


def with_(s: Scenario, overrides: dict) -> Scenario:
    return s.with_overrides(overrides, source="test")


def run(s: Scenario, n: int, seed: int = 7) -> Batch:
    batch = Batch(s, [replicate_seed(seed, k) for k in range(n)])
    batch.run()
    return batch


def stepwise(s: Scenario, n: int, seed: int = 7):
    """Run ``s`` as :meth:`Batch.run` does, yielding the batch before each step."""
    batch = Batch(s, [replicate_seed(seed, k) for k in range(n)])
    for _ in range(batch.T):
        for shock in s.shocks:
            if shock.step - 1 == batch.steps:
                batch.apply_shock(shock)
        yield batch
        batch.step()


def exits(batch: Batch) -> Counter:
    return Counter(e[1] for r in batch.results() for e in r.events if e[1].startswith("exit"))


# ------------------------------------------------------------------- neutral defaults
def test_every_mechanism_is_off_while_its_switch_is_at_its_default():
    """Their secondary settings change nothing while the switch that turns each on is off
    (the switches are on by default; here they are set off, as in :data:`OFF`)."""
    s = with_(scenario("scenarios/teaching/amicable_divorce.toml"), {"governance.mandated": True})
    seconds = {"memory.scar_decay": 0.5, "coordination.hub_relief": 0.9,
               "legal_duty.review_margin": 0.0, "divorce.quorum": 0.1,
               "divorce.satisfaction": 5.0, "divorce.patience": 1,
               "ratification.threshold": 1.0, "ratification.pressure": 5.0,
               "ratification.spread": 0.5}
    a, b = run(s, 6), run(with_(s, seconds), 6)
    for column, values in a.table.items():
        np.testing.assert_array_equal(values, b.table[column], err_msg=column)


#: Every mechanism on, at the values recommended in the change log.
RECOMMENDED = {"memory.scandal_scar": 1.0, "memory.shortfall_scar": 2.0,
               "memory.ditch_scar": 0.2, "memory.inheritance": 0.5,
               "coordination.tie_cost": 0.005, "broker.misperception": 0.2,
               "legal_duty.exit_ban": False, "decision.deference": 0.2,
               "decision.veto_guard": 0.2, "divorce.enabled": True,
               "participation.voice": 0.3, "services.count_in_output": True,
               "ratification.enabled": True}


@pytest.mark.parametrize("path", ["tests/golden/extra/churn.toml",
                                  "tests/golden/extra/broker.toml",
                                  "scenarios/policy/legal_duty.toml"])
def test_with_every_mechanism_on_a_replicate_is_the_same_in_any_batch(path):
    s = with_(scenario(path), RECOMMENDED)
    seeds = [replicate_seed(11, k) for k in range(7)]
    seven = Batch(s, seeds)
    seven.run()
    for k in (0, 5):
        alone = Batch(s, seeds[k:k + 1])
        alone.run()
        for column, values in seven.table.items():
            np.testing.assert_array_equal(values[:, k], alone.table[column][:, 0],
                                          err_msg=column)
        assert seven.results()[k].events == alone.results()[0].events


# ------------------------------------------------------------------- 1. trust with memory
#: A partnership whose members' priorities lie close together, where trust climbs.
CALM = {"population.goal_conflict": 0.3}


def test_a_scandal_leaves_a_scar_that_caps_trust_and_fades_slowly():
    s = with_(scenario(**QUIET), {**CALM, "memory.scandal_scar": 1.0})
    s = dataclasses.replace(s, shocks=(Shock(5, "scandal", 0.5, ""),))
    for batch in stepwise(s, 8):
        assert (batch.m.trust <= 1.0 - batch.m.scar + 1e-12).all()
    assert batch.steps == s["scenario.steps"]
    # Everyone's scar against the member hit, and only against it.
    hit = batch.m.scar.max(axis=1) > 0
    assert (hit.sum(axis=1) == 1).all()
    # The scandal of step 5 comes before step 5 runs: its scar has faded 36 times.
    left = 0.5 * (1 - s["memory.scar_decay"]) ** (s["scenario.steps"] - 4)
    against = hit[:, None, :] & batch.m.pairs()
    np.testing.assert_allclose(batch.m.scar[against], left, rtol=1e-9)
    assert not batch.m.scar[~against].any()

    # Without the memory, trust in the member hit climbs back above that ceiling.
    def trust_in_hit(b: Batch) -> np.ndarray:
        return (b.m.trust * against).sum(axis=(1, 2)) / against.sum(axis=(1, 2))

    forgetful = run(dataclasses.replace(with_(scenario(**QUIET), CALM), shocks=s.shocks), 8)
    assert (trust_in_hit(forgetful) > 1.0 - left + 0.05).all()
    assert (trust_in_hit(batch) <= 1.0 - left + 1e-12).all()


def test_only_a_detected_failure_to_deliver_scars_trust():
    """Committed (pooled) money cannot fall short: the shortfall scar then changes nothing."""
    scarred = {"memory.shortfall_scar": 2.0}
    pooled = scenario(**HARD, funding__rule="pooled")
    a, b = run(pooled, 20), run(with_(pooled, scarred), 20)
    np.testing.assert_array_equal(a.table["mean_trust"], b.table["mean_trust"])
    assert not b.m.scar.any()
    separate = scenario(**HARD)
    plain = run_replicates(separate, 100, 3)
    memory = run_replicates(with_(separate, scarred), 100, 3)
    assert memory.mean_trust.mean() < plain.mean_trust.mean() - 0.03


def test_a_partner_ditching_scars_the_pairs_that_remain():
    s = with_(scenario("scenarios/teaching/ditch_and_run.toml"), {"memory.ditch_scar": 0.4})
    batch = run(s, 10)
    ditched = (batch.m.exit_reason == EXIT_REASONS.index("ditched")).any(axis=1)
    assert ditched.any()
    stayers = batch.m.scar * batch.m.pairs()
    assert (stayers.max(axis=(1, 2))[ditched] > 0).all()
    assert not stayers[~ditched].any()


@pytest.mark.parametrize("inheritance", [0.0, 0.5, 1.0])
def test_a_new_representative_inherits_part_of_its_organisations_history(inheritance):
    s = with_(scenario("scenarios/baseline.toml", **QUIET), {"memory.inheritance": inheritance})
    s = dataclasses.replace(s, shocks=(Shock(12, "turnover", 1.0, "Acute NHS trust"),))
    prior = s["population.initial_trust"]
    batch = Batch(s, [replicate_seed(7, k) for k in range(3)])
    for _ in range(11):
        batch.step()
    before = batch.m.trust.copy()
    batch.apply_shock(s.shocks[0])
    # The representative's trust in others and theirs in it move part-way to the prior.
    for got, was in ((batch.m.trust[:, 0, 1:], before[:, 0, 1:]),
                     (batch.m.trust[:, 1:, 0], before[:, 1:, 0])):
        np.testing.assert_allclose(got - prior, inheritance * (was - prior), atol=1e-12)
    np.testing.assert_array_equal(batch.m.trust[:, 1:, 1:], before[:, 1:, 1:])


# ------------------------------------------------------------ 3. coordination costs
@pytest.mark.parametrize("mode, relief", [("shared", 0.0), ("lead", 0.5), ("nao", 0.5)])
def test_relationship_costs_grow_with_the_square_of_size_under_every_mode(mode, relief):
    tie = 0.01
    s = scenario(**QUIET, governance__mode=mode)
    a, b = run(s, 3), run(with_(s, {"coordination.tie_cost": tie}), 3)
    n = a.table["members"]
    extra = b.table["coordination_cost"] - a.table["coordination_cost"]
    # Same first step (nothing has diverged yet): n(n - 1) ties, less what a hub takes.
    np.testing.assert_allclose(extra[0], tie * n[0] * (n[0] - 1) * (1 - relief), rtol=1e-9)


def test_with_relationship_costs_bigger_is_not_always_better():
    def ratio(size: int, tie: float) -> float:
        s = scenario(population__size=size, coordination__tie_cost=tie)
        return float(run_replicates(s, 40, 5).advantage_ratio.mean())

    assert ratio(32, 0.0) > ratio(4, 0.0)  # today: size always pays
    assert ratio(32, 0.01) < ratio(4, 0.01) - 0.1


# ------------------------------------------------------------------------ 4. the broker
def test_a_broker_that_misreads_members_tables_plans_that_suit_them_less():
    nao = scenario("scenarios/governance/nao.toml")
    exact = run_replicates(nao, 100, 2)
    blurred = run_replicates(with_(nao, {"broker.misperception": 0.3}), 100, 2)
    assert blurred.own_acceptability.mean() < exact.own_acceptability.mean() - 0.02
    assert blurred.collaborative_advantage.mean() < exact.collaborative_advantage.mean()
    # No broker, no misreading: shared governance is untouched, draws included.
    shared = scenario("scenarios/baseline.toml")
    a, b = run(shared, 5), run(with_(shared, {"broker.misperception": 0.3}), 5)
    for column, values in a.table.items():
        np.testing.assert_array_equal(values, b.table[column], err_msg=column)


# --------------------------------------------------------------------- 5. the legal duty
def test_the_duty_as_cited_lets_a_member_leave_where_collaboration_is_not_efficient():
    duty = scenario("scenarios/policy/legal_duty.toml", environment__austerity=0.05)
    assert sum(exits(run(duty, 30)).values()) == 0  # the ban: nobody ever leaves
    reviewed = exits(run(with_(duty, {"legal_duty.exit_ban": False}), 30))
    assert reviewed["exit:reviewed"] > 0 and set(reviewed) == {"exit:reviewed"}
    # A wider margin (only clearly inefficient membership ends) means fewer leave.
    strict = exits(run(with_(duty, {"legal_duty.exit_ban": False,
                                    "legal_duty.review_margin": 2.0}), 30))
    assert strict["exit:reviewed"] < reviewed["exit:reviewed"]


# ------------------------------------------------------- 7. acceptability to own goals
def test_own_acceptability_is_measured_against_goals_over_the_meetings_that_decided():
    s = scenario("scenarios/teaching/collaborative_inertia.toml")
    batch = run(s, 20)
    decided = batch.table["decided"] > 0
    assert (~decided).any() and decided.any()
    own = batch.table["own_acceptability"]
    assert np.isnan(own[~decided]).all() and not np.isnan(own[decided]).any()
    rows = run_replicates(s, 20, 7)
    with np.errstate(invalid="ignore"):
        want = np.nansum(np.where(decided, own, np.nan), 0) / decided.sum(0)
    np.testing.assert_allclose(rows.own_acceptability, want, rtol=1e-12)
    assert {"own_acceptability", "own_equity_sd"} <= set(METRICS)  # every run's metrics
    assert {"own_acceptability", "own_equity_sd"} <= set(batch.results()[0].steps.columns)


def test_own_acceptability_departs_from_acceptability_only_as_deliberation_moves_preferences():
    plain = {"dynamics.understanding_weight": 0.0}
    s = scenario(**HARD)
    same = run(with_(s, plain), 10)
    np.testing.assert_allclose(same.table["own_acceptability"], same.table["acceptability"],
                               rtol=1e-12)
    moved = run(s, 10)
    gap = np.nanmean(moved.table["acceptability"] - moved.table["own_acceptability"])
    assert gap > 0.05  # deliberation moves the yardstick towards the plan


def test_a_run_that_never_decides_has_no_own_acceptability_rather_than_zero():
    s = scenario(**QUIET, governance__decision_rule="unanimity",
                 population__goal_conflict=1.0, dynamics__acceptance_threshold=0.99,
                 governance__deliberation_rounds=0)
    rows = run_replicates(s, 5, 1)
    assert (rows.decision_success_rate == 0).all()
    assert rows.own_acceptability.isna().all() and (rows.acceptability == 0).all()


# ------------------------------------------------------------- 8. negotiated divorce
def test_an_amicable_divorce_is_agreed_together_and_differs_from_ditching():
    eager = {"divorce.enabled": True, "divorce.quorum": 0.5, "divorce.satisfaction": 0.0,
             "divorce.patience": 4}
    s = with_(scenario("scenarios/teaching/amicable_divorce.toml"), eager)
    batch = run(s, 30)
    results = batch.results()
    divorced = 0
    for k, r in enumerate(results):
        amicable = [(t, who) for t, kind, who in r.events if kind == "exit:amicable"]
        if not amicable:
            continue
        divorced += 1
        steps = {t for t, _ in amicable}
        assert len(steps) == 1  # everyone still a member leaves together
        assert not batch.m.active[k].any()
        assert not any(kind.startswith("exit") and t > min(steps) for t, kind, _ in r.events)
    assert divorced >= 5
    off = exits(run(scenario("scenarios/teaching/amicable_divorce.toml"), 30))
    assert "exit:amicable" not in off


# ------------------------------------------------------- 6. decision rules and power
def test_unanimity_stalls_under_power_imbalance_when_the_weak_guard_their_veto():
    guard = {"decision.veto_guard": 0.3, "decision.deference": 0.3}

    def success(inequality: float, extra: dict) -> float:
        s = scenario(**HARD, governance__decision_rule="unanimity",
                     population__power_inequality=inequality)
        return float(run_replicates(with_(s, extra), 100, 4).decision_success_rate.mean())

    # Equal members: nothing changes; unequal: the guard costs decisions.
    assert success(0.0, guard) == success(0.0, {})
    assert success(0.8, guard) < success(0.8, {}) - 0.15


@pytest.mark.parametrize("rule", ["supermajority", "majority", "unanimity"])
def test_power_weighs_in_a_vote_only_where_the_rule_makes_a_no_count(rule):
    s = scenario(**HARD, governance__decision_rule=rule, population__power_inequality=0.8)
    a = run(s, 10)
    b = run(with_(s, {"decision.deference": 0.5, "decision.veto_guard": 0.5}), 10)
    same = np.array_equal(a.table["rounds"], b.table["rounds"]) and np.array_equal(
        a.table["mean_trust"], b.table["mean_trust"])
    assert same == (rule == "supermajority")


# ---------------------------------------------------- 9. service value in joint output
def test_service_value_counts_in_joint_output_only_when_asked():
    s = scenario("scenarios/policy/prevention_popp.toml")
    a, b = run(s, 4), run(with_(s, {"services.count_in_output": True}), 4)
    avoided = a.table["acute_cost_avoided"] + a.table["care_cost_avoided"]
    assert (avoided > 0).any()
    np.testing.assert_allclose(b.table["joint_output"] - a.table["joint_output"], avoided,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b.table["advantage"][-1] - a.table["advantage"][-1],
                               avoided.sum(0), rtol=1e-9)
    for column in ("mean_trust", "contribution", "emergency_bed_days"):  # nothing else moves
        np.testing.assert_array_equal(a.table[column], b.table[column], err_msg=column)


# ------------------------------------------------- 9. tokenism and the participation rung
def test_tokenism_persists_only_where_service_users_are_kept_off_the_ladder():
    voice = {"participation.voice": 0.3}
    # rung 2, decoration; the preset's first, more extreme members, so that little but
    # voice can lift contributions
    low = scenario("scenarios/teaching/tokenism.toml", population__prosociality=0.1,
                   population__initial_trust=0.2)
    a, b = run(low, 5), run(with_(low, voice), 5)
    np.testing.assert_array_equal(a.table["contribution"], b.table["contribution"])

    def tokenism(s: Scenario) -> float:
        return float((run_replicates(s, 50, 6).archetype == "tokenism").mean())

    high = with_(low, {"participation.rung": 8})
    assert tokenism(high) > 0.9  # without voice the rung changes nothing here
    assert tokenism(with_(high, voice)) < 0.3


def test_under_majority_the_powerful_carry_plans_the_weak_do_not_want():
    """Deference passes more plans over sincere objections: more contested, less trust."""

    def run_(inequality: float, deference: float):
        s = scenario(**HARD, population__power_inequality=inequality,
                     decision__deference=deference)
        return run_replicates(s, 100, 4)

    assert run_(0.0, 0.5).equals(run_(0.0, 0.0))  # no power gap, nothing to defer to
    plain, deferring = run_(0.8, 0.0), run_(0.8, 0.5)
    assert deferring.contested_share.mean() > plain.contested_share.mean() + 0.015
    assert deferring.mean_trust.mean() < plain.mean_trust.mean() - 0.02


# ------------------------------------------- 10. ratification by the home organisations
RATIFY = {"ratification.enabled": True, "ratification.threshold": 0.6,
          "ratification.pressure": 0.0}


def decided(s: Scenario, n: int = 60, seed: int = 3) -> float:
    return float(run_replicates(s, n, seed).decision_success_rate.mean())


def test_home_organisations_judge_by_their_own_goals_not_the_tables():
    """Deliberation lets the table agree in a hard place, but the home organisations judge
    the plan against their own goals: many plans fail there, few where goals agree."""
    hard = scenario(**HARD, governance__deliberation_rounds=6)
    assert decided(hard) > 0.95  # the table agrees
    assert decided(with_(hard, RATIFY)) < decided(hard) - 0.2
    alike = scenario(population__goal_conflict=0.0, population__goal_noise=0.0,
                     population__goal_noise_floor=0.0)
    assert decided(with_(alike, RATIFY)) > decided(alike) - 0.02


def test_home_organisations_under_budget_pressure_ask_more_of_a_plan():
    s = scenario(environment__austerity=0.08, environment__demand_growth=0.05)
    calm = decided(with_(s, RATIFY))
    pressed = decided(with_(s, {**RATIFY, "ratification.pressure": 1.0}))
    assert pressed < calm - 0.1


def test_sign_offs_are_counted_by_the_partnerships_own_rule():
    """A single home organisation's no sinks a plan under unanimity, not under majority."""
    def loss(rule: str) -> float:
        s = scenario(governance__decision_rule=rule, population__goal_conflict=0.5)
        return decided(s) - decided(with_(s, RATIFY))

    assert loss("unanimity") > loss("majority") + 0.1


def test_with_ratification_the_first_steps_are_the_same_however_long_it_runs():
    s = with_(scenario(), RATIFY)
    seeds = [replicate_seed(5, k) for k in range(3)]
    short, long_ = Batch(s, seeds), Batch(s, seeds, steps=s["scenario.steps"] + 6)
    short.run()
    long_.run()
    for column, values in short.table.items():
        np.testing.assert_array_equal(values, long_.table[column][:len(values)], err_msg=column)


def test_a_deciding_broker_needs_a_majority_of_the_home_organisations():
    """A broker has no home organisation: where it decides, a majority of the members'
    must sign off, so the bar moves how often plans stand, as under majority rule."""
    s = scenario(**HARD, governance__mode="nao", governance__decision_rule="lead_decides")

    def with_bar(bar: float) -> float:
        return decided(with_(s, {**RATIFY, "ratification.threshold": bar}))

    assert decided(s) > 0.95
    assert with_bar(0.2) > decided(s) - 0.05
    assert with_bar(0.7) < with_bar(0.2) - 0.2


def test_home_organisations_sign_off_the_plan_the_lead_will_implement():
    """Under lead commissioning the plan delivered leans to the lead; that, not the plan
    the table voted for, is what home organisations judge (first meeting, 40 replicates)."""
    s = scenario(funding__rule="lead_commissioning", population__goal_conflict=0.6)

    def first(over: dict) -> np.ndarray:
        batch = Batch(with_(s, over), [replicate_seed(2, k) for k in range(40)])
        batch.step()
        return batch.table["decided"][0]

    plain, bent = {"funding.lead_tilt": 0.0}, {"funding.lead_tilt": 1.0}
    off = {"ratification.enabled": False}
    np.testing.assert_array_equal(first({**plain, **off}), first({**bent, **off}))
    assert (first({**plain, **RATIFY}) != first({**bent, **RATIFY})).any()
