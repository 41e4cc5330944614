"""Shared helpers of the validation scripts: run a pattern, draw it, write it down."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from collabsim.validation import PatternResult

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "img" / "validation"
RESULTS = ROOT / "results" / "validation"


def figure(result: PatternResult, path: Path) -> Path:
    """One panel per numeric column of the pattern's table, against its first column."""
    table = result.table
    label = table.columns[0]
    numeric = [c for c in table.columns[1:] if pd.api.types.is_numeric_dtype(table[c])]
    if table[label].dtype != object and len(table.columns) > 2 and \
            not pd.api.types.is_numeric_dtype(table[table.columns[1]]):
        numeric = [c for c in table.columns[2:] if pd.api.types.is_numeric_dtype(table[c])]
    numeric = numeric[:4] or list(table.columns[1:2])
    fig = Figure(figsize=(3.2 * len(numeric), 3.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(numeric)))
    x = [str(v) for v in table[label]]
    if table.columns[1] in ("initial_trust", "mode") or len(table) > 8:
        x = [" / ".join(str(v) for v in row) for row in
             table[[c for c in table.columns if c not in numeric]].itertuples(index=False)]
    for ax, col in zip(axes, numeric, strict=True):
        ax.bar(range(len(x)), table[col].to_numpy(dtype=float), color="#4a7fb0")
        ax.set_xticks(range(len(x)), x, rotation=60 if len(x) > 4 else 0, ha="right"
                      if len(x) > 4 else "center", fontsize=7)
        ax.set_title(col, fontsize=9)
    fig.suptitle(f"Pattern {result.number}: {result.title}", fontsize=10)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def run_pattern(check: Callable[[bool], PatternResult], quick: bool = False) -> PatternResult:
    """Run one pattern check, draw its figure and save its table and result."""
    result = check(quick)
    slug = f"pattern_{result.number}"
    result.figure = figure(result, FIGURES / f"{slug}.png")
    RESULTS.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(RESULTS / f"{slug}.csv", index=False)
    (RESULTS / f"{slug}.json").write_text(json.dumps({
        "number": result.number, "title": result.title, "source": result.source,
        "claim": result.claim, "effect": result.effect, "ci95": list(result.ci),
        "holds": result.holds, "note": result.note}, indent=2))
    verdict = "HOLDS" if result.holds else "DOES NOT HOLD"
    print(f"pattern {result.number} ({result.title}): {verdict}; effect {result.effect:.3f} "
          f"[{result.ci[0]:.3f}, {result.ci[1]:.3f}]")
    return result


def main(check: Callable[[bool], PatternResult]) -> None:
    """Command line of one pattern script."""
    parser = argparse.ArgumentParser(description=check.__doc__)
    parser.add_argument("--quick", action="store_true", help="the reduced version run in CI")
    args = parser.parse_args()
    run_pattern(check, args.quick)
