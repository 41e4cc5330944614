"""Model speed and memory, measured in one run so that the ratios are meaningful.

Run with `make bench` (or `python benchmarks/bench_model.py`). It reports:

1. runs per second per core for `run_replicates(baseline, n)` against the same
   replicates run one at a time through `run` (the ratio is the speed-up of batching);
2. µs per organisation-step at several sizes (8 to 1,000 members × 40 steps);
3. peak traced memory (tracemalloc) of `run_replicates` against the number of
   replicates: flat when replicates advance in bounded batches.

Times are medians or totals measured in one process on one core; on a shared machine
read the ratios, not the absolute figures. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from pathlib import Path

from collabsim import load_scenario, run, run_replicates
from collabsim.runner import replicate_seed

ROOT = Path(__file__).resolve().parents[1]
SIZES = (8, 30, 100, 300, 1000)
STEPS = 40


def timed(scenario, seed: int, repeats: int) -> float:
    times = []
    for r in range(repeats):
        start = time.perf_counter()
        run(scenario, seed + r)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def replicates_speed(scenario, n: int) -> tuple[float, float]:
    """Runs per second: batched `run_replicates`, then the same replicates one by one."""
    start = time.perf_counter()
    run_replicates(scenario, n=n, seed=0)
    batched = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for k in range(n):
        run(scenario, replicate_seed(0, k))
    single = n / (time.perf_counter() - start)
    return batched, single


def peak_memory(scenario, n: int) -> float:
    """Peak traced memory of `run_replicates(scenario, n)`, MiB."""
    tracemalloc.start()
    run_replicates(scenario, n=n, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--replicates", type=int, default=2000,
                        help="replicates for the batched-v-single comparison")
    args = parser.parse_args()
    generic = load_scenario(ROOT / "scenarios" / "generic.toml")
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    run(baseline, 0)  # warm up imports and caches

    batched, single = replicates_speed(baseline, args.replicates)
    print(f"baseline.toml (8 members, {STEPS} steps), {args.replicates} replicates, one core:")
    print(f"  run_replicates: {batched:8.1f} runs/s   one at a time through run: "
          f"{single:8.1f} runs/s   ratio {batched / single:.2f}x")

    print(f"{'members':>8} {'run (s)':>10} {'µs/org-step':>12} {'vs 8':>8}")
    ref = None
    for n in SIZES:
        s = generic.with_overrides({"population.size": n, "scenario.steps": STEPS})
        repeats = args.repeats if n <= 300 else max(2, args.repeats // 2)
        t = timed(s, 0, repeats)
        per = t / (n * STEPS) * 1e6
        ref = ref or per
        print(f"{n:>8} {t:>10.3f} {per:>12.1f} {per / ref:>8.2f}")

    print("peak memory of run_replicates(baseline, n):")
    for n in (10, 100, 1000):
        print(f"  n = {n:>5}: {peak_memory(baseline, n):8.2f} MiB")


if __name__ == "__main__":
    main()
