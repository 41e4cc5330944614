"""The experiment engine: designs, executors, the resumable store, analysis."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from collabsim import load_results, load_sweep, sweep
from collabsim.cli import main
from collabsim.errors import InputError
from collabsim.experiment import sensitivity
from collabsim.experiment.design import points

from .conftest import ROOT, SCENARIOS

GENERIC = (SCENARIOS / "generic.toml").as_posix()


def write(tmp_path, text, name="sweep.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def model_sweep(tmp_path, replicates=2, extra=""):
    return write(tmp_path, f"""
[sweep]
scenario = "{GENERIC}"
replicates = {replicates}
seed = 11
steps = 6
chunk_size = 7
{extra}
[parameters]
"governance.mode" = ["shared", "nao"]
"population.size" = [3, 6]
"population.initial_trust" = {{ range = [0.2, 0.8], points = 3 }}
""")


def toy_sweep(tmp_path, model, design="sobol", samples=128, extra="", names=("x1", "x2", "x3")):
    params = "\n".join(f"{n} = {{ range = [0.0, 1.0] }}" for n in names)
    return write(tmp_path, f"""
[sweep]
model = "collabsim.experiment.toys:{model}"
design = "{design}"
samples = {samples}
seed = 5
{extra}
[parameters]
{params}
""", name=f"{model}_{design}.toml")


def runs(folder):
    return load_results(folder).runs


# Designs -----------------------------------------------------------------------------------
def test_grid_is_the_full_factorial(tmp_path):
    spec = load_sweep(model_sweep(tmp_path))
    pts = points(spec)
    assert len(pts) == 2 * 2 * 3
    assert set(pts["population.initial_trust"]) == {0.2, 0.5, 0.8}
    assert pts["point"].tolist() == list(range(12))


@pytest.mark.parametrize(("design", "expected"), [("lhs", 40), ("sobol", 32 * 5),
                                                  ("morris", 10 * 4)])
def test_sampling_designs_have_the_documented_size(tmp_path, design, expected):
    samples = {"lhs": 40, "sobol": 32, "morris": 10}[design]
    spec = load_sweep(toy_sweep(tmp_path, "linear", design, samples, names=("a", "b", "c")))
    pts = points(spec)
    assert len(pts) == expected
    for name in ("a", "b", "c"):
        assert pts[name].between(0.0, 1.0).all()


def test_sampled_levels_and_integers_respect_the_schema(tmp_path):
    path = write(tmp_path, f"""
[sweep]
scenario = "{GENERIC}"
design = "lhs"
samples = 30
[parameters]
"governance.mode" = ["shared", "lead", "nao"]
"population.size" = {{ range = [2, 40] }}
""")
    pts = points(load_sweep(path))
    assert set(pts["governance.mode"]) == {"shared", "lead", "nao"}
    assert pts["population.size"].between(2, 40).all()
    assert (pts["population.size"] == pts["population.size"].round()).all()


def test_table_design_reads_and_validates_csv(tmp_path):
    (tmp_path / "pts.csv").write_text("population.size,governance.mode\n3,nao\n5,lead\n")
    path = write(tmp_path, f"""
