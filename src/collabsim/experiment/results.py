"""Loading a sweep's results as tidy pandas frames."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from collabsim.errors import InputError
from collabsim.experiment.design import UNIT_PREFIX
from collabsim.experiment.engine import (
    AGENTS,
    FAILURES,
    KEY,
    POINTS,
    RUNS,
    STEPS,
    Store,
    _warn,
)
from collabsim.experiment.tables import part_name

ID_COLUMNS = ("point", "replicate", "status", "error", "traceback", "seed", "sweep", "member")


@dataclass
class SweepResults:
    """A sweep's data.

    Attributes:
        points: One row per design point: ``point`` and one column per factor.
        runs: One row per run: point, replicate, status, error, traceback, seed, sweep,
            the factors, every summary metric and diagnostic, and the archetype; sorted
            by point and replicate.
        metrics: Long form of the numeric outputs of successful runs: ``point``,
            ``replicate``, the factors, ``metric``, ``value``.
        steps: Per-step tables of every run, when the sweep kept them (else None).
        manifest: The sweep's manifest.
        agents: Per-member, per-step tables, when the sweep kept them (else None).
    """

    points: pd.DataFrame
    runs: pd.DataFrame
    metrics: pd.DataFrame
    steps: pd.DataFrame | None
    manifest: dict[str, Any]
    agents: pd.DataFrame | None = None

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

    Files that are not chunks of a table, chunks that cannot be read and chunks that
    only repeat runs recorded earlier are skipped with a :class:`ResultsWarning`; a run
    recorded twice is kept once.

    Raises:
        InputError: the folder holds no sweep, or its manifest or points are damaged.
    """
    folder = Path(folder)
    store = Store(folder)
    if not store.manifest_path.is_file():
        raise InputError(f"{folder}: holds no sweep results (no manifest.json)")
    try:
        manifest = json.loads(store.manifest_path.read_text(encoding="utf-8"))
        writer = manifest.get("command") if isinstance(manifest, dict) else None
        if writer not in ("run", "compare"):
            points = pq.read_table(folder / POINTS / part_name(0)).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"{folder}: damaged sweep results ({str(exc).splitlines()[0][:100]})"
                         ) from None
    if writer in ("run", "compare"):
        raise InputError(f"{folder}: holds the output of collabsim {writer}, not a sweep; read "
                         f"its Parquet tables directly (pandas.read_parquet('{folder}/runs')), "
                         "or run a sweep")
    for table in (RUNS, STEPS, AGENTS, FAILURES):
        for stray in store.strays(table):
            _warn(f"{stray}: not a chunk of the {table} table; skipped")
    _, bad = store.read_keys()
    chunks = [c for c in store.parts(RUNS) if c not in bad]
    factors = [c for c in points.columns if c != "point" and not c.startswith(UNIT_PREFIX)]
    if chunks:
        runs = pd.concat([pq.read_table(c).to_pandas() for c in chunks], ignore_index=True)
    else:
        runs = pd.DataFrame({c: pd.Series(dtype=points[c].dtype if c in points else object)
                             for c in [*ID_COLUMNS, *factors] if c != "traceback"})
    if runs.duplicated(KEY).any():
        _warn(f"{folder}: {int(runs.duplicated(KEY).sum())} runs are recorded twice; "
              "each is kept once")
        runs = runs.drop_duplicates(KEY, keep="first")
    committed = {c.name for c in chunks}
    failures = _table(store, FAILURES, committed)
    tb = (failures[[*KEY, "traceback"]].drop_duplicates(KEY) if failures is not None
          else pd.DataFrame({"point": [], "replicate": [], "traceback": []}).astype(
              {"point": "int64", "replicate": "int64", "traceback": object}))
    runs = (runs.merge(tb, on=KEY, how="left").sort_values(KEY, kind="stable")
            .reset_index(drop=True))
    runs["traceback"] = runs["traceback"].fillna("")
    ordered = [c for c in (*ID_COLUMNS, *factors) if c in runs.columns]
    runs = runs[[*ordered, *[c for c in runs.columns if c not in ordered]]]
    ok = runs[runs["status"] == "ok"]
    numeric = [c for c in ok.columns if c not in ordered
               and pd.api.types.is_numeric_dtype(ok[c]) and not pd.api.types.is_bool_dtype(ok[c])]
    metrics = ok.melt(id_vars=["point", "replicate", *factors], value_vars=numeric,
                      var_name="metric", value_name="value")
    return SweepResults(points, runs, metrics, _table(store, STEPS, committed, "step"),
                        manifest, _table(store, AGENTS, committed, "step"))


def _table(store: Store, table: str, committed: set[str],
           then: str | None = None) -> pd.DataFrame | None:
    """A per-run table's committed chunks, sorted by run (and ``then``); None if none."""
    files = [p for p in store.parts(table) if p.name in committed]
    if not files:
        return None
    df = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    df = df.drop(columns=[c for c in ("sweep",) if c in df.columns])
    order = [*KEY, then] if then else KEY
    return df.sort_values(order, kind="stable").reset_index(drop=True)


__all__ = ["RUNS", "SweepResults", "load_results"]


def parameter_source(manifest: Mapping[str, Any]) -> str | None:
    """A sweep manifest's parameter source; older folders wrote it as a bare string."""
    value = manifest.get("parameters")
    return value.get("source") if isinstance(value, Mapping) else value
