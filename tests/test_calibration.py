"""`collabsim screen`, `collabsim calibrate`, the targets and the shipped ensemble."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from collabsim import calibrate as cal
from collabsim import screen as scr
from collabsim import targets
from collabsim.cli import main
from collabsim.schema import PARAM_BY_KEY, PARAMS

TINY = targets.Size(survey=2, replicates=1)
SCREENED = ["dynamics.synergy", "dynamics.willingness_prosocial", "metrics.dense_trust"]


# targets -------------------------------------------------------------------------------
def test_target_miss_is_zero_inside_and_grows_outside():
    t = targets.Target("x", 0.5, 0.7, 0.1, "s", "m")
    assert t.miss(0.5) == t.miss(0.6) == t.miss(0.7) == 0.0
    assert t.miss(0.8) == pytest.approx(1.0)
    assert t.miss(0.3) == pytest.approx(2.0)
    assert t.miss(float("nan")) == 1.0


def test_distance_sums_the_misses_of_every_target():
    inside = {t.name: (t.low if np.isfinite(t.low) else t.high) for t in targets.TARGETS}
    assert targets.distance(inside) == 0.0
    outside = dict(inside, popp_saving_per_pound=1.20 + 0.47, bcf_bed_days_change=-0.07)
    assert targets.distance(outside) == pytest.approx(2.0)
    # The survey's part counts only its own targets' misses.
    assert targets.survey_distance(outside) == 0.0
    survey = dict(outside, survey_successful=0.47, **{"survey_unsuccessful.health": 0.24})
    assert targets.survey_distance(survey) == pytest.approx(1.0 + 1.0)
    assert targets.distance(survey) == pytest.approx(2.0 + 2.0)


def test_survey_population_is_the_same_prefix_whatever_its_size():
    small = [s for _, s in targets.survey_population(3, 7)]
    large = [s for _, s in targets.survey_population(6, 7)]
    assert small == large[:3]
    assert len({s["population.size"] for s in large}) > 1


def test_a_parameter_set_never_changes_what_a_scenario_pins():
    (_, s), = targets.survey_population(1, 0)
    changed = targets.apply(s, {"population.initial_trust": 0.99, "dynamics.synergy": 0.7})
    assert changed["population.initial_trust"] == s["population.initial_trust"]
    assert changed["dynamics.synergy"] == 0.7
    assert "dynamics.synergy" not in changed.pinned


def test_outputs_respond_to_the_parameters_and_repeat_at_a_seed():
    a = targets.outputs({}, 3, TINY)
    assert a == targets.outputs({}, 3, TINY)
    # Without prosociality in willingness nobody pays: joint work and trust collapse.
    b = targets.outputs({"dynamics.willingness_prosocial": 0.0,
                         "dynamics.willingness_trust": 0.0}, 3, TINY)
    assert b["generic_mean_trust"] < a["generic_mean_trust"]
    assert set(a) >= {t.name for t in targets.TARGETS}


# screen --------------------------------------------------------------------------------
def test_screen_covers_every_numeric_parameter_but_the_structural_ones():
    factors, skipped = scr.candidates()
    numeric = {p.key for p in PARAMS if p.kind in ("int", "float")}
    assert {f.key for f in factors} | set(skipped) == numeric
    assert set(scr.STRUCTURAL) <= set(skipped)
    assert any(PARAM_BY_KEY[f.key].advanced for f in factors)
    for f in factors:
        p = PARAM_BY_KEY[f.key]
        assert f.low < f.high
        assert (p.low is None or f.low >= p.low) and (p.high is None or f.high <= p.high)
        assert f.low <= p.default <= f.high


def test_screen_is_deterministic_and_finds_a_known_inert_parameter():
    a = scr.morris(SCREENED, trajectories=2, replicates=1, survey=2, seed=5)
    b = scr.morris(SCREENED, trajectories=2, replicates=1, survey=2, seed=5)
    assert a.results.equals(b.results) and a.ranking.equals(b.ranking)
    # A classifier threshold cannot move trust, bed-days or the survey's judgements.
    inert = a.indices[(a.indices["parameter"] == "metrics.dense_trust")
                      & (a.indices["output"] != "generic_solid_share")]
    assert (inert["mu_star"] == 0).all()
    assert "metrics.dense_trust" not in a.influential
    assert "dynamics.willingness_prosocial" in a.influential


def test_screen_cli_writes_json_and_tables(tmp_path, capsys):
    out = tmp_path / "screen"
    argv = ["screen", "--params", ",".join(SCREENED), "--trajectories", "2", "-n", "1",
            "--survey", "2", "--seed", "5", "--json", "--out", str(out)]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["influential"][0] in SCREENED
    assert {r["parameter"] for r in doc["ranking"]} == set(SCREENED)
    assert json.loads((out / "screen.json").read_text()) == doc
    assert (out / "ranking.csv").is_file() and (out / "indices.csv").is_file()


@pytest.mark.parametrize("argv", [
    ["screen", "--params", "dynamics.synergy,nope"],
    ["screen", "--params", "governance.mode"],
    ["screen", "--params", "scenario.steps"],
    ["screen", "--threshold", "-1"],
    ["calibrate", "--out", "x", "--params", "governance.mode"],
    ["calibrate", "--out", "x", "--params", "dynamics.nope"],
])
def test_bad_screen_and_calibrate_input_exits_2_with_one_line(argv, capsys, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
    assert not (tmp_path / "x").exists()


# calibrate -----------------------------------------------------------------------------
SMALL = cal.Settings(params=("dynamics.synergy", "dynamics.willingness_prosocial"),
                     population=4, generations=2, seed=3, survey=2, replicates=1, batch=3)


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    out = tmp_path_factory.mktemp("cal")
    return out, cal.calibrate(out, SMALL)


def test_calibration_reproduces_its_ensemble_from_its_seed(calibrated, tmp_path):
    out, prov = calibrated
    again = cal.calibrate(tmp_path / "again", cal.Settings(**{**SMALL.__dict__, "batch": 5}))
    assert (out / cal.POSTERIOR).read_text() == (tmp_path / "again" / cal.POSTERIOR).read_text()
    assert again["epsilon_schedule"] == prov["epsilon_schedule"]
    other = cal.calibrate(tmp_path / "other", cal.Settings(**{**SMALL.__dict__, "seed": 4}))
    assert other["epsilon_schedule"] != prov["epsilon_schedule"]


def test_calibration_writes_a_weighted_posterior_within_the_priors(calibrated):
    out, prov = calibrated
    import pandas as pd

    post = pd.read_csv(out / cal.POSTERIOR)
    assert len(post) == SMALL.population
    assert post["weight"].sum() == pytest.approx(1.0)
    for p in prov["priors"]:
        assert post[p["parameter"]].between(p["low"], p["high"]).all()
    assert prov["generations_done"] == SMALL.generations
    assert len(prov["epsilon_schedule"]) == SMALL.generations
    assert prov["epsilon_schedule"] == sorted(prov["epsilon_schedule"], reverse=True)
    assert {t["name"] for t in prov["targets"]} == {t.name for t in targets.TARGETS}
    assert prov["settings"]["seed"] == SMALL.seed and "date" in prov and "model" in prov


def test_calibration_resumes_to_the_same_ensemble(calibrated, tmp_path):
    out, _ = calibrated
    part = tmp_path / "part"
    cal.calibrate(part, cal.Settings(**{**SMALL.__dict__, "generations": 1}))
    with pytest.raises(cal.InputError, match="--resume"):
        cal.calibrate(part, SMALL)
    with pytest.raises(cal.InputError, match="other settings"):
        cal.calibrate(part, cal.Settings(**{**SMALL.__dict__, "seed": 9}), resume=True)
    cal.calibrate(part, SMALL, resume=True)
    assert (part / cal.POSTERIOR).read_text() == (out / cal.POSTERIOR).read_text()
    # the provenance says which stretch of generations each session ran, and with what code
    last = SMALL.generations - 1
    ran = json.loads((part / cal.PROVENANCE).read_text())["sessions"]
    assert [s["generations"] for s in ran] == [[0, 0], [1, last]]
    assert all(s["date"] and "git_commit" in s for s in ran)
    whole = json.loads((out / cal.PROVENANCE).read_text())
    assert [s["generations"] for s in whole["sessions"]] == [[0, last]]
    cal.calibrate(part, SMALL, resume=True)  # nothing left to run: no session added
    assert len(json.loads((part / cal.PROVENANCE).read_text())["sessions"]) == 2
    weights = pd.read_csv(out / cal.POSTERIOR)["weight"]
    assert whole["effective_sample_size"] == pytest.approx(
        weights.sum() ** 2 / (weights ** 2).sum(), abs=0.01)
    assert 1 <= whole["effective_sample_size"] <= len(weights)


@pytest.mark.parametrize("before", [None, "{not json", '{"sessions": [{"generations": "x"}]}'])
def test_sessions_list_generations_no_record_covers_as_unknown(tmp_path, before):
    """An interrupted first session writes no provenance; a damaged one cannot be read:
    the generations before this session are still listed, with an unknown commit."""
    if before is not None:
        (tmp_path / cal.PROVENANCE).write_text(before)
    this = {"git_commit": "abc", "dirty": False, "date": "2026-11-24"}
    ran = cal.sessions(tmp_path, 2, 3, this)
    assert ran == [{"git_commit": None, "date": None, "generations": [0, 1],
                    "note": "not recorded (a session that wrote no provenance)"},
                   {**this, "generations": [2, 3]}]


def test_sessions_read_an_older_provenance_as_one_session(tmp_path):
    (tmp_path / cal.PROVENANCE).write_text(json.dumps(
        {"git_commit": "old", "date": "2026-11-23", "generations_done": 3}))
    this = {"git_commit": "new", "dirty": True, "date": "2026-11-24"}
    assert cal.sessions(tmp_path, 3, 3, this) == [
        {"git_commit": "old", "date": "2026-11-23", "generations": [0, 2]},
        {**this, "generations": [3, 3]}]
    assert cal.sessions(tmp_path, 3, 2, this) == [  # nothing run: nothing added
        {"git_commit": "old", "date": "2026-11-23", "generations": [0, 2]}]


def test_effective_sample_size_counts_what_the_weights_are_worth():
    assert cal.effective_size(np.ones(40)) == pytest.approx(40)
    assert cal.effective_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1)
    assert cal.effective_size(np.array([3.0, 1.0])) == pytest.approx(16 / 10)


# the ensemble ----------------------------------------------------------------------------
@pytest.fixture
def toy(tmp_path):
    import pandas as pd

    from collabsim import ensemble

    pd.DataFrame({"weight": [0.1, 0.2, 0.7], "dynamics.synergy": [0.7, 1.0, 1.5],
                  "dynamics.trust_gain": [0.3, 0.1, 0.2]}).to_csv(tmp_path / "posterior.csv",
                                                                  index=False)
    (tmp_path / "provenance.json").write_text("{}")
    return ensemble.load(tmp_path)


def test_point_estimate_is_the_weighted_median(toy):
    assert toy.median() == {"dynamics.synergy": 1.5, "dynamics.trust_gain": 0.2}


def test_draws_are_a_pure_function_of_seed_and_replicate_and_follow_the_weights(toy):
    draws = [toy.draw(11, k)["dynamics.synergy"] for k in range(3000)]
    assert draws[:50] == [toy.draw(11, k)["dynamics.synergy"] for k in range(50)]
    assert draws[:50] != [toy.draw(12, k)["dynamics.synergy"] for k in range(50)]
    shares = {v: draws.count(v) / len(draws) for v in (0.7, 1.0, 1.5)}
    # 3,000 draws: the standard error of a share is at most 0.009.
    assert shares == pytest.approx({0.7: 0.1, 1.0: 0.2, 1.5: 0.7}, abs=0.03)


def test_the_shipped_ensemble_and_its_provenance():
    from collabsim import ensemble

    ens = ensemble.load()
    prov = ens.provenance
    assert set(ens.params) == {p["parameter"] for p in prov["priors"]}
    assert len(ens) == prov["settings"]["population"] and ens.weights.sum() == pytest.approx(1)
    for j, p in enumerate(prov["priors"]):
        assert ((ens.values[:, j] >= p["low"]) & (ens.values[:, j] <= p["high"])).all()
    assert prov["model"] == cal.MODEL_NOTE  # made on the model as it now stands
    assert {t["name"] for t in prov["targets"]} == {t.name for t in targets.TARGETS}
    assert prov["epsilon_schedule"] == sorted(prov["epsilon_schedule"], reverse=True)
    assert set(ens.draw(0, 0)) == set(ens.params) and ensemble.draw(0, 0) == ens.draw(0, 0)


def test_runs_draw_from_the_ensemble_per_replicate_and_pins_win():
    from collabsim import ensemble
    from collabsim.runner import replicate_seed, run, run_replicates
    from collabsim.scenario import bundled_scenarios, load_scenario

    base = load_scenario(bundled_scenarios() / "generic.toml").with_overrides(
        {"scenario.steps": 8})
    drawn = base.with_overrides({"scenario.parameters": "ensemble"})
    runs = run_replicates(drawn, 3, 5)
    for k in range(3):
        by_hand = base.with_overrides(ensemble.draw(5, k), pin=False)
        assert run(by_hand, replicate_seed(5, k)).summary == runs.iloc[k].drop(
            "replicate").to_dict()
    assert {tuple(ensemble.draw(5, k).values()) for k in range(20)}.__len__() > 1
    pinned = drawn.with_overrides({"dynamics.synergy": 0.9})
    assert ensemble.resolve(pinned, 3)["dynamics.synergy"] == 0.9
    assert ensemble.resolve(drawn, 3)["dynamics.synergy"] == ensemble.draw(3, 0)[
        "dynamics.synergy"]
    median = base.with_overrides({"scenario.parameters": "point_estimate"})
    assert ensemble.resolve(median, 1).params == ensemble.resolve(median, 2).params
    assert ensemble.resolve(median, 1)["dynamics.synergy"] == ensemble.point_estimate()[
        "dynamics.synergy"]
    assert base["scenario.parameters"] == "ensemble"  # the default: the ensemble
    fixed = base.with_overrides({"scenario.parameters": "defaults"})
    assert ensemble.resolve(fixed, 1) is fixed  # defaults: the schema's values
    assert run(base, 5).summary == run(drawn, 5).summary


def test_run_cli_point_estimate_and_ensemble(capsys):
    argv = ["run", "generic", "-n", "2", "--steps", "8", "--json"]
    assert main(argv) == 0
    plain = json.loads(capsys.readouterr().out)
    assert main([*argv, "--point-estimate"]) == 0
    point = json.loads(capsys.readouterr().out)
    assert point["metrics"] != plain["metrics"]
    assert main([*argv, "--ensemble"]) == 0  # the default, said explicitly
    assert json.loads(capsys.readouterr().out) == plain
    assert main([*argv, "--defaults"]) == 0
    fixed = json.loads(capsys.readouterr().out)
    assert fixed["metrics"] not in (plain["metrics"], point["metrics"])
    assert [d["parameters"] for d in (plain, point, fixed)] == [
        "ensemble", "point_estimate", "defaults"]
    assert main(["run", "generic", "-n", "2", "--steps", "2"]) == 0  # the table says so
    from collabsim import ensemble

    size = len(ensemble.load())
    assert f"draws one of the calibrated ensemble's {size} parameter sets" in \
        capsys.readouterr().out.splitlines()[1]
    assert main(["run", "teaching/tokenism", "-n", "2", "--steps", "2"]) == 0
    assert "the schema's default values" in capsys.readouterr().out.splitlines()[1]
    with pytest.raises(SystemExit) as exc:
        main([*argv, "--point-estimate", "--ensemble"])
    assert exc.value.code == 2


def test_sweeps_draw_from_the_ensemble_as_single_runs_do(tmp_path):
    from collabsim import load_results, sweep
    from collabsim.runner import replicate_seed, run
    from collabsim.scenario import bundled_scenarios, load_scenario

    generic = (bundled_scenarios() / "generic.toml").as_posix()
    path = tmp_path / "sweep.toml"
    path.write_text(f"""