[sweep]
scenario = "{GENERIC}"
design = "table"
table = "pts.csv"
[parameters]
"population.size" = [3]
"governance.mode" = ["nao"]
""")
    pts = points(load_sweep(path))
    assert pts["governance.mode"].tolist() == ["nao", "lead"]
    (tmp_path / "pts.csv").write_text("population.size,governance.mode\n3,broker\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


BAD_SWEEPS = {
    "unknown setting": ('[sweep]\nscenario = "{g}"\nreplicate = 2\n[parameters]\n'
                        '"population.size" = [3]\n', "did you mean 'sweep.replicates'"),
    "unknown parameter": ('[sweep]\nscenario = "{g}"\n[parameters]\n"population.sise" = [3]\n',
                          "did you mean 'population.size'"),
    "bad level": ('[sweep]\nscenario = "{g}"\n[parameters]\n"governance.mode" = ["boss"]\n',
                  "parameters.governance.mode = 'boss'"),
    "bad range": ('[sweep]\nscenario = "{g}"\ndesign = "lhs"\n[parameters]\n'
                  '"population.initial_trust" = {{ range = [0.5, 1.5] }}\n',
                  "parameters.population.initial_trust = 1.5"),
    "levels and range": ('[sweep]\nscenario = "{g}"\n[parameters]\n'
                         '"population.size" = {{ levels = [4], range = [1, 2] }}\n',
                         "give levels, or a range (with points), not both"),
    "grid range": ('[sweep]\nscenario = "{g}"\n[parameters]\n'
                   '"population.initial_trust" = {{ range = [0.1, 0.5] }}\n', "without points"),
    "bad design": ('[sweep]\nscenario = "{g}"\ndesign = "sobel"\n[parameters]\n'
                   '"population.size" = [3]\n', "did you mean 'sobol'"),
    "no scenario": ('[sweep]\n[parameters]\n"population.size" = [3]\n', "sweep.scenario"),
    "no parameters": ('[sweep]\nscenario = "{g}"\n', "parameters is missing"),
    "malformed": ('[sweep\n', "malformed TOML"),
    "invalid point": ('[sweep]\nscenario = "{g}"\n[parameters]\n"population.size" = [1]\n',
                      "at least 2 members"),
}


@pytest.mark.parametrize("case", sorted(BAD_SWEEPS))
def test_bad_sweep_files_exit_2_naming_the_key(tmp_path, capsys, case):
    text, fragment = BAD_SWEEPS[case]
    path = write(tmp_path, text.format(g=GENERIC))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# Executors and determinism ----------------------------------------------------------------------
def test_results_are_identical_across_workers_and_executors(tmp_path):
    path = model_sweep(tmp_path)
    sweep(path, tmp_path / "one", workers=1)
    sweep(path, tmp_path / "two", workers=2)
    sweep(path, tmp_path / "dask", workers=2, scheduler="local")
    with ThreadPoolExecutor(3) as pool:
        sweep(path, tmp_path / "threads", executor=pool)
    reference = runs(tmp_path / "one")
    assert len(reference) == 24 and (reference["status"] == "ok").all()
    for other in ("two", "dask", "threads"):
        pd.testing.assert_frame_equal(reference, runs(tmp_path / other))
    assert reference["collaborative_advantage"].nunique() > 12


def test_kept_step_tables_line_up_with_runs(tmp_path):
    path = model_sweep(tmp_path, replicates=1, extra="keep_steps = true")
    sweep(path, tmp_path / "out", workers=2)
    res = load_results(tmp_path / "out")
    assert len(res.steps) == 12 * 6
    last = res.steps.groupby(["point", "replicate"]).last()["advantage"].to_numpy()
    pd.testing.assert_series_equal(
        pd.Series(last), pd.Series(res.runs["collaborative_advantage"].to_numpy()),
        check_names=False)
    assert set(res.metrics["metric"]) >= {"mean_trust", "retention"}


def test_a_failing_run_is_recorded_and_the_rest_finish(tmp_path):
    path = toy_sweep(tmp_path, "fragile", design="lhs", samples=50, names=("a", "b", "c"))
    report = sweep(path, tmp_path / "out")
    data = runs(tmp_path / "out")
    failed = data[data["status"] == "failed"]
    assert report.failed == len(failed) > 0
    assert len(data) == 50
    assert (failed["a"] > 0.8).all() and (data.loc[data["status"] == "ok", "a"] <= 0.8).all()
    assert failed["error"].str.startswith("RuntimeError: fragile").all()
    assert failed["traceback"].str.contains("Traceback").all()
    assert failed["y"].isna().all()


def test_resume_finishes_only_what_is_missing(tmp_path):
    path = model_sweep(tmp_path)
    sweep(path, tmp_path / "full")
    sweep(path, tmp_path / "part")
    # Lose the last chunk, as if the sweep had been killed before writing it.
    store = sorted((tmp_path / "part" / "runs").glob("part-*.parquet"))
    store[-1].unlink()
    (tmp_path / "part" / "runs" / ".part-000009.parquet.tmp").write_text("half written")
    with pytest.raises(Exception, match="--resume"):
        sweep(path, tmp_path / "part")
    report = sweep(path, tmp_path / "part", resume=True)
    assert report.skipped == 24 - report.ran and 0 < report.ran < 24
    pd.testing.assert_frame_equal(runs(tmp_path / "full"), runs(tmp_path / "part"))
    assert not list((tmp_path / "part" / "runs").glob(".*"))


def test_a_sweep_grown_from_2_to_5_replicates_runs_only_the_new_ones(tmp_path):
    path = model_sweep(tmp_path, replicates=2)
    sweep(path, tmp_path / "grown")
    report = sweep(model_sweep(tmp_path, replicates=5), tmp_path / "grown", resume=True)
    assert (report.ran, report.skipped, report.total) == (12 * 3, 12 * 2, 12 * 5)
    sweep(model_sweep(tmp_path, replicates=5), tmp_path / "scratch")
    grown, scratch = load_results(tmp_path / "grown"), load_results(tmp_path / "scratch")
    pd.testing.assert_frame_equal(scratch.runs, grown.runs)
    assert grown.manifest["history"][0]["replicates"] == [2, 5]


def test_a_resumed_sweep_from_before_member_keeps_one_schema(tmp_path):
    """Runs chunks written before the runs table declared ``member`` get it, as nulls, when
    the sweep is resumed, so every chunk keeps the table's full schema."""
    import pyarrow.parquet as pq

    sweep(model_sweep(tmp_path, replicates=2), tmp_path / "old")
    for chunk in sorted((tmp_path / "old" / "runs").glob("*.parquet")):  # an older layout
        table = pq.read_table(chunk)
        pq.write_table(table.drop_columns(["member"]), chunk)
    sweep(model_sweep(tmp_path, replicates=3), tmp_path / "old", resume=True)
    chunks = sorted((tmp_path / "old" / "runs").glob("*.parquet"))
    assert len({tuple(pq.read_schema(c).names) for c in chunks}) == 1
    runs = pd.read_parquet(tmp_path / "old" / "runs")
    assert runs.loc[runs["replicate"] < 2, "member"].isna().all()
    assert runs.loc[runs["replicate"] == 2, "member"].notna().all()


