"""The dashboard's pieces, without a browser: controls, presets, drawings, narrative, process."""

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
import xml.etree.ElementTree as ET

import pytest

from collabsim import PartnershipModel, load_scenario
from collabsim.app import (
    build,
    chart_svgs,
    control_values,
    controls,
    network_svg,
    open_scenario,
    presets,
    running_settings,
    saved_toml,
    story_html,
)
from collabsim.cli import main
from collabsim.narrative import narrate
from collabsim.scenario import ScenarioWarning
from collabsim.schema import PARAMS
from collabsim.svg import ticks, wrap

from .conftest import SCENARIOS

REQUIRED_CONTROLS = {"governance.mode", "governance.decision_rule", "funding.rule",
                     "governance.facilitation", "population.initial_trust", "population.size",
                     "environment.austerity", "participation.rung", "infrastructure.data",
                     "governance.deliberation_rounds", "governance.admin_capacity"}
EVIL = '<img src=x onerror="document.title=\'XSS-FIRED\';window.__xss=1">'


def test_controls_come_from_the_schema_with_plain_labels_and_units():
    made = {c.key: c for c in controls()}
    assert set(made) == {p.key for p in PARAMS if p.ui}
    assert set(made) >= REQUIRED_CONTROLS
    for c in made.values():
        assert "." not in c.label and "_" not in c.label  # plain words; the key is the tooltip
        if c.param.kind in ("int", "float"):
            assert c.param.low <= c.low < c.high and (c.param.high is None
                                                        or c.high <= c.param.high)
    assert made["environment.austerity"].text(0.02) == "Budget cut per year: 2% a year"
    assert made["participation.rung"].text(6) == (
        "Service users' participation: rung 6, adult-initiated, shared decisions")
    assert made["governance.admin_capacity"].text(3.0) == "Hub's admin capacity: £3m a quarter"
    assert made["funding.rule"].text("pooled") == "How joint work is funded: pooled"
    order = [c.advanced for c in controls()]
    assert order == sorted(order) and any(order) and not all(order)  # advanced ones last


def test_presets_are_the_teaching_scenarios():
    assert set(presets()) == {p.stem for p in (SCENARIOS / "teaching").glob("*.toml")}


@pytest.mark.parametrize("name", sorted(p.stem for p in (SCENARIOS / "teaching").glob("*.toml")))
def test_a_preset_runs_exactly_what_its_controls_show(name):
    s = load_scenario(SCENARIOS / "teaching" / f"{name}.toml")
    shown = control_values(s)
    m = build(s, shown, seed=3)
    assert m.p == s  # nothing from the launch scenario or a previous preset leaks in
    running = running_settings(m)
    assert {k: running[k] for k in shown} == shown and running["seed"] == 3


def test_any_value_picked_applies_even_if_it_equals_the_launch_scenarios():
    launch = load_scenario(SCENARIOS / "teaching" / "solid_partnership.toml")
    tokenism = load_scenario(SCENARIOS / "teaching" / "tokenism.toml")
    assert launch["funding.rule"] == "pooled" != tokenism["funding.rule"]
    m = build(tokenism, {**control_values(tokenism), "funding.rule": "pooled"}, seed=1)
    assert m.p["funding.rule"] == "pooled"
    assert m.p.with_overrides({"funding.rule": tokenism["funding.rule"]}) == tokenism
    before = build(tokenism, control_values(tokenism), seed=1).run(12)
    after = m.run(12)
    assert [r["contribution"] for r in after.history] != [
        r["contribution"] for r in before.history]


def test_opening_a_file_reports_its_warnings(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[scenario]\nname = "mine"\n[population]\nsize = 4\n'
                    '[governance]\nsupermajority = 0.9\n')
    s, notes = open_scenario(str(path))
    assert s.name == "mine" and len(notes) == 1 and "supermajority has no effect" in notes[0]
    assert open_scenario("teaching/tokenism")[0].name == "tokenism"


def test_saved_settings_load_back_as_the_same_scenario(tmp_path):
    s = load_scenario(SCENARIOS / "teaching" / "narrow_funnel.toml")
    m = build(s, {**control_values(s), "governance.admin_capacity": 30.0}, seed=1)
    (tmp_path / "saved.toml").write_text(saved_toml(m))
    again = load_scenario(tmp_path / "saved.toml")
    assert again == m.p and again["governance.admin_capacity"] == 30.0


def test_a_run_drawn_from_the_ensemble_saves_what_it_drew(tmp_path):
    s = load_scenario(SCENARIOS / "generic.toml")  # draws from the ensemble
    m = build(s, control_values(s), seed=3)
    assert m.p["dynamics.synergy"] != s["dynamics.synergy"]  # a draw, not the default
    (tmp_path / "saved.toml").write_text(saved_toml(m))
    with warnings.catch_warnings():  # a drawn key without effect is saved quietly
        warnings.simplefilter("error", ScenarioWarning)
        again = load_scenario(tmp_path / "saved.toml")
    assert again["scenario.parameters"] == "defaults"
    assert again["dynamics.synergy"] == m.p["dynamics.synergy"]
    assert build(again, control_values(again), seed=3).run(8).summary() == m.run(8).summary()


