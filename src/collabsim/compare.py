"""Comparing policy options with common random numbers.

Replicate ``k`` of every scenario uses the same seed, ``SeedSequence(seed,
spawn_key=(k,))``, so differences between options are paired: the noise the options
share cancels, and comparing a scenario with itself gives exactly zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from collabsim.metrics import ARCHETYPES, METRIC_DIRECTION, METRICS
from collabsim.runner import aggregate, mean_ci, replicate_seed, run
from collabsim.scenario import Scenario
from collabsim.services import SERVICE_METRICS
from collabsim.store import unique


@dataclass
class Comparison:
    """The result of :func:`compare`.

    Attributes:
        scenarios: The scenarios compared; the first is the reference.
        replicates: Replicates per scenario.
        seed: Base seed.
        runs: One row per (scenario, replicate) with every summary column.
        steps: Per-step tables of every run, with ``scenario`` and ``replicate``.
        members: Per-run organisation table (paid, saved, net benefit), for the
            wrong-pocket chart.
        summary: Per scenario: each metric's mean and 95% CI, archetype shares.
        differences: One row per (option, metric): paired mean difference from the
            reference, its 95% CI, and the share of replicates in which the option is
            better (NaN where neither direction is better).
    """

    scenarios: list[Scenario]
    replicates: int
    seed: int
    runs: pd.DataFrame
    steps: pd.DataFrame
    members: pd.DataFrame
    summary: dict[str, dict[str, Any]]
    differences: pd.DataFrame

    @property
    def names(self) -> list[str]:
        """Scenario labels, in order (made unique)."""
        return list(dict.fromkeys(self.runs["scenario"]))

    @property
    def metrics(self) -> list[str]:
        """The metrics compared (service metrics when every scenario has them)."""
        return [m for m in (*METRICS, *SERVICE_METRICS) if m in self.runs]


def labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Scenario names made distinct (ignoring case): ``x, x, x (2)`` give ``x (1), x (3), x (2)``.

    Statistics are grouped by label, so two scenarios never share one.
    """
    return unique([s.name for s in scenarios], " ({})")


def compare(
    scenarios: Sequence[Scenario], replicates: int = 50, seed: int = 0, *,
    steps: int | None = None,
) -> Comparison:
    """Run every scenario ``replicates`` times with common random numbers and compare."""
    runs, tables, members = [], [], []
    for label, s in zip(labels(scenarios), scenarios, strict=True):
        for k in range(replicates):
            result = run(s, replicate_seed(seed, k), steps=steps)
            runs.append({"scenario": label, "replicate": k, **result.summary})
            tables.append(result.steps.assign(scenario=label, replicate=k))
            members.append(result.members.assign(scenario=label, replicate=k))
    runs_df = pd.DataFrame(runs)
    if any(not s["services.enabled"] for s in scenarios):
        runs_df = runs_df.drop(columns=[m for m in SERVICE_METRICS if m in runs_df])
    summary = {name: aggregate(grp) for name, grp in runs_df.groupby("scenario", sort=False)}
    cmp = Comparison(list(scenarios), replicates, seed, runs_df,
                     pd.concat(tables, ignore_index=True), pd.concat(members, ignore_index=True),
                     summary, pd.DataFrame())
    cmp.differences = paired_differences(cmp)
    return cmp


def paired_differences(cmp: Comparison) -> pd.DataFrame:
    """Each option minus the reference, replicate by replicate."""
    names = cmp.names
    ref = cmp.runs[cmp.runs["scenario"] == names[0]].set_index("replicate")
    rows = []
    for name in names[1:]:
        opt = cmp.runs[cmp.runs["scenario"] == name].set_index("replicate")
        for metric in cmp.metrics:
            diff = (opt[metric] - ref[metric]).to_numpy(dtype=float)
            mean, lo, hi = mean_ci(diff)
            direction = METRIC_DIRECTION.get(metric, 0)
            better = float(np.mean(direction * diff > 0)) if direction else np.nan
            rows.append({"option": name, "metric": metric, "difference": mean, "ci_low": lo,
                         "ci_high": hi, "share_better": better,
                         "clear": bool(lo > 0 or hi < 0)})
    return pd.DataFrame(rows, columns=["option", "metric", "difference", "ci_low", "ci_high",
                                       "share_better", "clear"])


