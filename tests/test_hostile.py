"""Hostile input: outputs stay inside their folder, data never runs code, names are escaped.

Each test is a case from a red-team review of collabsim (file, CLI or Python API). The
promise throughout: a one-line error naming the file or option and what is allowed,
exit status 2, no traceback, and nothing already written lost or changed.
"""

import contextlib
import csv
import errno
import json
import os
import signal
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabsim import InputError, load_sweep, sweep
from collabsim.cli import main
from collabsim.compare import compare, labels
from collabsim.errors import visible
from collabsim.scenario import loads_scenario
from collabsim.store import FORMULA_START, folder_name, neutral, unique


def scenario(folder, name, size=3, stem=None, steps=3):
    """A tiny scenario file whose name is ``name`` (any characters, escaped for TOML)."""
    path = folder / f"{stem or folder_name(name)}_{size}.toml"
    path.write_text(f"[scenario]\nname = {json.dumps(name)}\ndescription = {json.dumps(name)}\n"
                    f"steps = {steps}\n"
                    f"[population]\nsize = {size}\n", encoding="utf-8")
    return str(path)


def snapshot(folder):
    """Every file under ``folder`` with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err


def no_runs(monkeypatch):
    """Make any simulation fail the test: the checks must come before the runs."""
    def forbidden(*args, **kwargs):
        raise AssertionError("a run started before --out was checked")

    monkeypatch.setattr("collabsim.cli.run_replicates_full", forbidden)
    monkeypatch.setattr("collabsim.compare.batches", forbidden)


# Outputs stay inside --out and never overwrite each other ---------------------------------
def test_scenario_names_cannot_write_outside_out(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    names = ["../ESCAPED", str(elsewhere), "..", "ok", "a\x00b", "n" * 300, "CON", ".hidden"]
    files = [scenario(tmp_path, n, stem=f"s{i}") for i, n in enumerate(names)]
    out = tmp_path / "work" / "out"
    assert main(["run", *files, "-n", "1", "--out", str(out)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(os.path.basename(f) for f in files), "work"])
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["out"]
    manifest = json.loads((out / "manifest.json").read_text())
    folders = [s["folder"] for s in manifest["scenarios"]]
    assert [s["name"] for s in manifest["scenarios"]] == names
    assert len({f.casefold() for f in folders}) == len(names)
    for folder in folders:
        assert (out / folder).resolve().parent == out.resolve()
        assert not folder.startswith(".") and len(folder.encode()) <= 100
        assert (out / folder / "runs" / "part-000000.parquet").is_file()


def test_repeated_names_get_distinct_folders_stated_in_the_manifest(tmp_path, capsys):
    files = [scenario(tmp_path, "x", 3), scenario(tmp_path, "x", 5), scenario(tmp_path, "x_2", 7),
             scenario(tmp_path, "X", 4)]
    out = tmp_path / "coll"
    assert main(["run", *files, "-n", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    sizes = {}
    for entry in manifest["scenarios"]:
        sub = json.loads((out / entry["folder"] / "manifest.json").read_text())
        sizes[entry["folder"]] = sub["scenario"]["population"]["size"]
        assert sub["scenario_file"] == entry["file"]
        assert f"wrote {out / entry['folder']}/" in printed
    assert len(sizes) == 4
    assert sorted(sizes.values()) == [3, 4, 5, 7]  # every scenario's results survive


@pytest.mark.parametrize("case", [["x", "x", "x_2"], ["x", "x", "x (2)"], ["X", "x", "x (1)"],
                                  ["a", "b"], ["same"] * 5])
def test_unique_names_are_distinct_ignoring_case_and_keep_unrepeated_names(case):
    for suffix in ("_{}", " ({})"):
        made = unique(case, suffix)
        assert len({m.casefold() for m in made}) == len(case)
        for name, new in zip(case, made, strict=True):
            assert new.startswith(name)
            if sum(c.casefold() == name.casefold() for c in case) == 1:
                assert new == name


@given(st.text(max_size=400))
def test_folder_names_are_one_safe_path_component(name):
    folder = folder_name(name)
    assert folder and folder not in (".", "..") and not folder.startswith(".")
    assert not any(c in folder for c in '/\\\x00:*?"<>|')
    assert visible(folder) == folder
    assert len(folder.encode()) <= 100


def test_compare_never_merges_two_scenarios_under_one_label(tmp_path, capsys):
    files = [scenario(tmp_path, "x", 3), scenario(tmp_path, "x", 5),
             scenario(tmp_path, "x (2)", 7, stem="xp2")]
    out = tmp_path / "cmp"
    assert main(["compare", *files, "-n", "3", "--defaults", "--out", str(out)]) == 0
    runs = pd.read_parquet(out / "runs")
    assert runs.groupby("scenario").size().tolist() == [3, 3, 3]
    members = runs.groupby("scenario", sort=False)["final_members"].first().tolist() \
        if "final_members" in runs else None
    names = json.loads((out / "manifest.json").read_text())["scenarios"]
    assert len({n["name"] for n in names}) == 3
    assert members is None or len(set(members)) == 3
    diffs = pd.read_csv(out / "differences.csv")
    assert diffs.groupby("option").size().nunique() == 1 and diffs["option"].nunique() == 2


def test_compare_labels_match_the_scenarios_in_order():
    scenarios = [loads_scenario(f'[scenario]\nname = "{n}"\n[population]\nsize = 3\n')
                 for n in ("x", "x", "x (2)")]
    assert labels(scenarios) == ["x (1)", "x (3)", "x (2)"]


def test_dollar_signs_in_names_are_text_not_mathtext(tmp_path, capsys):
    files = [scenario(tmp_path, "$\\undefinedmacro{$", 4, stem="math"),
             scenario(tmp_path, "Plan $5m vs $10m^", 4, stem="plan")]
    assert main(["compare", *files, "-n", "2", "--out", str(tmp_path / "mix")]) == 0
    assert "$\\undefinedmacro{$" in (tmp_path / "mix" / "report.html").read_text()


def test_run_refuses_a_sweeps_folder_and_leaves_it_intact(tmp_path, capsys):
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text('[sweep]\nmodel = "collabsim.experiment.toys:linear"\nreplicates = 2\n'
                          '[parameters]\na = [0.1, 0.2]\nb = [0.5]\nc = [0.5]\n')
    out = tmp_path / "clob"
    sweep(sweep_file, out, progress=False)
    before = snapshot(out)
    ok = scenario(tmp_path, "ok")
    for command in ("run", "compare"):
        assert main([command, ok, "-n", "2", "--out", str(out)]) == 2
        one_line_error(capsys, f"--out {out}", "results of a sweep", "new or empty folder")
    assert snapshot(out) == before


def test_out_refuses_a_folder_that_holds_something_else(tmp_path, capsys, monkeypatch):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    no_runs(monkeypatch)
    for command in ("run", "compare"):
        assert main([command, scenario(tmp_path, "ok"), "--out", str(out)]) == 2
        one_line_error(capsys, "holds no earlier run or compare output")
    assert snapshot(out) == {"thesis.tex": b"years of work"}


@pytest.mark.parametrize("where", ["top", "inside"])
def test_a_file_added_to_an_output_folder_is_never_replaced(tmp_path, capsys, where):
    files = [scenario(tmp_path, "a"), scenario(tmp_path, "b")]
    for command in ("run", "compare"):
        out = tmp_path / f"res_{command}"
        assert main([command, *files, "-n", "1", "--defaults", "--out", str(out)]) == 0
        notes = (out / "notes.txt") if where == "top" or command == "compare" else \
            (out / "a" / "notes.txt")
        notes.write_text("mine")
        before = snapshot(out)
        assert main([command, *files, "-n", "2", "--out", str(out)]) == 2
        one_line_error(capsys, f"holds {notes.relative_to(out)}, which no earlier {command} "
                       "wrote", "move it or choose a new folder")
        assert snapshot(out) == before
        notes.unlink()


@pytest.mark.parametrize("out", [".", "..", "", "sub/.."])
def test_out_is_never_the_current_folder(tmp_path, capsys, monkeypatch, out):
    monkeypatch.chdir(tmp_path)
    ok = scenario(tmp_path, "ok")
    no_runs(monkeypatch)
    assert main(["run", ok, "--out", out]) == 2
    one_line_error(capsys, "holds the current folder")
    assert os.listdir(tmp_path) == ["ok_3.toml"]


def test_out_is_checked_before_any_run(tmp_path, capsys, monkeypatch):
    afile = tmp_path / "afile"
    afile.write_text("x")
    no_runs(monkeypatch)
    ok = scenario(tmp_path, "ok")
    for command in ("run", "compare"):
        assert main([command, ok, "--out", str(afile)]) == 2
        one_line_error(capsys, "exists and is not a folder")
        assert main([command, ok, "--out", str(afile / "sub")]) == 2
        one_line_error(capsys, f"--out {afile / 'sub'}", "is not a folder")
    assert afile.read_text() == "x" and sorted(os.listdir(tmp_path)) == ["afile", "ok_3.toml"]


def test_a_plain_run_after_run_agents_leaves_no_stale_file(tmp_path, capsys):
    ok = scenario(tmp_path, "ok", 4)
    out = tmp_path / "st"
    assert main(["run", ok, "-n", "2", "--seed", "1", "--agents", "--out", str(out)]) == 0
    assert (out / "agents" / "part-000000.parquet").exists()
    other = scenario(tmp_path, "other", 3)
    before = snapshot(out)
    capsys.readouterr()
    assert main(["run", other, "-n", "3", "--seed", "2", "--out", str(out)]) == 2
    one_line_error(capsys, "holds an earlier run output", "--force")  # as compare does
    assert snapshot(out) == before
    assert main(["run", other, "-n", "3", "--seed", "2", "--out", str(out), "--force"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["runs/part-000000.parquet", "steps/part-000000.parquet"]
    assert sorted(snapshot(out)) == sorted(["manifest.json", *manifest["files"]])
    assert len(pd.read_parquet(out / "runs")) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_several_scenarios_then_one_replace_the_whole_folder(tmp_path, capsys):
    out = tmp_path / "o"
    files = [scenario(tmp_path, "a"), scenario(tmp_path, "b")]
    assert main(["run", *files, "-n", "1", "--out", str(out)]) == 0
    assert main(["run", files[0], "-n", "1", "--out", str(out), "--force"]) == 0
    assert sorted(snapshot(out)) == ["manifest.json", "runs/part-000000.parquet",
                                     "steps/part-000000.parquet"]


def full_disk_after(n, real):
    """A writer that works ``n`` times, then fails as a full disk does."""
    calls = []

    def write(*args, **kwargs):
        calls.append(1)
        if len(calls) > n:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, **kwargs)

    return write


def test_a_full_disk_mid_run_leaves_the_old_output_intact(tmp_path, capsys, monkeypatch):
    import collabsim.experiment.tables

    ok = scenario(tmp_path, "ok", 4)
    out = tmp_path / "full"
    assert main(["run", ok, "-n", "2", "--seed", "1", "--out", str(out)]) == 0
    before = snapshot(out)
    monkeypatch.setattr(collabsim.experiment.tables, "write_table",
                        full_disk_after(2, collabsim.experiment.tables.write_table))
    capsys.readouterr()
    assert main(["run", ok, "-n", "4", "--seed", "2", "--agents", "--out", str(out),
                 "--force"]) == 2
    one_line_error(capsys, f"--out {out}", "No space left on device", "left as it was")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full", "ok_4.toml"]


def test_a_failed_compare_write_leaves_the_old_report_intact(tmp_path, capsys, monkeypatch):
    import collabsim.report

    files = [scenario(tmp_path, "a"), scenario(tmp_path, "b")]
    out = tmp_path / "rep"
    assert main(["compare", *files, "-n", "2", "--out", str(out)]) == 0
    before = snapshot(out)
    monkeypatch.setattr(collabsim.report, "write_csv",
                        full_disk_after(1, collabsim.report.write_csv))
    assert main(["compare", *files, "-n", "3", "--seed", "4", "--out", str(out), "--force"]) == 2
    one_line_error(capsys, "No space left on device")
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["rep", *map(os.path.basename,
                                                                             files)])


def test_a_render_failure_writes_nothing(tmp_path, monkeypatch):
    import collabsim.report

    scenarios = [loads_scenario("[scenario]\nsteps = 3\n[population]\nsize = 3\n")]
    cmp = compare(scenarios, replicates=2, steps=3)

    def broken(*args):
        raise RuntimeError("render failed")

    monkeypatch.setattr(collabsim.report, "render", broken)
    with pytest.raises(RuntimeError):
        collabsim.report.write_report(cmp, tmp_path / "rep")
    assert list(tmp_path.iterdir()) == []


# Names in CSV cells and on the terminal ---------------------------------------------------
FORMULA = '=HYPERLINK("http://evil.example","click")'
ESCAPES = "evil\u001b]0;PWNED\u0007\u001b[31mRED\nfake: line\u202e"


def test_csv_cells_and_headers_never_start_a_formula(tmp_path, capsys):
    files = [scenario(tmp_path, "ref", stem="ref"), scenario(tmp_path, FORMULA, stem="f"),
             scenario(tmp_path, "+1", stem="p"), scenario(tmp_path, "@SUM(A1)", stem="at"),
             scenario(tmp_path, "\tx", stem="tab"), scenario(tmp_path, "-2", stem="m")]
    out = tmp_path / "rep"
    assert main(["compare", *files, "-n", "2", "--out", str(out)]) == 0
    cells = 0
    for table in ("runs", "summary", "differences", "wrong_pocket"):
        with (out / f"{table}.csv").open(newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    cells += 1
                    if not _is_number(cell):  # "-1" is a number to a spreadsheet, not a formula
                        assert not cell.startswith(FORMULA_START), (table, cell)
    assert cells > 100
    runs = pd.read_csv(out / "runs.csv")
    assert "'" + FORMULA in set(runs["scenario"])
    assert "'" + FORMULA in pd.read_csv(out / "summary.csv").columns


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@given(st.text(max_size=30))
def test_neutral_cells_are_safe_and_lose_nothing(text):
    cell = neutral(text)
    assert not cell.startswith(FORMULA_START)
    assert cell == text or cell == "'" + text


@given(st.text(max_size=60))
def test_visible_text_has_no_control_characters(text):
    shown = visible(text)
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in shown)
    assert "\u202e" not in shown and "\u2028" not in shown
    if text.isprintable():
        assert shown == text


def test_terminal_output_shows_escape_sequences_instead_of_obeying_them(tmp_path, capsys):
    evil = scenario(tmp_path, ESCAPES, stem="evil")
    ref = scenario(tmp_path, "ref", stem="ref")
    commands = (["run", evil, "-n", "1"], ["compare", ref, evil, "-n", "2"],
                ["validate", evil], ["list", str(tmp_path)])
    for argv in commands:
        assert main(argv) == 0
        printed = capsys.readouterr().out
        assert "\x1b" not in printed and "\x07" not in printed and "\u202e" not in printed
        assert "\\x1b[31mRED\\nfake: line" in printed
        assert not any(line.startswith("fake") for line in printed.splitlines())


def test_error_messages_show_escape_sequences(tmp_path, capsys):
    assert main(["run", str(tmp_path / "a\x1b[31m.toml")]) == 2
    err = one_line_error(capsys, "no such file")
    assert "\x1b" not in err and "a\\x1b[31m.toml" in err


# Sweep files are data: they name registered test responses, never code ---------------------
CODE = ["builtins:print", "this:x", "os:system", "evilmod:f", ".rel:x", "nosuchmod:x",
        "collabsim.experiment.toys:Generator", "collabsim.experiment.toys:register",
        "collabsim.experiment.toys", "collabsim.cli:main"]


@pytest.mark.parametrize("model", CODE)
def test_a_sweep_file_cannot_import_or_call_code(tmp_path, capsys, monkeypatch, model):
    (tmp_path / "evilmod.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('PWNED').touch()\n"
        "def f(v, rng):\n    return {'y': 1.0}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # as in a notebook: the cwd is importable
    path = tmp_path / "s.toml"
    path.write_text(f'[sweep]\nmodel = "{model}"\n[parameters]\na = [1, 2]\n')
    with pytest.raises(InputError, match=r"sweep\.model .* registered test response"):
        sweep(path, tmp_path / "py")
    with pytest.raises(InputError):
        load_sweep(path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "cli")]) == 2
    one_line_error(capsys, f"{path}: sweep.model = {model!r} is not allowed",
                   "collabsim.experiment.toys:ishigami")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evilmod.py", "s.toml"]


def test_registered_test_responses_still_run(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "collabsim.experiment.toys:linear"\nreplicates = 2\n'
                    "[parameters]\na = [0.0, 1.0]\nb = [0.0]\nc = [0.0]\n")
    report = sweep(path, tmp_path / "out", progress=False)
    assert (report.total, report.failed) == (4, 0)


# Resources: sizes that cannot fit, files that never end, nesting without end ----------------
def test_a_population_too_large_for_memory_is_refused_with_the_memory_it_needs(tmp_path, capsys):
    big = tmp_path / "big.toml"
    big.write_text("[population]\nsize = 100000\n")
    assert main(["run", str(big), "-n", "1"]) == 2
    one_line_error(capsys, f"{big}: population.size = 100000", "[0, 5000]")
    orgs = "".join(f'[[organisation]]\nname = "o{i}"\nsector = "health"\n' for i in range(40))
    listed = tmp_path / "listed.toml"
    listed.write_text(f"[population]\nsize = 4990\n{orgs}")
    assert main(["validate", str(listed)]) == 2
    err = one_line_error(capsys, f"{listed}: population.size = 4990", "5030 members",
                         "GiB of memory", "at most 5000")
    assert "1.9 GiB" in err  # 80 bytes x 5030 squared
    listed.write_text(f"[population]\nsize = 3\n{orgs}")
    assert main(["run", str(listed), "--set", "population.size=4961", "-n", "1"]) == 2
    one_line_error(capsys, "--set: population.size = 4961", "5001 members")


def test_sweep_steps_are_capped_like_scenario_steps(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(f'[sweep]\nscenario = "{tmp_path / "ok_3.toml"}"\nsteps = 100000\n'
                    '[parameters]\n"population.size" = [3]\n')
    scenario(tmp_path, "ok")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys, f"{path}: sweep.steps = 100000", "[0, 2000]")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("workers", ["1000", str(4 * (os.cpu_count() or 1) + 1)])
def test_workers_are_bounded(tmp_path, capsys, workers):
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o"),
              "--workers", workers])
    assert exit_.value.code == 2
    one_line_error(capsys, f"--workers: {workers} is more than 4 per CPU core")
    assert list(tmp_path.iterdir()) == []


def read_in_subprocess(path, command="validate"):
    """Run the CLI in a child process that cannot hang the tests or fill their memory."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "collabsim.cli", command, str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("kind", ["dev_zero", "fifo", "directory", "oversize", "dev_null"])
