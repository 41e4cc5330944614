"""Does any parameter set meet the survey's shares and leave generic.toml uncertain?

``experiments/tension.py`` moves one lever at a time from the defaults. This
experiment asks the same question of whole parameter sets: a space-filling design (a
seeded Latin hypercube) over many constants at once, each point judged on the
calibration experiments (:func:`collabsim.targets.outputs`, the calibration's sizes)
and on ``scenarios/generic.toml`` with more replicates. Three designs:

- ``all``: every numeric schema constant the Morris screen varies, over the screen's
  band (±50% of its default), except the classifier's definitions (``metrics.*``) and
  the facts about a place in :data:`CONTEXT` (the care pathway's rates and costs are
  sampled);
- ``levers``: the calibrated parameters over their priors, with the levers that could
  make a mild partnership fail (political shifts, leadership turnover, scandals, how
  uncertain sign-off is, how long distrust lasts) over wide ranges;
- ``targeted``: the parameters that move the two criteria most in the other designs,
  over wide ranges, with synergy (which moves the survey's success far more than
  generic.toml's) up to two and a half times its default; everything else at the
  schema's values.

It prints how many points meet each criterion and both, the rank correlation of
generic's solid share with the survey's successful share (over all points, and over
those below 100% solid, since many points tie at 100%), each sampled parameter's rank
correlation with both, how the points in generic's band fail, and the points closest
to meeting both. It then runs every point that met both, and the nearest others by a
joint miss, again at two other seeds at the same sizes, and judges them on the mean
over the three seeds. Every point of the first pass is written to
``results/experiments/feasibility_<design>.csv``; ``--from-csv`` reads the first pass
from there instead of running it.

Run: ``python experiments/feasibility.py --design levers --points 800 --workers 2``
(about 15 minutes on two cores; ``targeted`` with 300 points about 5).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc, spearmanr

from collabsim.calibrate import FITTED, priors
from collabsim.experiment.engine import open_executor
from collabsim.runner import run_replicates
from collabsim.schema import PARAM_BY_KEY
from collabsim.screen import candidates
from collabsim.targets import (
    TARGETS,
    Size,
    distance,
    experiment_scenario,
    outputs,
    survey_distance,
)

#: Facts about a place, not behaviour: the experiments set them, so they are not sampled.
CONTEXT = ("population.initial_trust", "population.goal_conflict",
           "population.power_inequality", "population.mean_budget",
           "population.admin_capacity", "funding.pooled_share", "services.additionality",
           "environment.demand_growth", "governance.admin_capacity")

#: The ``levers`` design's wide ranges for the levers that could make a mild partnership
#: fail (the calibrated parameters keep their priors).
LEVERS: dict[str, tuple[float, float]] = {
    "environment.political_shift_rate": (0.0, 0.06),
    "environment.political_shift_size": (0.1, 0.4),
    "environment.turnover_rate": (0.0, 0.08),
    "environment.scandal_rate": (0.0, 0.03),
    "ratification.spread": (0.01, 0.3),
    "memory.scar_decay": (0.005, 0.1),
}

#: The ``targeted`` design: the parameters that move the two criteria most in the other
#: designs (rank correlations), with synergy, which moves the survey's successful share
#: but hardly generic.toml's solid share, over a wide range.
TARGETED: dict[str, tuple[float, float]] = {
    "dynamics.acceptability_scale": (0.2, 0.8),
    "ratification.threshold": (0.35, 0.8),
    "dynamics.synergy": (1.0, 3.5),
    "environment.political_shift_rate": (0.005, 0.05),
}

SURVEY = ("survey_successful", "survey_unsuccessful")
GENERIC_BAND = (0.35, 0.85)


def bands(design: str) -> dict[str, tuple[float, float]]:
    """Each sampled parameter's range under ``design``."""
    if design in ("levers", "targeted"):
        out = dict(TARGETED) if design == "targeted" else {**priors(FITTED), **LEVERS}
        for key, (low, high) in out.items():  # within what the schema allows
            p = PARAM_BY_KEY[key]
            out[key] = (max(low, p.low if p.low is not None else low),
                        min(high, p.high if p.high is not None else high))
        return out
    factors, _ = candidates()
    return {f.key: (float(f.low), float(f.high)) for f in factors  # type: ignore[arg-type]
            if not f.key.startswith("metrics.") and f.key not in CONTEXT}


