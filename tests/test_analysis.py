"""Analysis of sweeps: checked sensitivity indices, categorical outcomes, honest plots."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabsim import ensemble, load_results, load_sweep, run, sweep
from collabsim.cli import main
from collabsim.errors import InputError
from collabsim.experiment import (
    factor_table,
    plot_factor,
    plot_heatmap,
    plot_time,
    point_means,
    sensitivity,
)
from collabsim.experiment.analysis import COLUMNS, SHARE_PREFIX, outcome_names
from collabsim.experiment.plots import NO_DATA, _binned, _interval
from collabsim.experiment.results import parameter_source
from collabsim.experiment.toys import ishigami_indices
from collabsim.metrics import ARCHETYPES
from collabsim.runner import mean_ci, replicate_seed
from collabsim.scenario import load_scenario

from .conftest import ROOT, SCENARIOS

GENERIC = (SCENARIOS / "generic.toml").as_posix()
#: Unanimity among twelve: decisions stall where goals conflict, so archetypes vary.
STALLING = (SCENARIOS / "teaching" / "collaborative_inertia.toml").as_posix()


def toy(tmp_path, model, design="sobol", samples=None, replicates=1, names=("x1", "x2", "x3")):
    params = "\n".join(f"{n} = {{ range = [0.0, 1.0] }}" for n in names)
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{model}_{design}_{samples}.toml"
    path.write_text(f"""
[sweep]
model = "collabsim.experiment.toys:{model}"
design = "{design}"
{f"samples = {samples}" if samples else ""}
replicates = {replicates}
seed = 5
[parameters]
{params}
""")
    return path


def swept(tmp_path, *args, **kwargs):
    out = tmp_path / "out"
    sweep(toy(tmp_path, *args, **kwargs), out)
    return load_results(out)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A three-factor grid of the model: 2 modes x 2 sizes x 3 trust levels, 2 replicates.

    The lowest trust is low enough for some partnerships of little prosocial motivation
    to pay little (tokenism), so the archetype varies across the grid.
    """
    tmp = tmp_path_factory.mktemp("grid")
    (tmp / "low.toml").write_text(f"""
[scenario]
base = "{GENERIC}"
name = "generic_low_prosociality"
[population]
prosociality = 0.2
""")
    path = tmp / "grid.toml"
    path.write_text(f"""
[sweep]
scenario = "{tmp / 'low.toml'}"
replicates = 2
seed = 11
steps = 6
keep_steps = true
[parameters]
"governance.mode" = ["shared", "nao"]
"population.size" = [3, 6]
"population.initial_trust" = {{ range = [0.05, 0.8], points = 3 }}
""")
    sweep(path, tmp / "out", workers=2)
    return tmp / "out"


