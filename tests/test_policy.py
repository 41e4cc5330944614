"""The service-demand submodel, `collabsim compare` and the policy scenarios."""

import numpy as np
import pandas as pd
import pytest

from collabsim import PartnershipModel, load_scenario, run, run_replicates
from collabsim.cli import main
from collabsim.compare import compare, differing_parameters, headlines, wrong_pocket
from collabsim.report import render, write_report

from .conftest import SCENARIOS

POLICY = SCENARIOS / "policy"


@pytest.fixture(scope="module")
def popp():
    return load_scenario(POLICY / "prevention_popp.toml")


@pytest.fixture(scope="module")
def status_quo():
    return load_scenario(POLICY / "status_quo.toml")


def test_comparing_a_scenario_with_itself_gives_zero_differences(status_quo):
    cmp = compare([status_quo, status_quo], replicates=6, seed=3, steps=12)
    d = cmp.differences
    assert len(d) == len(cmp.metrics)
    assert (d["difference"] == 0).all() and (d["ci_low"] == 0).all() and (d["ci_high"] == 0).all()
    assert not d["clear"].any()
    assert cmp.names == ["status_quo (1)", "status_quo (2)"]
    assert "no clear difference" in headlines(cmp)[-1]


def test_common_random_numbers_pair_replicates(status_quo):
    other = status_quo.with_overrides({"governance.facilitation": 0.31})
    cmp = compare([status_quo, other], replicates=8, seed=3, steps=12)
    a = cmp.runs[cmp.runs["scenario"] == cmp.names[0]]["mean_trust"].to_numpy()
    b = cmp.runs[cmp.runs["scenario"] == cmp.names[1]]["mean_trust"].to_numpy()
    # A tiny change keeps each pair close: the replicates share their random numbers.
    assert np.abs(a - b).max() < 0.2 * (a.max() - a.min() + 1e-9) + 0.02


def test_popp_saving_per_pound_matches_the_evaluations(popp):
    savings = run_replicates(popp, n=50, seed=1)["acute_saving_per_pound"]
    assert 0.7 <= savings.mean() <= 1.6  # seed 003: £0.73; Windle et al. 2009: £1.20 (0.8-1.6)
    assert (savings > 0.5).mean() > 0.9


def test_prevention_paid_by_social_care_saves_the_nhs_money(popp):
    cmp = compare([popp, popp.with_overrides({"funding.rule": "pooled"})], replicates=20,
                  seed=2)
    pocket = wrong_pocket(cmp).set_index(["scenario", "sector"])
    separate, pooled = cmp.names
    care = pocket.loc[(separate, "adult_social_care")]
    nhs = pocket.loc[(separate, "health")]
    assert care["paid"] > 2 * care["saved"]  # social care pays more than it saves...
    assert nhs["saved"] > 5 and nhs["paid"] < 0.1 * nhs["saved"]  # ...the NHS saves
    paid = pocket["paid"].unstack("sector")
    share_care = paid["adult_social_care"] / paid.sum(axis=1)
    assert share_care[separate] > 0.7
    assert share_care[pooled] < 0.3  # pooling moves the cost onto the larger budgets
    balance = pocket["saved"] - pocket["paid"]
    assert balance[(pooled, "adult_social_care")] > 0 > balance[(separate, "adult_social_care")]
    assert balance[(pooled, "health")] < 0 < balance[(separate, "health")]


def test_prevention_reduces_admissions_with_diminishing_returns(status_quo):
    def avoided(share):
        s = status_quo.with_overrides({"services.prevention_ringfence": share,
                                       "environment.turnover_rate": 0.0})
        m = PartnershipModel(s, rng=4).run(12)
        h = pd.DataFrame(m.history)
        return h["avoided_admissions"].sum(), h["prevention_spend"].sum()

    a0, s0 = avoided(0.0)
    a1, s1 = avoided(0.5)
    a2, s2 = avoided(1.0)
    assert a0 < a1 < a2
    assert (a2 - a1) / (s2 - s1) < (a1 - a0) / (s1 - s0)  # each £ buys less


