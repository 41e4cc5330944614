"""Speed of the batched core prototype against one run at a time, in one run.

Run with ``python benchmarks/bench_batch.py``. Reports runs per second for
``collabsim.batch.summaries(baseline, n, batch_size=…)`` (founders, steps and summary
rows, as ``run_replicates`` gives them) at several batch sizes against the same
replicates run one at a time through ``run``, and the ratio. Not a test: nothing here
asserts a time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from collabsim import load_scenario, run
from collabsim.batch import summaries
from collabsim.seeds import replicate_seed

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=2000)
    parser.add_argument("--single", type=int, default=200, help="runs one at a time")
    args = parser.parse_args()
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    run(baseline, 0)  # warm up imports and caches
    start = time.perf_counter()
    for k in range(args.single):
        run(baseline, replicate_seed(0, k))
    single = args.single / (time.perf_counter() - start)
    print(f"baseline.toml, one at a time through run: {single:8.1f} runs/s")
    for size in (1, 64, 500, 1000):
        count = args.single if size == 1 else args.replicates
        start = time.perf_counter()
        summaries(baseline, count, 0, batch_size=size)
        rate = count / (time.perf_counter() - start)
        print(f"  batches of {size:>5}: {rate:8.1f} runs/s   ratio {rate / single:6.1f}x")


if __name__ == "__main__":
    main()
