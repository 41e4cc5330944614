"""What decides a verdict: the parameters that flip a paired difference across plausible worlds.

When a comparison runs over the calibrated ensemble (:mod:`collabsim.compare`), every
headline difference has one mean paired difference per plausible world. Two simple
analyses ask which of the ensemble's parameters that difference hangs on:

- **sensitivity**: Spearman's rank correlation, across the worlds, between each
  parameter and the world's mean difference. With ``n`` distinct parameter sets among
  the worlds a correlation smaller than about ``1.96 / sqrt(n - 1)`` in size is within
  what chance gives when there is no relation (the normal approximation of its null
  distribution; a set drawn twice adds no information about the parameter), and is
  marked so; the numbers of worlds and of distinct sets are stated with every value.
- **where it flips**: PRIM (:func:`collabsim.experiment.discovery.find_boxes`, EMA
  Workbench) over the worlds' parameter values, for the worlds in which the difference
  lies on the other side of zero from the headline ("pooled_budget is worse on … when
  …"; a world with no difference is on neither side). The
  box is sought over the ``BOX_PARAMETERS`` parameters with the largest correlations (a
  box free to restrict all ten on a few dozen worlds fits noise), and only when at least
  ``MIN_FLIPPED`` worlds flip. It is reported with its coverage (the share of such
  worlds inside it) and density (the share of the worlds inside it that are such
  worlds), or "no box found".

The worlds are drawn with probability their posterior weights, so each counts once.
Headlines are the board outcomes (:data:`collabsim.compare.BOARD`) each option moves in
a scored direction (not ``same``, ``by design`` or ``not scored``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from collabsim.compare import BOARD, Comparison, world_differences
from collabsim.metrics import REGISTRY

#: Fewest worlds on the other side of zero for PRIM to look for a box around them.
MIN_FLIPPED = 3
#: PRIM looks only at this many parameters, those with the largest rank correlations:
#: with a few dozen worlds, a box free to restrict every parameter fits noise.
BOX_PARAMETERS = 3

#: Verdicts whose difference is a headline for this analysis.
HEADLINE = ("better", "worse", "unclear")

SENSITIVITY_COLUMNS = ["option", "metric", "parameter", "rho", "worlds", "distinct",
                       "beyond_chance"]
FLIP_COLUMNS = ["option", "metric", "headline", "worlds", "flipped", "box", "coverage",
                "density", "text"]


def headlines(cmp: Comparison) -> pd.DataFrame:
    """The differences analysed: board outcomes an option moves, in a scored direction."""
    d = cmp.differences
    return d[d["metric"].isin(BOARD) & d["verdict"].isin(HEADLINE)
             & (d["direction"] != 0)].reset_index(drop=True)


def _parameters(cmp: Comparison) -> list[str]:
    """The ensemble's parameters that vary across the worlds drawn."""
    if cmp.worlds is None:
        return []
    return [c for c in cmp.worlds.columns if c not in ("world", "member")
            and cmp.worlds[c].nunique() > 1]


def distinct_sets(cmp: Comparison) -> int:
    """How many different parameter sets the worlds drew (a set can fill several worlds)."""
    return int(cmp.worlds["member"].nunique()) if cmp.worlds is not None else 0


def chance_level(n: int) -> float:
    """The size of rank correlation that chance alone exceeds about 5% of the time."""
    return 1.96 / np.sqrt(n - 1) if n > 1 else np.inf


def sensitivity(cmp: Comparison) -> pd.DataFrame:
    """Per headline and ensemble parameter: rank correlation with the per-world difference."""
    if "sensitivity" not in cmp.cache:
        cmp.cache["sensitivity"] = _sensitivity(cmp)
    return cmp.cache["sensitivity"].copy()


def _sensitivity(cmp: Comparison) -> pd.DataFrame:
    if not cmp.over_ensemble or cmp.worlds is None:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    from scipy import stats

    per_world = world_differences(cmp).set_index(["option", "metric"]).sort_index()
    params = _parameters(cmp)
    distinct = distinct_sets(cmp)
    rows = []
    for r in headlines(cmp).itertuples():
        diff = per_world.loc[(r.option, r.metric)].sort_values("world")["difference"]
        n = len(diff)
        for p in params:
            rho = (float(stats.spearmanr(cmp.worlds[p], diff.to_numpy()).statistic)
                   if diff.nunique() > 1 else np.nan)
            rows.append({"option": r.option, "metric": r.metric, "parameter": p, "rho": rho,
                         "worlds": n, "distinct": distinct,
                         "beyond_chance": bool(abs(rho) > chance_level(distinct))})
    out = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    return out.assign(size=out["rho"].abs()).sort_values(
        ["option", "metric", "size"], ascending=[True, True, False], kind="stable",
        key=lambda c: c if c.name == "size" else c.map(_order(cmp, c.name))).drop(
        columns="size").reset_index(drop=True)