def test_social_care_cuts_delay_discharges(status_quo):
    calm = status_quo.with_overrides({"services.care_capacity": 0.7,
                                      "environment.turnover_rate": 0.0})
    cut = calm.with_overrides({"environment.austerity": 0.3})
    delayed = [PartnershipModel(s, rng=5).run().services.totals["delayed_days"]
               for s in (calm, cut)]
    assert delayed[1] > delayed[0] * 1.5 + 100


def test_savings_are_booked_to_the_sectors_that_avoid_the_costs(popp):
    m = PartnershipModel(popp, rng=1).run(20)
    saved = {a.sector: 0.0 for a in m.founders}
    for a in m.founders:
        saved[a.sector] += a.cum_saved
    t = m.services.totals
    assert saved["health"] == pytest.approx(t["acute_avoided"], rel=1e-9)
    assert saved["adult_social_care"] == pytest.approx(t["care_avoided"], rel=1e-9)
    assert saved["police"] == saved["housing"] == 0.0


def test_policy_scenarios_say_what_they_represent():
    files = sorted(POLICY.glob("*.toml"))
    names = {f.stem for f in files}
    assert {"status_quo", "pooled_budget", "lead_commissioning", "integrated_provision",
            "independent_broker", "legal_duty", "austerity_shock", "prevention_popp",
            "shared_data"} <= names
    for f in files:
        text = f.read_text()
        assert text.startswith("#"), f"{f.name} should open with a comment on its policy"
        s = load_scenario(f)
        assert s["services.enabled"] and s["scenario.description"]


def test_differing_parameters_lists_only_differences(status_quo):
    pooled = load_scenario(POLICY / "pooled_budget.toml")
    table = differing_parameters([status_quo, pooled])
    assert table["parameter"].tolist() == ["funding.rule"]
    assert table.iloc[0].tolist()[1:] == ["separate", "pooled"]


def test_report_is_self_contained(tmp_path, status_quo):
    pooled = load_scenario(POLICY / "pooled_budget.toml")
    cmp = compare([status_quo, pooled], replicates=4, seed=1, steps=8)
    path = write_report(cmp, tmp_path / "rep", ["compare", "..."])
    text = path.read_text()
    assert text.count("<img") == 3 and text.count("data:image/png;base64,") == 3
    for marker in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert marker not in text.replace("https://", "") or marker == "https://"
    assert "<script" not in text and "<link" not in text and "http://" not in text
    for name in ("runs/part-000000.parquet", "steps/part-000000.parquet",
                 "members/part-000000.parquet", "runs.csv",
                 "differences.csv", "wrong_pocket.csv", "manifest.json"):
        assert (tmp_path / "rep" / name).exists()
    assert "Who pays, who saves" in text and "funding.rule" in text
    assert render(cmp) == render(cmp)


def test_compare_cli_prints_tables_and_writes_report(tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["compare", str(POLICY / "status_quo.toml"), str(POLICY / "shared_data.toml"),
            "-n", "3", "--steps", "6", "--seed", "2", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "difference from status_quo" in printed and "acute_saving_per_pound" in printed
    assert f"report: {out / 'report.html'}" in printed
    assert main(["compare", str(POLICY / "status_quo.toml"), "--set", "funding.rule=pool"]) == 2


def test_rebadged_money_loses_what_it_bought_before(status_quo):
    def bed_days(additionality, seed):
        s = status_quo.with_overrides({"services.additionality": additionality})
        return run(s, seed).summary["emergency_bed_days"]

    # Moving existing money into joint work loses what it bought in members' own
    # services, so the same partnership avoids fewer admissions than with new money.
    for seed in range(3):
        assert bed_days(0.0, seed) > bed_days(0.5, seed) > bed_days(1.0, seed) * 1.01


def test_additionality_is_irrelevant_when_nobody_pays(status_quo):
    idle = status_quo.with_overrides({"funding.pooled_share": 0.0})
    a = run(idle.with_overrides({"services.additionality": 0.0}), 2).summary
    b = run(idle.with_overrides({"services.additionality": 1.0}), 2).summary
    assert a["emergency_bed_days"] == b["emergency_bed_days"]
