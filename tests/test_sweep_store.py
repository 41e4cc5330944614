"""The sweep store under stress: locking, verified resume, damaged folders, lost workers,
signals."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings

import pandas as pd
import psutil
import pytest

from collabsim import InputError, load_results, sweep
from collabsim.cli import main
from collabsim.experiment import engine
from collabsim.experiment.engine import FolderLock, ResultsWarning

from .conftest import ROOT, SCENARIOS

ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def toy(tmp_path, model="linear", samples=40, extra="", name="toy.toml", design="lhs"):
    path = tmp_path / name
    path.write_text(f"""
[sweep]
model = "collabsim.experiment.toys:{model}"
design = "{design}"
samples = {samples}
seed = 3
{extra}
[parameters]
a = {{ range = [0.0, 1.0] }}
b = {{ range = [0.0, 1.0] }}
c = {{ range = [0.0, 1.0] }}
""")
    return path


def runs(folder):
    return load_results(folder).runs


def _interruptible() -> None:
    """In the child: Ctrl-C's default, even where this test runs under a parent that
    ignores SIGINT (as a shell does for a job it starts in the background), since an
    ignored SIGINT would stay ignored across exec."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cli(*args):
    return subprocess.Popen([sys.executable, "-m", "collabsim.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                            preexec_fn=_interruptible)


def wait_for_chunks(out, proc, n=1, timeout=60):
    deadline = time.monotonic() + timeout
    while len(list((out / "runs").glob("part-*.parquet"))) < n:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.01)


def family(pid):
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def assert_all_gone(procs, timeout=10):
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    assert not alive, f"left behind: {alive}"


# Locking ---------------------------------------------------------------------------------------
def test_a_second_process_is_refused_naming_the_holder(tmp_path, capsys):
    path = toy(tmp_path, "slow", samples=150, extra="chunk_size = 10")
    out = tmp_path / "out"
    proc = cli("sweep", path, "--out", out, "--quiet")
    try:
        wait_for_chunks(out, proc)
        for extra in ([], ["--resume"], ["--workers", "2", "--resume"]):
            assert main(["sweep", str(path), "--out", str(out), *extra]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "in use by another sweep" in err
            assert f"pid {proc.pid} on " in err and "started 20" in err
    finally:
        proc.kill()
        proc.wait()
    # The kill left the lock file, but nothing holds it: a resume goes ahead.
    assert json.loads((out / ".lock").read_text())["pid"] == proc.pid
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--quiet"]) == 0
    data = runs(out)
    assert len(data) == 150 and not data.duplicated(["point", "replicate"]).any()


def test_a_lock_held_in_this_process_blocks_a_fresh_sweep(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    lock = FolderLock(out)
    lock.acquire()
    try:
        with pytest.raises(Exception, match=f"pid {os.getpid()}"):
            sweep(toy(tmp_path), out)
        assert {p.name for p in out.iterdir()} == {".lock"}
    finally:
        lock.release()
    sweep(toy(tmp_path), out)
    assert len(runs(out)) == 40


# Verified resume --------------------------------------------------------------------------------
def chained(tmp_path, size=4):
    """A sweep whose base scenario inherits from another file."""
    (tmp_path / "parent.toml").write_text((SCENARIOS / "generic.toml").read_text())
    (tmp_path / "child.toml").write_text(
        f'[scenario]\nbase = "parent.toml"\nname = "child"\n[population]\nsize = {size}\n')
    path = tmp_path / "chain.toml"
    path.write_text('[sweep]\nscenario = "child.toml"\nreplicates = 2\nsteps = 3\n'
                    '[parameters]\n"population.initial_trust" = [0.3, 0.6]\n')
    return path


def test_manifest_fingerprints_every_input(tmp_path):
    path = chained(tmp_path)
    sweep(path, tmp_path / "out", workers=2)
    m = load_results(tmp_path / "out").manifest
    files = [f["path"] for f in m["inputs"]["scenario_files"]]
    assert files[0].endswith("child.toml") and files[1].endswith("parent.toml")
    assert all(len(f["sha256"]) == 64 for f in m["inputs"]["scenario_files"])
    assert len(m["inputs"]["sweep_file"]["sha256"]) == 64
    assert m["inputs"]["collabsim"] == m["versions"]["collabsim"]
    assert m["executor"] == {"kind": "ProcessPoolExecutor", "threads": 2}
    assert m["status"] == "complete" and m["runs"] == {"total": 4, "ok": 4, "failed": 0}


@pytest.mark.parametrize("edit", ["parent", "child", "version", "seed", "steps"])
def test_a_resume_whose_inputs_changed_is_refused_saying_what(tmp_path, capsys, monkeypatch,
                                                              edit):
    path = chained(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    before = runs(out)
    if edit == "parent":
        text = (tmp_path / "parent.toml").read_text()
        (tmp_path / "parent.toml").write_text(text + "\n# edited\n")
        expected = "parent.toml was edited"
    elif edit == "child":
        chained(tmp_path, size=12)
        expected = "child.toml was edited"
    elif edit == "version":
        real = engine.versions
        monkeypatch.setattr(engine, "versions", lambda: {**real(), "collabsim": "99.0"})
        expected = "collabsim version"
    else:
        path.write_text(path.read_text().replace("steps = 3", "steps = 3\nseed = 9")
                        if edit == "seed" else path.read_text().replace("steps = 3", "steps = 4"))
        expected = "sweep.seed 0 -> 9" if edit == "seed" else "sweep.steps 3 -> 4"
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    pd.testing.assert_frame_equal(before, runs(out))


def test_an_edited_table_is_refused_and_an_extended_one_grows(tmp_path, capsys):
    (tmp_path / "pts.csv").write_text("population.size,governance.mode\n3,nao\n5,lead\n")
    path = tmp_path / "t.toml"
    path.write_text(f'[sweep]\nscenario = "{SCENARIOS / "generic.toml"}"\ndesign = "table"\n'
                    'table = "pts.csv"\nsteps = 3\n[parameters]\n"population.size" = [3]\n'
                    '"governance.mode" = ["nao"]\n')
    out = tmp_path / "out"
    sweep(path, out)
    (tmp_path / "pts.csv").write_text("population.size,governance.mode\n4,nao\n5,lead\n")
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 2
    assert "pts.csv was edited, not only extended" in capsys.readouterr().err
    (tmp_path / "pts.csv").write_text("population.size,governance.mode\n3,nao\n5,lead\n6,nao\n")
    report = sweep(path, out, resume=True)
    assert (report.ran, report.skipped) == (1, 2)
    data = load_results(out)
    assert data.runs["population.size"].tolist() == [3, 5, 6]
    assert data.manifest["history"][-1]["points"] == [2, 3]


def test_a_bad_table_cell_is_named_by_its_own_row(tmp_path):
    # "abc" makes pandas read the whole column as text; the good rows around it still parse.
    (tmp_path / "pts.csv").write_text("population.size\n4\nabc\n7\n")
    path = tmp_path / "t.toml"
    path.write_text(f'[sweep]\nscenario = "{SCENARIOS / "generic.toml"}"\ndesign = "table"\n'
                    'table = "pts.csv"\nsteps = 2\n[parameters]\n"population.size" = [3]\n')
    with pytest.raises(InputError, match=r"population\.size \(row 2\) = 'abc' is not allowed"):
        sweep(path, tmp_path / "out")
    # a row with a cell more than the header: pandas would shift it into an index
    (tmp_path / "pts.csv").write_text("population.size\n4,6\n5\n")
    with pytest.raises(InputError, match=r"row 1 \(line 2\) has 2 cells but the header has 1"):
        sweep(path, tmp_path / "out")
    (tmp_path / "pts.csv").write_text("\npopulation.size\n4\n\n5\n  \n3,1\n")  # blank lines
    with pytest.raises(InputError, match=r"row 3 \(line 7\) has 2 cells"):
        sweep(path, tmp_path / "out")
    (tmp_path / "pts.csv").write_text("\ufeffpopulation.size\r\n4\r\n\r\n5\r\n7\r\n")
    sweep(path, tmp_path / "ok")
    assert load_results(tmp_path / "ok").runs["population.size"].tolist() == [4, 5, 7]


# Damaged folders ----------------------------------------------------------------------------------
def damage(out, how):
    chunks = sorted((out / "runs").glob("part-*.parquet"))
    if how == "truncated":
        chunks[1].write_bytes(chunks[1].read_bytes()[:300])
    elif how == "empty":
        chunks[1].write_bytes(b"")
    elif how == "garbage":
        chunks[1].write_bytes(b"PAR1 not really" * 20)
    elif how == "copy":
        (out / "runs" / f"{chunks[1].stem} (copy).parquet").write_bytes(chunks[1].read_bytes())
    elif how == "copy named as a chunk":
        (out / "runs" / "part-000099.parquet").write_bytes(chunks[1].read_bytes())
    elif how == "stray file":
        (out / "runs" / "notes.txt").write_text("mine")
    elif how == "lost points":
        for f in (out / "points").iterdir():
            f.unlink()
    elif how == "step chunk without runs":
        (out / "failures" / "part-000050.parquet").write_bytes(
            (out / "failures" / chunks[0].name).read_bytes())
    return chunks


DAMAGE = ["truncated", "empty", "garbage", "copy", "copy named as a chunk", "stray file",
          "lost points", "step chunk without runs"]


@pytest.mark.parametrize("how", DAMAGE)
def test_a_damaged_folder_resumes_to_the_same_data(tmp_path, capsys, how):
    path = toy(tmp_path, extra="chunk_size = 5", samples=30)
    sweep(path, tmp_path / "ref")
    reference = runs(tmp_path / "ref")
    out = tmp_path / "out"
    sweep(path, out)
    damage(out, how)
    assert main(["sweep", str(path), "--out", str(out), "--resume", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(line.startswith("collabsim: warning: ") for line in err.splitlines())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResultsWarning)  # the resume set every bad file aside
        data = runs(out)
    pd.testing.assert_frame_equal(reference, data)
    for table in ("runs", "failures"):
        assert all(p.suffix == ".parquet" for p in (out / table).iterdir())


@pytest.mark.parametrize("how", ["truncated", "copy", "copy named as a chunk", "stray file"])
def test_loading_a_damaged_folder_warns_and_never_duplicates(tmp_path, how):
    path = toy(tmp_path, extra="chunk_size = 5", samples=30)
    out = tmp_path / "out"
    sweep(path, out)
    damage(out, how)
    with pytest.warns(ResultsWarning):
        data = runs(out)
    assert not data.duplicated(["point", "replicate"]).any()
    assert len(data) == (25 if how == "truncated" else 30)


@pytest.mark.parametrize("resume", [[], ["--resume"]])
def test_another_commands_folder_is_named_as_such(tmp_path, capsys, resume):
    out = tmp_path / "cmp"
    assert main(["compare", "baseline", "policy/pooled_budget", "-n", "2", "--steps", "2",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sweep", str(toy(tmp_path)), "--out", str(out), *resume]) == 2
    err = capsys.readouterr().err
    assert err == (f"collabsim: error: --out {out}: holds the output of `collabsim compare`, "
                   "not a sweep; choose a new folder\n")


@pytest.mark.parametrize("text", ["", "{", '{"command": "sweep"}', "[1, 2]"])
def test_a_bad_manifest_is_one_line(tmp_path, capsys, text):
    path = toy(tmp_path)
    out = tmp_path / "out"
    sweep(path, out)
    (out / "manifest.json").write_text(text)
    assert main(["sweep", str(path), "--out", str(out), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.json: damaged" in err
    assert main(["sweep", str(path), "--out", str(out)]) == 2
    assert "already holds a sweep" in capsys.readouterr().err


def test_a_killed_start_leaves_a_folder_resume_can_use(tmp_path):
    path = toy(tmp_path)
    sweep(path, tmp_path / "ref")
    out = tmp_path / "out"
    sweep(path, out)
    for folder in ("runs", "failures", "points"):  # as if killed right after the manifest
        for f in (out / folder).iterdir():
            f.unlink()
    sweep(path, out, resume=True)
    pd.testing.assert_frame_equal(runs(tmp_path / "ref"), runs(out))


@pytest.mark.parametrize("case", ["no such model", "no scheduler", "header-only table"])
def test_a_sweep_that_cannot_start_leaves_nothing(tmp_path, capsys, monkeypatch, case):
    monkeypatch.setattr(engine, "CONNECT_SECONDS", 1)
    path, extra = toy(tmp_path), []
    if case == "no such model":
        path = toy(tmp_path, model="nosuch")
    elif case == "no scheduler":
        extra = ["--scheduler", "tcp://127.0.0.1:1"]
    else:
        (tmp_path / "pts.csv").write_text("a,b,c\n")
        path = toy(tmp_path, design="table", extra='table = "pts.csv"')
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# No lost work ----------------------------------------------------------------------------------
def test_finished_runs_are_flushed_every_few_seconds(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "FLUSH_SECONDS", 0.1)
    sweep(toy(tmp_path, "slow", samples=30, extra="chunk_size = 1000"), tmp_path / "out")
    assert len(list((tmp_path / "out" / "runs").glob("part-*.parquet"))) >= 3
    assert len(runs(tmp_path / "out")) == 30


@pytest.mark.parametrize("workers", [1, 2])
def test_a_model_that_calls_sys_exit_is_a_failed_run(tmp_path, workers):
    report = sweep(toy(tmp_path, "quits"), tmp_path / "out", workers=workers)
    data = runs(tmp_path / "out")
    failed = data[data["status"] == "failed"]
    assert len(data) == 40 and report.failed == len(failed) > 0
    assert (failed["a"] > 0.8).all() and failed["error"].eq("SystemExit: 0").all()


def test_a_run_that_kills_its_worker_is_recorded_and_the_rest_finish(tmp_path):
    # A Latin hypercube of 10 puts exactly one point in a > 0.9.
    report = sweep(toy(tmp_path, "crashes", samples=10), tmp_path / "out", workers=2)
    data = runs(tmp_path / "out")
    dead = data[data["status"] == "failed"]
    assert len(data) == 10 and report.failed == len(dead) == 1
    assert (dead["a"] > 0.9).all() and (data.loc[data["status"] == "ok", "a"] <= 0.9).all()
    assert dead["error"].str.startswith("WorkerDied").all()


def test_a_worker_killed_once_loses_nothing(tmp_path):
    path = toy(tmp_path, "slow", samples=120, extra="chunk_size = 10")
    sweep(path, tmp_path / "ref")
    out = tmp_path / "out"
    me = os.getpid()
    killed = []

    def kill_a_worker():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not killed:
            if list((out / "runs").glob("part-*.parquet")):
                workers = [p for p in family(me) if p.ppid() != me]
                if workers:
                    workers[0].kill()
                    killed.append(workers[0].pid)
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    report = sweep(path, out, workers=2)
    killer.join()
    assert killed and report.failed == 0
    pd.testing.assert_frame_equal(runs(tmp_path / "ref"), runs(out))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_saves_finished_runs_and_stops_every_worker(tmp_path, signum, code):
    path = toy(tmp_path, "slow", samples=150, extra="chunk_size = 20")
    out = tmp_path / "out"
    proc = cli("sweep", path, "--out", out, "--quiet", "--workers", "2")
    try:
        wait_for_chunks(out, proc)
        time.sleep(0.3)
        children = family(proc.pid)
        assert len(children) >= 3  # the workers, the fork server, the resource tracker
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code
    saved = int(err.split()[1])
    assert err.count("\n") == 1 and err.endswith("runs saved; resume with --resume\n")
    assert_all_gone(children)
    assert 0 < saved == len(runs(out)) < 150
    report = sweep(path, out, resume=True)
    assert report.ran == 150 - saved and report.skipped == saved
    assert len(runs(out)) == 150


# A cluster that is used ---------------------------------------------------------------------------
def most_at_once(data):
    """The largest number of runs whose [start, end] intervals overlap."""
    events = sorted([(t, 1) for t in data["start"]] + [(t, -1) for t in data["end"]],
                    key=lambda e: (e[0], e[1]))
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


def test_an_external_dask_cluster_is_kept_full(tmp_path):
    import logging

    from distributed import Client, LocalCluster

    path = toy(tmp_path, "timed", samples=64)
    with LocalCluster(n_workers=4, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        sweep(path, tmp_path / "executor", executor=client.get_executor())
        sweep(path, tmp_path / "address", scheduler=cluster.scheduler_address)
    for folder in ("executor", "address"):
        res = load_results(tmp_path / folder)
        assert most_at_once(res.runs) == 4
        used = res.manifest["executor"]
        assert (used["kind"], used["workers"], used["threads"]) == ("dask", 4, 4)
    pd.testing.assert_frame_equal(runs(tmp_path / "executor").drop(columns=["start", "end"]),
                                  runs(tmp_path / "address").drop(columns=["start", "end"]))
