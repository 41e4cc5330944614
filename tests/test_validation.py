"""Validation as a filter: pattern classes, the population of contexts, and for every
independent pattern a model variant (its mechanism switched off) under which it fails.

Reduced sizes (`validation.QUICK`); the full version is `make validate`.
"""

import json
import math
from functools import cache

import numpy as np
import pandas as pd
import pytest

from collabsim import validation as v
from collabsim.cli import main
from collabsim.runner import run_replicates
from collabsim.targets import judged

from .conftest import EVIDENCE_OFF

INDEPENDENT = [p for p in v.PATTERNS if p.cls == v.INDEPENDENT]
DESIGN = [p for p in v.PATTERNS if p.cls == v.DESIGN]


@cache
def default(key: str) -> v.Result:
    return v.judge(v.PATTERN_BY_KEY[key], v.QUICK)


@cache
def ablated(key: str) -> v.Result:
    p = v.PATTERN_BY_KEY[key]
    return v.judge(p, v.QUICK, p.ablation)


def test_registry_classes_and_provenance():
    assert len(INDEPENDENT) >= 8
    for p in v.PATTERNS:
        assert p.cls in v.CLASSES
        assert p.source and p.statement and p.takes and p.judgement and p.limits
        if p.cls == v.INDEPENDENT:
            # Judged across contexts, with a mechanism to switch off that the schema knows.
            assert p.judge is not None and p.ablation and p.mechanism
            from collabsim.schema import PARAM_BY_KEY

            assert set(p.ablation) <= set(PARAM_BY_KEY), p.key
        else:
            assert p.check is not None and not p.ablation
    # What the referee review showed holds by construction or by fitting is not evidence.
    assert v.PATTERN_BY_KEY["narrow_funnel"].cls == v.DESIGN
    assert v.PATTERN_BY_KEY["mandated_stay"].cls == v.DESIGN
    assert v.PATTERN_BY_KEY["popp_payback"].cls == v.CALIBRATION
    assert v.PATTERN_BY_KEY["survey"].cls == v.CALIBRATION
    assert v.PATTERN_BY_KEY["bcf_pooled_budgets"].cls == v.CALIBRATION


def test_contexts_are_a_seeded_latin_hypercube():
    n = 10
    ctxs = v.contexts(n, seed=5)
    assert ctxs == v.contexts(n, seed=5) and ctxs != v.contexts(n, seed=6)
    for key, (lo, hi) in v.CONTEXT_AXES.items():
        values = np.array([c[key] for c in ctxs], dtype=float)
        assert values.min() >= lo and values.max() <= hi
        if key != "population.size":  # one context in each of n equal slices of the range
            bins = np.floor((values - lo) / (hi - lo) * n).clip(0, n - 1)
            assert sorted(bins) == list(range(n)), key
    for key, options in v.CONTEXT_CHOICES.items():
        assert {c[key] for c in ctxs} == set(options)
    about = v.contexts(4, about=("population.initial_trust", "governance.mode"))
    assert all("population.initial_trust" not in c and "governance.mode" not in c
               for c in about)
    # Strata: half the contexts from the first region, half from the whole space.
    strata = v.contexts(8, regions=(v.FITS_SHARED, {}))
    assert all(v.FITS_SHARED["population.size"][0] <= c["population.size"]
               <= v.FITS_SHARED["population.size"][1] for c in strata[:4])
    assert any(c["population.size"] > 8 for c in strata[4:])


@pytest.mark.parametrize("pattern", INDEPENDENT, ids=lambda p: p.key)
def test_independent_pattern_fails_with_its_mechanism_off(pattern):
    on, off = default(pattern.key), ablated(pattern.key)
    assert off.variant == dict(pattern.ablation)
    assert not off.holds, f"{pattern.key} still holds with {pattern.mechanism}"
    assert off.share_of_contexts is not None and off.share_of_contexts < v.PASS_SHARE
    if on.holds:  # the mechanism is what makes it hold: it holds in fewer contexts without
        assert off.share_of_contexts < on.share_of_contexts


@pytest.mark.parametrize("pattern", INDEPENDENT, ids=lambda p: p.key)
def test_independent_pattern_is_reported_honestly(pattern):
    r = default(pattern.key)
    assert len(r.table) == v.QUICK.contexts
    share = float(r.table["holds"].mean())
    assert r.share_of_contexts == pytest.approx(share)
    assert r.holds == (share >= v.PASS_SHARE)
    finite = r.table["effect"].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    assert r.effect == pytest.approx(finite.mean())
    assert r.interval[0] <= r.effect <= r.interval[1]
    if not r.holds:  # failing is said plainly
        assert r.note.startswith("Fails") and f"{share:.0%}" in r.note
    out = r.to_json()
    assert {"class", "effect", "interval", "share_of_contexts", "holds", "source",
            "statement"} <= set(out)


@pytest.mark.parametrize("pattern", DESIGN, ids=lambda p: p.key)
def test_design_properties_hold(pattern):
    r = default(pattern.key)
    assert r.holds, r.statement
    assert r.share_of_contexts is None and math.isfinite(r.effect)


def test_narrow_funnel_fails_when_the_hub_is_not_a_bottleneck():
    # The property is a test of the accounting: with capacity far above any inflow at
    # both levels, nothing queues and the check must not pass.
    r = v.judge(v.PATTERN_BY_KEY["narrow_funnel"], v.QUICK,
                {"population.mean_budget": 0.5})
    assert not r.holds