def _order(cmp: Comparison, column: Any) -> dict[str, int]:
    keys = cmp.names if column == "option" else list(BOARD)
    return {k: i for i, k in enumerate(keys)}


def flips(cmp: Comparison, min_coverage: float = 0.5) -> pd.DataFrame:
    """Per headline: in how many worlds it flips, and the PRIM box where it does.

    PRIM keeps the densest box holding at least ``min_coverage`` of those worlds.
    """
    key = f"flips {min_coverage}"
    if key not in cmp.cache:
        cmp.cache[key] = _flips(cmp, min_coverage)
    return cmp.cache[key].copy()


def _flips(cmp: Comparison, min_coverage: float) -> pd.DataFrame:
    if not cmp.over_ensemble or cmp.worlds is None:
        return pd.DataFrame(columns=FLIP_COLUMNS)
    from collabsim.experiment.discovery import as_experiments, box_text, find_boxes

    per_world = world_differences(cmp).set_index(["option", "metric"]).sort_index()
    params = _parameters(cmp)
    ranked = sensitivity(cmp).set_index(["option", "metric"]).sort_index()
    rows = []
    for r in headlines(cmp).itertuples():
        spec = REGISTRY[r.metric]
        good = spec.direction * r.difference > 0
        diff = per_world.loc[(r.option, r.metric)].sort_values("world")["difference"].to_numpy()
        y = (spec.direction * diff < 0) if good else (spec.direction * diff > 0)
        n, k = len(y), int(y.sum())
        side = "worse" if good else "better"  # the other side of zero; a tie is neither
        what = f"{r.option} is {side} on {spec.label.lower()}"
        row = {"option": r.option, "metric": r.metric, "headline": "better" if good else "worse",
               "worlds": n, "flipped": k, "box": "", "coverage": np.nan, "density": np.nan}
        if k == 0:
            text = (f"{r.option} is {side} on {spec.label.lower()} in none of the {n} "
                    "plausible worlds drawn")
        elif k == n:
            text = (f"{r.option} is {side} on {spec.label.lower()} in every one of the {n} "
                    "worlds, against the headline mean")
        elif not params:
            text = f"{what} in {k} of {n} worlds; no ensemble parameter varies, no box to find"
        elif k < MIN_FLIPPED:
            text = (f"{what} in {k} of {n} worlds: too few to look for a region (PRIM needs "
                    f"{MIN_FLIPPED})")
        else:
            top = ranked.loc[(r.option, r.metric)].dropna(subset=["rho"])
            top = list(top["parameter"].iloc[:BOX_PARAMETERS]) or params[:BOX_PARAMETERS]
            x = as_experiments(cmp.worlds[top])
            found = find_boxes(x, y, f"{side} on {r.metric}", {}, min_coverage=min_coverage,
                               max_boxes=1)
            if found.boxes:
                box = found.boxes[0]
                row.update(box=box_text(found, box), coverage=box.coverage,
                           density=box.density)
                # "is worse when ..." only where most worlds in the box are such worlds
                lead = (f"{what} when {row['box']}" if box.density > 0.5 else
                        f"{what} in {k} of {n} worlds, more often (but not mostly) when "
                        f"{row['box']}")
                text = (f"{lead}: {box.hits} of the {k} worlds (of {n}) "
                        f"where it is {side} lie in this box (coverage {box.coverage:.2f}), and "
                        f"{box.hits} of the {box.cases} worlds in the box are such worlds "
                        f"(density {box.density:.2f}, against {k / n:.2f} overall)")
            else:
                text = (f"{what} in {k} of {n} worlds, but no box found: those worlds do not "
                        "gather in one region of the parameters")
        rows.append({**row, "text": text})
    return pd.DataFrame(rows, columns=FLIP_COLUMNS)


def spread_text(row: Any) -> str:
    """A headline's spread over worlds in words.

    E.g. ``emergency bed-days: better in 83%, worse in 17% of 40 plausible worlds (median
    -5,400 bed-days; 90% of worlds between -9,000 and +800 bed-days)``.
    """
    from collabsim.compare import interval_text

    spec = REGISTRY[row.metric]
    unit = f" {spec.unit}" if spec.unit != "£m" else ""
    median = (spec.amount(row.world_median, True) if spec.unit == "£m"
              else spec.format(row.world_median, True) + unit)
    noise = ""
    if np.isfinite(row.world_se):
        two_se = 2 * row.world_se
        noise = ("; one world's mean is itself uncertain by about ±" + (
            spec.amount(two_se) if spec.unit == "£m" else f"{spec.format(two_se)} {spec.unit}"))
    return (f"{spec.label.lower()}: better in {row.worlds_better:.0%}, worse in "
            f"{row.worlds_worse:.0%} of {int(row.worlds)} plausible worlds (median "
            f"{median}; middle 90% of worlds "
            f"{interval_text(spec, row.world_p05, row.world_p95)}{noise})")


__all__ = ["chance_level", "flips", "headlines", "sensitivity", "spread_text"]
