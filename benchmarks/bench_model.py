"""Model speed: µs per organisation-step at several sizes, and the baseline run time.

Run with `make bench` (or `python benchmarks/bench_model.py`). Times are the median of
several repeats, measured in one process so that ratios between sizes are meaningful
on a noisy machine. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from collabsim import load_scenario, run

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    generic = load_scenario(ROOT / "scenarios" / "generic.toml")
    baseline = load_scenario(ROOT / "scenarios" / "baseline.toml")
    run(baseline, 0)  # warm up imports and caches

    base_t = timed(baseline, 0, args.repeats * 4)
    print(f"baseline.toml (8 members, {STEPS} steps): {base_t * 1e3:.1f} ms per run")
    print(f"{'members':>8} {'run (s)':>10} {'µs/org-step':>12} {'vs 8':>8}")
    ref = None
    for n in SIZES:
        s = generic.with_overrides({"population.size": n, "scenario.steps": STEPS})
        repeats = args.repeats if n <= 300 else max(2, args.repeats // 2)
        t = timed(s, 0, repeats)
        per = t / (n * STEPS) * 1e6
        ref = ref or per
        print(f"{n:>8} {t:>10.3f} {per:>12.1f} {per / ref:>8.2f}")


if __name__ == "__main__":
    main()
