"""The engine (:mod:`collabsim.batch`): a replicate's run does not depend on the batch
it is in, and ``run``, ``PartnershipModel`` and a batch are one engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collabsim import PartnershipModel, load_scenario, run
from collabsim.batch import Batch
from collabsim.seeds import replicate_seed

ROOT = Path(__file__).resolve().parents[1]
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


@pytest.mark.parametrize("path", INVARIANCE)
def test_run_the_model_and_a_batch_are_one_engine(path):
    """``run``, ``PartnershipModel`` and replicate ``k`` of a batch give the same run."""
    s = load_scenario(ROOT / path)
    seeds = [replicate_seed(5, k) for k in range(3)]
    batch = Batch(s, seeds, agents=True)
    batch.run()
    for k, seed in enumerate(seeds):
        got, want = batch.result(k), run(s, seed, agents=True)
        pd.testing.assert_frame_equal(got.steps, want.steps)
        pd.testing.assert_frame_equal(got.agents, want.agents)
        pd.testing.assert_frame_equal(got.members, want.members)
        assert got.events == want.events
        assert got.summary == want.summary
    model = PartnershipModel(s, rng=seeds[1], collect_agents=True).run()
    steps = pd.DataFrame(model.history)
    pd.testing.assert_frame_equal(steps, batch.result(1).steps, check_dtype=False)
    assert model.summary() == batch.summaries()[1]
    assert model.events == batch.events(1)
    names = [a.name for a in model.everyone]
    assert names == batch.result(1).members["name"].tolist()
