"""Each governance mode, decision rule, funding rule and lever shows its own behaviour.

Statistical claims use 20 replicates with fixed seeds and a margin well inside the
gap measured when the tests were written, so they neither flake nor hold trivially.
"""

import numpy as np
import pytest

from collabsim import PartnershipModel, run, run_replicates
from collabsim.infrastructure import MECHANISMS, effects
from collabsim.mechanisms import meeting
from collabsim.rules import DECISION, FUNDING, GOVERNANCE
from collabsim.rules.decision import Ballot
from collabsim.rules.governance import Draws, Table
from collabsim.schema import DECISION_RULES, FUNDING_RULES, GOVERNANCE_MODES, INFRASTRUCTURE

from .conftest import EVIDENCE_OFF

N = 20


def mean(scenario, metric, n=N, seed=7, **overrides):
    s = scenario.with_overrides(overrides) if overrides else scenario
    return run_replicates(s, n=n, seed=seed)[metric].mean()


def test_registries_cover_every_choice():
    assert set(GOVERNANCE) == set(GOVERNANCE_MODES)
    assert set(DECISION) == set(DECISION_RULES)
    assert set(FUNDING) == set(FUNDING_RULES)


# Decision rules -------------------------------------------------------------------------
def ballot(yes, power=None, decider=0, acc=None, active=None):
    """A batch of one partnership's ballot (a leading replicate axis of 1)."""
    yes = np.array(yes, dtype=bool)
    acc = yes.astype(float) if acc is None else np.array(acc)
    power = np.ones(yes.shape[1]) if power is None else np.array(power)
    active = np.ones(yes.shape[1], dtype=bool) if active is None else np.array(active, bool)
    return Ballot(yes[None] & active, acc[None], power[None], active[None], np.array([decider]),
                  0.75, 0.6)


def passes(rule, b):
    return DECISION[rule]().passes(b)[0].tolist()


def test_decision_rules_on_a_known_ballot():
    # Alternative 0: 3 of 4 small members; 1: only the powerful member; 2: everyone.
    b = ballot([[0, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 1]], power=[0.9, 0.1, 0.1, 0.1])
    assert passes("unanimity", b) == [False, False, True]
    assert passes("supermajority", b) == [True, False, True]
    assert passes("majority", b) == [True, False, True]
    assert passes("power_weighted", b) == [False, True, True]
    assert passes("lead_decides", b) == [False, True, True]
    broker = ballot([[0, 0], [1, 1]], decider=-1, acc=[[0.2, 0.4], [0.7, 0.6]])
    assert passes("lead_decides", broker) == [False, True]


def test_decision_rules_count_only_members():
    # A fifth slot that is not a member (it left, or a joiner not yet arrived) has no vote.
    b = ballot([[0, 1, 1, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]],
               power=[0.9, 0.1, 0.1, 0.1, 5.0], active=[1, 1, 1, 1, 0])
    assert passes("unanimity", b) == [False, False, True]
    assert passes("supermajority", b) == [True, False, True]
    assert passes("power_weighted", b) == [False, True, True]
    broker = ballot([[0, 0, 0], [1, 1, 0]], decider=-1, acc=[[0.2, 0.4, 1.0], [0.7, 0.6, 0.0]],
                    active=[1, 1, 0])
    assert passes("lead_decides", broker) == [False, True]


def test_unanimity_deadlocks_where_majority_decides(generic):
    conflicted = generic.with_overrides({"population.goal_conflict": 0.9})
    success = {rule: mean(conflicted, "decision_success_rate", **{"governance.decision_rule": rule})
               for rule in ("unanimity", "supermajority", "majority")}
    unanimity, supermajority, majority = success.values()
    assert majority > unanimity + 0.3
    assert unanimity <= supermajority <= majority
    assert mean(conflicted, "inertia", **{"governance.decision_rule": "unanimity"}) > \
        mean(conflicted, "inertia", **{"governance.decision_rule": "majority"}) + 0.3


def test_unanimity_is_fairer_than_majority_when_it_decides(generic):
    # Shared-governance proposers concede towards the centre as far as they trust their
    # partners, so it takes deep conflict and unequal power for majority rule to impose.
    s = generic.with_overrides({"population.goal_conflict": 0.85,
                                "population.power_inequality": 0.7})
    assert mean(s, "equity_sd", **{"governance.decision_rule": "unanimity"}) < \
        mean(s, "equity_sd", **{"governance.decision_rule": "majority"}) - 0.015


