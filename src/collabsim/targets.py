"""The experiments screening and calibration read, and the calibration targets.

One parameter set (a mapping of dotted keys to values, applied to every experiment
except where the experiment's own scenario pins the key) is judged on four small
experiments, each with fixed seeds and common random numbers:

- ``survey``: the population of partnerships of validation pattern 9 (the survey
  population), each member judging its partnership as the survey's respondents did;
- ``generic``: replicates of ``scenarios/generic.toml``;
- ``popp``: replicates of the POPP-like pilot (``policy/popp_pilot.toml``);
- ``bcf``: Northvale's status quo and pooled budget, paired replicate by replicate,
  as the NAO (2017) judged the Better Care Fund.

:func:`outputs` returns named numbers (the screen's outputs and the calibration's
statistics); :data:`TARGETS` are the published figures, each an interval, and
:func:`distance` sums the normalised misses (zero inside every interval).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from collabsim.runner import replicate_seed, run, run_replicates
from collabsim.scenario import Scenario, bundled_scenarios, load_scenario

SCENARIOS = bundled_scenarios()
#: The experiments evaluate the parameter set they are given, so they run at the schema's
#: values wherever that set is silent, never at a draw from the shipped ensemble.
EXPLICIT = {"scenario.parameters": "defaults"}

SURVEY = {  # Bostock (2014), People Matters Network: successful, unsuccessful
    "health": (0.72, 0.04), "adult_social_care": (0.66, 0.22),
    "local_government": (0.60, 0.13), "childrens_services": (0.57, 0.14),
    "other": (0.63, 0.07),
}

#: Sectors the survey reports separately; other sectors count as "other".
SURVEY_SECTORS: tuple[str, ...] = tuple(SURVEY)


@dataclass(frozen=True)
class Size:
    """How large the experiments are.

    Attributes:
        survey: Partnerships in the survey population.
        replicates: Replicates of each of generic, POPP, status quo and pooled budget.
    """

    survey: int = 30
    replicates: int = 8


QUICK = Size(survey=6, replicates=2)


def judged(net: float, expected: float, active: bool, margin: float | None = None) -> str:
    """How a member judges its partnership: by what it got out of it, and whether it stayed.

    Args:
        net: Its net benefit over the run, £m.
        expected: What it was expected to put in over the run (its fair share), £m.
        active: Whether it is still a member.
        margin: ``metrics.success_margin`` of the scenario run: the share of ``expected``
            beyond which a net benefit (or loss) is clear (default: the schema's default).

    Successful: still a member, with a net benefit above ``margin × expected``.
    Unsuccessful: it left, or lost more than that. Otherwise mixed: about break-even.
    """
    if margin is None:
        from collabsim.schema import PARAM_BY_KEY

        margin = float(PARAM_BY_KEY["metrics.success_margin"].default)
    bar = margin * expected
    if not active or net < -bar:
        return "unsuccessful"
    return "successful" if net > bar else "mixed"


def survey_population(n: int, seed: int,
                      over: Mapping[str, Any] | None = None) -> Iterator[tuple[int, Scenario]]:
    """The survey population: ``(k, scenario)`` for ``n`` generated partnerships.

    Partnership ``k`` at a seed is the same whatever ``n``: a varied population of
    partnerships of 4–12 members working for a cohort of people with complex needs,
    with money anywhere from wholly re-badged to wholly new. ``over`` is set on every
    partnership (a mechanism switched off, say).
    """
    base = load_scenario(SCENARIOS / "generic.toml").with_overrides(EXPLICIT)
    rng = np.random.default_rng(seed)
    for k in range(n):
        draw = {
            "population.size": int(rng.integers(4, 13)),
            "population.initial_trust": float(rng.uniform(0.2, 0.8)),
            "population.goal_conflict": float(rng.uniform(0.1, 0.9)),
            "population.power_inequality": float(rng.uniform(0.1, 0.8)),
            "governance.mode": str(rng.choice(["shared", "lead", "nao"], p=[0.5, 0.35, 0.15])),
            "governance.decision_rule": str(rng.choice(
                ["majority", "supermajority", "unanimity", "lead_decides"],
                p=[0.4, 0.25, 0.2, 0.15])),
            "funding.rule": str(rng.choice(["separate", "aligned", "pooled",
                                            "lead_commissioning", "integrated"],
                                           p=[0.35, 0.25, 0.25, 0.1, 0.05])),
            "environment.austerity": float(rng.choice([0.0, 0.03, 0.08])),
            "services.enabled": True,
            "services.additionality": float(rng.uniform(0.0, 1.0)),
            **(over or {}),
        }
        # A lead decides only where there is a lead.
        if draw["governance.decision_rule"] == "lead_decides" and \
                draw["governance.mode"] == "shared":
            draw["governance.decision_rule"] = "majority"
        yield k, base.with_overrides(draw)


def survey_members(n: int, seed: int, params: Mapping[str, Any] | None = None,
                   over: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Each founding member of the survey population and how it judges its partnership.

    One row per founding member: ``sector`` (the survey's sectors, others as "other")
    and ``judgement`` (:func:`judged`, with each scenario's ``metrics.success_margin``).
    ``params`` is a parameter set applied where a scenario does not pin the key.
    """
    sectors, verdicts = [], []
    for k, s in survey_population(n, seed, over):
        if params:
            s = apply(s, params)
        result = run(s, replicate_seed(seed, k))
        run_share = s["funding.pooled_share"] * s["scenario.steps"]
        members = result.members
        assert members is not None
        founders = members[members["founding"]]
        sectors += [x if x in SURVEY else "other" for x in founders["sector"]]
        verdicts += [judged(net, run_share * budget, bool(active), s["metrics.success_margin"])
                     for net, budget, active in zip(founders["net_benefit"], founders["budget"],
                                                    founders["active"], strict=True)]
    return pd.DataFrame({"sector": sectors, "judgement": verdicts})


def apply(scenario: Scenario, params: Mapping[str, Any], source: str = "parameter set") -> Scenario:
    """The scenario with ``params`` set, except the keys the scenario pins."""
    free = {k: v for k, v in params.items() if k not in scenario.pinned}
    return scenario.with_overrides(free, source, pin=False) if free else scenario


def survey_judgements(params: Mapping[str, Any], n: int, seed: int) -> dict[str, float]:
    """Shares of founding members judging their partnership successful / unsuccessful."""
    df = survey_members(n, seed, params)
    sector, verdict = df["sector"].to_numpy(), df["judgement"].to_numpy()
    out = {"survey_successful": float(np.mean(verdict == "successful")),
           "survey_unsuccessful": float(np.mean(verdict == "unsuccessful"))}
    for name in SURVEY_SECTORS:
        mine = verdict[sector == name]
        out[f"survey_successful.{name}"] = (float(np.mean(mine == "successful"))
                                            if mine.size else np.nan)
        out[f"survey_unsuccessful.{name}"] = (float(np.mean(mine == "unsuccessful"))
                                              if mine.size else np.nan)
    return out


def experiment_scenario(name: str, params: Mapping[str, Any]) -> Scenario:
    """Bundled scenario ``name`` as the experiments run it: the schema's values, ``params`` applied.

    ``params`` is applied with :func:`apply`, so keys the scenario pins keep their values.
    """
    return apply(load_scenario(SCENARIOS / name).with_overrides(EXPLICIT), params)


def outputs(params: Mapping[str, Any], seed: int = 0, size: Size = Size()) -> dict[str, float]:
    """Every statistic of the four experiments for one parameter set.

    Deterministic: the same parameters, seed and size give the same numbers.
    """
    n = size.replicates
    out = survey_judgements(params, size.survey, seed)
    generic = run_replicates(experiment_scenario("generic.toml", params), n, seed)
    out["generic_solid_share"] = float((generic["archetype"] == "solid_partnership").mean())
    out["generic_mean_trust"] = float(generic["mean_trust"].mean())
    out["generic_decision_success"] = float(generic["decision_success_rate"].mean())
    popp = run_replicates(experiment_scenario("policy/popp_pilot.toml", params), n, seed)
    out["popp_saving_per_pound"] = float(popp["acute_saving_per_pound"].mean())
    status = run_replicates(experiment_scenario("policy/status_quo.toml", params), n, seed)
    pooled = run_replicates(experiment_scenario("policy/pooled_budget.toml", params), n, seed)
    out["status_quo_bed_days"] = float(status["emergency_bed_days"].mean())
    out["bcf_trust_change"] = float((pooled["mean_trust"] - status["mean_trust"]).mean())
    for metric, name in (("emergency_bed_days", "bcf_bed_days_change"),
                         ("delayed_transfer_days", "bcf_delayed_change")):
        before = float(status[metric].mean())
        out[name] = float((pooled[metric].mean() - before) / before) if before else 0.0
    return out


@dataclass(frozen=True)
class Target:
    """A published figure the model should reproduce, as an interval.

    Attributes:
        name: The statistic of :func:`outputs` it judges.
        low: Lower end of the interval (``-inf``: none).
        high: Upper end (``inf``: none).
        scale: A miss is measured in units of this.
        source: Where the figure comes from.
        meaning: What the interval says, in words.
    """

    name: str
    low: float
    high: float
    scale: float
    source: str
    meaning: str

    def miss(self, value: float) -> float:
        """How far ``value`` lies outside the interval, in units of ``scale``."""
        if not np.isfinite(value):
            return 1.0  # no respondent of this sector in the population: a unit miss
        return float(max(self.low - value, value - self.high, 0.0) / self.scale)


#: Half-width of the band around each sector's survey share (the issue's acceptance:
#: each sector within 10 points).
SECTOR_BAND = 0.10
BOSTOCK = "Bostock (2014), People Matters Network survey"

TARGETS: tuple[Target, ...] = (
    Target("survey_successful", 0.57, 0.72, 0.10, BOSTOCK,
           "share of members judging their partnership successful lies in the range of the "
           "survey's sector shares"),
    Target("survey_unsuccessful", 0.04, 0.22, 0.10, BOSTOCK,
           "share judging it unsuccessful lies in the range of the survey's sector shares"),
    *(Target(f"survey_successful.{s}", max(0.0, ok - SECTOR_BAND), min(1.0, ok + SECTOR_BAND),
             0.10, BOSTOCK, f"{s}: successful share within 10 points of the survey's "
             f"{ok:.0%}") for s, (ok, _) in SURVEY.items()),
    *(Target(f"survey_unsuccessful.{s}", max(0.0, bad - SECTOR_BAND),
             min(1.0, bad + SECTOR_BAND), 0.10, BOSTOCK,
             f"{s}: unsuccessful share within 10 points of the survey's {bad:.0%}")
      for s, (_, bad) in SURVEY.items()),
    Target("popp_saving_per_pound", 0.73, 1.20, 0.47,
           "Windle et al. (2009), POPP national evaluation",
           "acute bed-day costs saved per £1 of prevention lie between the £0.73 first "
           "reported and the £1.20 of the final evaluation"),
    Target("bcf_trust_change", 0.02, np.inf, 0.05, "National Audit Office (2017)",
           "pooling improves joint working: mean trust rises by at least 0.02"),
    Target("bcf_bed_days_change", -0.02, np.inf, 0.05, "National Audit Office (2017)",
           "pooling does not cut emergency bed-days (admissions): by no more than 2%"),
    Target("bcf_delayed_change", -0.02, np.inf, 0.05, "National Audit Office (2017)",
           "pooling does not cut delayed-transfer days: by no more than 2%"),
)


def misses(stats: Mapping[str, float]) -> dict[str, float]:
    """Each target's normalised miss (0 inside its interval)."""
    return {t.name: t.miss(stats[t.name]) for t in TARGETS}


def survey_distance(stats: Mapping[str, float]) -> float:
    """The survey's part of the calibration distance: its targets' normalised misses."""
    return float(sum(t.miss(stats[t.name]) for t in TARGETS if t.name.startswith("survey")))


def distance(stats: Mapping[str, float]) -> float:
    """The calibration distance: the sum of the targets' normalised misses."""
    return float(sum(misses(stats).values()))
