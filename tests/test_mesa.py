"""PartnershipModel is an ordinary Mesa model: agents, running, batch_run, seeds."""

import json

import mesa
import numpy as np
import pytest

from collabsim import PartnershipModel, load_scenario, loads_scenario, run
from collabsim.cli import main

from .conftest import SCENARIOS

CHURN = """
[scenario]
name = "churn"
steps = 12
[governance]
mode = "shared"
[environment]
scandal_rate = 0.2
[[environment.shocks]]
step = 2
kind = "leave"
[[environment.shocks]]
step = 4
kind = "join"
size = 0.5
target = "housing"
[[environment.shocks]]
step = 6
kind = "leave"
target = "police"
[population]
size = 6
initial_trust = 0.2
goal_conflict = 0.9
"""


def test_agents_are_the_active_members_as_they_leave_and_join():
    model = PartnershipModel(loads_scenario(CHURN), rng=3)
    founders = set(model.agents)
    seen_leave = seen_join = False
    while model.running:
        model.step()
        assert set(model.agents) == set(model.members)
        assert all(a.active for a in model.agents)
        seen_leave |= len(founders - set(model.agents)) > 0
        seen_join |= len(set(model.agents) - founders) > 0
    assert seen_leave and seen_join
    gone = [a for a in model.everyone if not a.active]
    assert gone and all(a not in model.agents for a in gone)
    assert all(a.exit_step is not None for a in gone)


def test_setting_an_agent_attribute_changes_the_model(baseline):
    model = PartnershipModel(baseline, rng=1)
    agent = model.members[2]
    agent.budget = 1.0
    assert model.budget[2] == 1.0 and agent.budget == 1.0
    agent.prosociality = 0.0
    assert model.prosociality[2] == 0.0
    untouched = PartnershipModel(baseline, rng=1).run()
    assert model.run().history[-1]["budget"] != untouched.history[-1]["budget"]


def test_a_member_that_left_keeps_its_last_figures_read_only():
    model = PartnershipModel(loads_scenario(CHURN), rng=3).run()
    gone = next(a for a in model.everyone if not a.active)
    assert isinstance(gone.budget, float)
    with pytest.raises(AttributeError, match="has left"):
        gone.budget = 1.0


def test_run_model_stops_after_the_scenarios_steps(baseline):
    short = baseline.with_overrides({"scenario.steps": 7})
    model = PartnershipModel(short, rng=1)
    assert model.running
    model.run_model()
    assert not model.running and model.steps == 7 and len(model.history) == 7
    assert model.history == PartnershipModel(short, rng=1).run().history


def test_runs_unmodified_under_mesa_batch_run():
    path = str(SCENARIOS / "baseline.toml")
    results = mesa.batch_run(
        PartnershipModel,
        parameters={"scenario": path, "population.initial_trust": [0.2, 0.8]},
        rng=[5], max_steps=1000, display_progress=False)
    assert len(results) == 2
    base = load_scenario(path)
    for row in results:
        assert row["Step"] == base["scenario.steps"]
        expected = run(base.with_overrides(
            {"population.initial_trust": row["population.initial_trust"]}), seed=5).summary
        for metric in ("mean_trust", "collaborative_advantage", "retention", "archetype"):
            assert row[metric] == expected[metric], metric
    low, high = sorted(results, key=lambda r: r["population.initial_trust"])
    assert low["mean_trust"] < high["mean_trust"]


def test_a_seed_means_one_run_everywhere(capsys):
    path = SCENARIOS / "generic.toml"
    scenario = load_scenario(path)
    via_run = run(scenario, seed=42).summary
    model = PartnershipModel(scenario, rng=42)
    model.run_model()
    assert model.summary() == via_run
    assert main(["run", str(path), "--seed", "42", "-n", "1", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for name, stats in doc["metrics"].items():
        assert stats["mean"] == pytest.approx(via_run[name], rel=0, abs=0), name
    assert run(scenario, seed=43).summary != via_run


def test_our_scenario_does_not_take_mesas_name(baseline):
    model = PartnershipModel(baseline, rng=1)
    assert model.params is baseline
    assert not isinstance(model.scenario, type(baseline))
    assert np.isfinite(model.params["population.initial_trust"])