def test_lead_decides_serves_the_lead(baseline):
    police_name = "Police (local policing area)"
    s = baseline.with_overrides({"governance.mode": "lead", "governance.lead": police_name,
                                 "governance.decision_rule": "lead_decides"})
    model = PartnershipModel(s, rng=3).run(10)
    police = next(a.row for a in model.members if a.name == police_name)
    assert model.plan_acc[police] >= np.median(model.plan_acc)
    assert model.plan_acc[police] > 0.8


# Governance modes -------------------------------------------------------------------------
def table(model, copies=1):
    """What the governance mode sees of ``model`` (``copies`` replicates of it)."""
    m = model.batch.m
    pref = meeting.preferences(m, model.params.params)

    def rep(x):
        return np.repeat(x, copies, axis=0)

    return Table(rep(pref), rep(m.power), rep(m.trust_out()), rep(m.active),
                 rep(model.batch.joint.lead))


def propose(model, k, seed=0):
    """One meeting's alternatives ``(K, D)`` and proposers ``(K,)`` under the model's mode."""
    t = table(model)
    chair = model.batch.chair()
    decider = chair.decider()
    rng = np.random.default_rng(seed)
    C = t.active.shape[1]
    draws = Draws(rng.random((1, max(C, k))), rng.standard_exponential((1, C)))

    def vote(alts, who, valid):
        return chair.vote(alts, who, valid, t.pref, decider)[2]

    alts, rows, valid = model.governance.propose(t, k, vote, draws)
    assert valid.all()
    return t.pref[0], alts[0], rows[0]


def test_shared_governance_tables_plans_in_proportion_to_power(baseline):
    model = PartnershipModel(baseline, rng=1)
    assert model.governance.name == "shared"
    meetings = 400  # as many meetings, one replicate each, with their own draws
    t = table(model, meetings)
    keys = np.random.default_rng(1).standard_exponential(t.power.shape)
    rows, _ = model.governance.proposers(t, 1, Draws(np.zeros_like(keys), keys))
    counts = np.bincount(rows[:, 0], minlength=model.n)
    assert counts[0] > counts[-1] * 3  # the acute trust (power 0.9) v. Mind (0.05)


def _shared_proposals(scenario, trust, seed=1):
    """Plans a shared board tables when every member trusts every other ``trust``."""
    model = PartnershipModel(scenario.with_overrides({"governance.mode": "shared",
                                                      "governance.decision_rule":
                                                      "unanimity"}), rng=seed)
    model.trust[:] = trust
    np.fill_diagonal(model.trust, 1.0)
    pref, alts, rows = propose(model, 3, seed)
    gap = np.linalg.norm(pref[rows] - pref.mean(axis=0), axis=1)
    return np.linalg.norm(alts - pref[rows], axis=1) / gap  # share of the way conceded


def test_shared_proposers_concede_as_far_as_they_trust(generic):
    conflicted = generic.with_overrides({"population.goal_conflict": 0.6})
    full = _shared_proposals(conflicted, 1.0)
    np.testing.assert_allclose(full, 1.0)  # complete trust, all in view: the centre
    half = _shared_proposals(conflicted, 0.75)
    assert (half >= 0.5 - 1e-9).all() and (half <= 0.75 + 1e-9).all()
    assert (_shared_proposals(conflicted, 0.2) <= 0.2 + 1e-9).all()


def test_large_shared_boards_table_partisan_plans(generic):
    large = generic.with_overrides({"population.size": 22, "population.goal_conflict": 0.6})
    conceded = _shared_proposals(large, 1.0)
    np.testing.assert_allclose(conceded, 7 / 21)  # seven of 21 partners in view


def test_shared_governance_fits_small_trusted_partnerships(generic):
    small = generic.with_overrides({"population.size": 4, "population.initial_trust": 0.8})
    shared = mean(small, "advantage_ratio")
    assert shared > mean(small, "advantage_ratio", **{"governance.mode": "lead"}) + 0.01
    assert shared > mean(small, "advantage_ratio", **{"governance.mode": "nao"}) + 0.01
    large = generic.with_overrides({"population.size": 16})
    assert mean(large, "advantage_ratio", **{"governance.mode": "nao"}) > \
        mean(large, "advantage_ratio") + 0.02