@pytest.fixture(scope="module")
def model_sobol(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sobol")
    path = tmp / "sobol.toml"
    path.write_text(f"""
[sweep]
scenario = "{STALLING}"
design = "sobol"
samples = 8
replicates = 2
steps = 8
[parameters]
"population.initial_trust" = {{ range = [0.1, 0.9] }}
"population.goal_conflict" = {{ range = [0.0, 1.0] }}
"governance.mode" = ["shared", "lead", "nao"]
""")
    sweep(path, tmp / "out", workers=2)
    return tmp / "out"


# Sobol sample size ------------------------------
def test_sobol_samples_default_to_512_and_must_be_a_power_of_two(tmp_path, capsys):
    assert load_sweep(toy(tmp_path, "ishigami")).samples == 512
    assert load_sweep(toy(tmp_path, "ishigami", design="lhs")).samples == 16
    assert load_sweep(toy(tmp_path, "ishigami", samples=64)).samples == 64
    bad = toy(tmp_path, "ishigami", samples=48)
    with pytest.raises(InputError, match=r"sweep.samples = 48 .* power of two, such as 32 or 64"):
        load_sweep(bad)
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err
    assert not (tmp_path / "o").exists()
    assert load_sweep(toy(tmp_path, "ishigami", design="lhs", samples=48)).samples == 48


# Sensitivity with diagnostics ------------------------------
def test_ishigami_at_512_matches_the_analytic_indices_without_warnings(tmp_path):
    found = sensitivity(swept(tmp_path, "ishigami", samples=512), "sobol", ["y"])
    table = found.table.set_index("parameter")
    exact = ishigami_indices()
    for index in ("S1", "ST"):
        for name, value in exact[index].items():
            assert table.loc[name, index] == pytest.approx(value, abs=0.05), (index, name)
    assert found.warnings == []
    assert (table["flags"] == "").all()
    assert table["noise_share"].isna().all()  # one run per point: not checked, and said so
    assert any("replicate noise could not be checked" in n for n in found.notes)


def test_ishigami_at_16_is_flagged(tmp_path):
    found = sensitivity(swept(tmp_path, "ishigami", samples=16), "sobol", ["y"])
    assert found.warnings
    assert any("intervals wider than ±0.2" in w for w in found.warnings)
    assert found.table["flags"].str.contains("wide_interval").any()
    # every warning is one line naming the outcome
    assert all("\n" not in w and w.startswith("y: ") for w in found.warnings)


def test_flags_follow_their_definitions(tmp_path):
    found = sensitivity(swept(tmp_path, "ishigami", samples=16), "sobol", ["y"],
                        max_halfwidth=0.01)
    t = found.table
    for _, row in t.iterrows():
        flags = set(filter(None, row["flags"].split(";")))
        assert ("s1_above_st" in flags) == (row["S1"] - row["S1_conf"] > row["ST"])
        assert ("s1_negative" in flags) == (row["S1"] + row["S1_conf"] < 0)
        assert ("wide_interval" in flags) == (max(row["S1_conf"], row["ST_conf"]) > 0.01)


def test_replicate_noise_is_measured_and_flagged(tmp_path):
    noisy = sensitivity(swept(tmp_path / "n", "noisy", design="morris", samples=10,
                              replicates=3, names=("a", "b", "c")), "morris", ["y"])
    assert (noisy.table["noise_share"] > 0.5).all()
    assert noisy.table["flags"].str.contains("noisy").all()
    assert any("replicate noise is" in w and "add replicates" in w for w in noisy.warnings)
    clean = sensitivity(swept(tmp_path / "c", "linear", design="morris", samples=10,
                              replicates=3, names=("a", "b", "c")), "morris", ["y"])
    assert (clean.table["noise_share"] < 0.01).all() and clean.warnings == []


def test_salib_warnings_are_restated_never_raw(tmp_path, model_sobol):
    results = load_results(model_sobol)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = sensitivity(results, "sobol", ["archetype"])
    assert caught == []
    assert all("\n" not in w and "SALib" not in w and ".py" not in w for w in found.warnings)


def test_every_column_is_explained(tmp_path, model_sobol, capsys):
    assert main(["analyze", str(model_sobol), "--method", "sobol", "--metric", "mean_trust"]) == 0
    out = capsys.readouterr().out
    table = pd.read_csv(model_sobol / "analysis" / "sobol_indices.csv")
    legend = (model_sobol / "analysis" / "sobol_indices.txt").read_text()
    for column in table.columns:
        assert f"{column}: {COLUMNS[column]}" in out
        assert f"{column}: {COLUMNS[column]}" in legend


# Categorical outcomes ------------------------------
def test_analyze_archetype_gives_one_row_per_archetype_and_parameter(model_sobol, capsys):
    assert main(["analyze", str(model_sobol), "--method", "sobol", "--metric", "archetype"]) == 0
    table = pd.read_csv(model_sobol / "analysis" / "sobol_indices.csv")
    runs = load_results(model_sobol).runs
    seen = set(runs["archetype"])
    analysed = {m[len(SHARE_PREFIX):] for m in table["metric"]}
    assert analysed <= seen and analysed
    assert len(table) == 3 * len(analysed)
    assert main(["analyze", str(model_sobol), "--method", "sobol",
                 "--metric", "archetype:no_such_thing"]) == 2
    capsys.readouterr()
    # analysing another metric replaces the table, and says which metrics it no longer holds
    assert main(["analyze", str(model_sobol), "--method", "sobol", "--metric", "mean_trust"]) == 0
    out = capsys.readouterr().out
    assert "note: sobol_indices.csv held " + ", ".join(table["metric"].unique()) in out
    assert main(["analyze", str(model_sobol), "--method", "sobol", "--metric", "mean_trust"]) == 0
    assert "held" not in capsys.readouterr().out


def test_archetype_shares_at_each_point_sum_to_one(model_sobol):
    results = load_results(model_sobol)
    names = outcome_names(results, "archetype")
    assert set(names) <= {SHARE_PREFIX + a for a in ARCHETYPES}
    shares = np.column_stack([point_means(results, n) for n in names])
    assert np.allclose(shares.sum(axis=1), 1.0) and ((shares >= 0) & (shares <= 1)).all()
    with pytest.raises(InputError, match="name one"):
        point_means(results, "archetype")


def test_plot_archetype_shares_against_one_and_two_parameters(grid, capsys):
    fig = plot_factor(load_results(grid), "governance.mode", "archetype")
    lines = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert set(lines) == set(load_results(grid).runs["archetype"])
    table = factor_table(load_results(grid), "governance.mode", "archetype")
    assert np.allclose(table.groupby("governance.mode")["mean"].sum(), 1.0)
    assert (table["ci_low"] >= 0).all() and (table["ci_high"] <= 1).all()
    assert main(["plot", str(grid), "--x", "population.size", "--y",
                 "population.initial_trust", "--metric", "archetype"]) == 0
    assert capsys.readouterr().out.startswith("wrote ")


# Plots that say what they show ------------------------------
def test_by_facets_a_three_factor_grid(grid):
    results = load_results(grid)
    fig = plot_heatmap(results, "population.size", "population.initial_trust",
                       "collaborative_advantage", by="governance.mode")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.images]
    assert sorted(ax.get_title() for ax in panels) == ["governance.mode = nao",
                                                        "governance.mode = shared"]
    assert "averaged over" not in fig._suptitle.get_text()
    for ax in panels:  # each panel shows its own mode's means, not the pooled ones
        mode = ax.get_title().split(" = ")[1]
        sub = results.runs[results.runs["governance.mode"] == mode]
        expected = sub.pivot_table(index="population.initial_trust", columns="population.size",
                                   values="collaborative_advantage", aggfunc="mean")
        assert np.allclose(ax.images[0].get_array().filled(np.nan), expected.to_numpy())


