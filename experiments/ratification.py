"""Can decisions stall on generic.toml without breaking the survey's calibration target?

Without ratification by the home organisations
(:mod:`collabsim.mechanisms.ratification`), every meeting of ``scenarios/generic.toml``
decides. This experiment compares ratification off, the defaults, and a grid of its bar
``ratification.threshold`` at three values of ``ratification.pressure``, on generic.toml
as shipped (goal conflict 0.3) and with goal conflict 1.0 (members centred on their
sectors' priorities, with the widest scatter). For each setting it prints, in one
Markdown table:

- on generic.toml and on generic.toml at goal conflict 1.0 (``--replicates``
  replicates each): the share of runs that are a solid_partnership, and the mean
  decision success rate;
- on the survey population and the other calibration experiments
  (:func:`collabsim.targets.outputs`): the share of founding members judging their
  partnership successful and unsuccessful, and the calibration distance (0 inside every
  target).

Run: ``python experiments/ratification.py --replicates 200 --survey 60`` (a few minutes).
"""

from __future__ import annotations

import argparse

from collabsim.runner import run_replicates
from collabsim.targets import Size, distance, experiment_scenario, outputs

THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
PRESSURES = (0.0, 0.1, 0.5)


def row(params: dict[str, object], replicates: int, survey: int, seed: int) -> dict[str, float]:
    """The figures of one parameter setting."""
    base = experiment_scenario("generic.toml", params)
    generic = run_replicates(base, replicates, seed)
    wide = run_replicates(base.with_overrides({"population.goal_conflict": 1.0}),
                          replicates, seed)
    stats = outputs(params, seed, Size(survey=survey, replicates=8))
    return {"solid": float((generic["archetype"] == "solid_partnership").mean()),
            "decided": float(generic["decision_success_rate"].mean()),
            "wide_solid": float((wide["archetype"] == "solid_partnership").mean()),
            "wide_decided": float(wide["decision_success_rate"].mean()),
            "successful": stats["survey_successful"],
            "unsuccessful": stats["survey_unsuccessful"],
            "distance": distance(stats)}


def arguments(doc: str) -> argparse.Namespace:
    """The command line of an experiment that prints :func:`table`."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=200, help="replicates of generic.toml")
    ap.add_argument("--survey", type=int, default=60, help="survey partnerships")
    ap.add_argument("--seed", type=int, default=0, help="seed")
    return ap.parse_args()


def main() -> None:
    args = arguments(__doc__)
    settings: list[tuple[str, dict[str, object]]] = [
        ("off", {"ratification.enabled": False}), ("the defaults", {})]
    for pressure in PRESSURES:
        for bar in THRESHOLDS:
            settings.append((f"threshold {bar:g}, pressure {pressure:g}",
                             {"ratification.enabled": True, "ratification.threshold": bar,
                              "ratification.pressure": pressure}))
    table("ratification", settings, args.replicates, args.survey, args.seed)


def table(label: str, settings: list[tuple[str, dict[str, object]]], replicates: int,
          survey: int, seed: int) -> None:
    """Print one Markdown row of :func:`row`'s figures per setting, as it is computed."""
    print(f"| {label} | generic: solid | generic: decided | conflict 1.0: solid "
          "| conflict 1.0: decided | survey: successful | survey: unsuccessful "
          "| calibration distance |")
    print("|---|---|---|---|---|---|---|---|")
    for name, params in settings:
        r = row(params, replicates, survey, seed)
        print(f"| {name} | {r['solid']:.0%} | {r['decided']:.2f} | {r['wide_solid']:.0%} "
              f"| {r['wide_decided']:.2f} "
              f"| {r['successful']:.0%} | {r['unsuccessful']:.0%} | {r['distance']:.1f} |",
              flush=True)

if __name__ == "__main__":
    main()
