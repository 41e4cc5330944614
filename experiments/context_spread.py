"""Is a partnership's outcome uncertain, or is it decided by its context?

The survey population (:func:`collabsim.targets.survey_population`) is calibrated so
that about 57–72% of founding members judge their partnership successful, and on the
calibrated ensemble about six runs in ten are a solid partnership. That share could
come from two very different worlds:

- *uncertain outcomes*: in a typical context a partnership is solid in, say, 60% of
  runs and something else in the rest;
- *sorted outcomes*: mild contexts are solid in nearly every run, hard ones almost
  never, and the population share is a mixture of the two.

This script runs ``--contexts`` partnerships of the survey population, each
``--replicates`` times on the calibrated ensemble (the default), and prints, in one
Markdown table, how the per-context share of solid runs is spread: the share of
contexts where solid is near-certain (at least 95% of runs), common but not certain
(35–85%, the acceptance band of generic.toml), rare (at most 5%) and in between; then
the same for decisions that stall (the share of runs labelled collaborative inertia)
and the context values (goal conflict, initial trust, decision rule, austerity) of
the uncertain contexts against the rest; then each archetype's share of all runs with
the mean stall (``inertia``) of its runs, and the rank correlation of each context
value with a context's share of solid runs (what sorts the outcomes).

Run: ``python experiments/context_spread.py --contexts 120 --replicates 40`` (about a
minute on one core).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from collabsim.runner import run_replicates
from collabsim.targets import survey_population

#: The bands of a context's share of solid runs: label and test.
BANDS = (("near-certain (>= 95%)", lambda x: x >= 0.95),
         ("likely (85-95%)", lambda x: (x > 0.85) & (x < 0.95)),
         ("common but not certain (35-85%)", lambda x: (x >= 0.35) & (x <= 0.85)),
         ("unlikely (5-35%)", lambda x: (x > 0.05) & (x < 0.35)),
         ("rare (<= 5%)", lambda x: x <= 0.05))


def contexts(n: int, replicates: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per context (its values and the shares of its runs by archetype), and
    every run's archetype and stall."""
    rows, every = [], []
    for k, s in survey_population(n, seed, over={"scenario.parameters": "ensemble"}):
        runs = run_replicates(s, replicates, seed + 1000 * (k + 1))
        every.append(runs[["archetype", "inertia"]])
        shares = runs["archetype"].value_counts(normalize=True)
        rows.append({
            "context": k,
            "goal_conflict": s["population.goal_conflict"],
            "initial_trust": s["population.initial_trust"],
            "size": s["population.size"],
            "rule": s["governance.decision_rule"],
            "austerity": s["environment.austerity"],
            "solid": float(shares.get("solid_partnership", 0.0)),
            "inertia": float(shares.get("collaborative_inertia", 0.0)),
            "power_inequality": s["population.power_inequality"],
            "decided": float(runs["decision_success_rate"].mean()),
        })
    return pd.DataFrame(rows), pd.concat(every, ignore_index=True)


def band_table(df: pd.DataFrame, column: str) -> list[str]:
    lines = [f"| share of runs {column} | contexts |", "|---|---|"]
    for label, test in BANDS:
        inside = test(df[column])
        lines.append(f"| {label} | {inside.mean():.0%} ({int(inside.sum())}) |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=120)
    ap.add_argument("--replicates", type=int, default=40)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    df, runs = contexts(args.contexts, args.replicates, args.seed)
    print(f"{args.contexts} contexts of the survey population x {args.replicates} replicates, "
          f"seed {args.seed}, on the calibrated ensemble; solid in "
          f"{df['solid'].mean():.0%} of all runs, inertia in {df['inertia'].mean():.0%}\n")
    print("\n".join(band_table(df, "solid")))
    print()
    uncertain = (df["solid"] >= 0.35) & (df["solid"] <= 0.85)
    print("| context values (mean) | uncertain contexts | the others |")
    print("|---|---|---|")
    for col in ("goal_conflict", "initial_trust", "size", "austerity", "decided"):
        print(f"| {col} | {df.loc[uncertain, col].mean():.2f} | "
              f"{df.loc[~uncertain, col].mean():.2f} |")
    unan = df["rule"] == "unanimity"
    print(f"| unanimity | {unan[uncertain].mean():.0%} | {unan[~uncertain].mean():.0%} |")
    sd = np.sqrt((df["solid"] * (1 - df["solid"])).mean())
    print(f"\nwithin-context sd of the solid indicator: {sd:.2f} "
          f"(between contexts: {df['solid'].std():.2f})\n")
    print("| archetype | share of runs | mean inertia of its runs |")
    print("|---|---|---|")
    for name, group in runs.groupby("archetype"):
        print(f"| {name} | {len(group) / len(runs):.1%} | {group['inertia'].mean():.2f} |")
    print("\n| context value | rank correlation with the share of solid runs |")
    print("|---|---|")
    for col in ("goal_conflict", "initial_trust", "size", "power_inequality", "austerity"):
        rho = stats.spearmanr(df[col], df["solid"]).statistic
        print(f"| {col} | {rho:+.2f} |")


if __name__ == "__main__":
    main()
