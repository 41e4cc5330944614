"""Model speed and memory, measured in one run so that the ratios are meaningful.

Run with ``make bench`` (or ``python benchmarks/bench_model.py``). It reports:

1. runs per second per core for ``run_replicates(baseline, n)`` at the schema's default
   values (batches of ``collabsim.runner.BATCH_SIZE``) against the same replicates run
   one at a time through ``run``, and the ratio; then the rate at several batch sizes,
   and over the calibrated ensemble (the default), where replicates batch by the
   parameter set they draw;
2. seconds and µs per organisation-step at several sizes (8 to 1,000 members × 40
   steps); with ``--before SRC`` the same runs with another checkout's ``src`` folder
   (e.g. an export of an older commit), alternated, for an A/B in one session;
3. peak traced memory (tracemalloc) of ``run_replicates`` against the number of
   replicates: flat when replicates advance in bounded batches;
4. with ``--sweep N``, the wall time of an ``N``-run sweep of the baseline (ten design
   points of initial trust, ``N / 10`` replicates each) on two worker processes.

BLAS is held to one thread so that "per core" means one core. Times are medians or
totals in one process; on a shared machine read the ratios, not the absolute figures.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

from collabsim import load_scenario, run, run_replicates, sweep  # noqa: E402
from collabsim.runner import BATCH_SIZE, replicate_seed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIZES = (8, 30, 100, 300, 1000)
STEPS = 40
#: Times ``--repeats`` runs of ``generic.toml`` at one size; prints the median.
TIMER = """
import statistics, sys, time
from collabsim import load_scenario, run
s = load_scenario(sys.argv[1]).with_overrides(
    {"population.size": int(sys.argv[2]), "scenario.steps": int(sys.argv[3]),
     "scenario.parameters": "defaults"})
run(s, 0)
times = []
for r in range(int(sys.argv[4])):
    start = time.perf_counter()
    run(s, r)
    times.append(time.perf_counter() - start)
print(statistics.median(times))
"""


def timed(src: Path, members: int, repeats: int) -> float:
    """Median seconds of one run at ``members`` members, with the package in ``src``."""
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(ROOT / "scenarios" / "generic.toml"), str(members),
         str(STEPS), str(repeats)],
        env={**os.environ, "PYTHONPATH": str(src)}, capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def replicates_speed(scenario, n: int, single: int) -> tuple[float, float]:
    """Runs per second: ``run_replicates``, then ``single`` of the same replicates one by one."""
    start = time.perf_counter()
    run_replicates(scenario, n=n, seed=0)
    batched = n / (time.perf_counter() - start)
    start = time.perf_counter()
    for k in range(single):
        run(scenario, replicate_seed(0, k))
    return batched, single / (time.perf_counter() - start)


def peak_memory(scenario, n: int) -> float:
    """Peak traced memory of ``run_replicates(scenario, n)``, MiB."""
    tracemalloc.start()
    run_replicates(scenario, n=n, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def sweep_time(n: int, workers: int) -> float:
    """Wall seconds of an ``n``-run sweep of the baseline on ``workers`` processes."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "large.toml"
        spec.write_text(
            f'[sweep]\nscenario = "{(ROOT / "scenarios" / "baseline.toml").as_posix()}"\n'
            f"replicates = {n // 10}\nseed = 1\nchunk_size = 20000\n[parameters]\n"
            '"population.initial_trust" = { range = [0.2, 0.8], points = 10 }\n'
            '"scenario.parameters" = ["defaults"]\n')
        start = time.perf_counter()
        sweep(spec, Path(tmp) / "out", workers=workers, progress=False)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--replicates", type=int, default=2000,
                        help="replicates for the batched-v-single comparison")
    parser.add_argument("--single", type=int, default=None,
                        help="of those, how many to time one at a time (default: all)")
    parser.add_argument("--before", type=Path, default=None,
                        help="another checkout's src folder to time the sizes against")
    parser.add_argument("--sweep", type=int, default=0, help="runs of the large sweep")
    args = parser.parse_args()
    # The engine's speed at one parameter set (as before the ensemble became the
    # default); the cost of drawing from the ensemble is measured on its own below.
    drawn = load_scenario(ROOT / "scenarios" / "baseline.toml")
    baseline = drawn.with_overrides({"scenario.parameters": "defaults"})
    run_replicates(baseline, n=BATCH_SIZE, seed=9)  # warm up imports and caches

    single_n = args.replicates if args.single is None else args.single
    batched, single = replicates_speed(baseline, args.replicates, single_n)
    print(f"baseline.toml (8 members, {STEPS} steps), {args.replicates} replicates, one core:")
    print(f"  run_replicates: {batched:8.1f} runs/s   one at a time through run "
          f"({single_n}): {single:8.1f} runs/s   ratio {batched / single:.1f}x")
    for size in (1, 64, BATCH_SIZE, 1000):
        n = min(args.replicates, 200) if size == 1 else args.replicates
        start = time.perf_counter()
        run_replicates(baseline, n=n, seed=0, batch_size=size)
        rate = n / (time.perf_counter() - start)
        print(f"  batches of {size:>5}: {rate:8.1f} runs/s   ratio {rate / single:6.1f}x")
    start = time.perf_counter()
    run_replicates(drawn, n=args.replicates, seed=0)
    rate = args.replicates / (time.perf_counter() - start)
    print(f"  over the ensemble (one batch per parameter set drawn): {rate:8.1f} runs/s   "
          f"{rate / batched:.2f} of one parameter set")

    here = ROOT / "src"
    print(f"{'members':>8} {'run (s)':>10} {'µs/org-step':>12}"
          + (f" {'before (s)':>11} {'now/before':>11}" if args.before else ""))
    for n in SIZES:
        repeats = args.repeats if n <= 300 else max(2, args.repeats // 2)
        t = timed(here, n, repeats)
        line = f"{n:>8} {t:>10.3f} {t / (n * STEPS) * 1e6:>12.1f}"
        if args.before:
            b = timed(args.before, n, repeats)
            t = min(t, timed(here, n, repeats))  # alternate, keep the faster of two
            line = f"{n:>8} {t:>10.3f} {t / (n * STEPS) * 1e6:>12.1f} {b:>11.3f} {t / b:>11.2f}"
        print(line)

    print("peak memory of run_replicates(baseline, n):")
    for n in (10, 100, 1000, 5000):
        print(f"  n = {n:>5}: {peak_memory(baseline, n):8.2f} MiB")

    if args.sweep:
        print(f"sweep of {args.sweep} baseline runs, 2 workers: {sweep_time(args.sweep, 2):.1f} s")


if __name__ == "__main__":
    main()
