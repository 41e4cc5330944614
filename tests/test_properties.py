"""Laws of the model over generated scenarios (Hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from collabsim import PartnershipModel, run
from collabsim.members import MEMBER_FIELDS, PAIR_FIELDS
from collabsim.metrics import METRICS
from collabsim.services import SERVICE_METRICS
from collabsim.testing import assert_invariants, scenarios

# Step-table columns that are undefined, not zero, when there is nothing to measure.
UNDEFINED_WHEN_IDLE = {"acceptability", "acceptability_sd", "free_riding", "own_acceptability",
                       "own_equity_sd"}
#: Metrics of the adopted plans: blank, not zero, in a run where no meeting decided.
OF_DECISIONS = {"own_acceptability", "own_equity_sd"}


@given(scenarios(), st.integers(0, 2**32 - 1))
def test_invariants_hold_every_step(scenario, seed):
    model = PartnershipModel(scenario, rng=seed)
    for _ in range(scenario["scenario.steps"]):
        model.step()
        assert_invariants(model)


@given(scenarios(), st.integers(0, 2**32 - 1))
def test_outputs_have_no_nan_where_defined(scenario, seed):
    result = run(scenario, seed)
    decided = result.steps["decided"].astype(bool)
    for name in (*METRICS, *(SERVICE_METRICS if scenario["services.enabled"] else ())):
        defined = decided.any() or name not in OF_DECISIONS
        assert np.isfinite(result.summary[name]) == defined, name
    assert 0.0 <= result.summary["mean_trust"] <= 1.0
    assert 0.0 <= result.summary["retention"] <= 1.0
    assert 0.0 <= result.summary["net_benefit_gini"] <= 1.0
    assert 0.0 <= result.summary["inertia"] <= 1.0
    steps = result.steps
    defined = steps.drop(columns=[c for c in UNDEFINED_WHEN_IDLE if c in steps])
    assert not defined.isna().any().any()
    for column in ("acceptability", *OF_DECISIONS):
        assert steps.loc[decided, column].notna().all(), column
        assert steps.loc[~decided, column].isna().all(), column


@given(scenarios(max_members=8, max_steps=8), st.integers(0, 2**32 - 1))
def test_same_seed_same_run(scenario, seed):
    a, b = run(scenario, seed, agents=True), run(scenario, seed, agents=True)
    pd.testing.assert_frame_equal(a.steps, b.steps)
    pd.testing.assert_frame_equal(a.agents, b.agents)
    assert a.summary == b.summary or all(
        a.summary[k] == b.summary[k] or (np.isnan(a.summary[k]) and np.isnan(b.summary[k]))
        for k in a.summary
    )


@given(scenarios(max_members=10, max_steps=10), st.integers(0, 2**32 - 1))
def test_membership_accounting(scenario, seed):
    model = PartnershipModel(scenario, rng=seed).run()
    active = [a for a in model.agents if a.active]
    assert sorted(a.name for a in active) == sorted(a.name for a in model.members)
    assert [a.row for a in model.members] == list(range(model.n))
    for field in MEMBER_FIELDS:  # every field, this step's ones included, one row each
        assert getattr(model, field.name).shape == (model.n, *field.shape), field.name
    for field in PAIR_FIELDS:
        assert getattr(model, field.name).shape == (model.n, model.n), field.name
    assert np.all(np.diag(model.trust) == 1.0)
    for a in model.agents:
        assert a.active == (a.exit_step is None)
