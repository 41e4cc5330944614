"""Can decisions stall on generic.toml without breaking the survey's calibration target?

The default model decides at every meeting of ``scenarios/generic.toml`` (docs/
validation.md). This experiment switches on ratification by the home organisations
(:mod:`collabsim.mechanisms.ratification`), which makes a plan fail where home
organisations judge it against their own goals and budget pressure, and sweeps its bar
``ratification.threshold`` (at two values of ``ratification.pressure``). For each
setting it prints, in one Markdown table:

- on generic.toml (``--replicates`` replicates): the share of runs that are a
  solid_partnership, the share that are collaborative_inertia and the mean decision
  success rate;
- on the survey population and the other calibration experiments
  (:func:`collabsim.targets.outputs`): the share of founding members judging their
  partnership successful and unsuccessful, and the calibration distance (0 inside every
  target).

Run: ``python experiments/ratification.py --replicates 200 --survey 60`` (a few minutes).
"""

from __future__ import annotations

import argparse

from collabsim import load_scenario
from collabsim.runner import run_replicates
from collabsim.targets import SCENARIOS, Size, apply, distance, outputs

THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
PRESSURES = (0.0, 0.1, 0.5)


def row(params: dict[str, object], replicates: int, survey: int, seed: int) -> dict[str, float]:
    """The figures of one parameter setting."""
    generic = run_replicates(apply(load_scenario(SCENARIOS / "generic.toml"), params),
                             replicates, seed)
    stats = outputs(params, seed, Size(survey=survey, replicates=8))
    return {"solid": float((generic["archetype"] == "solid_partnership").mean()),
            "inertia": float((generic["archetype"] == "collaborative_inertia").mean()),
            "decided": float(generic["decision_success_rate"].mean()),
            "successful": stats["survey_successful"],
            "unsuccessful": stats["survey_unsuccessful"],
            "distance": distance(stats)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--survey", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    settings: list[tuple[str, dict[str, object]]] = [
        ("off", {"ratification.enabled": False}), ("the defaults", {})]
    for pressure in PRESSURES:
        for bar in THRESHOLDS:
            settings.append((f"threshold {bar:g}, pressure {pressure:g}",
                             {"ratification.enabled": True, "ratification.threshold": bar,
                              "ratification.pressure": pressure}))
    print("| ratification | generic: solid | generic: inertia | generic: decided "
          "| survey: successful | survey: unsuccessful | calibration distance |")
    print("|---|---|---|---|---|---|---|")
    for name, params in settings:
        r = row(params, args.replicates, args.survey, args.seed)
        print(f"| {name} | {r['solid']:.0%} | {r['inertia']:.0%} | {r['decided']:.2f} "
              f"| {r['successful']:.0%} | {r['unsuccessful']:.0%} | {r['distance']:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
