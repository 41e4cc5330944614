"""The package works outside a source checkout: built as a wheel, installed with its extras."""

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT

IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "artifacts", "results",
                                "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
                                ".ruff_cache")


def run(args, cwd, env=None, timeout=300):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_installs_with_its_extras_and_runs_outside_the_repository(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, symlinks=True, ignore=IGNORE)
    wheels = tmp_path / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
         str(source)], cwd=tmp_path)
    (wheel,) = wheels.glob("collabsim-*.whl")
    venv = tmp_path / "fresh"
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    bin_ = venv / "bin"
    run([str(bin_ / "python"), "-m", "pip", "install", "-q", "--no-compile",
         "-c", str(ROOT / "requirements" / "constraints.txt"), f"{wheel}[app]"], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    listing = run([str(bin_ / "collabsim"), "list"], cwd=elsewhere, env=env)
    names = [line.split()[0] for line in listing.splitlines()]
    assert {"baseline", "teaching/tokenism", "policy/status_quo"} <= set(names)
    assert "INVALID" not in listing  # bases between bundled files resolve inside the wheel

    table = run([str(bin_ / "collabsim"), "run", "baseline", "-n", "2", "--steps", "8",
                 "--defaults"], cwd=elsewhere, env=env)
    assert table.startswith("baseline: 2 replicates, seed 0, 8 steps")
    drawn = run([str(bin_ / "collabsim"), "run", "baseline", "-n", "2", "--steps", "8"],
                cwd=elsewhere, env=env)  # the ensemble (the default) ships as package data
    assert drawn.startswith("baseline: 2 replicates") and drawn != table

    preset = run([str(bin_ / "python"), "-c",
                  "import collabsim, collabsim.app as a\n"
                  "s = a.load_scenario(a.presets()['tokenism'])\n"
                  "m = a.build(s, a.control_values(s), 1).run(4)\n"
                  "print(collabsim.__file__, m.p.name, m.steps, len(a.presets()))"],
                 cwd=elsewhere, env=env)
    where, name, steps, count = preset.split()
    assert where.startswith(str(venv)) and name == "tokenism" and steps == "4" and count == "7"
