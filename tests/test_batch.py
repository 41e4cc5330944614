"""The engine (:mod:`collabsim.batch`): a replicate's run does not depend on the batch
it is in, and ``run``, ``PartnershipModel`` and a batch are one engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collabsim import PartnershipModel, load_results, load_scenario, run, run_replicates, sweep
from collabsim.batch import Batch
from collabsim.runner import run_replicates_full
from collabsim.seeds import replicate_seed

ROOT = Path(__file__).resolve().parents[1]
#: A scenario with shocks, one with the service submodel, one where members leave and
#: join (and every shock kind, adaptive governance and the service submodel), and a
#: broker's partnership with a joiner of a random sector.
INVARIANCE = ("scenarios/policy/austerity_shock.toml", "scenarios/policy/place.toml",
              "tests/golden/extra/churn.toml", "tests/golden/extra/broker.toml")


def same(a: dict, b: dict) -> bool:
    """Two summaries are the same, a blank (NaN) equal to a blank (a run that never decided)."""
    return a.keys() == b.keys() and all(
        x == y or (isinstance(x, float) and isinstance(y, float) and np.isnan(x) and np.isnan(y))
        for x, y in ((a[k], b[k]) for k in a))


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
        assert same(big.summaries()[k], alone.summaries()[0])
        assert same(big.summaries()[k], seven.summaries()[k])
        assert big.results()[k].events == alone.results()[0].events


def test_replicates_differ():
    batch = _run("tests/golden/extra/churn.toml", [replicate_seed(11, k) for k in range(4)])
    assert len({tuple(batch.table["mean_trust"][:, k]) for k in range(4)}) == 4


@pytest.mark.parametrize("path", INVARIANCE)
def test_run_the_model_and_a_batch_are_one_engine(path):
    """``run``, ``PartnershipModel`` and replicate ``k`` of a batch give the same run.

    A batch simulates one parameter set, so the scenario is at the schema's values
    (test_mesa and test_calibration compare the paths over the ensemble).
    """
    s = load_scenario(ROOT / path).with_overrides({"scenario.parameters": "defaults"})
    seeds = [replicate_seed(5, k) for k in range(3)]
    batch = Batch(s, seeds, agents=True)
    batch.run()
    for k, seed in enumerate(seeds):
        got, want = batch.result(k), run(s, seed, agents=True)
        pd.testing.assert_frame_equal(got.steps, want.steps)
        pd.testing.assert_frame_equal(got.agents, want.agents)
        pd.testing.assert_frame_equal(got.members, want.members)
        assert got.events == want.events
        assert same(got.summary, want.summary)
    model = PartnershipModel(s, rng=seeds[1], collect_agents=True).run()
    steps = pd.DataFrame(model.history)
    pd.testing.assert_frame_equal(steps, batch.result(1).steps, check_dtype=False)
    assert same(model.summary(), batch.summaries()[1])
    assert model.events == batch.events(1)
    names = [a.name for a in model.everyone]
    assert names == batch.result(1).members["name"].tolist()


# Replicates in bounded batches, on any number of workers -------------------------------------
@pytest.mark.parametrize("path", INVARIANCE[:3])
def test_replicates_are_the_same_in_batches_of_any_size(path):
    s = load_scenario(ROOT / path)
    every = {size: run_replicates(s, n=9, seed=4, steps=10, batch_size=size)
             for size in (1, 7, 64)}
    pd.testing.assert_frame_equal(every[1], every[7])
    pd.testing.assert_frame_equal(every[1], every[64])
    alone = run(s, replicate_seed(4, 8), steps=10).summary
    assert same(every[7].drop(columns="replicate").iloc[8].to_dict(), alone)
    full, steps, agents = run_replicates_full(s, 9, 4, steps=10, agents=True, batch_size=7)
    pd.testing.assert_frame_equal(full, every[1])
    one = run(s, replicate_seed(4, 8), steps=10, agents=True)
    pd.testing.assert_frame_equal(
        steps[steps["replicate"] == 8].drop(columns="replicate").reset_index(drop=True),
        one.steps)
    pd.testing.assert_frame_equal(
        agents[agents["replicate"] == 8].drop(columns="replicate").reset_index(drop=True),
        one.agents)


def _sweep_file(tmp_path, path, replicates):
    """A sweep of one design point: the scenario itself, ``replicates`` times."""
    s = load_scenario(ROOT / path)
    file = tmp_path / "one_point.toml"
    file.write_text(f'[sweep]\nscenario = "{(ROOT / path).as_posix()}"\n'
                    f"replicates = {replicates}\nseed = 9\nsteps = 12\nkeep_steps = true\n"
                    f'[parameters]\n"population.initial_trust" = '
                    f'[{s["population.initial_trust"]}]\n')
    return s


@pytest.mark.parametrize("path", INVARIANCE[:3])
def test_a_replicate_is_the_same_on_any_number_of_workers_and_on_dask(tmp_path, path):
    import logging

    from distributed import Client, LocalCluster

    s = _sweep_file(tmp_path, path, replicates=10)
    file = tmp_path / "one_point.toml"
    sweep(file, tmp_path / "one", workers=1)
    sweep(file, tmp_path / "two", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        sweep(file, tmp_path / "dask", executor=client.get_executor())
    reference = load_results(tmp_path / "one")
    columns = [c for c in reference.runs.columns if c not in ("start", "end")]
    for other in ("two", "dask"):
        got = load_results(tmp_path / other)
        pd.testing.assert_frame_equal(reference.runs[columns], got.runs[columns])
        pd.testing.assert_frame_equal(reference.steps, got.steps)
    for k in (0, 9):  # and each is the run of its seed, alone
        alone = run(s, replicate_seed(9, k, 0), steps=12)
        row = reference.runs.set_index("replicate").loc[k]
        for metric in ("collaborative_advantage", "mean_trust", "retention", "archetype"):
            assert row[metric] == alone.summary[metric], metric


def test_a_shorter_or_longer_run_shares_its_first_steps():
    s = load_scenario(ROOT / "tests/golden/extra/churn.toml")
    full = run(s, 3).steps
    T = len(full)
    pd.testing.assert_frame_equal(run(s, 3, steps=5).steps, full.iloc[:5])
    longer = run(s, 3, steps=T + 4).steps
    pd.testing.assert_frame_equal(longer.iloc[:T], full)
    model = PartnershipModel(s, rng=3).run(T + 4)  # the model draws more as it goes
    pd.testing.assert_frame_equal(pd.DataFrame(model.history), longer, check_dtype=False)
