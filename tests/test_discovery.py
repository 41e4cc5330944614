"""Scenario discovery (PRIM) and the EMA Workbench adapter."""

import pickle

import numpy as np
import pandas as pd
import pytest

from collabsim import load_results, load_scenario, sweep
from collabsim.cli import main
from collabsim.errors import InputError
from collabsim.experiment.discovery import _in_box, discover
from collabsim.experiment.toys import BOX
from collabsim.metrics import METRIC_DIRECTION
from collabsim.schema import lookup

from .conftest import SCENARIOS
from .test_analysis import grid, toy  # noqa: F401  (a shared fixture)


@pytest.fixture(scope="module")
def boxed(tmp_path_factory):
    """An LHS sweep of a response that is about 1 inside a known box and 0 outside."""
    tmp = tmp_path_factory.mktemp("box")
    sweep(toy(tmp, "box", design="lhs", samples=400, names=("a", "b", "c")), tmp / "out")
    return tmp / "out"


def test_discover_recovers_a_known_box(boxed):
    found = discover(load_results(boxed), "y", above=0.5)
    box = found.boxes[0]
    assert set(box.limits) == {"a", "b"}  # c is inert and stays free
    assert box.limits["a"][0] == pytest.approx(BOX["a"][0], abs=0.05)
    assert box.limits["a"][1] == pytest.approx(BOX["a"][1], abs=0.05)
    assert box.limits["b"][0] == pytest.approx(BOX["b"][0], abs=0.05)
    assert box.coverage > 0.9 and box.density > 0.9


def test_box_statistics_follow_their_definitions(boxed):
    results = load_results(boxed)
    found = discover(results, "y", above=0.5)
    box = found.boxes[0]
    inside = np.ones(len(results.runs), dtype=bool)
    for name, (low, high) in box.limits.items():
        inside &= results.runs[name].between(low, high).to_numpy()
    hit = results.runs["y"].to_numpy() > 0.5
    assert box.cases == inside.sum() and box.hits == (inside & hit).sum()
    assert box.coverage == (inside & hit).sum() / hit.sum()
    assert box.density == (inside & hit).sum() / inside.sum()
    assert box.mass == inside.mean()
    # and agree with EMA Workbench's own figures for the kept step of the trajectory
    step = box.trajectory.iloc[box.chosen]
    assert (step["coverage"], step["density"], step["mass"]) == pytest.approx(
        (box.coverage, box.density, box.mass))


def test_later_boxes_hold_other_runs_and_coverages_add_up(grid):  # noqa: F811
    results = load_results(grid)
    threshold = float(results.runs["mean_trust"].quantile(0.6))
    found = discover(results, "mean_trust", below=threshold, min_coverage=0.3, max_boxes=3)
    assert found.boxes
    assert sum(b.coverage for b in found.boxes) <= 1 + 1e-12
    assert sum(b.hits for b in found.boxes) <= found.y.sum()
    for box in found.boxes:
        assert box.density > found.y.mean()  # every box concentrates the outcome


def test_discover_command_on_a_toy_and_a_real_sweep(boxed, grid, capsys):  # noqa: F811
    assert main(["discover", str(boxed), "--metric", "y", "--above", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "box 1: coverage" in out and "density" in out and "mass" in out
    table = pd.read_csv(boxed / "discovery" / "y_above_0.5.csv")
    assert set(table.loc[table["box"] == 1, "parameter"]) == {"a", "b"}
    assert (boxed / "discovery" / "y_above_0.5.png").stat().st_size > 5000

    runs = load_results(grid).runs
    rare = runs["archetype"].value_counts().index[-1]
    assert main(["discover", str(grid), "--metric", "archetype", "--equals", rare]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"archetype = {rare} holds in ")
    median = runs["collaborative_advantage"].median()
    assert main(["discover", str(grid), "--metric", "collaborative_advantage",
                 "--below", f"{median}"]) == 0
    assert "box 1:" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["--metric", "y"],                                   # no condition
    ["--metric", "y", "--above", "0.5", "--below", "1"],  # two conditions
    ["--metric", "y", "--above", "99"],                  # never holds
    ["--metric", "nope", "--above", "0"],
    ["--metric", "archetype", "--above", "0"],
    ["--metric", "y", "--equals", "tokenism"],
])
def test_discover_refuses_bad_requests_in_one_line(boxed, argv, capsys):
    try:
        code = main(["discover", str(boxed), *argv])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_in_box_reads_categorical_limits():
    x = pd.DataFrame({"m": pd.Categorical(["a", "b", "c"]), "v": [0.1, 0.5, 0.9]})
    lims = pd.DataFrame({"m": [{"a", "c"}, {"a", "c"}], "v": [0.0, 0.95]})
    assert _in_box(x, lims, ["m", "v"]).tolist() == [True, False, True]