def test_lead_tables_every_plan_and_concedes_towards_the_centre(baseline):
    model = PartnershipModel(baseline.with_overrides({"governance.mode": "lead"}), rng=1)
    pref, alts, rows = propose(model, 3)
    lead = model.lead_row()
    assert (rows == lead).all()
    np.testing.assert_allclose(alts[0], pref[lead])
    centre = pref.mean(axis=0)
    dist = np.linalg.norm(alts - centre, axis=1)
    assert dist[0] > dist[1] > dist[2]


def test_nao_synthesises_the_centre_and_costs_money(baseline):
    model = PartnershipModel(baseline.with_overrides({"governance.mode": "nao"}), rng=1)
    pref, alts, rows = propose(model, 3)
    np.testing.assert_allclose(alts[0], pref.mean(axis=0))
    assert (rows == -1).all()
    shared = run(baseline, 1).steps["coordination_cost"].sum()
    nao = run(baseline.with_overrides({"governance.mode": "nao", "governance.nao_cost": 0.5}),
              1).steps["coordination_cost"].sum()
    assert nao > shared + 0.5 * 40 * 0.99


def test_low_hub_capacity_queues_funds(baseline):
    s = baseline.with_overrides({"governance.mode": "lead", "governance.mandated": True,
                                 "infrastructure.delivery": 0.0})
    narrow = run(s.with_overrides({"governance.admin_capacity": 2.0}), 1)
    wide = run(s.with_overrides({"governance.admin_capacity": 40.0}), 1)
    assert wide.summary["funds_queued"] == 0.0
    assert narrow.summary["funds_queued"] > 0.5 * narrow.summary["total_contribution"]
    # The funnel spends exactly its capacity every step once a queue has formed.
    busy = narrow.steps[narrow.steps["queued"] > 0]
    np.testing.assert_allclose(busy["spent"], 2.0)
    assert narrow.summary["advantage_ratio"] < wide.summary["advantage_ratio"] - 0.3
    assert narrow.summary["archetype"] == "narrow_funnel"


def test_adaptive_governance_leaves_shared_mode_as_size_grows(generic):
    s = generic.with_overrides({"governance.adaptive": True, "population.size": 20})
    model = PartnershipModel(s, rng=2).run(3)
    assert model.mode_name in ("lead", "nao")
    assert model.governance_switch_step == 1
    small = PartnershipModel(generic.with_overrides({"governance.adaptive": True,
                                                     "population.initial_trust": 0.8}), rng=2)
    assert small.run(5).mode_name == "shared"


# Funding rules -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generic(generic):
    """The generic partnership with the evidence's mechanisms off: these tests show each
    rule's own behaviour, and "a mandate stops exits" is the hard ban, now an explicit
    option (``legal_duty.exit_ban``)."""
    return generic.with_overrides(EVIDENCE_OFF)


@pytest.fixture(scope="module")
def baseline(baseline):
    """The baseline partnership with the evidence's mechanisms off (see ``generic``)."""
    return baseline.with_overrides(EVIDENCE_OFF)


@pytest.fixture(scope="module")
def selfish(generic):
    return generic.with_overrides({"population.prosociality": 0.2,
                                   "population.initial_trust": 0.3})


def test_pooled_funding_removes_free_riding(selfish):
    assert mean(selfish, "free_riding") > 0.1
    for rule in ("pooled", "lead_commissioning", "integrated"):
        assert mean(selfish, "free_riding", **{"funding.rule": rule}) == 0.0
    assert mean(selfish, "total_contribution", **{"funding.rule": "pooled"}) > \
        1.1 * mean(selfish, "total_contribution")


def test_aligned_budgets_make_shortfalls_visible(selfish):
    one_step = selfish.with_overrides({"scenario.steps": 3})
    separate = mean(one_step, "mean_trust")
    aligned = mean(one_step, "mean_trust", **{"funding.rule": "aligned"})
    assert aligned < separate - 0.01


def test_lead_commissioning_bends_the_plan_to_the_lead(baseline):
    pooled = PartnershipModel(baseline.with_overrides({"funding.rule": "pooled"}), rng=4).run(8)
    lead = PartnershipModel(baseline.with_overrides({"funding.rule": "lead_commissioning"}),
                            rng=4).run(8)
    row = lead.lead_row()
    others = np.arange(lead.n) != row
    gap_lead = lead.plan_acc[row] - lead.plan_acc[others].mean()
    gap_pooled = pooled.plan_acc[row] - pooled.plan_acc[others].mean()
    assert gap_lead > gap_pooled + 0.05


