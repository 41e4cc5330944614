"""Loading a sweep's results as tidy pandas frames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.design import UNIT_PREFIX
from collabsim.experiment.engine import KEY, RUNS, STEPS, Store

ID_COLUMNS = ("point", "replicate", "status", "error", "traceback")


@dataclass
class SweepResults:
    """A sweep's data.

    Attributes:
        points: One row per design point: ``point`` and one column per factor.
        runs: One row per run: point, replicate, status, error, traceback, the factors,
            every summary metric and diagnostic, and the archetype; sorted.
        metrics: Long form of the numeric outputs of successful runs: ``point``,
            ``replicate``, the factors, ``metric``, ``value``.
        steps: Per-step tables of every run, when the sweep kept them (else None).
        manifest: The sweep's manifest.
    """

    points: pd.DataFrame
    runs: pd.DataFrame
    metrics: pd.DataFrame
    steps: pd.DataFrame | None
    manifest: dict[str, Any]

    @property
    def factors(self) -> list[str]:
        """The swept parameters."""
        return [c for c in self.points.columns
                if c != "point" and not c.startswith(UNIT_PREFIX)]

    @property
    def outputs(self) -> list[str]:
        """Numeric output columns of the runs table."""
        skip = set(ID_COLUMNS) | set(self.factors)
        return [c for c in self.runs.columns
                if c not in skip and pd.api.types.is_numeric_dtype(self.runs[c])
                and not pd.api.types.is_bool_dtype(self.runs[c])]


def load_results(folder: str | Path) -> SweepResults:
    """Load a sweep's results folder.

    Raises:
        InputError: the folder holds no sweep.
    """
    folder = Path(folder)
    store = Store(folder)
    if not store.manifest_path.is_file():
        raise InputError(f"{folder}: holds no sweep results (no manifest.json)")
    manifest = json.loads(store.manifest_path.read_text(encoding="utf-8"))
    points = pd.read_parquet(folder / "points.parquet")
    chunks = store.chunks()
    runs = (pd.concat([pd.read_parquet(c) for c in chunks], ignore_index=True)
            if chunks else pd.DataFrame(columns=list(ID_COLUMNS)))
    factors = [c for c in points.columns if c != "point" and not c.startswith(UNIT_PREFIX)]
    runs = (runs.merge(points[["point", *factors]], on="point", how="left")
            .sort_values(KEY, kind="stable").reset_index(drop=True))
    ordered = [*ID_COLUMNS, *factors]
    runs = runs[[*ordered, *[c for c in runs.columns if c not in ordered]]]
    ok = runs[runs["status"] == "ok"]
    numeric = [c for c in ok.columns if c not in ordered
               and pd.api.types.is_numeric_dtype(ok[c]) and not pd.api.types.is_bool_dtype(ok[c])]
    metrics = ok.melt(id_vars=["point", "replicate", *factors], value_vars=numeric,
                      var_name="metric", value_name="value")
    steps = None
    step_files = sorted((folder / STEPS).glob("part-*.parquet"))
    if step_files:
        steps = (pd.concat([pd.read_parquet(f) for f in step_files], ignore_index=True)
                 .sort_values([*KEY, "step"], kind="stable").reset_index(drop=True))
    return SweepResults(points, runs, metrics, steps, manifest)


__all__ = ["RUNS", "SweepResults", "load_results"]
