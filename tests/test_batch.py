"""The batched core prototype (:mod:`collabsim.batch`).

Two laws: a replicate's run does not depend on the batch it is in, and where the
one-at-a-time model's random draws cannot matter (no random events, every member
tabling, distinct powers) the batch reproduces :class:`PartnershipModel` step by step.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import collabsim.model
import collabsim.population
from collabsim import load_scenario, run
from collabsim.batch import MODES, OWN_GOAL_COLUMNS, Batch
from collabsim.scenario import Shock
from collabsim.seeds import replicate_seed

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"environment.turnover_rate": 0.0, "environment.political_shift_rate": 0.0,
         "environment.scandal_rate": 0.0}
#: A scenario with shocks, one with the service submodel, one where members leave and
#: join (and every shock kind, adaptive governance and the service submodel), and a
#: broker's partnership with a joiner of a random sector.
INVARIANCE = ("scenarios/policy/austerity_shock.toml", "scenarios/policy/place.toml",
              "tests/golden/extra/churn.toml", "tests/golden/extra/broker.toml")


def _run(path: str, seeds: list[np.random.SeedSequence]) -> Batch:
    batch = Batch(load_scenario(ROOT / path), seeds)
    batch.run()
    return batch


@pytest.mark.parametrize("path", INVARIANCE)
def test_a_replicate_is_the_same_alone_or_in_a_batch_of_any_size(path):
    seeds = [replicate_seed(11, k) for k in range(64)]
    big = _run(path, seeds)
    seven = _run(path, seeds[:7])
    for k in (0, 6):
        alone = _run(path, seeds[k:k + 1])
        for column, values in big.table.items():
            np.testing.assert_array_equal(values[:, k], alone.table[column][:, 0],
                                          err_msg=column)
            np.testing.assert_array_equal(values[:, k], seven.table[column][:, k],
                                          err_msg=column)
        assert big.summaries()[k] == alone.summaries()[0] == seven.summaries()[k]
        assert big.results()[k].events == alone.results()[0].events


def test_replicates_differ():
    batch = _run("tests/golden/extra/churn.toml", [replicate_seed(11, k) for k in range(4)])
    assert len({tuple(batch.table["mean_trust"][:, k]) for k in range(4)}) == 4


@pytest.mark.parametrize("path", [
    "scenarios/baseline.toml", "scenarios/governance/lead.toml",
    "scenarios/governance/nao.toml", "scenarios/funding/integrated.toml",
    "scenarios/funding/lead_commissioning.toml", "scenarios/policy/legal_duty.toml",
    "scenarios/policy/place.toml", "scenarios/teaching/amicable_divorce.toml",
    "scenarios/teaching/ditch_and_run.toml", "scenarios/teaching/narrow_funnel.toml",
])
def test_batch_reproduces_the_model_where_draws_cannot_matter(path):
    s = load_scenario(ROOT / path)
    s = s.with_overrides({**QUIET, "dynamics.alternatives": max(12, s["dynamics.alternatives"])},
                         source="test")
    seeds = [replicate_seed(3, k) for k in range(3)]
    table = Batch(s, seeds).run()
    for k, seed in enumerate(seeds):
        steps = run(s, seed).steps
        steps["governance"] = steps["governance"].map(MODES.index)
        assert set(table) - set(OWN_GOAL_COLUMNS) == set(steps.columns)
        for column in steps.columns:
            values = table[column]
            np.testing.assert_allclose(values[:, k], steps[column].to_numpy(dtype=float),
                                       rtol=1e-9, atol=1e-9, err_msg=f"{path} {column}")


def _same_results(s, seeds, batch=None):
    batch = batch or Batch(s, seeds)
    batch.run()
    for seed, got in zip(seeds, batch.results(), strict=True):
        want = run(s, seed)
        # What the batch adds to the one-at-a-time model's results (docs/ODD.md 7.9).
        for c in OWN_GOAL_COLUMNS:
            got.summary.pop(c)
        pd.testing.assert_frame_equal(got.steps.drop(columns=list(OWN_GOAL_COLUMNS)),
                                      want.steps, check_exact=False, rtol=1e-9, atol=1e-9)
        pd.testing.assert_frame_equal(got.members, want.members, check_exact=False,
                                      rtol=1e-9, atol=1e-9)
        assert got.events == want.events
        assert got.summary.keys() == want.summary.keys()
        for key, value in want.summary.items():
            if isinstance(value, str | bool):
                assert got.summary[key] == value, key
            else:
                assert got.summary[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


@pytest.mark.parametrize("path", ["scenarios/policy/place.toml",
                                  "scenarios/teaching/amicable_divorce.toml",
                                  "scenarios/teaching/tug_of_war.toml"])
def test_batch_results_are_the_models_where_draws_cannot_matter(path):
    s = load_scenario(ROOT / path)
    s = s.with_overrides({**QUIET, "dynamics.alternatives": max(12, s["dynamics.alternatives"])},
                         source="test")
    _same_results(s, [replicate_seed(5, k) for k in range(2)])


def test_joiners_and_named_shocks_match_the_model_with_their_draws_fixed(monkeypatch):
    """Joiners' trust drawn at its mean and no goal noise: then nothing random is left."""

    def mean_trust(goals, s, rng):
        m = float(np.clip(s["population.initial_trust"], 1e-3, 1 - 1e-3))
        distance = collabsim.population.pairwise_goal_distance(goals)
        trust = np.clip(m - s["population.trust_goal_penalty"] * distance, 0.0, 1.0)
        np.fill_diagonal(trust, 1.0)
        return trust

    monkeypatch.setattr(collabsim.population, "initial_trust", mean_trust)
    monkeypatch.setattr(collabsim.model, "initial_trust", mean_trust)
    s = load_scenario(ROOT / "scenarios/governance/nao.toml").with_overrides(
        {**QUIET, "population.joiner_goal_noise": 0.0, "dynamics.alternatives": 14},
        source="test")
    s = dataclasses.replace(s, shocks=(
        Shock(12, "join", 0.3, "police"), Shock(3, "join", 0.6, "education"),
        Shock(3, "join", 0.2, "health"), Shock(6, "leave", 0.0, "education_joiner_1"),
        Shock(9, "budget_cut", 0.3, "police_joiner_3"),
        Shock(10, "scandal", 0.5, "health_joiner_2")))
    seeds = [replicate_seed(3, k) for k in range(2)]
    batch = Batch(s, seeds)
    batch.join_b[:] = np.clip(s["population.initial_trust"], 1e-3, 1 - 1e-3)
    _same_results(s, seeds, batch)