def test_pooled_factors_are_named_in_the_title(grid):
    fig = plot_heatmap(load_results(grid), "population.size", "population.initial_trust",
                       "collaborative_advantage")
    assert "averaged over governance.mode (2 values)" in fig._suptitle.get_text()
    fig = plot_factor(load_results(grid), "population.size", "mean_trust")
    title = fig._suptitle.get_text()
    assert "governance.mode" in title and "population.initial_trust" in title


def test_one_factor_plots_give_n_per_bin(grid):
    results = load_results(grid)
    fig = plot_factor(results, "population.initial_trust", "mean_trust", by="population.size")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels()]
        counts = [int(label.split("n=")[1]) for label in labels]
        assert counts == [4, 4, 4]  # 2 modes x 2 replicates in each bin of each panel


def test_empty_heatmap_cells_say_no_data(tmp_path):
    results = swept(tmp_path, "linear", design="lhs", samples=20, names=("a", "b", "c"))
    fig = plot_heatmap(results, "a", "b", "y")
    ax = fig.axes[0]
    marked = sum(t.get_text() == NO_DATA for t in ax.texts)
    runs = results.runs
    filled = len(set(zip(_binned(runs["a"]), _binned(runs["b"]), strict=True)))
    cells = ax.images[0].get_array().size
    assert marked == cells - filled > 0


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_intervals_stay_within_the_metric_bounds(values):
    x = np.array(values)
    mean, lo, hi = _interval(x, "mean_trust")
    assert 0.0 <= lo <= mean + 1e-12 and mean - 1e-12 <= hi <= 1.0
    _, raw_lo, raw_hi = mean_ci(x)
    assert lo == max(raw_lo, 0.0) and hi == min(raw_hi, 1.0)
    share, lo, hi = _interval((x > 0.5).astype(float), SHARE_PREFIX + "tokenism")
    assert 0.0 <= lo <= share <= hi <= 1.0 and hi > lo


def test_time_series_of_kept_steps(grid, tmp_path):
    results = load_results(grid)
    fig = plot_time(results, "mean_trust", x="governance.mode", by="population.size")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(ax.lines) == 2 and len(ax.collections) == 4  # a line, CI and 10–90% bands
        steps = ax.lines[0].get_xdata()
        assert list(steps) == sorted(set(results.steps["step"]))
    assert main(["plot", str(grid), "--over", "time", "--metric", "mean_trust",
                 "--png", str(tmp_path / "t.png")]) == 0
    assert (tmp_path / "t.png").stat().st_size > 5000
    assert main(["plot", str(grid), "--over", "time", "--metric", "archetype"]) == 2
    lhs = swept(tmp_path, "linear", design="lhs", samples=5, names=("a", "b", "c"))
    with pytest.raises(InputError, match="keep_steps = true"):
        plot_time(lhs, "y")