def sample(ranges: dict[str, tuple[float, float]], points: int, seed: int) -> list[dict[str, Any]]:
    """``points`` parameter sets: a seeded Latin hypercube over ``ranges``."""
    unit = qmc.LatinHypercube(d=len(ranges), seed=seed).random(points)
    keys = list(ranges)
    low = np.array([ranges[k][0] for k in keys])
    high = np.array([ranges[k][1] for k in keys])
    integer = np.array([PARAM_BY_KEY[k].kind == "int" for k in keys])
    # An integer range's values each get an equal share of the unit interval.
    values = np.where(integer, np.minimum(np.floor(low + unit * (high - low + 1)), high),
                      low + unit * (high - low))
    return [{k: int(v) if i else float(v) for k, v, i in zip(keys, row, integer, strict=True)}
            for row in values]


#: The calibration's sizes (``collabsim calibrate``'s defaults).
FIRST = Size(survey=24, replicates=6)


def evaluate(args: tuple[dict[str, Any], int, int]) -> dict[str, float]:
    """The calibration statistics of one point, and generic.toml at more replicates."""
    params, seed, replicates = args
    stats = outputs(params, seed, FIRST)
    generic = run_replicates(experiment_scenario("generic.toml", params), replicates, seed)
    return {
        "survey_successful": stats["survey_successful"],
        "survey_unsuccessful": stats["survey_unsuccessful"],
        "survey_distance": survey_distance(stats),
        "distance": distance(stats),
        "generic_solid": float((generic["archetype"] == "solid_partnership").mean()),
        "generic_decided": float(generic["decision_success_rate"].mean()),
        "generic_inertia": float((generic["archetype"] == "collaborative_inertia").mean()),
        "generic_tokenism": float((generic["archetype"] == "tokenism").mean()),
    }


def run_all(points: list[dict[str, Any]], seed: int, replicates: int,
            workers: int) -> pd.DataFrame:
    """Every point's parameters and statistics, one row per point, in order."""
    jobs = [(p, seed, replicates) for p in points]
    with open_executor(workers) as executor:
        results = (list(executor.map(evaluate, jobs)) if executor
                   else [evaluate(j) for j in jobs])
    return pd.concat([pd.DataFrame(points), pd.DataFrame(results)], axis=1)


