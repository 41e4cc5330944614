"""The sweep engine: a design, an executor and a store.

Runs are batched into tasks and sent to any ``concurrent.futures.Executor`` (a warm
process pool by default, a Dask cluster with ``scheduler=``), at most a few tasks per
worker in flight so memory stays flat. Results stream to Parquet chunks, each written
atomically; the chunks are the ledger of what has run, so a sweep that is killed can
be resumed and finishes only the runs that are missing. A run that raises becomes a
row with ``status = "failed"``, its error and traceback; the sweep goes on.

Run ``(point, replicate)`` always uses ``SeedSequence(seed, spawn_key=(point,
replicate))``, so results do not depend on the worker count, the executor or on
interruptions.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.design import overrides, points, problem
from collabsim.experiment.spec import COLLABSIM_MODEL, SweepSpec, load_sweep
from collabsim.experiment.toys import response
from collabsim.metrics import summarise
from collabsim.model import PartnershipModel
from collabsim.runner import replicate_seed
from collabsim.scenario import Scenario
from collabsim.store import git_commit, sha256, versions, write_json, write_parquet

RUNS, STEPS = "runs", "steps"
KEY = ["point", "replicate"]


@dataclass(frozen=True)
class SweepReport:
    """What a call of :func:`sweep` did.

    Attributes:
        out: The results folder.
        total: Runs in the design (points × replicates).
        ran: Runs executed by this call.
        failed: Failed runs among all recorded.
        skipped: Runs already recorded before this call (resume).
        elapsed_s: Wall time of this call.
    """

    out: Path
    total: int
    ran: int
    failed: int
    skipped: int
    elapsed_s: float


# Worker side -----------------------------------------------------------------------------
def execute(
    model: str,
    base: Scenario | None,
    items: Sequence[tuple[int, int, dict[str, Any]]],
    seed: int,
    steps: int,
    keep_steps: bool,
) -> list[tuple[dict[str, Any], list[dict[str, Any]] | None]]:
    """Run a batch of ``(point, replicate, overrides)``; failures become records.

    Returns one ``(summary record, step rows or None)`` per run; step rows stay plain
    dicts so a whole chunk becomes one DataFrame at once.
    """
    response = None if model == COLLABSIM_MODEL else resolve(model)
    out = []
    scenarios: dict[int, Scenario] = {}  # replicates of a point share its scenario
    for point, replicate, values in items:
        record: dict[str, Any] = {"point": point, "replicate": replicate, "status": "ok",
                                  "error": "", "traceback": ""}
        table = None
        seq = replicate_seed(seed, replicate, point)
        try:
            if response is None:
                if point not in scenarios:
                    scenarios[point] = base.with_overrides(values)
                m = PartnershipModel(scenarios[point], rng=seq).run(steps or None)
                record.update(summarise(m))
                if keep_steps:
                    table = [{**row, "point": point, "replicate": replicate}
                             for row in m.history]
            else:
                record.update(response(values, np.random.default_rng(seq)))
        except Exception as exc:  # a failed run is data, not the end of the sweep
            record.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc())
        out.append((record, table))
    return out


def resolve(ref: str) -> Callable[..., dict[str, float]]:
    """The registered test response ``module:function`` names; nothing is imported."""
    return response(ref)


# Executors -------------------------------------------------------------------------------
@contextmanager
def open_executor(
    workers: int, executor: Executor | None = None, scheduler: str | None = None
) -> Iterator[Executor | None]:
    """The executor to use; ``None`` means run in this process.

    Args:
        workers: Local processes (or local Dask workers).
        executor: Any ``concurrent.futures.Executor``, used as given and not shut down.
        scheduler: ``"local"`` for a Dask ``LocalCluster`` of ``workers`` processes, or
            the address of a running Dask scheduler (``tcp://host:8786``).
    """
    if executor is not None:
        yield executor
        return
    if scheduler:
        import logging

        from distributed import Client, LocalCluster

        cluster = None
        if scheduler == "local":
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout=10)
            except OSError as exc:
                raise InputError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        return
    if workers > 1:
        # A context, not set_start_method: the process-wide default is left alone.
        method = "forkserver" if sys.platform.startswith("linux") else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            yield pool
        return
    yield None


# The store ---------------------------------------------------------------------------------
class Store:
    """A sweep's results folder: points, run chunks, step chunks, ledger, manifest."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.runs_dir = out / RUNS
        self.steps_dir = out / STEPS
        self.manifest_path = out / "manifest.json"
        self.ledger_path = out / "ledger.jsonl"

    def chunks(self) -> list[Path]:
        """Committed run chunks, in order."""
        return sorted(self.runs_dir.glob("part-*.parquet"))

    def done(self) -> set[tuple[int, int]]:
        """``(point, replicate)`` of every recorded run."""
        done: set[tuple[int, int]] = set()
        for chunk in self.chunks():
            df = pd.read_parquet(chunk, columns=KEY)
            done.update(zip(df["point"].tolist(), df["replicate"].tolist(), strict=True))
        return done

    def tidy(self) -> None:
        """Remove what a killed writer left: temporary files and uncommitted step chunks."""
        for folder in (self.runs_dir, self.steps_dir):
            for tmp in folder.glob(".*"):
                tmp.unlink(missing_ok=True)
        committed = {p.name for p in self.chunks()}
        for chunk in self.steps_dir.glob("part-*.parquet"):
            if chunk.name not in committed:
                chunk.unlink()

    def next_index(self) -> int:
        """Number for the next chunk."""
        chunks = self.chunks()
        return int(chunks[-1].stem.split("-")[1]) + 1 if chunks else 1

    def write_chunk(self, index: int, records: list[dict[str, Any]],
                    step_rows: list[dict[str, Any]], seconds: float) -> None:
        """Write step rows first, then the run rows that commit them, then the ledger line."""
        name = f"part-{index:06d}.parquet"
        if step_rows:
            write_parquet(pd.DataFrame(step_rows), self.steps_dir / name)
        write_parquet(pd.DataFrame(records), self.runs_dir / name)
        failed = sum(r["status"] != "ok" for r in records)
        line = {"chunk": name, "runs": len(records), "failed": failed,
                "seconds": round(seconds, 3), "written": _now()}
        with self.ledger_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    def failed_count(self) -> int:
        """Failed runs recorded so far."""
        return sum(int((pd.read_parquet(c, columns=["status"])["status"] != "ok").sum())
                   for c in self.chunks())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _manifest(spec: SweepSpec, pts: pd.DataFrame, workers: int, engine: str) -> dict[str, Any]:
    base_file = None
    if spec.is_collabsim and spec.base.source:
        base_file = {"path": spec.base.source,
                     "sha256": sha256(Path(spec.base.source).read_bytes())}
    return {
        "command": "sweep",
        "name": spec.name,
        "sweep_file": str(spec.path) if spec.path else None,
        "sweep_sha256": sha256(spec.text),
        "scenario_file": base_file,
        "scenario_sha256": sha256(spec.base.to_toml()) if spec.is_collabsim else None,
        "model": spec.model,
        "design": {
            "kind": spec.design,
            "factors": [{"key": f.key, "levels": list(f.levels), "low": f.low, "high": f.high,
                         "integer": f.integer} for f in spec.factors],
            "samples": spec.samples,
            "second_order": spec.second_order,
            "morris_levels": spec.morris_levels,
            "problem": problem(spec),
            "points": len(pts),
        },
        "seeds": {"seed": spec.seed,
                  "scheme": "numpy SeedSequence(seed, spawn_key=(point, replicate))"},
        "replicates": spec.replicates,
        "steps": spec.steps or (spec.base["scenario.steps"] if spec.is_collabsim else None),
        "keep_steps": spec.keep_steps,
        "versions": versions(),
        "git_commit": git_commit(),
        "workers": workers,
        "engine": engine,
        "status": "running",
        "started": _now(),
        "runs": {"total": len(pts) * spec.replicates},
    }


# The sweep ------------------------------------------------------------------------------------
def sweep(
    spec: SweepSpec | str | Path,
    out: str | Path,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> SweepReport:
    """Run a sweep and store its results in ``out``.

    Args:
        spec: A :class:`SweepSpec` or the path of a sweep file.
        out: Results folder (created). An existing sweep there is finished only with
            ``resume=True``.
        workers: Worker processes (1 runs in this process unless an executor or a
            scheduler is given).
        executor: Any ``concurrent.futures.Executor`` (not shut down here).
        scheduler: ``"local"`` or a Dask scheduler address.
        resume: Finish an interrupted sweep: run only what is not yet recorded.
        progress: Show a progress bar (default: when stderr is a terminal).

    Returns:
        A :class:`SweepReport`. Load the data with :func:`collabsim.load_results`.
    """
    started = time.perf_counter()
    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    out = Path(out)
    pts = points(spec)
    store = Store(out)
    engine = ("executor" if executor is not None else f"dask:{scheduler}" if scheduler
              else "process-pool" if workers > 1 else "in-process")
    if store.manifest_path.exists():
        if not resume:
            raise InputError(f"--out {out}: already holds a sweep (manifest.json); pass --resume "
                             "to finish it, or choose a new folder")
        manifest = json.loads(store.manifest_path.read_text(encoding="utf-8"))
        if manifest.get("sweep_sha256") != sha256(spec.text):
            raise InputError(f"--out {out}: holds a sweep of a different sweep file; it cannot be "
                             "resumed with this one")
        store.tidy()
    else:
        if out.exists() and not out.is_dir():
            raise InputError(f"--out {out}: exists and is not a folder")
        if out.is_dir() and any(out.iterdir()):
            raise InputError(f"--out {out}: is not empty and holds no sweep; choose a new folder")
        manifest = _manifest(spec, pts, workers, engine)
        write_parquet(pts, out / "points.parquet")
        if spec.text:
            (out / "sweep.toml").write_text(spec.text, encoding="utf-8")
        write_json(manifest, store.manifest_path)

    done = store.done()
    values = overrides(pts, spec)
    todo = [(p, r, values[p]) for p in range(len(pts)) for r in range(spec.replicates)
            if (p, r) not in done]
    total = len(pts) * spec.replicates
    bar = _progress(total, len(done), progress)
    failed_before = store.failed_count()
    failed_now = 0
    index = store.next_index()
    records: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    chunk_started = time.perf_counter()

    def collect(batch: list[tuple[dict[str, Any], list[dict[str, Any]] | None]]) -> None:
        nonlocal index, records, tables, chunk_started, failed_now
        for record, table in batch:
            records.append(record)
            if table is not None:
                tables.extend(table)
            failed_now += record["status"] != "ok"
        bar.update(len(batch))
        bar.set_postfix(failed=failed_before + failed_now, refresh=False)
        if len(records) >= spec.chunk_size:
            store.write_chunk(index, records, tables, time.perf_counter() - chunk_started)
            index, records, tables = index + 1, [], []
            chunk_started = time.perf_counter()

    args = (spec.model, spec.base, spec.seed, spec.steps, spec.keep_steps)
    with open_executor(workers, executor, scheduler) as ex:
        n_workers = workers if ex is not None else 1
        size = max(1, min(32, math.ceil(len(todo) / (n_workers * 8)))) if todo else 1
        batches = [todo[i:i + size] for i in range(0, len(todo), size)]
        if ex is None:
            for batch in batches:
                collect(execute(args[0], args[1], batch, *args[2:]))
        else:
            _stream(ex, batches, args, collect, max_in_flight=2 * n_workers)
    if records:
        store.write_chunk(index, records, tables, time.perf_counter() - chunk_started)
    bar.close()

    elapsed = time.perf_counter() - started
    manifest.update(
        status="complete", finished=_now(),
        runs={"total": total, "ok": total - failed_before - failed_now,
              "failed": failed_before + failed_now},
        timings={**manifest.get("timings", {}), _now(): {
            "ran": len(todo), "elapsed_s": round(elapsed, 3), "workers": workers,
            "engine": engine,
            "runs_per_s": round(len(todo) / elapsed, 2) if elapsed > 0 else None}},
    )
    write_json(manifest, store.manifest_path)
    return SweepReport(out, total, len(todo), failed_before + failed_now, len(done), elapsed)


def _stream(
    ex: Executor, batches: list, args: tuple, collect: Callable, max_in_flight: int
) -> None:
    """Submit batches with a bounded number in flight, collecting results as they finish."""
    model, base, seed, steps, keep = args
    pending: set = set()
    it = iter(batches)
    for batch in it:
        pending.add(ex.submit(execute, model, base, batch, seed, steps, keep))
        if len(pending) >= max_in_flight:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                collect(fut.result())
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in finished:
            collect(fut.result())


class _Quiet:
    def update(self, n: int) -> None: ...
    def set_postfix(self, **kw: Any) -> None: ...
    def close(self) -> None: ...


def _progress(total: int, initial: int, show: bool | None) -> Any:
    if show is None:
        show = sys.stderr.isatty()
    if not show:
        return _Quiet()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="run", dynamic_ncols=True, file=sys.stderr)
