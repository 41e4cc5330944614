"""Running replicates, seeding, the `collabsim run` command and its outputs."""

import json

import pandas as pd
import pytest

from collabsim import (
    ARCHETYPES,
    METRICS,
    aggregate,
    ensemble,
    load_scenario,
    replicate_seed,
    run,
    run_replicates,
)
from collabsim.cli import main
from collabsim.services import SERVICE_METRICS

from .conftest import BUNDLED, SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")


def test_replicates_are_distinct_and_reproducible(baseline):
    a = run_replicates(baseline, n=4, seed=1)
    b = run_replicates(baseline, n=4, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert a["collaborative_advantage"].nunique() == 4
    c = run_replicates(baseline, n=4, seed=2)
    assert not a["collaborative_advantage"].equals(c["collaborative_advantage"])


def test_replicate_k_does_not_depend_on_how_many_are_run(baseline):
    few = run_replicates(baseline, n=2, seed=5)
    many = run_replicates(baseline, n=5, seed=5)
    pd.testing.assert_frame_equal(few, many.iloc[:2])
    assert run(baseline, replicate_seed(5, 1)).summary == few.iloc[1].drop("replicate").to_dict()


def test_json_output_has_every_metric_and_archetype(capsys):
    assert main(["run", BASELINE, "--replicates", "20", "--seed", "1", "--json"]) == 0
    first = capsys.readouterr().out
    doc = json.loads(first)
    assert doc["scenario"] == "baseline" and doc["replicates"] == 20 and doc["seed"] == 1
    assert set(doc["metrics"]) == set(METRICS)
    for m in doc["metrics"].values():
        lo, hi = m["ci95"]
        assert lo <= m["mean"] <= hi
    assert set(doc["archetypes"]) == set(ARCHETYPES)
    assert sum(doc["archetypes"].values()) == pytest.approx(1.0)
    assert main(["run", BASELINE, "--replicates", "20", "--seed", "1", "--json"]) == 0
    assert capsys.readouterr().out == first
    assert main(["run", BASELINE, "--replicates", "20", "--seed", "2", "--json"]) == 0
    assert capsys.readouterr().out != first


def test_out_writes_tables_and_manifest(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", BASELINE, "-n", "3", "--steps", "5", "--out", str(out), "--agents",
                 "--set", "governance.mode=nao"]) == 0
    assert "wrote" in capsys.readouterr().out
    runs = pd.read_parquet(out / "runs")
    steps = pd.read_parquet(out / "steps")
    agents = pd.read_parquet(out / "agents")
    assert len(runs) == 3 and set(METRICS) <= set(runs.columns)
    assert len(steps) == 15 and set(steps["replicate"]) == {0, 1, 2}
    assert len(agents) >= 3 * 5 * 6
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["governance"]["mode"] == "nao"
    assert manifest["replicates"] == 3 and manifest["steps"] == 5
    assert manifest["versions"]["mesa"].startswith("3.5")
    assert len(manifest["scenario_sha256"]) == 64


@pytest.mark.parametrize("flag", ["--defaults", "--point-estimate", "--ensemble"])
def test_the_manifest_says_which_parameter_values_the_runs_used(tmp_path, flag):
    """The scenario table holds the defaults on unpinned keys; the manifest says which of
    them the runs replaced, and with what, so a reader is not misled by it."""
    out = tmp_path / "res"
    assert main(["run", "generic", "-n", "2", "--steps", "2", "--out", str(out), flag,
                 "--set", "dynamics.synergy=1.2"]) == 0
    rec = json.loads((out / "manifest.json").read_text())["parameters"]
    assert rec["source"] == flag[2:].replace("-", "_")
    if flag == "--defaults":
        assert rec["replaced"] == {}
        return
    ens = ensemble.load()
    assert set(rec["replaced"]) == set(ens.params) - {"dynamics.synergy"}  # the pin stays
    assert rec["posterior_sha256"] == ens.digest and len(ens.digest) == 64
    if flag == "--point-estimate":
        assert rec["replaced"] == {k: v for k, v in ens.median().items() if k in rec["replaced"]}
    else:
        assert pd.read_parquet(out / "runs")["member"].notna().all()


def test_several_scenarios_get_their_own_folders(tmp_path, capsys):
    out = tmp_path / "res"
    files = [str(SCENARIOS / "funding" / "pooled.toml"), str(SCENARIOS / "governance" / "nao.toml")]
    assert main(["run", *files, "-n", "2", "--steps", "3", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "funding_pooled" in table and "governance_nao" in table
    assert (out / "funding_pooled" / "runs" / "part-000000.parquet").exists()
    assert (out / "governance_nao" / "runs" / "part-000000.parquet").exists()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_bundled_scenario_validates_and_runs(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "-n", "2", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    expected = set(METRICS)
    if load_scenario(path)["services.enabled"]:
        expected |= set(SERVICE_METRICS)
    assert set(doc["metrics"]) == expected


def test_list_and_describe(capsys):
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "baseline" in listing.split() and "INVALID" not in listing  # short names
    assert main(["describe"]) == 0
    text = capsys.readouterr().out
    for key in ("governance.mode", "funding.pooled_share", "participation.rung",
                "population.goal_conflict", "dynamics.trust_loss"):
        assert key in text


def test_a_replicate_is_the_same_run_in_any_loop(generic):
    from collabsim.runner import replicate_seed, replicates

    table = run_replicates(generic.with_overrides({"scenario.steps": 6}), n=4, seed=9)
    for k, result in replicates(generic.with_overrides({"scenario.steps": 6}), 4, 9):
        alone = run(generic.with_overrides({"scenario.steps": 6}), replicate_seed(9, k))
        assert result.summary == alone.summary
        assert table.loc[k, "mean_trust"] == alone.summary["mean_trust"]


def test_the_python_api_takes_numpy_values_and_refuses_impossible_lengths():
    import numpy as np

    from collabsim.errors import InputError

    s = load_scenario(SCENARIOS / "generic.toml")
    assert s.with_overrides({"population.size": np.int64(4)})["population.size"] == 4
    assert s.with_overrides({"ratification.enabled": np.bool_(False)})[
        "ratification.enabled"] is False
    for steps in (0, -3, 2.5):
        with pytest.raises(InputError, match=r"steps = .* is not allowed"):
            run(s, 1, steps=steps)
    empty = run_replicates(s, 0, 1)
    assert len(empty) == 0 and "replicate" in empty
    assert aggregate(empty)["archetypes"]["solid_partnership"] == 0.0  # no KeyError
    with pytest.raises(InputError, match=r"seed = -1 is not allowed"):
        run(s, -1)
    with pytest.raises(ValueError, match="n = -1"):
        run_replicates(s, -1, 1)