def test_drawings_are_well_formed_and_change_as_the_model_runs():
    # ditch and run: members leave in every run (the divorce preset's exits are rarer now)
    m = PartnershipModel(load_scenario(SCENARIOS / "teaching" / "ditch_and_run.toml"), rng=2)
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
    # Charts carry tick labels along both axes, not only the extremes.
    trust = ET.fromstring(after[1][1])
    labels = [t.text for t in trust.iter("{http://www.w3.org/2000/svg}text")]
    assert {"0", "0.2", "0.4", "0.6", "0.8", "1"} <= set(labels) and "quarter" in labels


def test_ticks_are_round_and_cover_the_range():
    for lo, hi in [(0, 1), (0.3, 8.8), (1, 40), (-3, 1234), (0, 3e5)]:
        t = ticks(lo, hi)
        assert 2 <= len(t) <= 7 and lo <= t[0] and t[-1] <= hi
        steps = {round(b - a, 9) for a, b in itertools.pairwise(t)}
        assert len(steps) == 1


def test_long_names_wrap_without_losing_short_ones():
    assert wrap("police_4") == ["police_4"]
    assert wrap("Council adult social care") == ["Council", "adult social", "care"]
    assert all(len(line) <= 15 for line in wrap("Northvale Hospitals NHS Trust and more"))


def test_names_are_text_in_the_network_and_the_explanation(tmp_path):
    s = load_scenario(SCENARIOS / "teaching" / "tug_of_war.toml")
    doc = s.to_dict()
    doc["organisation"] = [{"name": EVIL, "sector": "health", "prosociality": 0.0},
                           {"name": "Normal org", "sector": "housing"}]
    doc["population"]["initial_trust"] = 0.02
    from collabsim.scenario import from_dict

    m = PartnershipModel(from_dict(doc), rng=1).run(6)
    _, _, reasons = narrate(m)
    assert any(EVIL in r for r in reasons)  # the name does reach the explanation ...
    for html in (story_html(m), network_svg(m)):
        assert "<img" not in html and "&lt;img src=x onerror=" in html  # ... only as text


@pytest.mark.parametrize(("name", "expected"), [
    ("narrow_funnel", "queued"), ("tug_of_war", "blocs"),
    ("ditch_and_run", "Council adult social care (ditched")])
def test_narrative_explains_from_mechanisms(name, expected):
    m = PartnershipModel(load_scenario(SCENARIOS / "teaching" / f"{name}.toml"), rng=1).run()
    archetype, headline, reasons = narrate(m)
    assert archetype == name and headline
    assert reasons[0].startswith(f"Labelled {name.replace('_', ' ')} because ")
    assert expected in " ".join(reasons)


def test_the_explanation_says_which_condition_fired_with_the_numbers():
    # the preset at its old, far-apart goals, so that this run stalls from the start
    s = load_scenario(SCENARIOS / "teaching" / "collaborative_inertia.toml").with_overrides(
        {"population.goal_conflict": 0.9})
    m = PartnershipModel(s, rng=1).run(12)
    first = narrate(m)[2][0]
    decided = sum(r["decided"] for r in m.history[-8:])
    assert first.startswith("Labelled collaborative inertia because "
                            f"{decided} of the last 8 meetings reached a decision")
    assert "the rule: decisions stall" in first
    assert "of meeting time went on meetings that decided nothing" in first
    # Low trust alone is not inertia: meetings that decide are not stalled.
    calm = PartnershipModel(load_scenario(SCENARIOS / "teaching" / "solid_partnership.toml")
                            .with_overrides({"population.initial_trust": 0.05}), rng=1).run(6)
    archetype, _, reasons = narrate(calm)
    assert not reasons[0].startswith("Labelled collaborative inertia")
    assert calm.summary()["mean_trust"] < 0.4 and calm.summary()["inertia"] < 0.5
    assert archetype != "collaborative_inertia"


# The process ------------------------------------------------------------------------------
def test_a_public_host_is_warned_about(monkeypatch, capsys):
    started = []

    class FakeChild:
        def __init__(self, cmd, env, **_):
            started.append(cmd)

        def wait(self, timeout=None):
            return 0

        def poll(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeChild)
    assert main(["app", "--host", "0.0.0.0", "--port", "8799"]) == 0
    err = capsys.readouterr().err
    assert "warning: --host 0.0.0.0" in err and "no login" in err
    assert main(["app", "--port", "8799"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert started[0][started[0].index("--host") + 1] == "0.0.0.0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def test_sigterm_stops_the_server_and_frees_its_port():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "collabsim.cli", "app", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)  # the parent only, as `kill PID` does
        stopped = time.monotonic()
        proc.wait(timeout=10)
        while not _port_free(port) and time.monotonic() - stopped < 5:
            time.sleep(0.1)
        assert _port_free(port), "the Solara child still serves the port"
        assert time.monotonic() - stopped < 5
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group
        proc.wait(timeout=10)
