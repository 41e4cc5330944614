"""Experimental designs: the points of a sweep.

``grid`` is the full factorial of the factors' levels; ``lhs`` a Latin hypercube,
``sobol`` Saltelli's scheme for Sobol indices and ``morris`` Morris trajectories, all
sampled with SALib in the unit cube and mapped to each factor (a range linearly,
rounded for integers; levels by equal-width bins); ``table`` reads points from CSV.

Every point is checked against the scenario schema before anything runs.
"""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError, where
from collabsim.experiment.spec import Factor, SweepSpec
from collabsim.scenario import override_param, parse_value
from collabsim.schema import check_value

UNIT_PREFIX = "u:"  #: columns holding a point's unit-cube coordinates (sampling designs)


def problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem: every factor on the unit interval."""
    return {
        "num_vars": len(spec.factors),
        "names": [f.key for f in spec.factors],
        "bounds": [[0.0, 1.0]] * len(spec.factors),
    }


def unit_sample(spec: SweepSpec) -> np.ndarray:
    """Unit-cube sample of a sampling design (rows: points, columns: factors)."""
    from SALib.sample import latin, morris, sobol  # imported here: only sampling designs need it

    prob = problem(spec)
    seed = int(spec.seed % (2**32))
    if spec.design == "lhs":
        return latin.sample(prob, spec.samples, seed=seed)
    if spec.design == "sobol":
        # Saltelli's estimators were built on the plain Sobol' sequence; scrambling adds
        # design-to-design noise (at N = 512 the Ishigami ST of x1 varies by ±0.1 with it).
        return sobol.sample(prob, spec.samples, calc_second_order=spec.second_order,
                            scramble=False)
    if spec.design == "morris":
        return morris.sample(prob, spec.samples, num_levels=spec.morris_levels, seed=seed)
    raise ValueError(spec.design)  # pragma: no cover


def from_unit(factor: Factor, u: np.ndarray) -> list[Any]:
    """Map unit-interval values to a factor's values."""
    if factor.is_range:
        values = factor.low + u * (factor.high - factor.low)
        return [round(v) for v in values] if factor.integer else [float(v) for v in values]
    k = len(factor.levels)
    idx = np.minimum((u * k).astype(int), k - 1)
    return [factor.levels[i] for i in idx]


MAX_POINTS = 1_000_000  #: largest design; its points are held in memory


def size(spec: SweepSpec) -> int | None:
    """Number of points a design will have, known before sampling (None for a table)."""
    d = len(spec.factors)
    return {"grid": math.prod(len(f.levels) for f in spec.factors), "lhs": spec.samples,
            "sobol": spec.samples * (2 * d + 2 if spec.second_order else d + 2),
            "morris": spec.samples * (d + 1)}.get(spec.design)


def points(spec: SweepSpec) -> pd.DataFrame:
    """The design's points: a ``point`` column, one column per factor, unit coordinates."""
    keys = [f.key for f in spec.factors]
    n = size(spec)
    if n is not None and n > MAX_POINTS:
        setting = "parameters" if spec.design == "grid" else "sweep.samples"
        raise InputError(f"{where(str(spec.path or 'sweep'), setting)}: the {spec.design} "
                         f"design would have {n:,} points; at most {MAX_POINTS:,} are allowed")
    if spec.design == "grid":
        rows = list(itertools.product(*(f.levels for f in spec.factors)))
        df = pd.DataFrame(rows, columns=keys)
    elif spec.design == "table":
        df = _read_table(spec)
    else:
        u = unit_sample(spec)
        df = pd.DataFrame({f.key: from_unit(f, u[:, j]) for j, f in enumerate(spec.factors)})
        for j, f in enumerate(spec.factors):
            df[UNIT_PREFIX + f.key] = u[:, j]
    df.insert(0, "point", np.arange(len(df), dtype=np.int64))
    if spec.is_collabsim:
        for row in overrides(df, spec):  # fail early on any invalid point
            spec.base.with_overrides(row, source=str(spec.path or "sweep"))
    return df


def overrides(df: pd.DataFrame, spec: SweepSpec) -> list[dict[str, Any]]:
    """Each point's parameter values as plain Python values."""
    keys = [f.key for f in spec.factors]
    return [
        {k: (v.item() if hasattr(v, "item") else v) for k, v in zip(keys, row, strict=True)}
        for row in df[keys].itertuples(index=False, name=None)
    ]


def _read_table(spec: SweepSpec) -> pd.DataFrame:
    src = str(spec.table)
    _check_row_lengths(spec.table, src)
    try:
        df = pd.read_csv(spec.table, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{src}: not a readable CSV table ({str(exc).splitlines()[0]})") from None
    keys = [f.key for f in spec.factors]
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise InputError(f"{src}: column {missing[0]!r} is missing; the table needs a column "
                         "for every parameter in [parameters]")
    extra = [c for c in df.columns if c not in keys]
    if extra:
        raise InputError(f"{src}: column {extra[0]!r} is not in [parameters]; list it there too")
    df = df[keys].copy()
    if spec.is_collabsim:
        for key in keys:
            param = override_param(spec.base, key, src)
            # One bad cell makes pandas read a whole column as text: parse each cell as
            # --set does, so that the error names the bad cell's row, not the first.
            text = param.kind not in ("str", "choice")
            df[key] = [check_value(param, parse_value(v, param.kind) if text and isinstance(v, str)
                                   else v.item() if hasattr(v, "item") else v,
                                   src, f"{key} (row {i + 1})") for i, v in enumerate(df[key])]
    elif df.isna().any().any():
        raise InputError(f"{where(src, 'table')} has empty cells")
    return df


def _check_row_lengths(path: Path | None, src: str) -> None:
    """Every row has as many cells as the header.

    pandas would otherwise take a first column without a header as the index (shifting
    every value one column) or read a decimal comma as two cells. Blank lines are skipped,
    as pandas skips them; rows are numbered as the cell errors number them (data rows from
    1), with the file's line.
    """
    try:
        with open(path or "", newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            rows = ((reader.line_num, r) for r in reader if any(c.strip() for c in r))
            _, header = next(rows, (0, []))
            for i, (line, row) in enumerate(rows, start=1):
                if len(row) != len(header):
                    raise InputError(f"{src}: row {i} (line {line}) has {len(row)} cells but "
                                     f"the header has {len(header)}; give one value per column "
                                     "(a decimal comma splits a number in two)")
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{src}: not a readable CSV table ({exc})") from None
