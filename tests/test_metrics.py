"""Summary metrics and the archetype classifier."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabsim import ARCHETYPES, classify, run
from collabsim.metrics import RULES, THRESHOLDS, explain, gini, polarisation

floats = st.floats(-100, 100, allow_nan=False)


@given(st.lists(floats, min_size=1, max_size=50))
def test_gini_is_bounded_and_scale_free(xs):
    x = np.array(xs)
    g = gini(x)
    assert 0.0 <= g <= 1.0
    assert gini(3.0 * x) == pytest.approx(g, abs=1e-9)
    assert gini(np.random.default_rng(0).permutation(x)) == pytest.approx(g, abs=1e-9)


def test_gini_known_values():
    assert gini(np.array([1.0, 1.0, 1.0])) == 0.0
    assert gini(np.array([0.0, 0.0, 0.0, 4.0])) == pytest.approx(0.75)  # textbook (n-1)/n
    assert gini(np.zeros(5)) == 0.0


def test_polarisation_sees_blocs():
    goals = np.array([[0.1] * 4, [0.12] * 4, [0.9] * 4, [0.88] * 4])
    blocs = np.array([[1, .9, .1, .1], [.9, 1, .1, .1], [.1, .1, 1, .9], [.1, .1, .9, 1]])
    assert polarisation(goals, blocs) == pytest.approx(0.8)
    assert polarisation(goals, np.full((4, 4), 0.5)) == pytest.approx(0.0)


HEALTHY = {
    "key_partner_ditched": False, "retention": 1.0, "queued_share": 0.0, "polarisation": 0.0,
    "contested_share": 0.0, "decision_success_rate": 0.9, "contribution_rate": 0.9,
    "advantage_ratio": 1.3, "mean_trust": 0.7, "inertia": 0.1,
}
#: The classifier's thresholds at their defaults, as a scenario's parameters name them.
THRESHOLDS_AT = {f"metrics.{name}": value for name, value in THRESHOLDS.items()}
CASES = {
    "solid_partnership": {},
    "ditch_and_run": {"key_partner_ditched": True, "retention": 0.5},
    "amicable_divorce": {"retention": 0.6},
    "narrow_funnel": {"queued_share": 0.4},
    "tug_of_war": {"polarisation": 0.35, "contested_share": 0.4},
    "tokenism": {"contribution_rate": 0.2},
    "collaborative_inertia": {"decision_success_rate": 0.2, "inertia": 0.8},
}


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_every_archetype_is_reachable(archetype):
    diagnostics = {**HEALTHY, **CASES[archetype]}
    assert classify(diagnostics) == archetype
    assert explain(diagnostics)


def test_classifier_boundaries():
    assert classify({**HEALTHY, "retention": 0.75}) == "solid_partnership"
    assert classify({**HEALTHY, "retention": 0.74}) == "amicable_divorce"
    # Inertia means decisions stall: the stall measure decides, at its threshold.
    assert classify({**HEALTHY, "inertia": 0.5}) == "collaborative_inertia"
    assert classify({**HEALTHY, "inertia": 0.49}) == "solid_partnership"
    # Low advantage or low trust while meetings decide is not inertia.
    assert classify({**HEALTHY, "advantage_ratio": 0.6}) == "solid_partnership"
    assert classify({**HEALTHY, "mean_trust": 0.2}) == "solid_partnership"
    assert classify({**HEALTHY, "inertia": 0.3},
                    {**THRESHOLDS_AT, "metrics.inertia_stall": 0.25}) == "collaborative_inertia"
    assert classify({**HEALTHY, "polarisation": 0.3}) == "solid_partnership"  # not contested
    assert len({r.archetype for r in RULES}) == len(RULES)


def test_summary_metrics_agree_with_the_step_table(baseline):
    result = run(baseline, 3)
    steps, summary = result.steps, result.summary
    assert summary["collaborative_advantage"] == pytest.approx(
        (steps["joint_output"] - steps["solo_output"]).sum())
    assert summary["collaborative_advantage"] == pytest.approx(steps["advantage"].iloc[-1])
    assert summary["total_contribution"] == pytest.approx(steps["contribution"].sum())
    assert summary["decision_success_rate"] == pytest.approx(steps["decided"].mean())
    assert summary["mean_trust"] == pytest.approx(steps["mean_trust"].iloc[-1])
    assert summary["funds_queued"] == pytest.approx(steps["queued"].iloc[-1])
    assert summary["archetype"] in ARCHETYPES


def test_archetype_thresholds_are_parameters(baseline):
    d = {**run(baseline, 1).summary, "key_partner_ditched": False}
    assert classify(d, baseline.params) == classify(d)
    stricter = {**baseline.params, "metrics.divorce_retention": d["retention"] + 0.01}
    assert classify(d, stricter) == "amicable_divorce"
    looser = {**baseline.params, "metrics.divorce_retention": d["retention"]}
    assert classify(d, looser) != "amicable_divorce"
    assert "fewer than 90%" in explain({**d, "key_partner_ditched": False, "retention": 0.5},
                                       {**baseline.params, "metrics.divorce_retention": 0.9})