def differing_parameters(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """The parameters (and organisation fields) whose values differ between scenarios."""
    flat = [_flatten(s) for s in scenarios]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    rows = []
    for key in keys:
        values = [f.get(key, "—") for f in flat]
        if key != "scenario.name" and key != "scenario.description" and \
                len({repr(v) for v in values}) > 1:
            rows.append({"parameter": key, **dict(zip(labels(scenarios), values, strict=True))})
    return pd.DataFrame(rows)


def _flatten(s: Scenario) -> dict[str, Any]:
    out: dict[str, Any] = {k: (", ".join(v) if isinstance(v, tuple) else v)
                           for k, v in s.params.items()}
    for org in s.organisations:
        for field in ("sector", "power", "budget", "admin_capacity", "prosociality",
                      "commitment"):
            out[f"organisation[{org.name}].{field}"] = getattr(org, field)
        out[f"organisation[{org.name}].goals"] = ", ".join(f"{g:g}" for g in org.goals)
    for i, shock in enumerate(s.shocks, start=1):
        out[f"shock[{i}]"] = f"step {shock.step}: {shock.kind} {shock.size:g} {shock.target}"
    return out


def number(x: float, sign: bool = False) -> str:
    """Three significant figures, or whole numbers with separators from 10,000."""
    if abs(x) >= 1e4:
        return f"{x:+,.0f}" if sign else f"{x:,.0f}"
    return f"{x:+,.3g}" if sign else f"{x:,.3g}"


def headlines(cmp: Comparison) -> list[str]:
    """Plain-language findings: clear paired differences, and the usual outcome."""
    names = cmp.names
    lines = []
    for name in names:
        shares = cmp.summary[name]["archetypes"]
        top = max(ARCHETYPES, key=lambda a: shares[a])
        lines.append(f"{name}: the most common outcome is {top.replace('_', ' ')} "
                     f"({shares[top]:.0%} of runs).")
    for name in names[1:]:
        sub = cmp.differences[(cmp.differences["option"] == name) & cmp.differences["clear"]]
        good, bad = [], []
        # Most consistent differences first, at most four each way.
        sub = sub.assign(strength=(sub["share_better"] - 0.5).abs()).sort_values(
            "strength", ascending=False, kind="stable")
        for row in sub.itertuples():
            direction = METRIC_DIRECTION.get(row.metric, 0)
            if direction == 0:
                continue
            text = (f"{row.metric.replace('_', ' ')} {'higher' if row.difference > 0 else 'lower'}"
                    f" by {number(abs(row.difference))} (95% CI {number(row.ci_low)} to "
                    f"{number(row.ci_high)}; better in {row.share_better:.0%} of paired runs)")
            (good if direction * row.difference > 0 else bad).append(text)
        if not good and not bad:
            lines.append(f"{name} v. {names[0]}: no clear difference on any metric with "
                         f"{cmp.replicates} replicates.")
            continue
        if good:
            lines.append(f"{name} v. {names[0]}, better: " + "; ".join(good[:4]) + ".")
        if bad:
            lines.append(f"{name} v. {names[0]}, worse: " + "; ".join(bad[:4]) + ".")
    return lines


def wrong_pocket(cmp: Comparison) -> pd.DataFrame:
    """Mean paid and saved per scenario and sector (£m over the run)."""
    per_run = (cmp.members.groupby(["scenario", "replicate", "sector"], sort=False)
               [["paid", "saved"]].sum().reset_index())
    table = per_run.groupby(["scenario", "sector"], sort=False)[["paid", "saved"]].mean()
    return table.reset_index()
