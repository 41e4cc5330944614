"""How much does the survey statistic of one parameter set move with the seed?

The calibration judges each particle on the survey population at one seed
(:func:`collabsim.targets.survey_judgements`). This experiment holds the parameter set
fixed (the schema's defaults, and the shipped ensemble's posterior median) and runs the
survey population at ``--seeds`` seeds for each population size in ``--sizes``. It
prints, per parameter set and size, the mean and standard deviation over seeds of the
successful share, and the mean, smallest and largest survey part of the calibration
distance (the normalised misses of the overall and per-sector targets).

Run: ``python experiments/survey_noise.py --seeds 10 --sizes 24,60`` (about a minute).
"""

from __future__ import annotations

import argparse

import numpy as np

from collabsim.ensemble import point_estimate
from collabsim.targets import survey_distance, survey_judgements


def spread(params: dict[str, float], size: int, seeds: int) -> dict[str, float]:
    """Mean and spread over seeds ``0 .. seeds - 1`` of the survey statistic at ``size``."""
    succ, dist = [], []
    for seed in range(seeds):
        stats = survey_judgements(params, size, seed)
        succ.append(stats["survey_successful"])
        dist.append(survey_distance(stats))
    return {"successful": float(np.mean(succ)), "successful_sd": float(np.std(succ, ddof=1)),
            "distance": float(np.mean(dist)), "distance_min": min(dist),
            "distance_max": max(dist)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--sizes", default="24,60", help="survey partnerships, comma-separated")
    args = ap.parse_args()
    if args.seeds < 2:
        ap.error("--seeds: expected at least 2 (a spread needs two seeds)")
    print("| parameters | partnerships | successful: mean | successful: sd over seeds "
          "| survey distance: mean | smallest | largest |")
    print("|---|---|---|---|---|---|---|")
    for name, params in (("the schema's defaults", {}),
                         ("posterior median", point_estimate())):
        for size in (int(s) for s in args.sizes.split(",")):
            r = spread(params, size, args.seeds)
            print(f"| {name} | {size} | {r['successful']:.1%} | {r['successful_sd']:.1%} "
                  f"| {r['distance']:.2f} | {r['distance_min']:.2f} "
                  f"| {r['distance_max']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
