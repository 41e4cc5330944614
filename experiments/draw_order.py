"""Is the batched core's order of random draws statistically harmless?

The batched core (:mod:`collabsim.batch`) draws each step's random numbers in
fixed-size blocks, so its runs differ from the one-at-a-time model's run by run. The
table in docs/batching.md was printed when ``run`` was still the one-at-a-time model
(commit 63b9d65); since the batch became the engine, ``run`` is a batch of one and
this script compares the engine with itself at two seeds (a check that the test has
the right size). It runs ``--replicates`` replicates of every bundled scenario both
ways (different seeds, so the two samples are independent) and compares, for every summary metric
and every step-table column (its final value and its total over the run), the two
distributions with a two-sample Mann-Whitney U test and a Kolmogorov-Smirnov test.
It prints a Markdown table: per scenario, the number of comparisons, the smallest
p-value of each test and how many fall below 0.01 (about 1 in 100 is expected by
chance alone).

Run: ``python experiments/draw_order.py --replicates 200``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from scipy import stats

from collabsim import load_scenario, run
from collabsim.batch import MODES, Batch
from collabsim.seeds import replicate_seed

ROOT = Path(__file__).resolve().parents[1]


def samples(path: Path, n: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Samples one at a time, then batched: per metric ``(n, 1)``, per column ``(n, 2)``.

    A column's two values are its final value and its total over the run.
    """
    # one parameter set for both: a Batch simulates the set it is given
    s = load_scenario(path).with_overrides({"scenario.parameters": "defaults"})
    runs = [run(s, replicate_seed(0, k)) for k in range(n)]
    one = [r.steps for r in runs]
    batch = Batch(s, [replicate_seed(1, k) for k in range(n)])
    table = batch.run()
    mine = batch.summaries()
    a, b = {}, {}
    for name, value in runs[0].summary.items():
        if not isinstance(value, str):
            a[f"summary {name}"] = np.array([[float(r.summary[name])] for r in runs])
            b[f"summary {name}"] = np.array([[float(row[name])] for row in mine])
    for column, values in table.items():
        if column == "step":
            continue
        ref = np.array([
            t[column].map(MODES.index).to_numpy(dtype=float) if column == "governance"
            else t[column].to_numpy(dtype=float) for t in one])
        a[f"step {column}"] = np.stack([ref[:, -1], np.nansum(ref, axis=1)], axis=1)
        b[f"step {column}"] = np.stack([values[-1], np.nansum(values, axis=0)], axis=1)
    return a, b


def _round(x: np.ndarray) -> np.ndarray:
    """``x`` to 10 significant digits."""
    return np.array([float(f"{v:.10g}") for v in x])


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> list[tuple[str, float, float]]:
    """``(metric, Mann-Whitney p, KS p)`` for each column's final value and total."""
    out = []
    for column in a:
        for j, what in enumerate(("final", "total")[:a[column].shape[1]]):
            x, y = a[column][:, j], b[column][:, j]
            # Sums in a different order differ in the last bits: compare at 10 digits.
            x, y = (_round(v[~np.isnan(v)]) for v in (x, y))
            both = np.concatenate([x, y])
            if x.size < 2 or y.size < 2 or np.ptp(both) <= 1e-9 * (1 + abs(both.mean())):
                continue  # the same constant both ways (up to rounding): nothing to test
            if np.ptp(np.concatenate([x, y])) == 0:
                continue  # equal once rounded
            mw = stats.mannwhitneyu(x, y).pvalue
            ks = stats.ks_2samp(x, y).pvalue
            label = column if a[column].shape[1] == 1 else f"{column} ({what})"
            out.append((label, float(mw), float(ks)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    args = parser.parse_args()
    paths = sorted((ROOT / "scenarios").rglob("*.toml"))
    print("| scenario | tests | min p (Mann-Whitney) | min p (KS) | p < 0.01 (MW / KS) |")
    print("|---|---:|---:|---:|---:|")
    everything = []
    for path in paths:
        rows = compare(*samples(path, args.replicates))
        name = path.relative_to(ROOT / "scenarios").with_suffix("")
        everything += [(f"{name}: {r[0]}", r[1], r[2]) for r in rows]
        mw = min(r[1] for r in rows)
        ks = min(r[2] for r in rows)
        low = sum(r[1] < 0.01 for r in rows), sum(r[2] < 0.01 for r in rows)
        print(f"| {name} | {len(rows)} | {mw:.3f} | {ks:.3f} | {low[0]} / {low[1]} |",
              flush=True)
    total = len(everything)
    print(f"\n{total} comparisons; p < 0.01: "
          f"{sum(r[1] < 0.01 for r in everything)} (Mann-Whitney), "
          f"{sum(r[2] < 0.01 for r in everything)} (KS); about {total / 100:.0f} expected "
          "by chance. Smallest p-values:")
    for name, mw, ks in sorted(everything, key=lambda r: min(r[1], r[2]))[:8]:
        print(f"  {name}: MW {mw:.4f}, KS {ks:.4f}")


if __name__ == "__main__":
    main()
