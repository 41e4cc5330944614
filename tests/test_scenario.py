"""The scenario language: loading, validation, overrides, round trips."""

import pytest
from hypothesis import given

from collabsim import InputError, Scenario, load_scenario, loads_scenario
from collabsim.scenario import from_dict
from collabsim.schema import PARAMS, defaults
from collabsim.testing import scenario_docs

from .conftest import BUNDLED, SCENARIOS


def test_every_default_is_valid_for_its_own_spec():
    for p in PARAMS:
        assert p.check(p.default) == p.default


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_bundled_scenarios_round_trip(path):
    s = load_scenario(path)
    again = loads_scenario(s.to_toml())
    assert again == s
    assert again.to_toml() == s.to_toml()


@given(scenario_docs())
def test_generated_scenarios_round_trip(doc):
    s = from_dict(doc)
    assert loads_scenario(s.to_toml()) == s


def test_defaults_fill_in_missing_keys(baseline):
    s = loads_scenario('[population]\nsize = 3\n')
    for key, value in defaults().items():
        if key != "population.size":
            assert s[key] == value
    assert s["population.size"] == 3
    assert baseline["governance.supermajority"] == 0.75  # not set in the file


def test_overrides_parse_strings_to_the_parameter_type(baseline):
    s = baseline.with_overrides({
        "governance.mode": "nao",
        "governance.facilitation": "0.8",
        "governance.mandated": "true",
        "governance.deliberation_rounds": "4",
        "population.sectors": "health,police",
    })
    assert s["governance.mode"] == "nao"
    assert s["governance.facilitation"] == 0.8
    assert s["governance.mandated"] is True
    assert s["governance.deliberation_rounds"] == 4
    assert s["population.sectors"] == ("health", "police")
    assert baseline["governance.mode"] == "shared"  # the original is untouched


def test_scenarios_are_frozen(baseline):
    with pytest.raises(TypeError):
        baseline.params["governance.mode"] = "nao"
    with pytest.raises(AttributeError):
        baseline.organisations = ()


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"governance.mode": "naoo"}, "did you mean 'nao'"),
        ({"governance.moode": "nao"}, "did you mean 'governance.mode'"),
        ({"governance.facilitation": "1.5"}, "a number in [0, 1]"),
        ({"governance.deliberation_rounds": "2.5"}, "an integer in [0, 20]"),
        ({"governance.mandated": "yes"}, "true or false"),
        ({"governance.lead": "Acute trust"}, "did you mean 'Acute NHS trust'"),
        ({"scenario.steps": "0"}, "an integer in [1, 2000]"),
        ({"population.sectors": "health,polce"}, "did you mean 'police'"),
    ],
)
def test_bad_overrides_name_the_key_and_what_is_allowed(baseline, override, fragment):
    with pytest.raises(InputError) as err:
        baseline.with_overrides(override)
    message = str(err.value)
    assert "\n" not in message
    assert next(iter(override)) in message or "population.sectors" in message
    assert fragment in message


def test_base_scenarios_inherit_and_override(tmp_path):
    (tmp_path / "a.toml").write_text('[population]\nsize = 5\n[governance]\nfacilitation = 0.9\n')
    (tmp_path / "b.toml").write_text('[scenario]\nbase = "a.toml"\n[governance]\nmode = "nao"\n')
    b = load_scenario(tmp_path / "b.toml")
    assert b["population.size"] == 5
    assert b["governance.facilitation"] == 0.9
    assert b["governance.mode"] == "nao"
    assert loads_scenario(b.to_toml()) == b


def test_base_cycles_are_rejected(tmp_path):
    (tmp_path / "a.toml").write_text('[scenario]\nbase = "b.toml"\n')
    (tmp_path / "b.toml").write_text('[scenario]\nbase = "a.toml"\n')
    with pytest.raises(InputError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_listed_organisations_keep_their_figures(baseline):
    acute = baseline.organisations[0]
    assert acute.name == "Acute NHS trust"
    assert acute.budget == 112.0
    assert acute.goals == (0.35, 0.95, 0.4, 0.4)
    assert baseline.n_members == 8
    assert isinstance(baseline, Scenario)