def test_plot_refuses_bad_requests_in_one_line(grid, capsys):
    for argv in (["--x", "population.size", "--by", "population.size", "--metric", "mean_trust"],
                 ["--x", "nope", "--metric", "mean_trust"],
                 ["--metric", "mean_trust"],
                 ["--x", "population.size", "--metric", "nope"]):
        assert main(["plot", str(grid), *argv]) == 2
        assert capsys.readouterr().err.count("\n") == 1
    assert main(["plot", str(grid), "--x", "population.size", "--metric", "mean_trst"]) == 2
    assert "(did you mean 'mean_trust'?)" in capsys.readouterr().err


def test_the_docs_explain_every_column():
    docs = (ROOT / "docs" / "experiments.md").read_text()
    for column in COLUMNS:
        assert f"| `{column}` |" in docs, column


@pytest.mark.parametrize("source", ["ensemble", "defaults"])
def test_an_analysis_says_when_runs_drew_from_the_ensemble(tmp_path, source):
    """A sweep of generic.toml draws the unswept behavioural parameters from the ensemble
    unless it pins a parameter set; the manifest records which, and the analysis says so."""
    path = tmp_path / "s.toml"
    pinned = '"scenario.parameters" = ["defaults"]\n' if source == "defaults" else ""
    path.write_text(f'[sweep]\nscenario = "{(SCENARIOS / "generic.toml").as_posix()}"\n'
                    'design = "morris"\nsamples = 2\nreplicates = 2\nsteps = 2\n'
                    '[parameters]\n"population.goal_conflict" = { range = [0.1, 0.9] }\n'
                    '"population.initial_trust" = { range = [0.2, 0.8] }\n' + pinned)
    sweep(path, tmp_path / "out")
    results = load_results(tmp_path / "out")
    used = results.manifest["parameters"]  # in the shape run and compare write it
    assert used["source"] == ("ensemble" if source == "ensemble" else "swept")
    if source == "ensemble":  # the fitted keys the draws replaced; nothing swept is among them
        assert set(used["replaced"]) == set(ensemble.load().params)
        assert used["posterior_sha256"] == ensemble.load().digest
    old = {**results.manifest, "parameters": used["source"]}  # as earlier folders wrote it
    assert parameter_source(old) == parameter_source(results.manifest) == used["source"]
    notes = sensitivity(results, "morris", ["collaborative_advantage"]).notes
    assert any("calibrated ensemble" in n for n in notes) == (source == "ensemble")
    # each run names the ensemble member it drew (the draw of its own seed), else null
    runs = results.runs
    assert "member" in runs and "member" not in results.outputs
    if source == "ensemble":
        seeds = [replicate_seed(results.manifest["seeds"]["seed"], r, p)
                 for p, r in zip(runs["point"], runs["replicate"], strict=True)]
        base = load_scenario(SCENARIOS / "generic.toml")
        assert runs["member"].tolist() == ensemble.drawn(base, seeds).tolist()
        assert runs["member"].nunique() > 1
        # the run used that member's values: pinned at them, it is the same run
        row = runs.iloc[-1]
        point = results.points.set_index("point").loc[row["point"]]
        pinned = ensemble.at_member(base, int(row["member"])).with_overrides({
            "scenario.parameters": "defaults",
            "population.goal_conflict": float(point["population.goal_conflict"]),
            "population.initial_trust": float(point["population.initial_trust"])})
        again = run(pinned, seeds[-1], steps=2).summary  # the sweep's steps = 2
        assert again["mean_trust"] == row["mean_trust"]
        assert again["collaborative_advantage"] == row["collaborative_advantage"]
    else:
        assert runs["member"].isna().all()


def test_an_empty_metric_is_named_as_empty_not_as_failed_runs(model_sobol, capsys):
    """Every run of the sweep succeeded; the service outcomes are blank because the
    service submodel is off, and the error says that rather than blaming the runs."""
    assert (load_results(model_sobol).runs["status"] == "ok").all()
    capsys.readouterr()
    assert main(["analyze", str(model_sobol), "--method", "sobol",
                 "--metric", "emergency_bed_days"]) == 2
    err = capsys.readouterr().err
    assert "blank in every run of this sweep" in err and "no successful run" not in err


def test_a_plot_of_one_archetype_names_it(grid):
    """A plot of archetype shares has a legend even when one archetype is drawn."""
    one = load_results(grid).runs["archetype"].iloc[0]
    fig = plot_factor(load_results(grid), "population.size", f"{SHARE_PREFIX}{one}")
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == [one]
