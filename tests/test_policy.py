"""The service-demand submodel, `collabsim compare` and the policy scenarios."""

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from collabsim import PartnershipModel, ensemble, load_scenario, run, run_replicates
from collabsim.cli import main
from collabsim.compare import (
    compare,
    declared_changes,
    differing_parameters,
    headlines,
    paired_differences,
    scorecard,
    undeclared_changes,
    wrong_pocket,
)
from collabsim.metrics import METRIC_BOUNDS, METRIC_DIRECTION, METRICS, REGISTRY, SERVICE_METRICS
from collabsim.report import changes_text, pocket_figure, render, write_report

from .conftest import DEFAULTS, ROOT, SCENARIOS

POLICY = SCENARIOS / "policy"


OPTIONS = ("pooled_budget", "lead_commissioning", "integrated_provision", "independent_broker",
           "legal_duty", "austerity_shock", "prevention_popp", "shared_data")


@pytest.fixture(scope="module")
def popp():
    """The POPP pilot site used to calibrate prevention (social care pays alone)."""
    return load_scenario(POLICY / "popp_pilot.toml").with_overrides(DEFAULTS)


@pytest.fixture(scope="module")
def status_quo():
    """Northvale's status quo at the schema's default values (test_worlds: the ensemble)."""
    return load_scenario(POLICY / "status_quo.toml").with_overrides(DEFAULTS)


def test_comparing_a_scenario_with_itself_gives_zero_differences(status_quo):
    cmp = compare([status_quo, status_quo], replicates=6, seed=3, steps=12)
    d = cmp.differences
    assert len(d) == len(cmp.metrics)
    assert (d["difference"] == 0).all() and (d["mc_ci_low"] == 0).all()
    assert (d["mc_ci_high"] == 0).all() and not d["clear"].any()
    assert (d["verdict"] == "same").all() and (d["share_same"] == 1).all()
    assert cmp.names == ["status_quo (1)", "status_quo (2)"]
    assert "no clear difference" in headlines(cmp)[-1].lower()


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
    assert {"status_quo", *OPTIONS} <= names
    for f in files:
        text = f.read_text()
        assert text.startswith("#"), f"{f.name} should open with a comment on its policy"
        s = load_scenario(f)
        assert s["services.enabled"] and s["scenario.description"]
        assert "illustrative" in s["scenario.description"], f.name


@pytest.mark.parametrize("name", [*OPTIONS, "popp_pilot"])
def test_each_option_changes_only_what_its_file_declares(name):
    status_quo = load_scenario(POLICY / "status_quo.toml")  # the files, as they are
    option = load_scenario(POLICY / f"{name}.toml")
    assert undeclared_changes(status_quo, option) == []
    # ...and declares nothing it does not change, so the list is what differs.
    changed = differing_parameters([status_quo, option])["parameter"].tolist()
    for key in declared_changes(option):
        assert any(c == key or c.startswith(key + "[") for c in changed), (name, key)
    bundled = len(declared_changes(option)) > 1
    assert not bundled or "Bundles" in (POLICY / f"{name}.toml").read_text(), name


def test_an_undeclared_change_is_caught():
    status_quo = load_scenario(POLICY / "status_quo.toml")
    pooled = load_scenario(POLICY / "pooled_budget.toml")
    sneaky = pooled.with_overrides({"governance.facilitation": 0.6})
    assert undeclared_changes(status_quo, pooled) == []
    assert undeclared_changes(status_quo, sneaky) == ["governance.facilitation"]
    pilot = load_scenario(POLICY / "popp_pilot.toml")
    assert undeclared_changes(status_quo, pilot.with_overrides({"scenario.changes": ""}))


def test_the_broker_keeps_the_status_quo_facilitation(status_quo):
    broker = load_scenario(POLICY / "independent_broker.toml")
    assert broker["governance.facilitation"] == status_quo["governance.facilitation"]
    assert broker["governance.mode"] == "nao"


