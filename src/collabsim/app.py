"""The teaching dashboard (``collabsim app``): a Solara page around the Mesa model.

Start it with ``collabsim app [SCENARIO]``; it serves on 127.0.0.1 unless told
otherwise and needs no internet (Solara's assets come from the solara-assets
package). The controls are the schema's parameters marked ``ui``.

What runs is what is shown. Choosing a preset, or opening a scenario file, loads
every one of its values into the controls and starts it afresh; moving any control
restarts the run with exactly the values on screen; Reset starts the same settings
again. Nothing carries over from one preset to the next. The current settings can be
saved as a scenario file.
"""

from __future__ import annotations

import json
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import solara

from collabsim import svg
from collabsim.errors import InputError
from collabsim.model import PartnershipModel
from collabsim.narrative import narrate
from collabsim.scenario import (
    Scenario,
    bundled_scenarios,
    load_scenario,
    scenario_path,
    without_effect,
)
from collabsim.schema import PARAM_BY_KEY, PARAMS, PARTICIPATION_RUNGS, SECTORS, Param

SCENARIO_ENV = "COLLABSIM_APP_SCENARIO"
DEFAULT_PRESET = "solid_partnership"
PLAY_INTERVAL_S = 0.3

SECTOR_COLOURS = dict(zip(SECTORS, ("#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f"), strict=True))


def presets() -> dict[str, Path]:
    """The teaching scenarios (one per archetype), by name."""
    return {p.stem: p for p in sorted((bundled_scenarios() / "teaching").glob("*.toml"))}


# Controls --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Control:
    """How one ``ui`` parameter is shown: a plain label, a slider range and a readout."""

    param: Param
    label: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    readout: Callable[[Any], str] = lambda v: f"{v:.2f}"
    advanced: bool = False

    @property
    def key(self) -> str:
        """The parameter's dotted key (shown in the tooltip)."""
        return self.param.key

    def text(self, value: Any) -> str:
        """The label with the value and its unit, e.g. ``Budget cut per year: 2% a year``."""
        shown = value if self.param.kind == "choice" else self.readout(value)
        return f"{self.label}: {shown}"


#: Presentation of the ``ui`` parameters: label, range, step, readout, folded away or not.
#: Meanings and allowed values come from the schema (shown in each control's tooltip).
LOOK: dict[str, dict[str, Any]] = {
    "governance.mode": {"label": "Who governs"},
    "governance.decision_rule": {"label": "How meetings decide"},
    "funding.rule": {"label": "How joint work is funded"},
    "governance.facilitation": {"label": "Facilitation"},
    "population.initial_trust": {"label": "Trust at the start"},
    "participation.rung": {"label": "Service users' participation", "low": 1, "high": 8,
                           "step": 1, "readout": lambda v: f"rung {v}, {PARTICIPATION_RUNGS[v]}"},
    "infrastructure.data": {"label": "Shared data and evidence"},
    "governance.deliberation_rounds": {"label": "Deliberation rounds per meeting", "low": 0,
                                       "high": 10, "step": 1, "readout": lambda v: f"{v}",
                                       "advanced": True},
    "governance.admin_capacity": {"label": "Hub's admin capacity", "low": 0, "high": 60,
                                  "step": 1, "readout": lambda v: f"£{v:g}m a quarter",
                                  "advanced": True},
    "environment.austerity": {"label": "Budget cut per year", "high": 0.2, "step": 0.01,
                              "readout": lambda v: f"{v:.0%} a year", "advanced": True},
    "population.size": {"label": "Generated organisations", "low": 0, "high": 40, "step": 1,
                        "readout": lambda v: f"{v}", "advanced": True},
}


def controls() -> list[Control]:
    """One control per ``ui`` parameter of the schema, main ones first."""
    made = []
    for p in PARAMS:
        if p.ui:
            look = LOOK.get(p.key, {"label": p.name.replace("_", " ").capitalize()})
            made.append(Control(p, **look))
    return sorted(made, key=lambda c: c.advanced)


def control_values(scenario: Scenario) -> dict[str, Any]:
    """What every control shows for ``scenario``."""
    return {c.key: scenario[c.key] for c in controls()}


