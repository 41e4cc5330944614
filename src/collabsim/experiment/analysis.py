"""Sensitivity analysis (SALib) and plots of sweep results.

``sensitivity`` computes Sobol first-order and total indices (Saltelli 2002; Jansen
1999, as implemented by SALib) or Morris elementary effects (Morris 1991; Campolongo
et al. 2007) with bootstrap confidence intervals, on the mean of each point's
replicates. Plots are drawn with matplotlib's object API and saved as PNG.

References:
    Herman, J. & Usher, W. (2017). SALib: an open-source Python library for
    sensitivity analysis. JOSS 2(9):97.
    Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
    indices. Computer Physics Communications 145:280–297.
    Morris, M. D. (1991). Factorial sampling plans for preliminary computational
    experiments. Technometrics 33(2):161–174.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.design import UNIT_PREFIX
from collabsim.experiment.results import SweepResults
from collabsim.runner import mean_ci

if TYPE_CHECKING:
    from matplotlib.figure import Figure

METHODS = ("sobol", "morris")


def _figure(**kwargs) -> Figure:
    """A matplotlib Figure (imported on first use: it is slow to import)."""
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def point_means(results: SweepResults, metric: str) -> np.ndarray:
    """Mean of ``metric`` over each point's successful replicates, in point order."""
    if metric not in results.runs.columns:
        raise InputError(f"--metric {metric}: not an output of this sweep; expected one of "
                         f"{', '.join(results.outputs)}")
    ok = results.runs[results.runs["status"] == "ok"]
    means = ok.groupby("point")[metric].mean().reindex(results.points["point"])
    if means.isna().any():
        missing = int(means.isna().sum())
        raise InputError(f"--metric {metric}: {missing} point(s) have no successful run; "
                         "sensitivity indices need every point")
    return means.to_numpy(dtype=float)


def sensitivity(
    results: SweepResults, method: str, metrics: Sequence[str], seed: int = 0
) -> pd.DataFrame:
    """Sensitivity indices of each metric to each factor, with 95% intervals."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    design = results.manifest["design"]
    if method not in METHODS:
        raise InputError(f"--method {method}: expected one of {', '.join(METHODS)}")
    if design["kind"] != method:
        raise InputError(f"--method {method}: this sweep used the {design['kind']!r} design; "
                         f"{method} indices need a sweep with design = \"{method}\"")
    problem = design["problem"]
    rows = []
    for metric in metrics:
        y = point_means(results, metric)
        if method == "sobol":
            res = sobol_analyze.analyze(problem, y, calc_second_order=design["second_order"],
                                        seed=seed)
            for j, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name,
                             "S1": res["S1"][j], "S1_conf": res["S1_conf"][j],
                             "ST": res["ST"][j], "ST_conf": res["ST_conf"][j]})
        else:
            x = results.points[[UNIT_PREFIX + n for n in problem["names"]]].to_numpy()
            res = morris_analyze.analyze(problem, x, y, num_levels=design["morris_levels"],
                                         seed=seed)
            for j, name in enumerate(problem["names"]):
                rows.append({"metric": metric, "parameter": name, "mu": res["mu"][j],
                             "mu_star": res["mu_star"][j],
                             "mu_star_conf": res["mu_star_conf"][j], "sigma": res["sigma"][j]})
    return pd.DataFrame(rows)


def plot_sensitivity(table: pd.DataFrame, path: Path) -> Path:
    """Bar charts of the indices, one panel per metric."""
    metrics = list(dict.fromkeys(table["metric"]))
    fig = _figure(figsize=(6.5, 2.2 + 1.6 * len(metrics)))
    axes = fig.subplots(len(metrics), 1, squeeze=False)[:, 0]
    sobol = "ST" in table.columns
    for ax, metric in zip(axes, metrics, strict=True):
        sub = table[table["metric"] == metric]
        y = np.arange(len(sub))
        if sobol:
            ax.barh(y + 0.2, sub["ST"], 0.4, xerr=sub["ST_conf"], label="total (ST)")
            ax.barh(y - 0.2, sub["S1"], 0.4, xerr=sub["S1_conf"], label="first order (S1)")
            ax.set_xlabel("Sobol index")
        else:
            ax.barh(y, sub["mu_star"], 0.6, xerr=sub["mu_star_conf"], label="μ*")
            ax.set_xlabel("Morris μ* (mean |elementary effect|)")
        ax.set_yticks(y, sub["parameter"])
        ax.set_title(metric)
        ax.legend(loc="lower right", fontsize="small")
    fig.savefig(path, dpi=120)
    return path


def _binned(values: pd.Series, bins: int = 8) -> pd.Series:
    """Keep discrete factors as they are; cut continuous ones into quantile bins."""
    if values.nunique() <= 12 or not pd.api.types.is_numeric_dtype(values):
        return values
    return pd.qcut(values, bins, duplicates="drop").map(lambda iv: round(iv.mid, 3))


def factor_table(results: SweepResults, factor: str, metric: str) -> pd.DataFrame:
    """Mean and 95% CI of ``metric`` at each level (or bin) of ``factor``."""
    _check_factor(results, factor)
    ok = results.runs[results.runs["status"] == "ok"].copy()
    ok["_x"] = _binned(ok[factor])
    rows = []
    for level, grp in ok.groupby("_x", observed=True, sort=True):
        mean, lo, hi = mean_ci(grp[metric].to_numpy(dtype=float))
        rows.append({factor: level, "mean": mean, "ci_low": lo, "ci_high": hi, "runs": len(grp)})
    return pd.DataFrame(rows)


def plot_factor(results: SweepResults, factor: str, metric: str, path: Path) -> Path:
    """``metric`` against one factor: means with 95% confidence intervals."""
    table = factor_table(results, factor, metric)
    fig = _figure(figsize=(6, 4))
    ax = fig.subplots()
    x = np.arange(len(table)) if table[factor].dtype == object else table[factor].to_numpy()
    ax.errorbar(x, table["mean"], yerr=[table["mean"] - table["ci_low"],
                                        table["ci_high"] - table["mean"]],
                marker="o", capsize=3)
    if table[factor].dtype == object:
        ax.set_xticks(x, table[factor])
    ax.set_xlabel(factor)
    ax.set_ylabel(f"{metric} (mean, 95% CI)")
    fig.savefig(path, dpi=120)
    return path


def plot_heatmap(results: SweepResults, x: str, y: str, metric: str, path: Path) -> Path:
    """Mean ``metric`` over two factors."""
    _check_factor(results, x)
    _check_factor(results, y)
    ok = results.runs[results.runs["status"] == "ok"].copy()
    ok["_x"], ok["_y"] = _binned(ok[x]), _binned(ok[y])
    grid = ok.pivot_table(index="_y", columns="_x", values=metric, aggfunc="mean", observed=True)
    fig = _figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    image = ax.imshow(grid.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(grid.shape[1]), [str(v) for v in grid.columns], rotation=45)
    ax.set_yticks(range(grid.shape[0]), [str(v) for v in grid.index])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(image, ax=ax, label=f"mean {metric}")
    fig.savefig(path, dpi=120)
    return path


def _check_factor(results: SweepResults, factor: str) -> None:
    if factor not in results.factors:
        raise InputError(f"{factor}: not a swept parameter; expected one of "
                         f"{', '.join(results.factors)}")