def test_more_sobol_samples_grow_the_same_design(tmp_path):
    sweep(toy_sweep(tmp_path, "linear", samples=8, names=("a", "b")), tmp_path / "grown")
    path = toy_sweep(tmp_path, "linear", samples=16, names=("a", "b"))
    report = sweep(path, tmp_path / "grown", resume=True)
    assert (report.ran, report.skipped) == (16 * 4 - 8 * 4, 8 * 4)
    sweep(path, tmp_path / "scratch")
    pd.testing.assert_frame_equal(runs(tmp_path / "scratch"), runs(tmp_path / "grown"))
    pd.testing.assert_frame_equal(load_results(tmp_path / "scratch").points,
                                  load_results(tmp_path / "grown").points)


def test_extra_levels_grow_a_grid(tmp_path):
    path = model_sweep(tmp_path)
    sweep(path, tmp_path / "out")
    path.write_text(path.read_text().replace('["shared", "nao"]', '["shared", "nao", "lead"]'))
    report = sweep(path, tmp_path / "out", resume=True)
    assert (report.ran, report.skipped) == (12, 24)
    data = load_results(tmp_path / "out")
    assert data.points["point"].tolist() == list(range(18))
    assert set(data.runs.loc[data.runs["point"] >= 12, "governance.mode"]) == {"lead"}
    assert (data.runs.groupby("point").size() == 2).all()


