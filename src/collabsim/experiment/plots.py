"""Plots of sweep results that say what they show.

Every plot names what it pools: factors neither on an axis nor faceted (``by``) are
averaged over, and the title says so. One-factor plots give the number of runs in each
bin; heatmap cells without runs are marked "no data"; intervals are clipped to the
outcome's natural range. Shares of the categorical archetype are plotted like any
other outcome (one line or one panel per archetype) with Wilson intervals.
Figures are drawn with matplotlib's object API, returned, and saved as PNG.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.analysis import SHARE_PREFIX, bounds, outcome_names, outcomes
from collabsim.experiment.results import SweepResults
from collabsim.runner import mean_ci

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MAX_PANELS = 24
NO_DATA = "no data"
Z95 = 1.959963984540054


def _figure(**kwargs) -> Figure:
    """A matplotlib Figure (imported on first use: it is slow to import)."""
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def _save(fig: Figure, path: Path | None) -> Figure:
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def plot_sensitivity(table: pd.DataFrame, path: Path | None = None) -> Figure:
    """Bar charts of the indices with their 95% intervals, one panel per outcome."""
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
            ax.set_xlabel("Sobol index (bars: 95% bootstrap interval)")
        else:
            ax.barh(y, sub["mu_star"], 0.6, xerr=sub["mu_star_conf"], label="μ*")
            ax.set_xlabel("Morris μ*: mean |effect| over each parameter's range")
        ax.set_yticks(y, sub["parameter"])
        flagged = sub["flags"].fillna("").astype(bool) if "flags" in sub else []
        ax.set_title(metric + (" (unreliable: see warnings)" if any(flagged) else ""))
        ax.legend(loc="lower right", fontsize="small")
    return _save(fig, path)


# Binned summaries ----------------------------------------------------------------------------
def _binned(values: pd.Series, bins: int = 8) -> pd.Series:
    """Keep discrete factors as they are; cut continuous ones into quantile bins (midpoints)."""
    if values.nunique() <= 12 or not pd.api.types.is_numeric_dtype(values):
        return values
    return pd.qcut(values, bins, duplicates="drop").map(lambda iv: round(iv.mid, 3)).astype(float)


def _interval(values: np.ndarray, name: str) -> tuple[float, float, float]:
    """Mean and 95% interval, clipped to the outcome's range (Wilson's for shares)."""
    if name.startswith(SHARE_PREFIX):
        n, p = len(values), float(values.mean())
        centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
        half = Z95 / (1 + Z95**2 / n) * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
        # the interval holds p; min/max only undo rounding at p = 0 or 1
        return p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))
    mean, lo, hi = mean_ci(values)
    low, high = bounds(name)
    return mean, max(lo, low), min(hi, high)


def _check_factor(results: SweepResults, factor: str, option: str) -> None:
    if factor not in results.factors:
        raise InputError(f"{option} {factor}: not a swept parameter; expected one of "
                         f"{', '.join(results.factors)}")


def _prepare(results: SweepResults, metric: str, shown: list[tuple[str, str]]
             ) -> tuple[pd.DataFrame, list[str]]:
    """Runs with their outcome columns and binned ``_x``, ``_y``, ``_by`` columns."""
    for factor, option in shown:
        _check_factor(results, factor, option)
    keys = [f for f, _ in shown]
    if len(set(keys)) < len(keys):
        raise InputError(f"{' and '.join(o for _, o in shown)}: name different parameters")
    names = outcome_names(results, metric)
    frame = outcomes(results, names)
    if frame.empty:
        raise InputError(f"{metric}: this sweep has no successful run to plot")
    for factor, option in shown:
        frame["_" + option.lstrip("-")] = _binned(frame[factor])
    return frame, names


def pooled(results: SweepResults, shown: list[str]) -> list[str]:
    """Swept factors that vary but are on no axis and no facet: plots average over them."""
    return [f for f in results.factors
            if f not in shown and results.points[f].nunique() > 1]


def _title(metric: str, results: SweepResults, shown: list[str]) -> str:
    over = pooled(results, shown)
    if not over:
        return metric
    levels = ", ".join(f"{f} ({results.points[f].nunique()} values)" for f in over)
    return f"{metric}\naveraged over {levels}"


def factor_table(results: SweepResults, factor: str, metric: str,
                 by: str | None = None) -> pd.DataFrame:
    """Mean and 95% interval of each outcome at each level (or bin) of ``factor``.

    Columns: ``by`` (when given), ``factor``, ``outcome``, ``mean``, ``ci_low``,
    ``ci_high``, ``runs``.
    """
    shown = [(factor, "--x"), *([(by, "--by")] if by else [])]
    frame, names = _prepare(results, metric, shown)
    keys = ["_by", "_x"] if by else ["_x"]
    rows = []
    for level, grp in frame.groupby(keys, observed=True, sort=True):
        level = level if isinstance(level, tuple) else (level,)
        for name in names:
            mean, lo, hi = _interval(grp[name].to_numpy(dtype=float), name)
            rows.append({**dict(zip([by, factor] if by else [factor], level, strict=True)),
                         "outcome": name, "mean": mean, "ci_low": lo, "ci_high": hi,
                         "runs": len(grp)})
    return pd.DataFrame(rows)


def _facets(frame: pd.DataFrame, by: str | None) -> list[tuple[str | None, pd.DataFrame]]:
    if by is None:
        return [(None, frame)]
    groups = [(lvl, grp) for lvl, grp in frame.groupby("_by", observed=True, sort=True)]
    if len(groups) > MAX_PANELS:
        raise InputError(f"--by {by}: {len(groups)} panels is too many (at most {MAX_PANELS})")
    return [(f"{by} = {lvl}", grp) for lvl, grp in groups]


def _grid(n: int, width: float, height: float, sharey: bool = True) -> tuple[Figure, list[Axes]]:
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = _figure(figsize=(width * cols, height * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True, sharey=sharey).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


# Plots ------------------------------------------------------------------------------------------
def plot_factor(results: SweepResults, x: str, metric: str, path: Path | None = None,
                by: str | None = None) -> Figure:
    """Outcome means with 95% intervals against one factor; n per bin under each tick.

    With ``by``, one panel per level of that factor. ``archetype`` draws one line per
    archetype share.
    """
    frame, names = _prepare(results, metric, [(x, "--x"), *([(by, "--by")] if by else [])])
    facets = _facets(frame, by)
    fig, axes = _grid(len(facets), 4.6 if by else 6.0, 3.6 if by else 4.2)
    levels = sorted(frame["_x"].unique())
    numeric = pd.api.types.is_numeric_dtype(frame["_x"])
    position = {lvl: (lvl if numeric else i) for i, lvl in enumerate(levels)}
    for ax, (label, grp) in zip(axes, facets, strict=True):
        counts = grp.groupby("_x", observed=True).size()
        for k, name in enumerate(names):
            # categories: points side by side, not joined (their order means nothing)
            shift = 0.0 if numeric else 0.08 * (k - (len(names) - 1) / 2)
            stats = [(position[lvl] + shift, *_interval(sub[name].to_numpy(dtype=float), name))
                     for lvl, sub in grp.groupby("_x", observed=True, sort=True)]
            xs, mean, lo, hi = (np.array(v) for v in zip(*stats, strict=True))
            ax.errorbar(xs, mean, yerr=[mean - lo, hi - mean], marker="o", capsize=3,
                        linestyle="-" if numeric else "none",
                        label=name[len(SHARE_PREFIX):] if name.startswith(SHARE_PREFIX) else None)
        ticks = [position[lvl] for lvl in levels]
        ax.set_xticks(ticks, [f"{_fmt(lvl)}\nn={counts.get(lvl, 0)}" for lvl in levels],
                      fontsize="small")
        ax.set_xlabel(x + (" (bin midpoints)" if frame[x].nunique() > len(levels) else ""))
        if label:
            ax.set_title(label, fontsize="medium")
    ylabel = ("share of runs (95% Wilson interval)" if names[0].startswith(SHARE_PREFIX)
              else f"{metric} (mean, 95% CI)")
    axes[0].set_ylabel(ylabel)
    if names[0].startswith(SHARE_PREFIX):  # even one archetype is named
        axes[-1].legend(fontsize="x-small", title="archetype", title_fontsize="x-small")
    fig.suptitle(_title(metric, results, [x, *([by] if by else [])]), fontsize="medium")
    return _save(fig, path)


def plot_heatmap(results: SweepResults, x: str, y: str, metric: str, path: Path | None = None,
                 by: str | None = None) -> Figure:
    """Mean outcome over two factors; cells without runs are marked "no data".

    With ``by``, one panel per level of that factor; ``archetype`` gives one panel per
    archetype share (shares on a common 0–1 scale).
    """
    import matplotlib as mpl

    shown = [(x, "--x"), (y, "--y"), *([(by, "--by")] if by else [])]
    frame, names = _prepare(results, metric, shown)
    facets = [(label, grp, name) for label, grp in _facets(frame, by) for name in names]
    if len(facets) > MAX_PANELS:
        raise InputError(f"--metric {metric}: {len(facets)} panels is too many (at most "
                         f"{MAX_PANELS}); use --by with fewer levels")
    fig, axes = _grid(len(facets), 4.2, 3.6, sharey=True)
    xs, ys = sorted(frame["_x"].unique()), sorted(frame["_y"].unique())
    shares = names[0].startswith(SHARE_PREFIX)
    values = frame[names].to_numpy(dtype=float)
    norm = mpl.colors.Normalize(*((0.0, 1.0) if shares else (np.nanmin(values),
                                                              np.nanmax(values))))
    cmap = mpl.colormaps["viridis"].with_extremes(bad="0.85")
    image = None
    for ax, (label, grp, name) in zip(axes, facets, strict=True):
        grid = (grp.pivot_table(index="_y", columns="_x", values=name, aggfunc="mean",
                                observed=True).reindex(index=ys, columns=xs))
        cells = grid.to_numpy(dtype=float)
        image = ax.imshow(np.ma.masked_invalid(cells), origin="lower", aspect="auto",
                          cmap=cmap, norm=norm)
        for i, j in zip(*np.nonzero(np.isnan(cells)), strict=True):
            ax.text(j, i, NO_DATA, ha="center", va="center", fontsize="xx-small", color="0.3")
        ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs], rotation=45, fontsize="small")
        ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys], fontsize="small")
        ax.set_xlabel(x)
        parts = [p for p in (label, name[len(SHARE_PREFIX):] if shares else None) if p]
        if parts:
            ax.set_title(", ".join(parts), fontsize="small")
    axes[0].set_ylabel(y)
    fig.colorbar(image, ax=axes, label="share of runs" if shares else f"mean {metric}")
    fig.suptitle(_title(metric, results, [x, y, *([by] if by else [])]), fontsize="medium")
    return _save(fig, path)


def plot_time(results: SweepResults, metric: str, path: Path | None = None,
              x: str | None = None, by: str | None = None) -> Figure:
    """A per-step column over the kept steps: mean with 95% CI band and 10–90% band.

    One line per level (or bin) of ``x`` when given; one panel per level of ``by``.
    """
    if results.steps is None:
        raise InputError("--over time: this sweep kept no steps; set keep_steps = true in the "
                         "sweep file and run it again")
    columns = [c for c in results.steps.columns if c not in ("step", "point", "replicate")
               and pd.api.types.is_numeric_dtype(results.steps[c])
               and not pd.api.types.is_bool_dtype(results.steps[c])]
    if metric not in columns:
        raise InputError(f"--metric {metric}: not a per-step column; expected one of "
                         f"{', '.join(columns)}")
    shown = [(f, o) for f, o in ((x, "--x"), (by, "--by")) if f]
    for factor, option in shown:
        _check_factor(results, factor, option)
    steps = results.steps.merge(results.points[["point", *results.factors]], on="point")
    for factor, option in shown:
        steps["_" + option.lstrip("-")] = _binned(steps[factor])
    facets = _facets(steps, by)
    fig, axes = _grid(len(facets), 4.6 if by else 6.5, 3.6 if by else 4.2)
    low, high = bounds(metric)
    for ax, (label, grp) in zip(axes, facets, strict=True):
        lines = grp.groupby("_x", observed=True, sort=True) if x else [(None, grp)]
        for level, sub in lines:
            g = sub.groupby("step")[metric]
            mean, sd, n = g.mean(), g.std(ddof=1).fillna(0.0), g.count()
            half = Z95 * sd / np.sqrt(n)
            name = f"{x} = {_fmt(level)}" if x else "mean"
            (line,) = ax.plot(mean.index, mean.to_numpy(), label=name)
            ax.fill_between(mean.index, np.clip(mean - half, low, high),
                            np.clip(mean + half, low, high), color=line.get_color(), alpha=0.35,
                            linewidth=0)
            ax.fill_between(mean.index, g.quantile(0.1), g.quantile(0.9),
                            color=line.get_color(), alpha=0.12, linewidth=0)
        ax.set_xlabel("step")
        if label:
            ax.set_title(label, fontsize="medium")
    axes[0].set_ylabel(f"{metric}\n(mean; dark band 95% CI, light 10–90% of runs)")
    axes[-1].legend(fontsize="x-small")
    fig.suptitle(_title(metric, results, [f for f, _ in shown]), fontsize="medium")
    return _save(fig, path)


def _fmt(value: object) -> str:
    """A level for a tick label: numbers to 3 significant figures."""
    if isinstance(value, float | np.floating):
        return f"{value:.3g}"
    return str(value)
