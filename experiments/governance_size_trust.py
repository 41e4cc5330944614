"""Which governance mode suits which partnership? (Provan & Kenis 2008)

Sweeps governance mode × number of members × initial trust on the generic scenario
and draws collaborative advantage per mode as heatmaps over size and trust.

    .venv/bin/python experiments/governance_size_trust.py [--workers N] [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from collabsim import load_results, sweep

HERE = Path(__file__).resolve().parent
METRIC = "collaborative_advantage"


def figure(runs: pd.DataFrame, path: Path) -> None:
    modes = ["shared", "lead", "nao"]
    table = runs.pivot_table(index=["governance.mode", "population.initial_trust"],
                             columns="population.size", values=METRIC, aggfunc="mean")
    vmin, vmax = table.min().min(), table.max().max()
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    axes = fig.subplots(1, 3, sharey=True)
    for ax, mode in zip(axes, modes, strict=True):
        grid = table.loc[mode]
        image = ax.imshow(grid.to_numpy(), origin="lower", aspect="auto", vmin=vmin, vmax=vmax)
        ax.set_xticks(range(grid.shape[1]), grid.columns)
        ax.set_yticks(range(grid.shape[0]), [f"{v:.1f}" for v in grid.index])
        ax.set_title(f"governance.mode = {mode}")
        ax.set_xlabel("members")
    axes[0].set_ylabel("initial trust")
    fig.colorbar(image, ax=axes, label=f"mean {METRIC} (£m)")
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path,
                        default=Path("results/experiments/governance_size_trust"))
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    sweep(HERE / "governance_size_trust.toml", args.out, workers=args.workers)
    runs = load_results(args.out).runs
    best = (runs.groupby(["population.size", "population.initial_trust", "governance.mode"])
            [METRIC].mean().unstack().idxmax(axis=1).unstack())
    best.to_csv(args.out / "best_mode.csv")
    print("governance mode with the highest mean advantage (rows: members; columns: trust)")
    print(best.to_string())
    figure(runs, args.out / "advantage_by_mode.png")
    print(f"wrote {args.out / 'advantage_by_mode.png'}")


if __name__ == "__main__":
    main()
