"""Time `collabsim compare` on five policy options × 50 replicates, report included.

    .venv/bin/python benchmarks/bench_compare.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from collabsim import load_scenario
from collabsim.compare import compare
from collabsim.report import write_report

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = ("status_quo", "pooled_budget", "independent_broker", "austerity_shock",
           "prevention_popp")


def main() -> None:
    # at one parameter set (over the ensemble, -n counts replicates per world)
    scenarios = [load_scenario(ROOT / "scenarios" / "policy" / f"{n}.toml").with_overrides(
        {"scenario.parameters": "defaults"}) for n in OPTIONS]
    start = time.perf_counter()
    cmp = compare(scenarios, replicates=50, seed=1)
    ran = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        write_report(cmp, Path(tmp))
    total = time.perf_counter() - start
    runs = len(OPTIONS) * cmp.replicates
    print(f"compare: {len(OPTIONS)} scenarios x 50 replicates = {runs} runs in {ran:.1f} s "
          f"({runs / ran:.0f} runs/s); with the HTML report {total:.1f} s")


if __name__ == "__main__":
    main()