def test_popp_like_prevention_adds_to_the_status_quo_and_saves_bed_days(status_quo):
    popp = load_scenario(POLICY / "prevention_popp.toml").with_overrides(DEFAULTS)
    # 30 replicates: with ratification, whether Northvale's plans stand varies from run to
    # run, so 10 replicates leave the money's interval wide (checked at seeds 1-3).
    cmp = compare([status_quo, popp], replicates=30, seed=1)
    d = cmp.differences.set_index("metric")
    assert d.loc["emergency_bed_days", "mc_ci_high"] < 0  # fewer bed-days, clearly
    assert d.loc["total_contribution", "mc_ci_low"] > 0  # more money, not less
    # What the status quo funds continues: the ring-fence takes only the top-up.
    top_up = popp["funding.pooled_share"] - status_quo["funding.pooled_share"]
    assert popp["services.prevention_ringfence"] == pytest.approx(
        top_up / popp["funding.pooled_share"], abs=1e-3)


def test_differing_parameters_lists_only_differences(status_quo):
    pooled = load_scenario(POLICY / "pooled_budget.toml").with_overrides(DEFAULTS)
    table = differing_parameters([status_quo, pooled])
    assert table["parameter"].tolist() == ["funding.rule"]
    assert table.iloc[0].tolist()[1:] == ["separate", "pooled"]


def test_report_is_self_contained(tmp_path, status_quo):
    pooled = load_scenario(POLICY / "pooled_budget.toml").with_overrides(DEFAULTS)
    cmp = compare([status_quo, pooled], replicates=4, seed=1, steps=8)
    path = write_report(cmp, tmp_path / "rep", ["compare", "..."])
    text = path.read_text()
    assert text.count("<img") == 4 and text.count("data:image/png;base64,") == 4
    for marker in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert marker not in text.replace("https://", "") or marker == "https://"
    assert "<script" not in text and "<link" not in text and "http://" not in text
    for name in ("runs/part-000000.parquet", "steps/part-000000.parquet",
                 "members/part-000000.parquet", "runs.csv",
                 "differences.csv", "scorecard.csv", "wrong_pocket.csv", "manifest.json"):
        assert (tmp_path / "rep" / name).exists()
    assert "Who pays, who saves" in text and "funding.rule" in text
    assert render(cmp) == render(cmp)
    used = json.loads((tmp_path / "rep" / "manifest.json").read_text())["parameters"]
    assert used["design"] == "one parameter set per scenario"
    assert used["options"]["pooled_budget"] == {"source": "defaults", "replaced": {}}