def test_only_regular_files_of_bounded_size_are_read(tmp_path, kind):
    path = tmp_path / "evil.toml"
    if kind == "dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "dev_null":
        path.symlink_to("/dev/null")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        path.write_text("# " + "x" * 1_000_000 + "\n[population]\nsize = 3\n")
    res = read_in_subprocess(path)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert str(path) in res.stderr
    assert {"dev_zero": "not a regular file", "dev_null": "not a regular file",
            "fifo": "not a regular file", "directory": "is a directory",
            "oversize": "larger than 1,000,000 bytes"}[kind] in res.stderr


DEEP = {
    "inline tables": "a = " + "{b = " * 500 + "1" + "}" * 500,
    "arrays": "a = " + "[" * 5000 + "]" * 5000,
    "just too deep": "[population]\nsize = " + "[" * 16 + "]" * 16,
    "tables": "[" + ".".join(["t"] * 300) + "]\nx = 1",
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_nesting_is_a_one_line_error(tmp_path, capsys, case):
    path = tmp_path / "n.toml"
    path.write_text(DEEP[case] + "\n")
    assert main(["validate", str(path)]) == 2
    one_line_error(capsys, f"{path}: tables or arrays are nested more than 16 deep")
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(DEEP[case] + "\n")
    assert main(["sweep", str(sweep_file), "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys, "nested more than 16 deep")
    with pytest.raises(InputError, match="nested"):
        loads_scenario(DEEP[case])


def base_chain(folder, n):
    """``s0.toml`` starting from ``s1.toml``, ... from ``s{n}.toml``."""
    for i in range(n):
        (folder / f"s{i}.toml").write_text(f'[scenario]\nbase = "s{i + 1}.toml"\n')
    (folder / f"s{n}.toml").write_text("[population]\nsize = 3\n")
    return folder / "s0.toml"


def test_base_chains_are_bounded_and_list_carries_on(tmp_path, capsys):
    assert main(["validate", str(base_chain(tmp_path, 32))]) == 0
    capsys.readouterr()
    long = tmp_path / "long"
    long.mkdir()
    first = base_chain(long, 1100)
    assert main(["validate", str(first)]) == 2
    one_line_error(capsys, "scenario.base", "more than 32 base scenarios")
    (long / "zz_deep.toml").write_text(DEEP["inline tables"] + "\n")
    os.mkfifo(long / "zz_pipe.toml")
    assert main(["list", str(long)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 1103
    assert sum("INVALID" in line for line in listing) > 1000
    by_name = {line.split()[0]: line for line in listing}
    assert "INVALID" not in by_name["s1100"] and "INVALID" not in by_name["s1090"]
    assert "nested more than 16 deep" in by_name["zz_deep"]
    assert "not a regular file" in by_name["zz_pipe"]


def test_a_base_that_is_a_symlink_loop_or_folder_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "loop.toml").symlink_to(tmp_path / "loop.toml")
    (tmp_path / "a.toml").write_text('[scenario]\nbase = "loop.toml"\n')
    assert main(["validate", str(tmp_path / "a.toml")]) == 2
    one_line_error(capsys, "scenario.base = 'loop.toml'")
    (tmp_path / "dir.toml").mkdir()
    (tmp_path / "b.toml").write_text('[scenario]\nbase = "dir.toml"\n')
    assert main(["validate", str(tmp_path / "b.toml")]) == 2
    one_line_error(capsys, "is a directory")


def test_sweep_out_under_a_file_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "collabsim.experiment.toys:linear"\n'
                    "[parameters]\na = [0.1]\nb = [0.5]\nc = [0.5]\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "afile" / "sub")]) == 2
    one_line_error(capsys, "afile is not a folder")
    assert (tmp_path / "afile").read_text() == "x"


@pytest.mark.parametrize("design", ["grid", "lhs", "sobol", "morris"])
def test_design_size_is_known_before_sampling(tmp_path, design):
    from collabsim.experiment.design import points, size

    path = tmp_path / "s.toml"
    for second in ("false", "true"):
        path.write_text(f'[sweep]\nmodel = "collabsim.experiment.toys:linear"\n'
                        f'design = "{design}"\nsamples = 8\nsecond_order = {second}\n'
                        "[parameters]\na = { range = [0.0, 1.0], points = 3 }\n"
                        "b = [0.1, 0.2]\nc = { range = [0.0, 1.0], points = 4 }\n")
        spec = load_sweep(path)
        assert size(spec) == len(points(spec))


def test_a_design_too_large_to_hold_is_refused_before_anything_is_written(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text('[sweep]\nmodel = "collabsim.experiment.toys:linear"\n[parameters]\n'
                    + "".join(f"{k} = {{ range = [0, 1], points = 10000 }}\n" for k in "abc"))
    assert main(["sweep", str(path), "--out", str(tmp_path / "o")]) == 2
    one_line_error(capsys, f"{path}: parameters: the grid design would have "
                   "1,000,000,000,000 points; at most 1,000,000")
    assert not (tmp_path / "o").exists()


def test_a_reader_that_stops_reading_loses_no_output_folder(tmp_path):
    """`collabsim run ... --out DIR | head -c1`: the table cannot be printed in full, but
    the folder is still written and the command succeeds (it lost its folder before)."""
    import subprocess
    import sys

    out = tmp_path / "res"
    # Buffered output, as outside this test runner: the table then meets the closed pipe
    # only at the last flush.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([sys.executable, "-m", "collabsim.cli", "run", "generic", "-n", "3",
                             "--steps", "4", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is printed
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert err == ""
    assert len(pd.read_parquet(out / "runs")) == 3
    assert json.loads((out / "manifest.json").read_text())["replicates"] == 3


def test_a_library_warning_is_printed_not_a_crash(monkeypatch, capsys):
    """A warning that is not collabsim's own, raised while a command runs, is printed as
    Python prints it; it used to end the command with a TypeError."""
    import warnings

    import collabsim.cli as cli

    def noisy(args):
        warnings.warn("a library's own warning", UserWarning, stacklevel=1)
        print("done")
        return 0

    monkeypatch.setattr(cli, "cmd_list", noisy)
    assert cli.main(["list"]) == 0
    out, err = capsys.readouterr()
    assert out == "done\n" and "UserWarning: a library's own warning" in err


def test_ctrl_c_is_one_line_and_status_130(monkeypatch, capsys):
    import collabsim.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_list", interrupted)
    assert cli.main(["list"]) == 130
    assert capsys.readouterr().err == "collabsim: interrupted\n"


@pytest.mark.parametrize(("code", "status", "hint"), [
    (errno.ENOSPC, 1, "--resume continues"), (errno.EROFS, 2, "--resume continues")])
def test_a_write_that_fails_is_one_line_not_a_traceback(monkeypatch, capsys, code, status, hint):
    """A full disk or a read-only folder met while a command writes (a plot, an analysis, a
    sweep's chunk) ends in one line naming the path; a sweep adds how to go on."""
    import collabsim.cli as cli

    def failing(args):
        raise OSError(code, os.strerror(code), "results/x/runs/part-000003.parquet")

    monkeypatch.setattr(cli, "cmd_sweep", failing)
    assert cli.main(["sweep", "s.toml", "--out", "o"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("collabsim: error: results/x/runs/part-000003.parquet: cannot write (")
    assert hint in err


def _group(pgid):
    """Processes of a process group (ps), so a test can see what outlived its command."""
    import subprocess

    out = subprocess.run(["ps", "-eo", "pid=,pgid="], capture_output=True, text=True,
                         check=True).stdout
    return [int(p) for p, g in (line.split() for line in out.splitlines() if line.strip())
            if int(g) == pgid]


def _gone(pgid, seconds=15.0):
    import time

    deadline = time.monotonic() + seconds
    while _group(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = _group(pgid)
    for pid in left:  # never leave them behind, even when the test fails
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return not left


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ps and process groups")
@pytest.mark.parametrize(("argv", "sig", "status", "procs"), [
    (["patterns", "--quick", "--workers", "2"], signal.SIGTERM, 143, 3),  # stopped on the way
    (["sweep", "SWEEP", "--out", "OUT", "--workers", "2", "--quiet"], signal.SIGKILL, -9, 3),
    (["app", "--port", "PORT"], signal.SIGKILL, -9, 2),  # the dashboard's server
])
def test_no_worker_outlives_its_command(tmp_path, argv, sig, status, procs):
    """SIGTERM ends a command with workers in one line and takes its pool with it; after a
    SIGKILL, which the command cannot handle, its children notice and exit by themselves."""
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text('[sweep]\nscenario = "generic"\nreplicates = 400\n[parameters]\n'
                          '"population.size" = [4, 8, 12, 16]\n')
    argv = [{"SWEEP": str(sweep_file), "OUT": str(tmp_path / "o"), "PORT": port}.get(a, a)
            for a in argv]
    proc = subprocess.Popen([sys.executable, "-m", "collabsim.cli", *argv],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(_group(proc.pid)) < procs:  # the command and its children are up
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.1)
    time.sleep(1.0)
    os.kill(proc.pid, sig)
    assert proc.wait(timeout=60) == status
    assert _gone(proc.pid), "worker processes outlived the command"
    if sig == signal.SIGTERM:
        assert proc.stderr is not None
        assert proc.stderr.read().decode() == "collabsim: terminated\n"
