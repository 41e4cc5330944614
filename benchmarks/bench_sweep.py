"""Sweep throughput and peak memory: Mesa's batch_run against `collabsim sweep`.

The same 2,000 runs (100 points × 20 replicates of the generic scenario, the same
seeds) go through `mesa.batch_run` and through `collabsim.sweep` at 1 and 2 workers,
each variant in a fresh subprocess whose whole process tree's resident memory is
sampled every 20 ms. Both keep the per-step model table: batch_run through a Mesa
DataCollector collected every step (data_collection_period=1), the sweep with
keep_steps = true.

    .venv/bin/python benchmarks/bench_sweep.py [--points 100] [--replicates 20]

Not a test: it prints a table and writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SEED = 42


def points(n: int) -> list[dict[str, float]]:
    side = round(n**0.5)
    return [{"population.initial_trust": 0.1 + 0.8 * (i // side) / max(side - 1, 1),
             "population.goal_conflict": 0.9 * (i % side) / max(side - 1, 1)}
            for i in range(side * side)]


# --- the variants, each run in its own process ---------------------------------------------
COLUMNS = ("mean_trust", "members", "advantage", "contribution", "spent", "decided",
           "joint_output", "solo_output")


def _reporter(key: str):
    return lambda m: m.history[-1][key] if m.history else 0.0


def batch_model_class():
    """A Mesa-style model class for batch_run: kwargs in, a DataCollector every step.

    Defined at module level (through this factory's cache) so that batch_run's
    spawned worker processes can unpickle it.
    """
    global BatchModel
    if "BatchModel" in globals():
        return BatchModel
    import mesa

    from collabsim import load_scenario
    from collabsim.model import PartnershipModel
    from collabsim.runner import replicate_seed

    base = load_scenario(ROOT / "scenarios" / "generic.toml").with_overrides(
        {"scenario.parameters": "defaults"})  # the engine at one parameter set

    class BatchModel(PartnershipModel):
        def __init__(self, n_points: int = 100, point: int = 0, rng: int = 0) -> None:
            scenario = base.with_overrides(points(n_points)[point])
            super().__init__(scenario, rng=replicate_seed(SEED, rng, point))
            self.datacollector = mesa.DataCollector(
                model_reporters={k: _reporter(k) for k in COLUMNS})

        def step(self) -> None:
            super().step()
            self.datacollector.collect(self)

    BatchModel.__qualname__ = "BatchModel"
    globals()["BatchModel"] = BatchModel
    return BatchModel


if __name__ != "__main__":  # in batch_run's spawned workers
    batch_model_class()


def variant_batch_run(n_points: int, replicates: int, workers: int, steps: int) -> dict:
    from mesa.batchrunner import batch_run

    model = batch_model_class()
    n = len(points(n_points))
    rows = batch_run(model, {"n_points": n_points, "point": range(n)}, number_processes=workers,
                     rng=list(range(replicates)), data_collection_period=1, max_steps=steps,
                     display_progress=False)
    return {"rows": len(rows)}


def variant_sweep(n_points: int, replicates: int, workers: int, steps: int) -> dict:
    import pyarrow.parquet as pq

    from collabsim import sweep

    with tempfile.TemporaryDirectory() as tmp:
        lines = "\n".join(f'"{k}" = {json.dumps(sorted({p[k] for p in points(n_points)}))}'
                          for k in points(n_points)[0])
        spec = Path(tmp) / "bench.toml"
        spec.write_text(f'[sweep]\nscenario = "{(ROOT / "scenarios" / "generic.toml").as_posix()}"'
                        f"\nreplicates = {replicates}\nseed = {SEED}\nsteps = {steps}\n"
                        "keep_steps = true\n"
                        f'[parameters]\n{lines}\n"scenario.parameters" = ["defaults"]\n')
        sweep(spec, Path(tmp) / "out", workers=workers, progress=False)
        steps = sorted((Path(tmp) / "out" / "steps").glob("*.parquet"))
        return {"rows": sum(pq.read_metadata(f).num_rows for f in steps)}


VARIANTS = {"batch_run": variant_batch_run, "sweep": variant_sweep}


def measure(name: str, n_points: int, replicates: int, workers: int, steps: int) -> dict:
    cmd = [sys.executable, __file__, "--child", name, "--points", str(n_points),
           "--replicates", str(replicates), "--workers", str(workers), "--steps", str(steps)]
    start = time.perf_counter()
    proc = psutil.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            try:
                tree = [proc, *proc.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    done.set()
    thread.join()
    wall = time.perf_counter() - start
    result = json.loads(out.strip().splitlines()[-1])
    return {"variant": name, "workers": workers, "wall_s": wall, "peak_mb": peak / 2**20,
            "runs_per_s": n_points * replicates / wall, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--child", choices=list(VARIANTS), default=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(VARIANTS[args.child](args.points, args.replicates, args.workers[0],
                                              args.steps)))
        return
    rows = [measure(name, args.points, args.replicates, w, args.steps)
            for w in args.workers for name in VARIANTS]
    runs = len(points(args.points)) * args.replicates
    print(f"{runs} runs of scenarios/generic.toml ({args.steps} steps), per-step tables kept")
    print(f"{'variant':<10}{'workers':>8}{'wall s':>9}{'runs/s':>9}{'peak MiB':>10}"
          f"{'throughput ×':>14}{'memory ×':>10}")
    for w in args.workers:
        base = next(r for r in rows if r["variant"] == "batch_run" and r["workers"] == w)
        for r in (x for x in rows if x["workers"] == w):
            print(f"{r['variant']:<10}{w:>8}{r['wall_s']:>9.1f}{r['runs_per_s']:>9.1f}"
                  f"{r['peak_mb']:>10.0f}{r['runs_per_s'] / base['runs_per_s']:>14.2f}"
                  f"{r['peak_mb'] / base['peak_mb']:>10.2f}")


if __name__ == "__main__":
    main()