def build(base: Scenario, values: dict[str, Any], seed: int) -> PartnershipModel:
    """The model the dashboard runs: ``base`` with every control's value, and ``seed``."""
    model = PartnershipModel(base.with_overrides(values, source="dashboard"), rng=seed)
    model.dashboard_seed = seed  # type: ignore[attr-defined]
    return model


def saved_toml(model: PartnershipModel) -> str:
    """The running model's scenario as a file: every value it runs with, written out.

    A model that drew its behavioural parameters from the ensemble saves the values it
    drew, as ``scenario.parameters = "defaults"`` (every key is written, so nothing is
    left to draw): opened again at the same seed, it is the same run. A key that cannot
    change this run (a drawn ``services.prevention_max`` with the care pathway off, or a
    slider for another governance mode's constant) is written at its default, so that
    the file opens without a warning about it: the same run, though such a slider comes
    back at its default.
    """
    p = model.p
    quiet = {k: PARAM_BY_KEY[k].default for k in without_effect(p, p.params)}
    return p.with_overrides({"scenario.parameters": "defaults", **quiet}).to_toml()


def running_settings(model: PartnershipModel) -> dict[str, Any]:
    """What the running model uses for every control, its seed and name, and where it is."""
    h = model.history
    return {"scenario": model.p.name, "seed": model.dashboard_seed,
            **{c.key: model.p[c.key] for c in controls()},
            "quarter": model.steps, "members": model.n,
            "decisions": int(sum(r["decided"] for r in h)),
            "paid": float(sum(r["contribution"] for r in h)),
            "asked": float(sum(r["asked_total"] for r in h)),
            "queued": float(model.queue),
            "archetype": narrate(model)[0]}


def css_name(key: str) -> str:
    """A dotted key as a CSS class suffix: ``governance.mode`` -> ``governance-mode``."""
    return key.replace(".", "-").replace("_", "-")


def _start_scenario() -> tuple[str, Scenario]:
    """The launch scenario and the preset it is (or "" for another file)."""
    path = os.environ.get(SCENARIO_ENV)
    if path:
        resolved = scenario_path(path).resolve()
        preset = next((n for n, p in presets().items() if p.resolve() == resolved), "")
        return preset, load_scenario(resolved)
    return DEFAULT_PRESET, load_scenario(presets()[DEFAULT_PRESET])


def open_scenario(text: str) -> tuple[Scenario, list[str]]:
    """A scenario file (or a bundled short name) and the warnings loading it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = load_scenario(text.strip())
    return scenario, [str(w.message) for w in caught]


# Drawings ---------------------------------------------------------------------------------
def network_svg(model: PartnershipModel) -> str:
    """Members on a circle, sized by budget, coloured by sector; ties drawn by trust.

    Members who have left stay in their place, faded out.
    """
    agents = list(model.founders) + [a for a in model.members if not a.founding]
    index = {a.name: k for k, a in enumerate(agents)}
    budgets = np.array([max(a.budget, 0.0) for a in agents])
    sizes = 6 + 16 * np.sqrt(budgets / max(budgets.max(), 1e-9))
    ties = []
    n = model.n
    if n >= 2:
        i, j = np.triu_indices(n, k=1)
        strongest = np.maximum(model.trust[i, j], model.trust[j, i])
        mutual = (model.trust[i, j] + model.trust[j, i]) / 2
        ties = [(index[model.members[a].name], index[model.members[b].name], float(t))
                for a, b, t, m in zip(i, j, mutual, strongest, strict=True) if m >= 0.5]
    return svg.network([a.name for a in agents], [SECTOR_COLOURS[a.sector] for a in agents],
                       sizes, [a.active for a in agents], ties,
                       f"Partnership at quarter {model.steps} ({n} members)")


def chart_svgs(model: PartnershipModel) -> list[str]:
    """Advantage against the solo counterfactual, trust, decisions and members."""
    h = model.history
    steps = [r["step"] for r in h]

    def cumulative(key: str) -> list[float]:
        return np.cumsum([r[key] for r in h]).tolist()

    size = {"width": 232, "height": 176}
    return [
        svg.line_chart("Output v. going it alone (£m, total)",
                       {"joint": (steps, cumulative("joint_output")),
                        "alone": (steps, cumulative("solo_output"))}, **size),
        svg.line_chart("Mean trust (0–1)", {"trust": (steps, [r["mean_trust"] for r in h])},
                       ylim=(0.0, 1.0), **size),
        svg.line_chart("Decisions reached (total)",
                       {"decisions": (steps, cumulative("decided"))}, **size),
        svg.line_chart("Members", {"members": (steps, [r["members"] for r in h])}, **size),
    ]


def story_html(model: PartnershipModel) -> str:
    """The archetype so far, the condition that gave it, and why: escaped HTML."""
    archetype, headline, reasons = narrate(model)
    label = archetype.replace("_", " ") if archetype else "—"
    items = "".join(f"<li>{escape(r)}</li>" for r in reasons)
    return (f'<div class="collabsim-archetype"><b>Archetype so far: {escape(label)}</b></div>'
            f'<p class="collabsim-headline">{escape(headline)}</p>'
            f'<ul class="collabsim-reasons">{items}</ul>')


# The page -----------------------------------------------------------------------------------
CSS = """
.collabsim-page { display: flex; gap: 12px; font-family: sans-serif; }
.collabsim-side { width: 280px; min-width: 280px; max-height: calc(100vh - 16px);
                  overflow-y: auto; overflow-x: hidden; padding-right: 4px; }