[sweep]
scenario = "{generic}"
replicates = 2
seed = 4
steps = 6
[parameters]
"scenario.parameters" = ["ensemble"]
"population.size" = [4]
""")
    sweep(path, tmp_path / "out")
    runs = load_results(tmp_path / "out").runs.sort_values("replicate")
    base = load_scenario(generic).with_overrides({"scenario.parameters": "ensemble",
                                                  "population.size": 4})
    for k in range(2):
        alone = run(base, replicate_seed(4, k, 0), steps=6).summary
        assert runs.iloc[k]["mean_trust"] == pytest.approx(alone["mean_trust"], abs=0)


def test_an_ensemble_that_can_vary_nothing_is_a_warning(tmp_path, capsys):
    from collabsim.scenario import bundled_scenarios, load_scenario

    saved = tmp_path / "saved.toml"  # every key written, as the dashboard saves
    saved.write_text(load_scenario(bundled_scenarios() / "generic.toml").to_toml())
    assert main(["run", str(saved), "-n", "1", "--steps", "2", "--ensemble"]) == 0
    err = capsys.readouterr().err
    assert "scenario.parameters = ensemble has no effect" in err and "saved.toml" in err
    assert main(["run", "generic", "-n", "1", "--steps", "2", "--ensemble"]) == 0
    assert "no effect" not in capsys.readouterr().err


def test_groups_collect_the_replicates_that_share_a_parameter_set():
    from collabsim import ensemble
    from collabsim.runner import replicate_seed
    from collabsim.scenario import bundled_scenarios, load_scenario

    base = load_scenario(bundled_scenarios() / "generic.toml").with_overrides(
        {"scenario.parameters": "defaults"})
    seeds = [replicate_seed(3, k) for k in range(60)]
    assert ensemble.groups(base, seeds) == [(base, list(range(60)))]
    drawn = base.with_overrides({"scenario.parameters": "ensemble"})
    found = ensemble.groups(drawn, seeds)
    assert sorted(i for _, idx in found for i in idx) == list(range(60))
    assert 1 < len(found) <= len(ensemble.load())
    for s, idx in found:
        assert all(ensemble.resolve(drawn, seeds[i]) == s for i in idx)