def meets(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Which rows have the survey's overall shares in their bands, and generic.toml in its."""
    ok = {t.name: t for t in TARGETS}
    fits = pd.Series(True, index=df.index)
    for name in SURVEY:
        fits &= df[name].between(ok[name].low, ok[name].high)
    return fits, df["generic_solid"].between(*GENERIC_BAND)


def joint_miss(df: pd.DataFrame) -> pd.Series:
    """How far a point is from meeting both: its survey distance plus generic.toml's
    distance from its band, in the same units (10 points of a share count 1)."""
    solid = df["generic_solid"]
    outside = np.maximum(np.maximum(GENERIC_BAND[0] - solid, solid - GENERIC_BAND[1]), 0.0)
    return df["survey_distance"] + outside / 0.10


def closest(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """Every point that meets both, then the nearest others by :func:`joint_miss`, ``n``
    in all (or the hits alone where there are more)."""
    fits, uncertain = meets(df)
    hits = df[fits & uncertain]
    rest = df[~(fits & uncertain)].assign(_miss=joint_miss(df))
    return pd.concat([hits, rest.nsmallest(max(n - len(hits), 0), "_miss")
                      .drop(columns="_miss")])


def rank_correlation(a: pd.Series, b: pd.Series) -> float:
    """Spearman's rank correlation, NaN where either is constant."""
    if a.nunique() < 2 or b.nunique() < 2:
        return float("nan")
    return float(spearmanr(a, b).statistic)


def correlations(df: pd.DataFrame, params: list[str], top: int = 6) -> list[str]:
    """Markdown rows: the ``top`` parameters by their largest rank correlation with
    generic.toml's solid share or the survey's successful share, with both."""
    rows = {k: (rank_correlation(df[k], df["generic_solid"]),
                rank_correlation(df[k], df["survey_successful"])) for k in params}
    ranked = sorted((k for k in rows if np.isfinite(rows[k]).any()),
                    key=lambda k: -np.nanmax(np.abs(rows[k])))
    return [f"| `{k}` | {rows[k][0]:+.2f} | {rows[k][1]:+.2f} |" for k in ranked[:top]]


def summary(df: pd.DataFrame, params: list[str]) -> str:
    """The Markdown summary of a design's points (``params``: the sampled parameters)."""
    fits, uncertain = meets(df)
    both = fits & uncertain
    rho = rank_correlation(df["generic_solid"], df["survey_successful"])
    below = df[df["generic_solid"] < 1.0]
    rho_below = rank_correlation(below["generic_solid"], below["survey_successful"])
    band = df[uncertain]
    lines = [
        f"- points: {len(df)}",
        f"- survey's overall shares both in their bands: {fits.sum()} "
        f"({fits.mean():.0%}); every survey target met (sectors too): "
        f"{(df['survey_distance'] == 0).sum()}",
        f"- generic.toml solid in 35-85% of runs: {uncertain.sum()} ({uncertain.mean():.0%})",
        f"- both: {both.sum()}",
        f"- rank correlation of generic's solid share with the survey's successful share: "
        f"{rho:.2f} over all points; {rho_below:.2f} over the {len(below)} below 100% solid",
        f"- generic solid share: median {df['generic_solid'].median():.0%}, "
        f"10th percentile {df['generic_solid'].quantile(0.1):.0%}",
        f"- the {len(band)} points in generic's band: with some inertia "
        f"{(band['generic_inertia'] > 0).mean():.0%}, with some tokenism "
        f"{(band['generic_tokenism'] > 0).mean():.0%}; mean decision success "
        f"{band['generic_decided'].mean():.2f}",
        "",
        "| parameter | rank correlation with generic solid | with survey successful |",
        "|---|---|---|",
        *correlations(df, params),
        "",
        "Points with generic.toml solid in at most 85% of runs, nearest the survey's targets:",
        "",
        "| survey successful | survey unsuccessful | survey distance | generic solid "
        "| generic decided | generic inertia | generic tokenism |",
        "|---|---|---|---|---|---|---|",
    ]
    near = df[df["generic_solid"] <= GENERIC_BAND[1]].nsmallest(8, "survey_distance")
    for _, r in near.iterrows():
        lines.append(f"| {r['survey_successful']:.0%} | {r['survey_unsuccessful']:.0%} "
                     f"| {r['survey_distance']:.2f} | {r['generic_solid']:.0%} "
                     f"| {r['generic_decided']:.2f} | {r['generic_inertia']:.0%} "
                     f"| {r['generic_tokenism']:.0%} |")
    return "\n".join(lines)


def recheck(df: pd.DataFrame, params: list[str], n: int, seed: int, replicates: int,
            workers: int) -> str:
    """:func:`closest`'s points again at two other seeds, same sizes (Markdown), and the
    verdict on their mean over the three seeds."""
    near = closest(df, n).reset_index()
    points = [{k: (int(v) if PARAM_BY_KEY[k].kind == "int" else float(v))
               for k, v in row[params].items()} for _, row in near.iterrows()]
    runs = [near] + [run_all(points, s, replicates, workers) for s in (seed + 1, seed + 2)]
    mean = sum(r[[*SURVEY, "survey_distance", "generic_solid"]] for r in runs) / len(runs)
    lines = [f"Every point that met both and the nearest others ({len(points)} in all), "
             f"again at seeds {seed + 1} and {seed + 2} at the same sizes:", "",
             "| point | seed | survey successful | survey unsuccessful | survey distance "
             "| generic solid | both |", "|---|---|---|---|---|---|---|"]
    for label, table in [*zip((seed, seed + 1, seed + 2), runs, strict=True),
                         ("mean", mean)]:
        fits, uncertain = meets(table)
        for i in range(len(points)):
            r = table.iloc[i]
            both = bool(fits.iloc[i] and uncertain.iloc[i])
            lines.append(f"| {int(near['index'].iloc[i])} | {label} "
                         f"| {r['survey_successful']:.0%} | {r['survey_unsuccessful']:.0%} "
                         f"| {r['survey_distance']:.2f} | {r['generic_solid']:.0%} "
                         f"| {'yes' if both else 'no'} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", choices=("all", "levers", "targeted"), default="levers")
    ap.add_argument("--points", type=int, default=800)
    ap.add_argument("--replicates", type=int, default=24, help="replicates of generic.toml")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--recheck", type=int, default=5,
                    help="closest points to run again at two other seeds")
    ap.add_argument("--from-csv", action="store_true",
                    help="read the first pass from the design's CSV of an earlier run")
    args = ap.parse_args()
    ranges = bands(args.design)
    csv = Path("results/experiments") / f"feasibility_{args.design}.csv"
    if args.from_csv:
        df = pd.read_csv(csv)
    else:
        df = run_all(sample(ranges, args.points, args.seed), args.seed, args.replicates,
                     args.workers)
        csv.parent.mkdir(parents=True, exist_ok=True)
        df.to_csv(csv, index=False)
    print(f"## {args.design}: {len(ranges)} parameters\n")
    print(summary(df, list(ranges)))
    if args.recheck:
        print()
        print(recheck(df, list(ranges), args.recheck, args.seed, args.replicates,
                      args.workers))


if __name__ == "__main__":
    main()