.collabsim-side .v-btn { max-width: 100%; }
.collabsim-main { display: grid; grid-template-columns: 460px 1fr; gap: 8px;
                  align-items: start; flex: 1; min-width: 0; }
.collabsim-story { font-size: 15px; line-height: 1.35; max-height: 440px; overflow-y: auto; }
.collabsim-story ul { padding-left: 18px; margin: 4px 0; }
.collabsim-charts { grid-column: 1 / span 2; display: flex; flex-wrap: nowrap; gap: 4px; }
.collabsim-control .v-input { margin-top: 0; padding-top: 0; }
.collabsim-control-label { font-size: 14px; margin-top: 6px; }
.collabsim-running { display: none; }
"""


@solara.component
def ControlView(control: Control, value: Any, on_value: Callable[[Any], None]) -> None:
    """A plain label with the value and unit, the key and meaning in a tooltip, the input."""
    p = control.param
    with solara.Column(classes=["collabsim-control", f"collabsim-control-{css_name(p.key)}"],
                       gap="0px"):
        tip = f"{p.key}: {p.help}"
        with solara.Tooltip(tip):
            solara.Text(control.text(value), classes=["collabsim-control-label"],
                        style={"font-size": "14px"})
        if p.kind == "choice":
            solara.Select(label="", values=list(p.choices), value=value, on_value=on_value,
                          dense=True)
        elif p.kind == "bool":
            solara.Checkbox(label="", value=value, on_value=on_value)
        elif p.kind == "int":
            solara.SliderInt(label="", value=value, min=int(control.low), max=int(control.high),
                             step=int(control.step), on_value=on_value, thumb_label=False)
        else:
            solara.SliderFloat(label="", value=value, min=control.low, max=control.high,
                               step=control.step, on_value=on_value, thumb_label=False)


#: The seed a class starts on: one whose run of every preset shows its archetype and on
#: which each demo of docs/teaching.md does what its text says.
START_SEED = 31


@solara.component
def Page() -> None:
    """The dashboard: controls on the left, network, explanation and charts on the right."""
    start_preset, start = solara.use_memo(_start_scenario, [])
    preset = solara.use_reactive(start_preset)
    base = solara.use_reactive(start)
    values = solara.use_reactive(control_values(start))
    seed = solara.use_reactive(START_SEED)
    model = solara.use_reactive(solara.use_memo(
        lambda: build(start, control_values(start), START_SEED), []))
    tick = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    message = solara.use_reactive("")
    path = solara.use_reactive("")
    lock = solara.use_memo(threading.Lock, [])

    def restart(new_base: Scenario | None = None, new_values: dict[str, Any] | None = None,
                new_seed: int | None = None) -> bool:
        b = base.value if new_base is None else new_base
        v = values.value if new_values is None else new_values
        s = seed.value if new_seed is None else new_seed
        try:
            m = build(b, v, s)
        except InputError as exc:
            message.set(f"Not applied: {exc}")
            return False
        playing.set(False)
        with lock:
            base.set(b)
            values.set(v)
            seed.set(s)
            model.set(m)
        message.set("")
        tick.set(tick.value + 1)
        return True

    def choose_preset(name: str) -> None:
        if name in presets():
            s = load_scenario(presets()[name])
            if restart(s, control_values(s)):
                preset.set(name)

    def open_file(text: str | None = None) -> None:
        if text is not None:
            path.set(text)
        text = path.value if text is None else text
        try:
            s, notes = open_scenario(text)
        except InputError as exc:
            message.set(str(exc))
            return
        if restart(s, control_values(s)):
            preset.set(next((n for n, p in presets().items()
                             if p.resolve() == scenario_path(text.strip()).resolve()), ""))
            message.set(" ".join(notes))

    def change(key: str, value: Any) -> None:
        restart(new_values={**values.value, key: value})

    def step() -> None:
        with lock:
            m = model.value
            if m.steps < m.p["scenario.steps"]:
                m.step()
        tick.set(tick.value + 1)

    def play_loop() -> None:
        while playing.value:
            time.sleep(PLAY_INTERVAL_S)
            m = model.value
            if not playing.value or m.steps >= m.p["scenario.steps"]:
                break
            step()
        playing.set(False)

    solara.use_thread(play_loop, dependencies=[playing.value])

    m = model.value
    _ = tick.value  # redraw after every step
    finished = m.steps >= m.p["scenario.steps"]
    solara.Style(CSS)
    solara.Title("collabsim: partnership dynamics")
    with solara.Div(classes=["collabsim-page"]):
        with solara.Div(classes=["collabsim-side"]):
            solara.Text("collabsim: partnership dynamics", style={"font-weight": "bold"})
            with solara.Div(classes=["collabsim-preset"]):
                solara.Select(label="Preset (a teaching scenario)", values=list(presets()),
                              value=preset.value or None, on_value=choose_preset, dense=True)
            with solara.Row(gap="4px"):
                solara.Button("Reset", on_click=lambda: restart(), color="primary",
                              classes=["collabsim-reset"])
                solara.Button("Pause" if playing.value else "Play",
                              on_click=lambda: playing.set(not playing.value), color="primary",
                              disabled=finished, classes=["collabsim-play"])
                solara.Button("Step", on_click=step, color="primary",
                              disabled=playing.value or finished, classes=["collabsim-step"])
            solara.Text(f"Quarter {m.steps} of {m.p['scenario.steps']} · {m.p.name} · "
                        f"seed {m.dashboard_seed}", classes=["collabsim-time"])
            if message.value:
                solara.Warning(message.value, dense=True)
            main = [c for c in controls() if not c.advanced]
            for c in main:
                ControlView(c, values.value[c.key], lambda v, k=c.key: change(k, v))
            with solara.Details("More settings", expand=False), solara.Column(gap="0px"):
                with solara.Tooltip("The random seed: the same settings and seed always give "
                                    "the same run."):
                    solara.Text(f"Random seed: {seed.value}", classes=["collabsim-control-label"])
                solara.SliderInt(label="", value=seed.value, min=1, max=100,
                                 on_value=lambda s: restart(new_seed=s), thumb_label=False)
                for c in controls():
                    if c.advanced:
                        ControlView(c, values.value[c.key], lambda v, k=c.key: change(k, v))
            with solara.Details("Open or save a scenario file", expand=False):
                solara.InputText("File path or bundled name (Enter opens it)", value=path.value,
                                 on_value=open_file, classes=["collabsim-path"])
                solara.FileDownload(lambda: saved_toml(m), filename=f"{m.p.name}.toml",
                                    label="Save as a scenario file")
        with solara.Div(classes=["collabsim-main"]):
            solara.HTML(tag="div", unsafe_innerHTML=network_svg(m),
                        classes=["collabsim-network"])
            with solara.Card("What is happening", margin=0, classes=["collabsim-story-card"]):
                solara.HTML(tag="div", unsafe_innerHTML=story_html(m),
                            classes=["collabsim-story"])
            solara.HTML(tag="div", unsafe_innerHTML="".join(chart_svgs(m)),
                        classes=["collabsim-charts"])
            solara.HTML(tag="pre", unsafe_innerHTML=escape(json.dumps(running_settings(m))),
                        classes=["collabsim-running"])