# The EMA Workbench adapter -------------------------------------------------------------------
def test_ema_parameters_and_outcomes_come_from_the_schema_and_registry():
    from collabsim.ema import model

    m = model(SCENARIOS / "generic.toml",
              uncertainties={"population.initial_trust": None,
                             "population.size": (3, 8)},
              levers=["governance.mode"], outcomes=["mean_trust", "inertia",
                                                    "total_contribution"])
    trust = lookup("population.initial_trust")
    by_key = {p.variable_name[0]: p for p in [*m.uncertainties, *m.levers]}
    assert {p.name for p in by_key.values()} == {
        "population__initial_trust", "population__size", "governance__mode"}
    assert (by_key["population.initial_trust"].lower_bound,
            by_key["population.initial_trust"].upper_bound) == (trust.low, trust.high)
    assert (by_key["population.size"].lower_bound, by_key["population.size"].upper_bound) \
        == (3, 8)
    assert [c.value for c in by_key["governance.mode"].categories] == \
        list(lookup("governance.mode").choices)
    kinds = {o.variable_name[0]: o.kind for o in m.outcomes}
    assert kinds == {"mean_trust": METRIC_DIRECTION["mean_trust"],
                     "inertia": METRIC_DIRECTION["inertia"], "total_contribution": 0}


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"uncertainties": {"population.initial_trust": (0.2, 1.5)}}, "population.initial_trust"),
    ({"uncertainties": ["no.such_key"]}, "no.such_key"),
    ({"outcomes": ["nope"]}, "outcome nope"),
    ({"outcomes": ["archetype:nope"]}, "not an archetype"),
    ({"uncertainties": ["governance.mode"], "levers": ["governance.mode"]}, "given twice"),
])
def test_ema_model_refuses_bad_input(kwargs, message):
    from collabsim.ema import model

    with pytest.raises(InputError, match=message):
        model(SCENARIOS / "generic.toml", **kwargs)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside EMA Workbench's PRIM
@pytest.mark.filterwarnings("ignore:ipyparallel not installed")  # EMA Workbench on import
def test_ema_runs_collabsim_and_prim_finds_a_box():
    from ema_workbench import SequentialEvaluator, perform_experiments

    from collabsim.ema import model

    m = model(load_scenario(SCENARIOS / "generic.toml"),
              uncertainties=["population.initial_trust"], levers=["governance.mode"],
              outcomes=["mean_trust", "archetype:solid_partnership"],
              replications=2, seed=3, steps=6)
    with SequentialEvaluator(m) as evaluator:
        experiments, outcomes = perform_experiments(m, scenarios=12, policies=2,
                                                    evaluator=evaluator)
    assert len(experiments) == 24 and outcomes["mean_trust"].shape == (24,)
    assert ((outcomes["mean_trust"] >= 0) & (outcomes["mean_trust"] <= 1)).all()
    assert set(np.unique(outcomes["archetype__solid_partnership"])) <= {0.0, 0.5, 1.0}
    # replicate k of every experiment uses the same seed: rerunning one gives the same values
    runner = m.function
    row = experiments.iloc[0]
    again = np.mean([runner(seed=3, replicate=k,
                            **{"population.initial_trust": row["population__initial_trust"],
                               "governance.mode": row["governance__mode"]})["mean_trust"]
                     for k in range(2)])
    assert again == outcomes["mean_trust"][0]
    # the model function pickles, as EMA's multiprocessing evaluator needs
    clone = pickle.loads(pickle.dumps(runner))
    assert clone(seed=3, replicate=0, **{"governance.mode": "nao"}) == runner(
        seed=3, replicate=0, **{"governance.mode": "nao"})

    from ema_workbench.analysis import prim

    low = outcomes["mean_trust"] < np.median(outcomes["mean_trust"])
    box = prim.Prim(experiments[["population__initial_trust", "governance__mode"]], low,
                    mass_min=0.1).find_box()
    limits = box.box_lims[-1]
    assert box.coverage > 0.5 and box.density > low.mean()
    # trust drives mean trust: the box keeps the low-trust end
    assert limits["population__initial_trust"].iloc[1] < 0.9


def test_from_sweep_gives_ema_experiments_and_outcomes(grid):  # noqa: F811
    from collabsim.ema import from_sweep

    results = load_results(grid)
    experiments, outcomes = from_sweep(results)
    assert len(experiments) == len(results.points)
    assert isinstance(experiments["governance.mode"].dtype, pd.CategoricalDtype)
    expected = results.runs.groupby("point")["mean_trust"].mean().to_numpy()
    assert np.allclose(outcomes["mean_trust"], expected)
    shares = np.column_stack([v for k, v in outcomes.items() if k.startswith("archetype:")])
    assert np.allclose(shares.sum(axis=1), 1.0)