def test_integrated_teams_feel_role_conflict(baseline):
    def care_satisfaction(rule):
        model = PartnershipModel(baseline.with_overrides({"funding.rule": rule}), rng=5).run(20)
        return model.satisfaction[model.care].mean() - model.satisfaction[~model.care].mean()
    assert care_satisfaction("integrated") < care_satisfaction("pooled") - 0.1


def test_role_conflict_at_worst_stops_output_and_never_turns_it_into_harm(baseline):
    """Stress in merged teams scales output down; at its extreme it stops it (a negative
    productivity once made prevention spending raise admissions, found by the property
    tests)."""
    extreme = baseline.with_overrides({"funding.rule": "integrated", "dynamics.role_conflict": 10.0,
                                       "services.enabled": True, "services.additionality": 1.0})
    steps = run(extreme, 3).steps
    assert (steps["spent"] > 0).any()
    assert (steps["productivity"] >= 0).all() and (steps["productivity"] == 0).any()
    assert (steps["acute_cost_avoided"] >= 0).all() and (steps["care_cost_avoided"] >= 0).all()


def test_exit_costs_of_integration_hold_members_under_pressure(generic):
    harsh = generic.with_overrides({"environment.austerity": 0.3,
                                    "population.initial_trust": 0.3})
    assert mean(harsh, "retention", **{"funding.rule": "integrated"}) > \
        mean(harsh, "retention") + 0.2


def test_a_mandate_stops_exits(generic):
    harsh = generic.with_overrides({"environment.austerity": 0.3,
                                    "population.initial_trust": 0.3})
    assert mean(harsh, "retention") < 0.8
    assert mean(harsh, "retention", **{"governance.mandated": True}) == 1.0


def test_a_mandate_sets_a_floor_under_contributions(selfish):
    pressed = selfish.with_overrides({"environment.austerity": 0.2})
    voluntary = run(pressed, 3).steps
    mandated = run(pressed.with_overrides({"governance.mandated": True}), 3).steps
    floor = 1.0 - pressed["dynamics.mandate_compliance"]
    assert voluntary["free_riding"].max() > floor + 0.05
    assert (mandated["free_riding"].dropna() <= floor + 1e-9).all()


def test_a_mandate_can_outperform_voluntary_collaboration(generic):
    harsh = generic.with_overrides({"environment.austerity": 0.05,
                                    "population.initial_trust": 0.3,
                                    "population.goal_conflict": 0.5})
    assert mean(harsh, "collaborative_advantage", **{"governance.mandated": True}) > \
        mean(harsh, "collaborative_advantage") + 5.0


# Infrastructure and participation -----------------------------------------------------------
@pytest.mark.parametrize("lever", INFRASTRUCTURE)
def test_each_lever_moves_its_own_mechanism(baseline, lever):
    low = effects(baseline.with_overrides({f"infrastructure.{lever}": 0.0}))
    high = effects(baseline.with_overrides({f"infrastructure.{lever}": 1.0}))
    changed = {f for f in low.__dataclass_fields__ if getattr(low, f) != getattr(high, f)}
    assert changed, f"{lever} ({MECHANISMS[lever][0]}) changes nothing"
    better = {
        "strategy": high.vision_pull > low.vision_pull,
        "governance": high.meeting_time_cost < low.meeting_time_cost
        and high.power_play_damping < low.power_play_damping,
        "outcomes": high.accountability_push > low.accountability_push,
        "funding": high.pressure_shield > low.pressure_shield,
        "culture": high.cultural_distance < low.cultural_distance
        and high.role_conflict < low.role_conflict,
        "delivery": high.delivery_capacity > low.delivery_capacity,
        "data": high.detection > low.detection and high.evidence > low.evidence,
        "learning": high.trust_building > low.trust_building,
        "communications": high.deliberation_speed > low.deliberation_speed,
    }
    assert better[lever]


def test_shared_data_exposes_free_riders(selfish):
    blind = mean(selfish, "mean_trust", **{"infrastructure.data": 0.0,
                                           "governance.accountability": "none"})
    seen = mean(selfish, "mean_trust", **{"infrastructure.data": 1.0,
                                          "governance.accountability": "formal"})
    assert seen < blind - 0.02


