"""The dashboard's pieces, without a browser: controls, presets, drawings, narrative."""

import xml.etree.ElementTree as ET

import pytest

from collabsim import PartnershipModel, load_scenario
from collabsim.app import (
    DashboardModel,
    chart_svgs,
    controls,
    network_svg,
    presets,
)
from collabsim.narrative import narrate
from collabsim.schema import PARAMS

from .conftest import SCENARIOS

REQUIRED_CONTROLS = {"governance.mode", "governance.decision_rule", "funding.rule",
                     "governance.facilitation", "population.initial_trust", "population.size",
                     "environment.austerity", "participation.rung"}


def test_controls_come_from_the_schema():
    start = load_scenario(SCENARIOS / "teaching" / "tug_of_war.toml")
    made = controls(start)
    keys = {k.replace("__", ".") for k in made}
    assert keys == {p.key for p in PARAMS if p.ui}
    assert keys >= REQUIRED_CONTROLS
    assert made["governance__mode"]["values"] == ["shared", "lead", "nao"]
    assert made["funding__rule"]["value"] == "pooled"  # starts at the launch scenario's value
    assert made["population__initial_trust"]["max"] == 1.0


def test_presets_are_the_teaching_scenarios():
    assert set(presets()) == {p.stem for p in (SCENARIOS / "teaching").glob("*.toml")}


def test_dashboard_model_loads_presets_and_applies_changed_controls(monkeypatch):
    monkeypatch.setenv("COLLABSIM_APP_SCENARIO",
                       str(SCENARIOS / "teaching" / "solid_partnership.toml"))
    base = load_scenario(SCENARIOS / "teaching" / "solid_partnership.toml")
    untouched = {k: v["value"] for k, v in controls(base).items()}
    m = DashboardModel(preset="narrow_funnel", seed=3, **untouched)
    assert m.p == load_scenario(SCENARIOS / "teaching" / "narrow_funnel.toml")
    changed = {**untouched, "governance__mode": "shared", "scenario": object()}
    m = DashboardModel(preset="narrow_funnel", seed=3, **changed)
    assert m.p["governance.mode"] == "shared" and m.p["funding.rule"] == "pooled"


def test_drawings_are_well_formed_and_change_as_the_model_runs():
    m = PartnershipModel(load_scenario(SCENARIOS / "teaching" / "amicable_divorce.toml"), rng=2)
    m.run(2)
    before = (network_svg(m), chart_svgs(m))
    m.run(30)
    after = (network_svg(m), chart_svgs(m))
    for text in (before[0], *before[1], after[0], *after[1]):
        root = ET.fromstring(text)
        assert root.tag.endswith("svg")
        assert "script" not in text and "href" not in text
    assert before != after
    left = [a for a in m.founders if not a.active]
    assert left and 'fill-opacity="0.15"' in after[0]  # members who left fade out


@pytest.mark.parametrize("name", ["narrow_funnel", "tug_of_war", "ditch_and_run"])
def test_narrative_explains_from_mechanisms(name):
    m = PartnershipModel(load_scenario(SCENARIOS / "teaching" / f"{name}.toml"), rng=1).run()
    archetype, headline, reasons = narrate(m)
    assert archetype == name and headline and reasons[0].startswith("Rule:")
    text = " ".join(reasons)
    expected = {"narrow_funnel": "queued", "tug_of_war": "blocs",
                "ditch_and_run": "Council adult social care (ditched"}[name]
    assert expected in text, text
