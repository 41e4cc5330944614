"""Scenario discovery: where in a sweep's parameter space does an outcome happen?

Each successful run is a case: its swept parameters, and whether the outcome of
interest happened (a metric below or above a threshold, or a given archetype). PRIM,
the Patient Rule Induction Method (Friedman & Fisher 1999; Bryant & Lempert 2010), as
implemented by EMA Workbench (Kwakkel 2017), peels the parameter space down to boxes
where the outcome is common. Of each box's peeling trajectory we keep the densest box
that still holds at least ``min_coverage`` of the cases of interest not yet in a box;
the next box is sought among the cases outside the boxes already found. A box is
kept only if the outcome is more common inside it than in the whole sweep.

Box statistics are computed here from the box's limits (EMA Workbench's own
``inspect`` fails under pandas 3 when a categorical parameter is restricted):

- coverage: the share of all cases of interest that lie in the box;
- density: the share of the cases in the box that are of interest;
- mass: the share of all cases that lie in the box.

A later box counts only cases outside the earlier ones, so coverages add up.

References:
    Friedman, J. H. & Fisher, N. I. (1999). Bump hunting in high-dimensional data.
    Statistics and Computing 9:123–143.
    Bryant, B. P. & Lempert, R. J. (2010). Thinking inside the box: a participatory,
    computer-assisted approach to scenario discovery. Technological Forecasting and
    Social Change 77:34–49.
    Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling
    & Software 96:239–250.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.analysis import CATEGORICAL, unknown_metric
from collabsim.experiment.results import SweepResults
from collabsim.metrics import ARCHETYPES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MIN_COVERAGE = 0.5  #: default: boxes keep at least this share of the cases of interest
MAX_BOXES = 3
EMA_MISSING = ("scenario discovery needs EMA Workbench; install it with "
               "pip install 'collabsim[ema]'")


@dataclass(frozen=True)
class Box:
    """One box: the restricted parameters and how well the box captures the outcome.

    Attributes:
        limits: Restricted parameters only: ``(low, high)`` for numbers, a tuple of
            levels for categories.
        coverage: Share of all cases of interest inside the box.
        density: Share of the cases inside the box that are of interest.
        mass: Share of all cases inside the box.
        cases: Cases inside the box (not counting earlier boxes).
        hits: Cases of interest inside the box.
        trajectory: The peeling trajectory (coverage, density, mass, res_dim per step).
        chosen: Index of the kept box in ``trajectory``.
    """

    limits: dict[str, Any]
    coverage: float
    density: float
    mass: float
    cases: int
    hits: int
    trajectory: pd.DataFrame
    chosen: int


@dataclass
class Discovery:
    """The outcome asked about, the cases, and the boxes found."""

    condition: str
    x: pd.DataFrame
    y: np.ndarray
    boxes: list[Box]
    ranges: dict[str, Any]

    def table(self) -> pd.DataFrame:
        """One row per box and restricted parameter."""
        rows = []
        for i, box in enumerate(self.boxes, start=1):
            for name, lim in box.limits.items():
                numeric = name in self.numeric
                rows.append({
                    "box": i, "parameter": name,
                    "low": lim[0] if numeric else None, "high": lim[1] if numeric else None,
                    "levels": "" if numeric else " | ".join(map(str, lim)),
                    "coverage": box.coverage, "density": box.density, "mass": box.mass,
                    "cases": box.cases, "hits": box.hits})
        return pd.DataFrame(rows, columns=["box", "parameter", "low", "high", "levels",
                                           "coverage", "density", "mass", "cases", "hits"])

    @property
    def numeric(self) -> list[str]:
        """Parameters treated as numbers (the rest are categories)."""
        return [c for c in self.x.columns if not isinstance(self.x[c].dtype, pd.CategoricalDtype)]


def as_experiments(frame: pd.DataFrame) -> pd.DataFrame:
    """Parameters as EMA Workbench expects them: numbers as floats, other levels as categories.

    (EMA Workbench's PRIM pasting fails on integer columns under pandas 3.)
    """
    x = frame.copy()
    for col in x.columns:
        if not pd.api.types.is_numeric_dtype(x[col]) or pd.api.types.is_bool_dtype(x[col]):
            x[col] = x[col].astype(str).astype("category")
        else:
            x[col] = x[col].astype(float)
    return x


def cases(results: SweepResults) -> pd.DataFrame:
    """The swept parameters that vary, one row per successful run, for PRIM."""
    ok = results.runs[results.runs["status"] == "ok"]
    x = as_experiments(ok[results.factors].reset_index(drop=True))
    varying = [c for c in x.columns if x[c].nunique() > 1]
    return x[varying]


def condition(results: SweepResults, metric: str, below: float | None = None,
              above: float | None = None, equals: str | None = None) -> tuple[str, np.ndarray]:
    """A readable condition and, per successful run, whether it holds."""
    given = [v is not None for v in (below, above, equals)]
    if sum(given) != 1:
        raise InputError("discover: give exactly one of --below X, --above X, --equals NAME")
    ok = results.runs[results.runs["status"] == "ok"]
    if metric == CATEGORICAL:
        if equals is None:
            raise InputError("--metric archetype: give --equals NAME, one of "
                             f"{', '.join(ARCHETYPES)}")
        if equals not in ARCHETYPES:
            raise InputError(f"--equals {equals}: not an archetype; expected one of "
                             f"{', '.join(ARCHETYPES)}")
        return f"archetype = {equals}", (ok[CATEGORICAL] == equals).to_numpy()
    if metric not in results.outputs:
        raise unknown_metric(metric, [*results.outputs, CATEGORICAL])
    if equals is not None:
        raise InputError(f"--equals: only for --metric archetype; for {metric} give --below or "
                         "--above")
    values = ok[metric].to_numpy(dtype=float)
    if below is not None:
        return f"{metric} < {below:g}", values < below
    return f"{metric} > {above:g}", values > above


def _prim():
    """EMA Workbench's PRIM module, imported quietly (it warns about optional extras)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ema_workbench.analysis import prim
    except ImportError:
        raise InputError(EMA_MISSING) from None
    return prim


def _in_box(x: pd.DataFrame, lims: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Which rows of ``x`` lie within the box limits on ``names``."""
    inside = np.ones(len(x), dtype=bool)
    for name in names:
        low, high = lims[name].iloc[0], lims[name].iloc[1]
        if isinstance(low, set):
            inside &= x[name].astype(str).isin({str(v) for v in low}).to_numpy()
        else:
            values = x[name].to_numpy(dtype=float)
            inside &= (values >= low) & (values <= high)
    return inside


def discover(results: SweepResults, metric: str, *, below: float | None = None,
             above: float | None = None, equals: str | None = None,
             min_coverage: float = MIN_COVERAGE, max_boxes: int = MAX_BOXES,
             peel_alpha: float = 0.05) -> Discovery:
    """Boxes of parameter space where the outcome holds (PRIM).

    Args:
        results: A sweep (any design).
        metric: A numeric output, or ``archetype`` with ``equals``.
        below: The outcome is ``metric < below``.
        above: The outcome is ``metric > above``.
        equals: The outcome is ``archetype == equals``.
        min_coverage: Each box keeps at least this share of the cases of interest not
            yet in a box.
        max_boxes: At most this many boxes.
        peel_alpha: Share of cases peeled off at each PRIM step.

    Raises:
        InputError: a bad condition, an outcome that never or always holds, no swept
            parameter that varies, or EMA Workbench not installed.
    """
    if not 0 < min_coverage <= 1:
        raise InputError(f"--min-coverage {min_coverage}: expected a share in (0, 1]")
    text, y = condition(results, metric, below, above, equals)
    x = cases(results)
    if x.empty or len(x.columns) == 0:
        raise InputError("discover: no swept parameter varies across the successful runs")
    hits = int(y.sum())
    if hits == 0 or hits == len(y):
        raise InputError(f"discover: {text} holds in {hits} of {len(y)} runs; there is no "
                         "region to find (try another threshold)")
    return find_boxes(x, y, text, _ranges(results, x), min_coverage=min_coverage,
                      max_boxes=max_boxes, peel_alpha=peel_alpha)


def find_boxes(x: pd.DataFrame, y: np.ndarray, text: str, ranges: dict[str, Any], *,
               min_coverage: float = MIN_COVERAGE, max_boxes: int = MAX_BOXES,
               peel_alpha: float = 0.05) -> Discovery:
    """PRIM boxes of the cases ``x`` (:func:`as_experiments`) where ``y`` holds.

    The core of :func:`discover`, for any table of cases (a sweep's runs, or the
    parameter sets of an ensemble). ``y`` must hold in some cases and not in others.
    """
    y = np.asarray(y, dtype=bool)
    hits = int(y.sum())
    prim = _prim()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, peel_alpha=peel_alpha)
        taken = np.zeros(len(y), dtype=bool)
        boxes = []
        for _ in range(max_boxes):
            if not (y & ~taken).any():
                break
            box = finder.find_box()
            if box is None:
                break
            found = _choose(box, x, y, taken, hits, min_coverage)
            if found is None:
                break
            box.select(found.chosen)
            boxes.append(found)
            taken |= _in_box(x, box.box_lims[found.chosen], list(found.limits))
    return Discovery(text, x, y, boxes, ranges)


def _ranges(results: SweepResults, x: pd.DataFrame) -> dict[str, Any]:
    """Each parameter's swept range (from the design) or its levels."""
    design = {f["key"]: f for f in results.manifest.get("design", {}).get("factors", [])}
    ranges: dict[str, Any] = {}
    for c in x.columns:
        f = design.get(c, {})
        if isinstance(x[c].dtype, pd.CategoricalDtype):
            ranges[c] = tuple(x[c].cat.categories)
        elif f.get("low") is not None:
            ranges[c] = (float(f["low"]), float(f["high"]))
        else:
            ranges[c] = (float(x[c].min()), float(x[c].max()))
    return ranges


def _choose(box, x, y, taken, hits, min_coverage) -> Box | None:
    """The densest box on the trajectory with enough coverage, its statistics our own."""
    initial = box.box_lims[0]
    remaining = int((y & ~taken).sum())
    best = None
    for i, lims in enumerate(box.box_lims):
        names = [c for c in x.columns if not _same(lims[c], initial[c])]
        inside = _in_box(x, lims, names) & ~taken
        n_in, k_in = int(inside.sum()), int((inside & y).sum())
        if n_in == 0 or not names:
            continue
        coverage, density = k_in / hits, k_in / n_in
        if k_in / remaining < min_coverage:
            continue
        if best is None or (density, coverage) > (best.density, best.coverage):
            limits = {c: (tuple(sorted(lims[c].iloc[0], key=str))
                          if isinstance(lims[c].iloc[0], set)
                          else (float(lims[c].iloc[0]), float(lims[c].iloc[1]))) for c in names}
            best = Box(limits, coverage, density, n_in / len(y), n_in, k_in,
                       box.peeling_trajectory.copy(), i)
    if best is None or best.density <= y.mean():
        return None  # no box holds enough of the outcome and concentrates it
    return _prune(best, box.box_lims[best.chosen], x, y, taken, hits)


def _prune(best: Box, lims: pd.DataFrame, x: pd.DataFrame, y: np.ndarray, taken: np.ndarray,
           hits: int) -> Box:
    """Drop restrictions the box does not need: lifting one loses no density or coverage.

    PRIM can restrict a parameter on its way to the box that, once the others are in
    place, excludes only cases it would not miss; such a restriction says nothing.
    """
    names = list(best.limits)
    for name in list(names):
        rest = [n for n in names if n != name]
        if not rest:
            break
        inside = _in_box(x, lims, rest) & ~taken
        n_in, k_in = int(inside.sum()), int((inside & y).sum())
        if n_in and k_in / n_in >= best.density and k_in / hits >= best.coverage:
            names = rest
            best = Box({n: best.limits[n] for n in rest}, k_in / hits, k_in / n_in,
                       n_in / len(y), n_in, k_in, best.trajectory, best.chosen)
    return best


def _same(a: pd.Series, b: pd.Series) -> bool:
    if isinstance(a.iloc[0], set):
        return set(a.iloc[0]) == set(b.iloc[0])
    return bool(a.iloc[0] <= b.iloc[0] and a.iloc[1] >= b.iloc[1])


def describe(found: Discovery) -> list[str]:
    """The boxes in plain words, one block each."""
    hits, n = int(found.y.sum()), len(found.y)
    lines = [f"{found.condition} holds in {hits} of {n} runs ({hits / n:.0%})"]
    if not found.boxes:
        lines.append(f"no box holds at least the asked share of these runs at a higher rate "
                     f"than the {hits / n:.0%} of all runs")
    for i, box in enumerate(found.boxes, start=1):
        lines.append(f"box {i}: coverage {box.coverage:.2f} ({box.hits} of the {hits} such runs "
                     f"are in it), density {box.density:.2f} ({box.hits} of its {box.cases} "
                     f"runs), mass {box.mass:.2f} (share of all runs in it)")
        texts = {name: _limit(lim, name in found.numeric,
                              found.x[name] if name in found.numeric else None)
                 for name, lim in box.limits.items()}
        width, room = max(map(len, texts)), max(map(len, texts.values()))
        for name, text in texts.items():
            lines.append(f"  {name:<{width}}  {text:<{room}}  (swept "
                         f"{_limit(found.ranges[name], name in found.numeric)})")
    return lines


def box_text(found: Discovery, box: Box) -> str:
    """A box's restrictions in one line: ``x ≤ 0.3 and y between 0.6 and 0.9``."""
    parts = []
    for name, lim in box.limits.items():
        if name not in found.numeric:
            parts.append(f"{name} in {_limit(lim, False)}")
            continue
        text = _limit(lim, True, found.x[name])
        parts.append(f"{name} {text}" if text[0] in "≤≥" else
                     f"{name} between {lim[0]:.3g} and {lim[1]:.3g}")
    return " and ".join(parts)


def _limit(lim: tuple, numeric: bool, values: pd.Series | None = None) -> str:
    """A box limit in words: one-sided when the other side is not restricted."""
    if numeric:
        if values is not None and lim[1] >= values.max():
            return f"≥ {lim[0]:.3g}"
        if values is not None and lim[0] <= values.min():
            return f"≤ {lim[1]:.3g}"
        return f"{lim[0]:.3g} to {lim[1]:.3g}"
    return "{" + ", ".join(map(str, lim)) + "}"


def plot_boxes(found: Discovery, path: Path | None = None) -> Figure:
    """Each box's restricted parameters within their swept ranges, and its trade-off.

    Left: coverage against density along each box's peeling trajectory, the kept box
    marked. Right, one panel per box: each restricted parameter's box range as a share
    of its swept range (numbers), or the kept levels among all (categories).
    """
    from matplotlib.figure import Figure

    n = max(len(found.boxes), 1)
    fig = Figure(layout="constrained", figsize=(4.5 + 4.5 * n, 3.8))
    axes = fig.subplots(1, n + 1, squeeze=False)[0]
    ax = axes[0]
    for i, box in enumerate(found.boxes, start=1):
        t = box.trajectory
        (line,) = ax.plot(t["coverage"], t["density"], marker=".", label=f"box {i}")
        ax.plot(box.coverage, box.density, marker="*", markersize=14, color=line.get_color())
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_title("peeling trajectories (★ kept)", fontsize="small")
    if found.boxes:
        ax.legend(fontsize="x-small")
    for i, (ax, box) in enumerate(zip(axes[1:], found.boxes, strict=False), start=1):
        names = list(box.limits)
        for j, name in enumerate(names):
            lim, full = box.limits[name], found.ranges[name]
            if name in found.numeric:
                span = (full[1] - full[0]) or 1.0
                lo, hi = (lim[0] - full[0]) / span, (lim[1] - full[0]) / span
                ax.barh(j, 1.0, left=0.0, height=0.5, color="0.9")
                ax.barh(j, hi - lo, left=lo, height=0.5, color="C0")
                ax.text(0.5, j + 0.33, _limit(lim, True, found.x[name]), ha="center",
                        fontsize="x-small")
            else:
                k = len(full)
                for m, level in enumerate(full):
                    kept = level in lim
                    ax.barh(j, 1 / k, left=m / k, height=0.5, color="C0" if kept else "0.85",
                            edgecolor="white")
                    ax.text((m + 0.5) / k, j, str(level), ha="center", va="center",
                            fontsize="x-small")
        ax.set_yticks(range(len(names)), names, fontsize="small")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, len(names) - 0.4)
        ax.set_xlabel("share of the swept range")
        ax.set_title(f"box {i}: coverage {box.coverage:.2f}, density {box.density:.2f}",
                     fontsize="small")
    if not found.boxes:
        axes[1].set_axis_off()
        axes[1].text(0.5, 0.5, "no box found", ha="center", va="center")
    fig.suptitle(f"where {found.condition}", fontsize="medium")
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