def test_learning_spaces_build_trust(baseline):
    assert mean(baseline, "mean_trust", **{"infrastructure.learning": 1.0}) > \
        mean(baseline, "mean_trust", **{"infrastructure.learning": 0.0}) + 0.02


def test_low_participation_rungs_cost_without_improving_fit(baseline):
    fx = {rung: effects(baseline.with_overrides({"participation.rung": rung}))
          for rung in range(1, 9)}
    assert fx[1].participation_fit == fx[2].participation_fit == fx[3].participation_fit == 0.0
    assert fx[2].participation_cost > 0 and fx[3].participation_cost > 0
    assert all(fx[r + 1].participation_fit > fx[r].participation_fit for r in range(3, 8))
    low = run(baseline.with_overrides({"participation.rung": 3}), 1)
    high = run(baseline.with_overrides({"participation.rung": 8}), 1)
    assert high.steps["fit"].mean() > low.steps["fit"].mean() + 0.05


# Environment ---------------------------------------------------------------------------------
def with_shock(scenario, **shock):
    doc = scenario.to_dict()
    doc["environment"]["shocks"] = [shock]
    from collabsim.scenario import from_dict
    return from_dict(doc)


def test_scheduled_budget_cut_hits_its_target_at_its_step(baseline):
    s = with_shock(baseline.with_overrides({"environment.turnover_rate": 0.0}),
                   step=5, kind="budget_cut", size=0.5, target="police")
    model = PartnershipModel(s, rng=1).run(6)
    budget = [row["budget"] for row in model.history]
    assert budget[3] == budget[0]  # steps 1-4 untouched
    assert budget[4] == pytest.approx(budget[3] - 0.5 * 20.0)  # step 5: police budget halved
    police = next(a for a in model.members if a.sector == "police")
    assert police.budget == pytest.approx(10.0)
    assert (5, "budget_cut", "police") in model.events


def test_join_and_leave_shocks_change_membership(baseline):
    joined = PartnershipModel(with_shock(baseline, step=3, kind="join", size=0.4,
                                         target="education"), rng=1).run(4)
    assert [row["members"] for row in joined.history] == [8, 8, 9, 9]
    newcomer = joined.members[-1]
    assert newcomer.sector == "education" and not newcomer.founding
    assert joined.trust.shape == (9, 9)
    left = PartnershipModel(with_shock(baseline, step=2, kind="leave", target="Council housing"),
                            rng=1).run(3)
    assert [row["members"] for row in left.history] == [8, 7, 7]
    gone = next(a for a in left.founders if a.name == "Council housing")
    assert gone.exit_reason == "forced" and gone.exit_step == 1
    assert not gone.active and gone.budget == 15.0


def test_scandal_cuts_trust_in_its_target(baseline):
    s = baseline.with_overrides({"environment.scandal_rate": 0.0})
    calm = PartnershipModel(s, rng=1).run(3)
    hit = PartnershipModel(with_shock(s, step=3, kind="scandal", size=0.6, target="police"),
                           rng=1).run(3)
    row = next(a.row for a in hit.members if a.sector == "police")
    others = np.arange(hit.n) != row
    assert hit.trust[others, row].mean() < calm.trust[others, row].mean() - 0.15


def test_austerity_shrinks_budgets_by_the_annual_rate(baseline):
    model = PartnershipModel(baseline.with_overrides({"environment.austerity": 0.1}), rng=1)
    start = model.budget.sum()
    model.run(4)
    assert model.budget.sum() == pytest.approx(start * 0.9, rel=0.02)


def test_shared_coordination_load_follows_the_size_shared_governance_suits(generic):
    for span in (5, 8, 12):
        model = PartnershipModel(generic.with_overrides({"dynamics.shared_max_size": span}))
        assert model.governance.coordination_load(span) == pytest.approx(1.0)
        assert model.governance.coordination_load(1) == 0.0
        assert model.governance.coordination_load(2 * span - 1) == pytest.approx(2.0)


def test_funding_rule_constants_come_from_the_scenario(baseline):
    s = baseline.with_overrides({"funding.rule": "pooled", "funding.pooled_exit_cost": 0.2,
                                 "funding.pooled_visibility": 0.7})
    model = PartnershipModel(s, rng=1)
    assert (model.funding.exit_cost, model.funding.visibility) == (0.2, 0.7)
    default = PartnershipModel(baseline.with_overrides({"funding.rule": "pooled"}), rng=1)
    assert (default.funding.exit_cost, default.funding.visibility) == (0.5, 0.2)
