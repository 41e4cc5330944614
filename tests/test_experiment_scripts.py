"""The study scripts under experiments/ run, and what they print obeys the model's laws."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_tension_prints_one_row_per_lever_and_a_definition_changes_no_behaviour():
    script = ROOT / "experiments" / "tension.py"
    out = subprocess.run([sys.executable, str(script), "--replicates", "4", "--survey", "4"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    rows = {cells[1]: cells[2:-1] for line in out.splitlines()[2:]
            if (cells := [c.strip() for c in line.split("|")])}
    sys.path.insert(0, str(script.parent))
    try:
        from tension import LEVERS
    finally:
        sys.path.remove(str(script.parent))
    assert list(rows) == [name for name, _ in LEVERS]
    base, margin = rows["the defaults"], rows["success margin 0.1 (a definition)"]
    # The success margin only labels members' verdicts: every run is the same ...
    assert margin[:4] == base[:4]
    # ... and a lower bar for success can only add successful members.
    assert float(margin[4].rstrip("%")) >= float(base[4].rstrip("%"))


def _feasibility():
    script = ROOT / "experiments" / "feasibility.py"
    sys.path.insert(0, str(script.parent))
    try:
        import feasibility
    finally:
        sys.path.remove(str(script.parent))
    return script, feasibility


def test_feasibility_samples_a_latin_hypercube_inside_what_the_schema_allows():
    import numpy as np

    from collabsim.calibrate import FITTED
    from collabsim.scenario import load_scenario
    from collabsim.schema import PARAM_BY_KEY
    from collabsim.targets import EXPLICIT, SCENARIOS

    _, f = _feasibility()
    levers, every = f.bands("levers"), f.bands("all")
    assert set(FITTED) <= set(levers) and set(f.LEVERS) <= set(levers)
    assert any(PARAM_BY_KEY[k].kind == "int" for k in every)
    # Definitions and facts about a place are never sampled.
    assert not any(k.startswith("metrics.") or k in f.CONTEXT for k in every)
    base = load_scenario(SCENARIOS / "generic.toml").with_overrides(EXPLICIT)
    for ranges in (levers, every, f.bands("targeted")):
        points = f.sample(ranges, 20, seed=3)
        assert points == f.sample(ranges, 20, seed=3)  # seeded
        for key, (low, high) in ranges.items():
            values = sorted(p[key] for p in points)
            p = PARAM_BY_KEY[key]
            assert (p.low is None or low >= p.low) and (p.high is None or high <= p.high)
            assert low <= values[0] and values[-1] <= high
            if p.kind == "float":  # one value in each of the 20 strata of the range
                strata = [int((v - low) / (high - low) * 20) for v in values]
                assert strata == list(range(20))
            else:  # every whole value in the range, about as often as another: each owns
                # an equal part of the unit interval, and at most the two strata that
                # straddle its ends can fall either way
                counts = np.bincount(np.array(values) - int(low))
                assert len(counts) == int(high - low) + 1 and counts.max() - counts.min() <= 2
        for point in points[:3]:  # every point is a valid parameter set
            base.with_overrides(point)


def test_feasibility_runs_and_reports_every_point(tmp_path):
    import pandas as pd

    script, f = _feasibility()
    out = subprocess.run([sys.executable, str(script), "--design", "levers", "--points", "2",
                          "--replicates", "2", "--recheck", "1"], cwd=tmp_path,
                         capture_output=True, text=True, check=True, timeout=300).stdout
    df = pd.read_csv(tmp_path / "results" / "experiments" / "feasibility_levers.csv")
    assert len(df) == 2 and set(f.bands("levers")) <= set(df.columns)
    for col in ("survey_successful", "survey_unsuccessful", "generic_solid", "generic_decided",
                "generic_inertia", "generic_tokenism"):
        assert df[col].between(0, 1).all()
    # Archetypes are exclusive: solid, inertia and tokenism runs never add up to more than all.
    assert (df[["generic_solid", "generic_inertia", "generic_tokenism"]].sum(axis=1)
            <= 1 + 1e-12).all()
    fits, uncertain = f.meets(df)
    assert f"- both: {int((fits & uncertain).sum())}" in out
    recheck = [line for line in out.splitlines()
               if line.startswith("| ") and line.endswith(("| no |", "| yes |"))]
    near = f.closest(df, 1)
    assert len(recheck) == 4 * len(near)  # the first pass, two other seeds and their mean
    # Read back from the CSV, the first pass gives the same summary and recheck.
    again = subprocess.run([sys.executable, str(script), "--design", "levers",
                            "--from-csv", "--replicates", "2", "--recheck", "1"],
                           cwd=tmp_path, capture_output=True, text=True, check=True,
                           timeout=300).stdout
    assert again == out


def test_survey_noise_reports_each_parameter_set_and_size_with_a_spread_over_seeds():
    script = ROOT / "experiments" / "survey_noise.py"
    out = subprocess.run([sys.executable, str(script), "--seeds", "3", "--sizes", "3,5"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in out.splitlines()[2:]]
    assert [(r[0], r[1]) for r in rows] == [
        ("the schema's defaults", "3"), ("the schema's defaults", "5"),
        ("posterior median", "3"), ("posterior median", "5")]
    for r in rows:
        mean, sd = float(r[2].rstrip("%")), float(r[3].rstrip("%"))
        low, avg, high = float(r[5]), float(r[4]), float(r[6])
        assert 0 <= mean <= 100 and sd >= 0
        assert 0 <= low <= avg <= high
    # The defaults and the posterior median are different parameter sets.
    assert rows[0][2:] != rows[2][2:]


def test_validation_precision_gives_every_independent_pattern_and_repeats_itself():
    from collabsim.validation import INDEPENDENT, PATTERNS

    script = ROOT / "experiments" / "validation_precision.py"
    out = subprocess.run([sys.executable, str(script), "--replicates", "2,2", "--contexts",
                          "2"], capture_output=True, text=True, check=True, timeout=600).stdout
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in out.splitlines()[2:]]
    assert [r[0] for r in rows] == [f"`{p.key}`" for p in PATTERNS if p.cls == INDEPENDENT]
    for r in rows:
        assert r[1] == r[2]  # the same replicates give the same share ...
        assert r[3] == "0% at 2"  # ... and the same verdict in every context