@pytest.mark.parametrize("key", ["popp_payback", "survey", "bcf_pooled_budgets"])
def test_calibration_targets_report_their_fit(key):
    r = default(key)
    lo, hi = r.interval
    assert math.isfinite(r.effect) and lo <= r.effect <= hi
    assert len(r.table) > 0
    assert r.holds or r.note, "a target that is missed must say by how much"


def test_bcf_is_checked_as_the_nao_stated_it():
    table = default("bcf_pooled_budgets").table.set_index("metric")
    assert {"mean_trust", "emergency_bed_days", "delayed_transfer_days"} <= set(table.index)
    r = default("bcf_pooled_budgets")
    delayed = table.loc["delayed_transfer_days"]
    if delayed["ci_high"] < 0:  # a significant cut in delayed transfers contradicts the NAO
        assert not r.holds


def test_survey_judgement_uses_the_schema_margin():
    assert judged(3.0, 10.0, True, 0.25) == "successful"
    assert judged(2.0, 10.0, True, 0.25) == "mixed"
    assert judged(2.0, 10.0, True, 0.1) == "successful"
    assert judged(2.4, 10.0, True) == "mixed" and judged(2.6, 10.0, True) == "successful"
    assert judged(-3.0, 10.0, True, 0.25) == "unsuccessful"
    assert judged(5.0, 10.0, False, 0.25) == "unsuccessful"
    from collabsim.schema import PARAM_BY_KEY

    assert PARAM_BY_KEY["metrics.success_margin"].source == "judgement"


def test_own_acceptability_is_judged_against_members_goals():
    # With understanding_weight 0 members prefer their own goals, so acceptability of
    # adopted plans against goals is the model's own acceptability, over deciding meetings.
    # The evidence mechanisms off: a world where some members leave and some stay.
    s = v.generic(**{**EVIDENCE_OFF, "dynamics.understanding_weight": 0.0,
                     "environment.austerity": 0.0, "population.goal_conflict": 0.6})
    runs = run_replicates(s, 4, 11)
    decided = runs["decision_success_rate"] > 0
    stayed = decided & (runs["retention"] == 1.0)  # a leaver is not scored after it leaves
    assert stayed.any() and (decided & ~stayed).any()
    np.testing.assert_allclose(runs.loc[stayed, "own_acceptability"],
                               runs.loc[stayed, "acceptability"], atol=1e-9)
    np.testing.assert_allclose(runs.loc[decided, "own_acceptability"],
                               runs.loc[decided, "acceptability"], atol=0.01)
    # With understanding weighted, deliberation moves preferences and the two part.
    moved = run_replicates(v.generic(**{"population.goal_conflict": 0.6}), 4, 11)
    assert not np.allclose(moved["own_acceptability"], moved["acceptability"], atol=1e-6)


def test_results_do_not_depend_on_workers():
    p = v.PATTERN_BY_KEY["low_conflict"]
    design = v.Design(contexts=2, replicates=2)
    from collabsim.experiment.engine import open_executor

    serial = v.judge(p, design)
    with open_executor(2) as ex:
        parallel = v.judge(p, design, executor=ex)
    assert serial.table.equals(parallel.table)


def test_cli_patterns_json(capsys):
    assert main(["patterns", "--quick", "--json", "--pattern", "low_conflict",
                 "--pattern", "narrow_funnel"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["key"] for r in out] == ["low_conflict", "narrow_funnel"]
    assert out[0]["class"] == v.INDEPENDENT and 0.0 <= out[0]["share_of_contexts"] <= 1.0
    assert out[1]["share_of_contexts"] is None
    assert out[0] == json.loads(json.dumps(default("low_conflict").to_json()))


def test_cli_patterns_bad_input(capsys):
    assert main(["patterns", "--pattern", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope" in err and "low_conflict" in err


def test_docs_cover_every_pattern():
    from .conftest import ROOT

    text = (ROOT / "docs" / "validation.md").read_text()
    for p in v.PATTERNS:
        assert f"(`{p.key}`)" in text, p.key
        if p.cls == v.INDEPENDENT:
            assert f"img/validation/{p.key}.png" in text
            assert (ROOT / "docs" / "img" / "validation" / f"{p.key}.png").exists()


def test_cli_patterns_text(capsys):
    assert main(["patterns", "--quick", "--pattern", "narrow_funnel", "--seed", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["holds", "narrow_funnel"]
    assert "design property" in lines[0]
    assert lines[-1].endswith("0 of 0")  # no independent pattern was asked for


def test_does_not_lower_fails_only_on_a_significant_fall():
    from collabsim.validation import _not_lower

    rng = np.random.default_rng(0)
    base = pd.DataFrame({"x": rng.uniform(0, 1, 10)})
    same = base.copy()
    noisy = pd.DataFrame({"x": base["x"] - 0.01 + rng.normal(0, 0.1, 10)})
    fallen = pd.DataFrame({"x": base["x"] - 0.3 + rng.normal(0, 0.01, 10)})
    assert _not_lower(base, same, "x")
    assert _not_lower(base, noisy, "x")  # a small mean fall inside its noise
    assert not _not_lower(base, fallen, "x")
    blank = pd.DataFrame({"x": [np.nan] * 10})
    assert _not_lower(base, blank, "x")  # nothing to compare: no evidence of a fall


def test_the_survey_check_runs_on_the_ensemble_unless_told_otherwise():
    """Calibration reads the survey population at the parameter set it is given;
    validation judges it as every run is made, on the ensemble by default."""
    design = v.QUICK
    default = v.check_survey(design, {})
    assert v.check_survey(design, {"scenario.parameters": "ensemble"})[0] == default[0]
    assert v.check_survey(design, {"scenario.parameters": "defaults"})[0] != default[0]
