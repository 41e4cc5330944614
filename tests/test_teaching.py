"""Each teaching scenario produces its archetype, from mechanisms, in >= 70% of runs."""

import pytest

from collabsim import ARCHETYPES, PartnershipModel, load_scenario, replicate_seed, run_replicates

from .conftest import SCENARIOS

TEACHING = SCENARIOS / "teaching"


def test_there_is_one_teaching_scenario_per_archetype():
    assert sorted(p.stem for p in TEACHING.glob("*.toml")) == sorted(ARCHETYPES)
    for path in TEACHING.glob("*.toml"):
        text = path.read_text()
        assert text.startswith("#") and ("sources.md" in text or "Huxham" in text)


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_teaching_scenario_produces_its_archetype(archetype):
    s = load_scenario(TEACHING / f"{archetype}.toml")
    assert s.name == archetype
    shares = run_replicates(s, n=50, seed=1)["archetype"].value_counts(normalize=True)
    assert shares.get(archetype, 0.0) >= 0.7, shares.to_dict()


def test_ditch_and_run_is_the_cut_partner_leaving_early():
    s = load_scenario(TEACHING / "ditch_and_run.toml")
    for k in range(5):
        m = PartnershipModel(s, rng=replicate_seed(1, k)).run()
        council = next(a for a in m.founders if a.name == "Council adult social care")
        assert council.exit_reason == "ditched" and council.exit_step <= 20


def test_narrow_funnel_is_the_hub_not_a_lack_of_money():
    s = load_scenario(TEACHING / "narrow_funnel.toml")
    wide = s.with_overrides({"governance.admin_capacity": 30.0})
    narrow_runs = run_replicates(s, n=10, seed=1)
    wide_runs = run_replicates(wide, n=10, seed=1)
    assert narrow_runs["total_contribution"].mean() == pytest.approx(
        wide_runs["total_contribution"].mean(), rel=0.05)
    assert (wide_runs["archetype"] == "solid_partnership").mean() >= 0.7