def test_compare_cli_prints_tables_and_writes_report(tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["compare", str(POLICY / "status_quo.toml"), str(POLICY / "shared_data.toml"),
            "-n", "3", "--steps", "6", "--seed", "2", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "difference from status_quo" in printed and "acute_saving_per_pound" in printed
    assert f"report: {out / 'report.html'}" in printed
    used = json.loads((out / "manifest.json").read_text())["parameters"]  # over the ensemble
    assert used["worlds"] >= 1 and len(used["members"]) == used["worlds"]
    assert used["options"]["status_quo"]["posterior_sha256"] == ensemble.load().digest
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


# --- the metric registry, verdicts and the one-page report -----------------------------------
SCIENTIFIC = re.compile(r"\d[eE][+-]?\d")


def test_the_registry_is_the_one_source_of_metric_facts(status_quo):
    summary = run(status_quo, 1, steps=4).summary
    assert set(METRICS) | set(SERVICE_METRICS) <= set(summary)
    assert set(METRICS) | set(SERVICE_METRICS) | {"prevention_spend", "acute_cost_avoided"} \
        == set(REGISTRY)
    for name, m in REGISTRY.items():
        assert m.direction in (-1, 0, 1) and METRIC_DIRECTION[name] == m.direction
        assert m.meaning and m.unit and m.label
        assert METRIC_BOUNDS.get(name, (-np.inf, np.inf)) == m.bounds
    # A ratio that rises when less is spent is never scored.
    assert REGISTRY["acute_saving_per_pound"].direction == 0


@pytest.mark.parametrize("value", [0.0, 1e-7, -0.000123, 5.47e3, -76288.4, 1.2e9, 0.5])
def test_metric_numbers_are_fixed_point(value):
    for m in REGISTRY.values():
        text = m.amount(value, sign=True)
        assert not SCIENTIFIC.search(text), text
        assert text.count(m.format(value).lstrip("+-")) == 1


def test_a_small_bound_never_reads_as_zero():
    """An interval bound too small for a metric's decimals gains digits, so an interval
    that excludes 0 never shows a 0 beside a verdict; float noise still reads 0."""
    m = REGISTRY["acute_saving_per_pound"]  # two decimals
    assert m.format(-0.004, True) == "-0.004" and m.format(0.0004, True) == "+0.0004"
    assert m.format(0.0, True) == m.format(-1e-12, True) == m.format(4e-6, True) == "0.00"
    assert m.format(-0.0149, True) == "-0.01"


@pytest.fixture(scope="module")
def small_comparison(status_quo):
    names = ("pooled_budget", "legal_duty", "austerity_shock")
    options = [load_scenario(POLICY / f"{n}.toml").with_overrides(DEFAULTS) for n in names]
    # Seed 4: a status-quo replicate loses a member within 16 steps (about 5% do), so
    # the legal duty's full retention has something to differ from.
    return compare([status_quo, *options], replicates=6, seed=4, steps=16)


def test_retention_is_fixed_by_design_only_under_the_hard_exit_ban():
    duty = load_scenario(POLICY / "legal_duty.toml")
    retention = REGISTRY["retention"]
    assert not retention.fixed(duty)
    assert retention.fixed(duty.with_overrides({"legal_duty.exit_ban": True}))
    assert not retention.fixed(duty.with_overrides({"legal_duty.exit_ban": True,
                                                     "governance.mandated": False}))


def test_effects_that_hold_by_definition_are_never_credited(small_comparison):
    d = small_comparison.differences.set_index(["option", "metric"])
    assert d.loc[("pooled_budget", "free_riding"), "verdict"] == "by design"
    # The duty as cited lets a member leave after review: its retention is not by design.
    assert d.loc[("legal_duty", "retention"), "verdict"] != "by design"
    assert (small_comparison.differences.query("metric == 'acute_saving_per_pound'")
            ["verdict"] == "not scored").all()
    lines = headlines(small_comparison)
    pooled = next(line for line in lines if line.startswith("pooled_budget"))
    credited = pooled.split("Not credited")[0]
    assert "free riding" not in credited and "free riding" in pooled
    assert not any("acute saving per" in line for line in lines)


def test_a_metric_constant_in_both_arms_is_by_design(small_comparison):
    cmp = small_comparison
    runs = cmp.runs.copy()
    runs["inertia"] = np.where(runs["scenario"] == cmp.names[0], 0.1, 0.2)
    runs.loc[runs["scenario"] == cmp.names[2], "inertia"] = 0.1 + 0.01 * np.arange(6)
    fake = type(cmp)(cmp.scenarios, cmp.replicates, cmp.seed, runs, cmp.steps, cmp.members,
                     cmp.summary, pd.DataFrame())
    d = paired_differences(fake).set_index(["option", "metric"])
    assert d.loc[(cmp.names[1], "inertia"), "verdict"] == "by design"
    assert d.loc[(cmp.names[2], "inertia"), "verdict"] == "worse"  # it varies: scored


def test_a_run_that_never_decided_is_left_out_of_own_acceptability(small_comparison):
    """Own acceptability is blank where no meeting decided; the option's difference is
    over the pairs where both runs decided, not blank for the whole comparison."""
    cmp = small_comparison
    runs = cmp.runs.copy()
    hole = runs.index[(runs["scenario"] == cmp.names[1]) & (runs["replicate"] == 2)]
    runs.loc[hole, "own_acceptability"] = np.nan
    fake = type(cmp)(cmp.scenarios, cmp.replicates, cmp.seed, runs, cmp.steps, cmp.members,
                     cmp.summary, pd.DataFrame())
    d = paired_differences(fake).set_index(["option", "metric"])
    row = d.loc[(cmp.names[1], "own_acceptability")]
    ref = runs[runs["scenario"] == cmp.names[0]].set_index("replicate")["own_acceptability"]
    opt = runs[runs["scenario"] == cmp.names[1]].set_index("replicate")["own_acceptability"]
    want = (opt - ref).drop(2)
    assert row["difference"] == pytest.approx(want.mean())
    assert row["mc_ci_low"] <= row["difference"] <= row["mc_ci_high"]
    assert row["share_better"] + row["share_worse"] + row["share_same"] == pytest.approx(1.0)


def test_ties_are_counted_as_ties(small_comparison):
    d = small_comparison.differences
    scored = d[d["direction"] != 0]
    total = scored["share_better"] + scored["share_worse"] + scored["share_same"]
    assert np.allclose(total, 1.0)
    unscored = d[d["direction"] == 0]
    assert unscored["share_better"].isna().all() and unscored["share_worse"].isna().all()


def test_the_scorecard_covers_every_option_and_board_outcome(small_comparison):
    card = scorecard(small_comparison)
    assert len(card) == 3 * 6
    assert set(card["verdict"]) <= {"better", "worse", "unclear", "same", "by design", "shifts"}
    assert (card["text"] != "").all() and (card["reason"] != "").all()
    austerity = card[card["option"] == "austerity_shock"].set_index("outcome")
    assert austerity.loc["emergency_bed_days", "verdict"] == "worse"


def test_the_report_opens_with_the_verdict_and_never_uses_scientific_notation(
        small_comparison, tmp_path):
    path = write_report(small_comparison, tmp_path / "rep")
    text = path.read_text()
    body = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not SCIENTIFIC.search(re.sub(r"<pre>.*?</pre>", "", body, flags=re.S))
    assert body.index("id='scorecard'") < body.index("<h2>")
    for m in REGISTRY.values():
        assert html.escape(m.meaning) in body  # the glossary
    diffs = pd.read_csv(tmp_path / "rep" / "differences.csv")
    assert {"mc_ci_low", "mc_ci_high", "share_better", "share_worse", "share_same",
            "verdict"} <= set(diffs.columns)
    assert diffs[["difference", "mc_ci_low", "mc_ci_high"]].notna().all().all()
    assert (diffs["mc_ci_low"] <= diffs["difference"] + 1e-9).all()
    assert (diffs["difference"] <= diffs["mc_ci_high"] + 1e-9).all()


def test_wrong_pocket_panels_share_one_scale(small_comparison):
    fig = pocket_figure(wrong_pocket(small_comparison), small_comparison.names)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 4
    assert len({ax.get_ylim() for ax in axes}) == 1


def test_compare_out_refuses_to_overwrite_an_earlier_report(tmp_path, capsys):
    out = tmp_path / "rep"
    args = ["compare", str(POLICY / "status_quo.toml"), str(POLICY / "pooled_budget.toml"),
            "-n", "2", "--steps", "4", "--out", str(out)]
    assert main(args) == 0
    before = (out / "report.html").read_bytes()
    capsys.readouterr()
    assert main([*args[:-4], "-n", "3", "--steps", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--force" in err and str(out) in err
    assert (out / "report.html").read_bytes() == before
    assert main([*args, "--force"]) == 0


def test_the_lead_capacity_sweep_finds_where_the_verdict_flips():
    import importlib.util

    spec = importlib.util.spec_from_file_location("lead_capacity",
                                                  ROOT / "experiments" / "lead_capacity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    verdicts = {2.5: "worse", 3.0: "worse", 3.5: "unclear", 4.0: "worse", 4.5: "better",
                5.0: "better"}
    table = pd.DataFrame([{"capacity": c, "metric": m, "verdict": v if m == "mean_trust"
                           else "better"} for c, v in verdicts.items()
                          for m in ("mean_trust", "emergency_bed_days")])
    assert module.flip(table) == 4.5  # the last worse outcome decides, not the first fix
    assert module.flip(table.assign(verdict="worse")) is None


def test_the_scorecard_names_what_each_option_changes(status_quo):
    pooled = load_scenario(POLICY / "pooled_budget.toml").with_overrides(DEFAULTS)
    pilot = load_scenario(POLICY / "popp_pilot.toml").with_overrides(DEFAULTS)
    assert changes_text(status_quo, pooled) == "changes: funding.rule"
    assert changes_text(status_quo, status_quo) == "changes nothing"
    assert "organisation" in changes_text(status_quo, pilot)
    assert "not declared" not in changes_text(status_quo, pilot)
    sneaky = changes_text(status_quo, pooled.with_overrides({"governance.facilitation": 0.6}))
    assert sneaky.endswith("(not declared: governance.facilitation)")
    # A user's option that declares nothing still shows what differs.
    plain = pooled.with_overrides({"scenario.changes": ""})
    assert changes_text(status_quo, plain) == "changes: funding.rule"


def test_a_comparison_with_no_clear_difference_says_so_over_the_worlds(capsys):
    """An option against itself: no verdict, so the worlds' section says there is none to
    follow rather than leaving its heading empty."""
    assert main(["compare", "baseline", "baseline", "-n", "2", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "plausible worlds" in out
    assert out.rstrip().endswith("no option differs clearly from baseline (1) on a headline "
                                 "metric, so there is no verdict to follow across the worlds")