@pytest.mark.parametrize(("old", "new", "says"), [
    ('replicates = 2', 'replicates = 1', "sweep.replicates 2 -> 1 (a sweep can only grow)"),
    ('["shared", "nao"]', '["shared", "lead"]', "parameters.governance.mode lost levels"),
    ('range = [0.2, 0.8]', 'range = [0.2, 0.9]', "parameters.population.initial_trust range"),
    ('"population.size" = [3, 6]', '"population.size" = [3, 6]\n"population.goal_conflict" = [0.5]',
     "parameters governance.mode"),
])
def test_a_resume_refuses_any_change_but_growth(tmp_path, capsys, old, new, says):
    path = model_sweep(tmp_path)
    sweep(path, tmp_path / "out")
    path.write_text(path.read_text().replace(old, new))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


def test_a_resume_refuses_runs_from_another_calibrated_ensemble(tmp_path, capsys, monkeypatch):
    """A sweep whose runs draw from the ensemble records its posterior's digest: after a
    recalibration the member numbers would name other parameter sets, so a resume is
    refused; a sweep that pins one parameter set records none and is unaffected."""
    from dataclasses import replace

    from collabsim import ensemble

    path = model_sweep(tmp_path)
    sweep(path, tmp_path / "out")
    assert load_results(tmp_path / "out").manifest["inputs"]["ensemble"] == \
        ensemble.load().digest
    write(tmp_path, '[scenario]\nbase = "generic"\nparameters = "defaults"\n', "fixed.toml")
    fixed = write(tmp_path, path.read_text().replace(GENERIC, "fixed.toml"), "fixed_sweep.toml")
    sweep(fixed, tmp_path / "fixed")
    assert load_results(tmp_path / "fixed").manifest["inputs"]["ensemble"] is None
    recalibrated = replace(ensemble.load(), digest="0" * 64)
    monkeypatch.setattr(ensemble, "load", lambda folder=None: recalibrated)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the calibrated ensemble the runs draw from" in err
    assert main(["sweep", str(fixed), "--out", str(tmp_path / "fixed"), "--resume",
                 "--quiet"]) == 0


def test_more_lhs_samples_are_refused(tmp_path, capsys):
    sweep(toy_sweep(tmp_path, "linear", design="lhs", samples=8), tmp_path / "out")
    path = toy_sweep(tmp_path, "linear", design="lhs", samples=12)
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--resume"]) == 2
    assert "the design's points changed" in capsys.readouterr().err


def test_sweep_killed_with_sigkill_resumes_to_the_same_data(tmp_path):
    path = toy_sweep(tmp_path, "slow", design="lhs", samples=150, extra="chunk_size = 10",
                     names=("a", "b", "c"))
    sweep(path, tmp_path / "full")
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "collabsim.cli", "sweep", str(path), "--out", str(out),
           "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    deadline = time.monotonic() + 60
    while len(list((out / "runs").glob("part-*.parquet"))) < 3:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(runs(out))
    assert 0 < done < 150
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--quiet"]) == 0
    resumed = runs(out)
    assert len(resumed) == 150 and not resumed.duplicated(["point", "replicate"]).any()
    pd.testing.assert_frame_equal(runs(tmp_path / "full"), resumed)


# Analysis ---------------------------------------------------------------------------------------
def test_sobol_recovers_the_ishigami_ordering(tmp_path):
    sweep(toy_sweep(tmp_path, "ishigami", samples=512), tmp_path / "out")
    table = sensitivity(load_results(tmp_path / "out"), "sobol", ["y"]).table.set_index("parameter")
    st, s1 = table["ST"], table["S1"]
    assert st["x1"] > st["x2"] > st["x3"] > 0.1  # analytic: 0.56, 0.44, 0.24
    assert abs(s1["x3"]) < 0.1  # x3 acts only through its interaction with x1
    assert s1["x2"] > s1["x1"] > s1["x3"]  # analytic: 0.44, 0.31, 0


def test_morris_recovers_a_linear_ordering(tmp_path):
    sweep(toy_sweep(tmp_path, "linear", design="morris", samples=20, names=("a", "b", "c")),
          tmp_path / "out")
    found = sensitivity(load_results(tmp_path / "out"), "morris", ["y"])
    table = found.table.set_index("parameter")
    mu = table["mu_star"]
    assert mu["a"] > mu["b"] > mu["c"] > 0
    assert mu["a"] == pytest.approx(4.0, rel=0.05)


