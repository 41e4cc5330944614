"""Re-record the golden master: fixed-seed step tables and summaries of every scenario.

Run ``python tests/golden/regenerate.py`` only when a change is *meant* to alter the
model's results, and say why in the commit message; ``tests/test_golden.py`` compares
the model against these files.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd

from collabsim import load_scenario
from collabsim.runner import replicate_seed, run

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SEED = 20260101  #: seed of the recorded runs
REPLICATES = 3  #: replicates recorded per scenario


def scenario_files() -> list[Path]:
    """Every bundled scenario, then the test-only ones in ``extra/``, in a stable order.

    The extra scenarios exercise what no bundled one does: joiners, forced leaves,
    turnover and goal shifts, adaptive governance, a broker deciding alone.
    """
    return sorted((ROOT / "scenarios").rglob("*.toml")) + sorted((HERE / "extra").glob("*.toml"))


def label(path: Path) -> str:
    """The scenario's path relative to scenarios/ (or tests/golden/), its key in the tables."""
    base = HERE if path.is_relative_to(HERE) else ROOT / "scenarios"
    return path.relative_to(base).with_suffix("").as_posix()


def record() -> dict[str, pd.DataFrame]:
    """Run every scenario's recorded replicates: steps, summaries, events and members."""
    steps, summaries, events, members = [], [], [], []
    for path in scenario_files():
        scenario = load_scenario(path)
        for k in range(REPLICATES):
            result = run(scenario, replicate_seed(SEED, k))
            steps.append(result.steps.assign(scenario=label(path), replicate=k))
            members.append(result.members.assign(scenario=label(path), replicate=k))
            summaries.append({"scenario": label(path), "replicate": k, **result.summary})
            events += [{"scenario": label(path), "replicate": k, "step": step, "kind": kind,
                        "who": who} for step, kind, who in result.events]
    return {"steps.csv.gz": pd.concat(steps, ignore_index=True),
            "summaries.csv": pd.DataFrame(summaries), "events.csv": pd.DataFrame(events),
            "members.csv": pd.concat(members, ignore_index=True)}


def write(table: pd.DataFrame, target: Path | io.StringIO) -> None:
    """Write one table with every float at full precision."""
    table.to_csv(target, index=False, float_format="%.17g")


def main() -> int:
    """Write the tables next to this script."""
    tables = record()
    for name, table in tables.items():
        write(table, HERE / name)
    print(f"recorded {len(tables['summaries.csv'])} runs, {len(tables['steps.csv.gz'])} steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
