"""The teaching dashboard: a Mesa SolaraViz app (``collabsim app``).

Start it with ``collabsim app [SCENARIO]``; it serves on 127.0.0.1 unless told
otherwise and needs no internet (Solara's assets come from the solara-assets
package). The controls are generated from the schema: the parameters marked ``ui``.
Choosing a preset and pressing Reset loads that teaching scenario; controls you have
changed from their starting values override it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import solara
from mesa.visualization import SolaraViz

from collabsim import svg
from collabsim.model import PartnershipModel
from collabsim.narrative import narrate
from collabsim.scenario import Scenario, load_scenario
from collabsim.schema import PARAMS, SECTORS

TEACHING = Path(__file__).resolve().parents[2] / "scenarios" / "teaching"
SCENARIO_ENV = "COLLABSIM_APP_SCENARIO"
SEP = "__"  #: dotted keys become keyword names: governance.mode -> governance__mode

SECTOR_COLOURS = dict(zip(SECTORS, ("#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f"), strict=True))


def presets() -> dict[str, Path]:
    """The teaching scenarios, by name."""
    return {p.stem: p for p in sorted(TEACHING.glob("*.toml"))}


def controls(start: Scenario) -> dict[str, dict[str, Any]]:
    """SolaraViz model parameters for the schema's ``ui`` parameters, starting at ``start``."""
    out: dict[str, dict[str, Any]] = {}
    for p in PARAMS:
        if not p.ui:
            continue
        value, label = start[p.key], p.key
        if p.kind == "choice":
            out[p.key.replace(".", SEP)] = {"type": "Select", "value": value,
                                            "values": list(p.choices), "label": label}
        elif p.kind == "bool":
            out[p.key.replace(".", SEP)] = {"type": "Checkbox", "value": value, "label": label}
        elif p.kind == "int":
            high = min(p.high, 40) if p.high is not None else 40
            out[p.key.replace(".", SEP)] = {"type": "SliderInt", "value": value, "min": p.low,
                                            "max": high, "step": 1, "label": label}
        else:
            out[p.key.replace(".", SEP)] = {"type": "SliderFloat", "value": value,
                                            "min": p.low, "max": p.high, "step": 0.05,
                                            "label": label}
    return out


class DashboardModel(PartnershipModel):
    """A PartnershipModel built from a preset plus the dashboard's controls."""

    start: Scenario | None = None  # the scenario the app was launched with

    def __init__(self, preset: str = "", seed: int = 1, **values: Any) -> None:
        values.pop("scenario", None)  # Mesa's own Scenario object, which we do not use
        base = _start_scenario()
        scenario = load_scenario(presets()[preset]) if preset in presets() else base
        changed = {k.replace(SEP, "."): v for k, v in values.items()
                   if base[k.replace(SEP, ".")] != v}
        if changed:
            scenario = scenario.with_overrides(changed, source="dashboard")
        self.preset = preset
        super().__init__(scenario, rng=seed)


def _start_scenario() -> Scenario:
    path = os.environ.get(SCENARIO_ENV)
    if path:
        return load_scenario(path)
    return load_scenario(presets()["solid_partnership"])


# Components ------------------------------------------------------------------------------
def network_svg(model: PartnershipModel) -> str:
    """Members on a circle, sized by budget, coloured by sector; ties drawn by trust.

    Members who have left stay in their place, faded out.
    """
    agents = list(model.founders) + [a for a in model.members if not a.founding]
    index = {a.name: k for k, a in enumerate(agents)}
    budgets = np.array([max(a.budget, 0.0) for a in agents])
    sizes = 6 + 20 * np.sqrt(budgets / max(budgets.max(), 1e-9))
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
                       f"Partnership network, step {model.steps} ({n} members)")


def chart_svgs(model: PartnershipModel) -> list[str]:
    """Advantage against the solo counterfactual, trust, decisions and members."""
    h = model.history
    steps = [r["step"] for r in h]

    def cumulative(key: str) -> list[float]:
        return np.cumsum([r[key] for r in h]).tolist()

    return [
        svg.line_chart("Joint output v. solo counterfactual (£m, cumulative)",
                       {"joint output": (steps, cumulative("joint_output")),
                        "solo": (steps, cumulative("solo_output"))}),
        svg.line_chart("Mean trust", {"trust": (steps, [r["mean_trust"] for r in h])},
                       ylim=(0.0, 1.0)),
        svg.line_chart("Decisions reached (cumulative)",
                       {"decisions": (steps, cumulative("decided"))}),
        svg.line_chart("Members", {"members": (steps, [r["members"] for r in h])}),
    ]


# Plain functions: SolaraViz wraps them so they redraw after every step.
def network_view(model: PartnershipModel) -> None:
    """The live partnership network."""
    solara.HTML(tag="div", unsafe_innerHTML=network_svg(model), classes=["collabsim-network"])


def charts_view(model: PartnershipModel) -> None:
    """The live charts."""
    solara.HTML(tag="div", unsafe_innerHTML="".join(chart_svgs(model)),
                classes=["collabsim-charts"])


def story_view(model: PartnershipModel) -> None:
    """The archetype so far and why."""
    archetype, headline, reasons = narrate(model)
    with solara.Card("What is happening"):
        solara.Markdown(f"**Archetype: {archetype or '—'}**", style={"font-size": "1.1em"})
        solara.Markdown(headline)
        for line in reasons:
            solara.Markdown(f"- {line}")


def make_page() -> Any:
    """Build the SolaraViz page for the launch scenario."""
    start = _start_scenario()
    params = {"preset": {"type": "Select", "value": start.name if start.name in presets()
                         else "", "values": ["", *presets()],
                         "label": "preset (press Reset to load)"},
              "seed": {"type": "SliderInt", "value": 1, "min": 1, "max": 100, "step": 1,
                       "label": "seed"},
              **controls(start)}
    model = DashboardModel(preset=params["preset"]["value"], seed=1)
    return SolaraViz(model, components=[(network_view, 0), (charts_view, 0), (story_view, 0)],
                     model_params=params, name="collabsim: partnership dynamics",
                     play_interval=300)


@solara.component
def Page() -> None:  # noqa: D103
    make_page()