def test_analyze_and_plot_the_model(tmp_path, capsys):
    path = write(tmp_path, f"""
[sweep]
scenario = "{GENERIC}"
design = "sobol"
samples = 8
steps = 8
[parameters]
"population.initial_trust" = {{ range = [0.1, 0.9] }}
"population.goal_conflict" = {{ range = [0.0, 1.0] }}
"governance.deliberation_rounds" = {{ range = [0, 4] }}
""")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2"]) == 0
    assert main(["analyze", str(tmp_path / "out"), "--method", "sobol",
                 "--metric", "mean_trust", "--metric", "decision_success_rate"]) == 0
    printed = capsys.readouterr().out
    assert "population.goal_conflict" in printed
    table = pd.read_csv(tmp_path / "out" / "analysis" / "sobol_indices.csv")
    assert len(table) == 6 and set(table.columns) >= {"S1", "S1_conf", "ST", "ST_conf"}
    assert (tmp_path / "out" / "analysis" / "sobol_indices.png").stat().st_size > 5000
    assert main(["plot", str(tmp_path / "out"), "--x", "population.initial_trust",
                 "--metric", "mean_trust"]) == 0
    assert main(["plot", str(tmp_path / "out"), "--x", "population.initial_trust",
                 "--y", "population.goal_conflict", "--metric", "mean_trust"]) == 0
    assert len(list((tmp_path / "out" / "plots").glob("*.png"))) == 2
    assert main(["analyze", str(tmp_path / "out"), "--method", "morris"]) == 2
    assert main(["plot", str(tmp_path / "out"), "--x", "nope", "--metric", "mean_trust"]) == 2


def test_sweep_names_bundled_scenarios_and_records_their_chain(tmp_path):
    """A sweep's scenario may be a bundled short name, as on the command line; the manifest
    lists the files it read, following a base that is itself a bundled short name."""
    text = model_sweep(tmp_path).read_text().replace(GENERIC, "generic")
    spec = load_sweep(write(tmp_path, text))
    assert Path(spec.base.source).resolve() == (SCENARIOS / "generic.toml").resolve()
    write(tmp_path, '[scenario]\nbase = "generic"\nname = "mine"\n', name="mine.toml")
    path = write(tmp_path, text.replace('"generic"', '"mine.toml"'), name="mine_sweep.toml")
    sweep(path, tmp_path / "out", workers=1)
    files = [f["path"] for f in load_results(tmp_path / "out").manifest["inputs"]
             ["scenario_files"]]
    assert [os.path.basename(f) for f in files] == ["mine.toml", "generic.toml"]
    with pytest.raises(InputError, match=r"sweep\.scenario.*no such file"):
        load_sweep(write(tmp_path, text.replace('"generic"', '"nowhere"'), name="bad.toml"))
    # relative to the sweep file or bundled, never to the current folder
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "mine.toml").rename(elsewhere / "mine.toml")
    (elsewhere / "sweeps").mkdir()
    moved = write(elsewhere / "sweeps", text.replace('"generic"', '"mine.toml"'))
    cwd = os.getcwd()
    try:
        os.chdir(elsewhere)
        with pytest.raises(InputError, match=r"sweep\.scenario.*no such file"):
            load_sweep(moved)
    finally:
        os.chdir(cwd)


def test_manifest_records_provenance(tmp_path):
    path = model_sweep(tmp_path)
    sweep(path, tmp_path / "out", workers=2)
    m = load_results(tmp_path / "out").manifest
    assert m["status"] == "complete" and m["runs"] == {"total": 24, "ok": 24, "failed": 0}
    assert len(m["inputs"]["sweep_file"]["sha256"]) == 64
    assert m["inputs"]["scenario_files"][0]["path"] == GENERIC
    assert m["design"]["kind"] == "grid" and m["design"]["points"] == 12
    assert m["versions"]["SALib"] != "not installed" and m["versions"]["mesa"].startswith("3.5")
    assert m["seeds"]["seed"] == 11
    assert m["layout"]["runs"] == "runs/part-*.parquet"
