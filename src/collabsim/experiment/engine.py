"""The sweep engine: a design, an executor and a store.

Runs are batched into tasks and sent to any ``concurrent.futures.Executor`` (a warm
process pool by default, a Dask cluster with ``scheduler=``), with about two tasks per
worker thread in flight so the workers stay busy and memory stays flat. Results are
released in the order they were submitted and stream to Parquet chunks, each written
atomically, every ``chunk_size`` runs or every :data:`FLUSH_SECONDS`, whichever comes
first; the chunks are the ledger of what has run, so a sweep that is killed can be
resumed and finishes only the runs that are missing. A run that raises (or calls
``sys.exit``) becomes a row with ``status = "failed"`` and its error; a worker process
that dies is replaced and its runs are retried one at a time, and a run that kills its
worker twice is recorded as failed. The sweep goes on.

A results folder is locked while a sweep writes to it, and its manifest records
fingerprints of every input, so a resume whose inputs changed is refused; a sweep
file that only adds replicates, samples of the same design or levels grows the
sweep (see :func:`sweep`).

Run ``(point, replicate)`` always uses ``SeedSequence(seed, spawn_key=(point,
replicate))``, so results do not depend on the worker count, the executor, on
interruptions or on growing the sweep.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from collabsim import ensemble
from collabsim.batch import Batch
from collabsim.errors import InputError, visible
from collabsim.experiment import tables as T
from collabsim.experiment.design import UNIT_PREFIX, overrides, points, problem
from collabsim.experiment.spec import COLLABSIM_MODEL, SweepSpec, load_sweep, scenario_files
from collabsim.experiment.toys import response
from collabsim.processes import exit_with
from collabsim.runner import BATCH_SIZE, engine_batches, replicate_seed
from collabsim.scenario import Scenario
from collabsim.store import git_commit, manifest_of, sha256, versions, write_json

POINTS, RUNS, STEPS, AGENTS, FAILURES = "points", "runs", "steps", "agents", "failures"
TABLES = (POINTS, RUNS, STEPS, AGENTS, FAILURES)
KEY = ["point", "replicate"]
FLUSH_SECONDS = 5.0  #: finished runs are written at least this often
SEQUENTIAL_BATCH = BATCH_SIZE  #: runs of one point advanced together in this process
CONNECT_SECONDS = 10  #: how long to try to reach a Dask scheduler
LOCK_FILE = ".lock"
QUARANTINE = "_quarantine"  #: where damaged or stray files of a table folder are moved
WORKER_DIED = ("WorkerDied: the worker process died while running this run, twice (killed, "
               "e.g. for lack of memory, or the model called os._exit)")


class ResultsWarning(UserWarning):
    """A results folder held something unexpected that was skipped or set aside."""


class SweepInterrupted(Exception):
    """A sweep was stopped by SIGINT or SIGTERM after saving its finished runs.

    Attributes:
        saved: Runs recorded in the folder.
        signum: The signal that stopped it.
    """

    def __init__(self, saved: int, signum: int) -> None:
        super().__init__(f"{saved} runs saved; resume with --resume")
        self.saved, self.signum = saved, signum


class _Stop(BaseException):
    """Raised in the main thread by the SIGTERM handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


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
Item = tuple[int, int, dict[str, Any]]
Result = tuple[dict[str, Any], list[dict[str, Any]] | None, dict[str, np.ndarray] | None]


def execute(
    model: str,
    base: Scenario | None,
    items: Sequence[Item],
    seed: int,
    steps: int,
    keep_steps: bool,
    keep_agents: bool = False,
    cache: dict[int, Scenario] | None = None,
) -> list[Result]:
    """Run a batch of ``(point, replicate, overrides)``; failures become records.

    Consecutive items of one design point run as one :class:`~collabsim.batch.Batch`
    (each replicate with its own random numbers, so its result does not depend on the
    batch). Returns one ``(summary record, step rows or None, agent columns or None)``
    per run; steps and agents stay plain rows and arrays, so a whole chunk becomes one
    DataFrame at once. A run that raises, or calls ``sys.exit``, is a record with
    ``status = "failed"``; when a batch fails its runs are retried alone, so a failure
    names its run.
    """
    if model != COLLABSIM_MODEL:
        return [_respond(resolve(model), item, seed) for item in items]
    scenarios = {} if cache is None else cache  # replicates of a point share its scenario
    out: list[Result] = []
    for point, group in groupby(items, key=lambda item: item[0]):
        todo = list(group)
        try:
            if point not in scenarios:
                scenarios[point] = base.with_overrides(
                    todo[0][2], source=f"sweep point {point}")
            out += _run_point(scenarios[point], point, [r for _, r, _ in todo], seed,
                              steps or None, keep_steps, keep_agents)
        except (Exception, SystemExit) as exc:  # a failed run is data, not the end of the sweep
            if len(todo) == 1:
                out.append((_failed(point, todo[0][1], exc), None, None))
            else:
                out += [result for item in todo
                        for result in execute(model, base, [item], seed, steps, keep_steps,
                                              keep_agents, scenarios)]
    return out


def summarise(batch: Batch) -> list[dict[str, Any]]:
    """Each replicate's summary record."""
    return batch.summaries()


def _run_point(scenario: Scenario, point: int, replicates: list[int], seed: int,
               steps: int | None, keep_steps: bool, keep_agents: bool) -> list[Result]:
    """Replicates of one design point, run as one batch (one per parameter set drawn)."""
    done: dict[int, Result] = {}
    seeds = [replicate_seed(seed, r, point) for r in replicates]
    members = ensemble.drawn(scenario, seeds)  # None: one parameter set for every run
    for idx, batch in engine_batches(scenario, seeds, agents=keep_agents, steps=steps,
                                     members=members):
        for i, (j, summary) in enumerate(zip(idx, summarise(batch), strict=True)):
            if members is not None:
                summary = {"member": int(members[j]), **summary}
            done[j] = _result(batch, i, point, replicates[j], summary, keep_steps, keep_agents)
    return [done[j] for j in range(len(replicates))]


def _result(batch: Batch, i: int, point: int, replicate: int, summary: dict[str, Any],
            keep_steps: bool, keep_agents: bool) -> Result:
    """Replicate ``i`` of a finished batch as one sweep result."""
    record: dict[str, Any] = {"point": point, "replicate": replicate, "status": "ok",
                              "error": "", "traceback": "", **summary}
    table = agents = None
    if keep_steps:
        table = [{**row, "point": point, "replicate": replicate}
                 for row in batch.frame([i]).to_dict("records")]
    if keep_agents:
        frame = batch.agent_frame(i)
        agents = {k: frame[k].to_numpy() for k in frame.columns}
        n = len(agents["step"])
        agents.update(point=np.full(n, point), replicate=np.full(n, replicate))
    return record, table, agents


def _respond(response: Callable[..., dict[str, float]], item: Item, seed: int) -> Result:
    """One run of a registered test response."""
    point, replicate, values = item
    record: dict[str, Any] = {"point": point, "replicate": replicate, "status": "ok",
                              "error": "", "traceback": ""}
    try:
        record.update(response(values, np.random.default_rng(
            replicate_seed(seed, replicate, point))))
    except (Exception, SystemExit) as exc:  # a failed run is data, not the end of the sweep
        record = _failed(point, replicate, exc)
    return record, None, None


def _failed(point: int, replicate: int, exc: BaseException) -> dict[str, Any]:
    return {"point": point, "replicate": replicate, "status": "failed",
            "error": f"{type(exc).__name__}: {exc}".splitlines()[0][:500],
            "traceback": traceback.format_exc()}


def _groups(todo: list[Item], size: int) -> Iterator[list[Item]]:
    """``todo`` in consecutive groups of at most ``size`` runs, each of one design point."""
    for _, group in groupby(todo, key=lambda item: item[0]):
        runs = list(group)
        for i in range(0, len(runs), size):
            yield runs[i:i + size]


def resolve(ref: str) -> Callable[..., dict[str, float]]:
    """The registered test response ``module:function`` names; nothing is imported."""
    return response(ref)


def _init_worker(command: int) -> None:
    """Pool workers leave Ctrl-C to the command, which stops them, and end with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with(command)


# Executors -------------------------------------------------------------------------------
def _new_pool(workers: int) -> ProcessPoolExecutor:
    # A context, not set_start_method: the process-wide default is left alone.
    method = "forkserver" if sys.platform.startswith("linux") else "spawn"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                               initializer=_init_worker, initargs=(os.getpid(),))


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: cancel what is queued and end its worker processes."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        with suppress(Exception):
            proc.terminate()
    for proc in procs:
        with suppress(Exception):
            proc.join(5)


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
                client = Client(scheduler, timeout=CONNECT_SECONDS)
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
        pool = _new_pool(workers)
        try:
            yield pool
        except BaseException:
            _stop_pool(pool)
            raise
        finally:
            pool.shutdown(wait=True)
        return
    yield None


def capacity(ex: Executor | None, workers: int) -> dict[str, Any]:
    """How many runs the executor runs at once, and what it is.

    A Dask executor reports its cluster's worker threads, a process or thread pool its
    size; any other executor is taken to run ``workers`` at once.
    """
    if ex is None:
        return {"kind": "in-process", "threads": 1}
    client = getattr(ex, "_client", None)
    if client is not None:  # distributed.client.ClientExecutor
        threads = client.nthreads()
        return {"kind": "dask", "scheduler": client.scheduler.address,
                "workers": len(threads), "threads": max(1, sum(threads.values()))}
    size = getattr(ex, "_max_workers", None)
    if isinstance(size, int):
        return {"kind": type(ex).__name__, "threads": size}
    return {"kind": type(ex).__name__, "threads": max(1, workers)}


# The lock ------------------------------------------------------------------------------------
class FolderLock:
    """An exclusive lock on a results folder, held while a sweep writes to it.

    An advisory ``flock`` on ``DIR/.lock``: the operating system releases it when its
    holder exits, however it exits, so a lock left by a dead process is never in the way.
    The file names the holder (pid, host, start time) for the message a second process
    gets.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise a one-line InputError naming its holder."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): the folder is not locked
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self.holder()
            os.close(fd)
            who = (f"pid {holder.get('pid')} on {holder.get('host')}, started "
                   f"{holder.get('started')}") if holder else "another process"
            raise InputError(f"--out {self.path.parent}: in use by another sweep ({who}); wait "
                             "for it to finish or stop it") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "started": _now()}).encode())
        self.fd = fd

    def holder(self) -> dict[str, Any]:
        """Who holds (or last held) the lock."""
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        """Clear the holder and let the lock go (the file stays, unlocked)."""
        if self.fd is not None:
            with suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)
            self.fd = None


# The store ---------------------------------------------------------------------------------
class Store:
    """A results folder: one folder of Parquet chunks per table, a ledger and a manifest.

    Chunk ``N`` of the runs table commits chunk ``N`` of the other per-run tables: they
    are written first, so a chunk of steps, agents or failures without its runs chunk
    was left by a kill and is removed on resume.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.manifest_path = out / "manifest.json"
        self.ledger_path = out / "ledger.jsonl"
        self.schemas: dict[str, pa.Schema] = {}

    def folder(self, table: str) -> Path:
        """The folder of one table."""
        return self.out / table

    def parts(self, table: str) -> list[Path]:
        """The table's chunk files, in order (only files named ``part-NNNNNN.parquet``)."""
        folder = self.folder(table)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if T.PART.fullmatch(p.name) and p.is_file())

    def strays(self, table: str) -> list[Path]:
        """Anything in a table's folder that is not one of its chunks or a temporary file."""
        folder = self.folder(table)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir()
                      if not T.PART.fullmatch(p.name) and not p.name.startswith("."))

    def read_keys(self, warn: bool = True) -> tuple[dict[tuple[int, int], bool], list[Path]]:
        """Recorded runs ``{(point, replicate): ok}`` and the unreadable or duplicate chunks.

        A chunk that cannot be read, or whose runs are all recorded by earlier chunks (a
        copy), is listed as bad and its runs are not counted.
        """
        done: dict[tuple[int, int], bool] = {}
        bad = []
        for chunk in self.parts(RUNS):
            try:
                df = pq.read_table(chunk, columns=[*KEY, "status"]).to_pandas()
            except (pa.ArrowException, OSError, ValueError) as exc:
                if warn:
                    _warn(f"{chunk}: unreadable ({type(exc).__name__}); skipped")
                bad.append(chunk)
                continue
            keys = list(zip(df["point"].tolist(), df["replicate"].tolist(), strict=True))
            if keys and all(k in done for k in keys):
                if warn:
                    _warn(f"{chunk}: holds only runs recorded in earlier chunks (a copy?); "
                          "skipped")
                bad.append(chunk)
                continue
            for k, status in zip(keys, df["status"].tolist(), strict=True):
                done.setdefault(k, status == "ok")
        return done, bad

    def repair(self) -> None:
        """Make the folder consistent before a resume.

        Temporary files and chunks of other tables with no runs chunk (left by a kill)
        are removed; unreadable or copied runs chunks and stray files are moved to
        ``_quarantine/`` with a warning.
        """
        for table in TABLES:
            folder = self.folder(table)
            if folder.is_dir():
                for tmp in folder.glob(".*"):
                    tmp.unlink(missing_ok=True)
        for tmp in (*self.out.glob(".manifest.json.*"), *self.out.glob(".sweep.toml.*")):
            tmp.unlink(missing_ok=True)
        _, bad = self.read_keys()
        for path in bad:
            self._quarantine(path)
        for table in TABLES:
            for path in self.strays(table):
                _warn(f"{path}: not a chunk of the {table} table; moved to {QUARANTINE}/")
                self._quarantine(path)
        committed = {p.name for p in self.parts(RUNS)}
        for table in (STEPS, AGENTS, FAILURES):
            for chunk in self.parts(table):
                if chunk.name not in committed:
                    chunk.unlink()

    def _quarantine(self, path: Path) -> None:
        target = self.out / QUARANTINE / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target = target.with_name(f"{target.name}.{time.time_ns()}")
        shutil.move(path, target)

    def next_index(self) -> int:
        """Number for the next chunk (above every chunk of every table)."""
        last = [int(T.PART.fullmatch(p.name).group(1))
                for table in (RUNS, STEPS, AGENTS, FAILURES) for p in self.parts(table)]
        return max(last, default=0) + 1

    def write_chunk(self, index: int, frames: dict[str, pd.DataFrame], seconds: float) -> None:
        """Write the other tables first, then the runs chunk that commits them, then the ledger.

        A runs chunk with a column its schema lacks (a test response's output seen for the
        first time) first extends the schema and adds the column, as nulls, to the chunks
        already written.
        """
        name = T.part_name(index)
        runs = frames[RUNS]
        new = [c for c in runs.columns if c not in self.schemas[RUNS].names]
        if new:
            self._extend([T.response_column(c, _first(runs[c])) for c in new])
        for table in (FAILURES, STEPS, AGENTS):
            df = frames.get(table)
            if df is not None:
                T.write_table(T.conform(df, self.schemas[table]), self.folder(table) / name)
        T.write_table(T.conform(runs, self.schemas[RUNS]), self.folder(RUNS) / name)
        failed = int((runs["status"] != "ok").sum())
        line = {"chunk": name, "runs": len(runs), "failed": failed,
                "seconds": round(seconds, 3), "written": _now()}
        with self.ledger_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    def upgrade(self) -> None:
        """Give runs chunks written before a column was declared that column, as nulls.

        So that every chunk of a resumed sweep has the table's full schema (the runs'
        ensemble ``member`` came after the first releases).
        """
        want = self.schemas[RUNS]
        for chunk in self.parts(RUNS):
            have = set(pq.read_schema(chunk).names)
            if have < set(want.names):
                T.write_table(T.conform(pq.read_table(chunk).to_pandas(), want), chunk)

    def _extend(self, columns: list[T.Column]) -> None:
        old = self.schemas[RUNS]
        self.schemas[RUNS] = pa.schema([*old, *(c.field() for c in columns)],
                                       metadata=old.metadata)
        for chunk in self.parts(RUNS):
            df = pq.read_table(chunk).to_pandas()
            T.write_table(T.conform(df, self.schemas[RUNS]), chunk)


def _first(values: pd.Series) -> Any:
    present = values.dropna()
    return present.iloc[0] if len(present) else 0.0


def _warn(message: str) -> None:
    warnings.warn(message, ResultsWarning, stacklevel=3)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# Inputs, fingerprints and growth --------------------------------------------------------------
def _file(path: Path) -> dict[str, str]:
    return {"path": str(path), "sha256": sha256(path.read_bytes())}


def inputs(spec: SweepSpec) -> dict[str, Any]:
    """Fingerprints of everything a sweep's results depend on."""
    return {
        "sweep_file": _file(spec.path) if spec.path and spec.path.is_file() else None,
        "scenario_files": ([_file(p) for p in scenario_files(spec.base.source)]
                           if spec.is_collabsim and spec.base.source else []),
        "scenario_sha256": sha256(spec.base.to_toml()) if spec.is_collabsim else None,
        "table": _file(spec.table) if spec.table else None,
        "collabsim": versions()["collabsim"],
        # the calibrated ensemble the runs draw from (None when none can draw from it)
        "ensemble": (ensemble.load().digest
                     if _parameter_source(spec) in ("ensemble", "point_estimate", "swept")
                     else None),
    }


def design(spec: SweepSpec) -> dict[str, Any]:
    """The sweep file's settings that decide its runs, as plain data."""
    return {
        "name": spec.name, "model": spec.model, "kind": spec.design, "seed": spec.seed,
        "steps": spec.steps, "keep_steps": spec.keep_steps, "keep_agents": spec.keep_agents,
        "second_order": spec.second_order, "morris_levels": spec.morris_levels,
        "samples": spec.samples, "replicates": spec.replicates,
        "factors": [{"key": f.key, "levels": list(f.levels), "low": f.low, "high": f.high,
                     "integer": f.integer} for f in spec.factors],
    }


#: Settings a resume may raise (growing the sweep); every other one must not change.
GROWABLE = ("samples", "replicates")


def changes(old: dict[str, Any], spec: SweepSpec) -> list[str]:
    """What changed between a folder's sweep and ``spec``, other than growth.

    Returns:
        One phrase per change that a resume cannot accept (empty if it can).
    """
    found = []
    was, now = old.get("inputs", {}), inputs(spec)
    if was.get("collabsim") != now["collabsim"]:
        found.append(f"collabsim version {was.get('collabsim')} -> {now['collabsim']}")
    if "ensemble" in was and was["ensemble"] != now["ensemble"]:  # older folders lack it
        found.append("the calibrated ensemble the runs draw from (posterior.csv)")
    old_files = {f["path"]: f["sha256"] for f in was.get("scenario_files", [])}
    new_files = {f["path"]: f["sha256"] for f in now["scenario_files"]}
    if list(old_files) != list(new_files):
        found.append(f"base scenario files {', '.join(old_files) or 'none'} -> "
                     f"{', '.join(new_files) or 'none'}")
    else:
        found += [f"scenario file {p} was edited" for p in new_files
                  if old_files[p] != new_files[p]]
    if was.get("scenario_sha256") != now["scenario_sha256"] and not found:
        found.append("the base scenario's parameters")
    od, nd = old.get("design", {}), design(spec)
    for key in ("name", "model", "kind", "seed", "steps", "keep_steps", "keep_agents",
                "second_order", "morris_levels"):
        if od.get(key) != nd[key]:
            found.append(f"sweep.{key} {od.get(key)!r} -> {nd[key]!r}")
    for key in GROWABLE:
        if nd[key] < od.get(key, 0):
            found.append(f"sweep.{key} {od.get(key)} -> {nd[key]} (a sweep can only grow)")
    old_f = {f["key"]: f for f in od.get("factors", [])}
    new_f = {f["key"]: f for f in nd["factors"]}
    if list(old_f) != list(new_f):
        found.append(f"parameters {', '.join(old_f)} -> {', '.join(new_f)}")
        return found
    for key, f in new_f.items():
        o = old_f[key]
        if (o["low"], o["high"], o["integer"]) != (f["low"], f["high"], f["integer"]):
            found.append(f"parameters.{key} range {[o['low'], o['high']]} -> "
                         f"{[f['low'], f['high']]}")
        lost = [v for v in o["levels"] if v not in f["levels"]]
        if lost:
            found.append(f"parameters.{key} lost levels {lost}")
    return found


def grow_points(stored: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame | None:
    """The points of a grown design: stored points keep their numbers, new ones follow.

    Returns:
        The combined points table, or None if a stored point is not in the new design.
    """
    cols = [c for c in new.columns if c != "point"]
    if [c for c in stored.columns if c != "point"] != cols:
        return None
    left: dict[tuple, deque[int]] = {}
    for row in stored[cols].itertuples(index=False, name=None):
        left.setdefault(_key(row), deque()).append(1)
    added = []
    for i, row in enumerate(new[cols].itertuples(index=False, name=None)):
        queue = left.get(_key(row))
        if queue:
            queue.popleft()
        else:
            added.append(i)
    if any(left.values()):
        return None
    extra = new.iloc[added].copy()
    extra["point"] = np.arange(len(stored), len(stored) + len(extra), dtype=np.int64)
    return pd.concat([stored, extra], ignore_index=True)


def _key(row: tuple) -> tuple:
    return tuple(v.item() if hasattr(v, "item") else v for v in row)


def _parameter_source(spec: SweepSpec) -> str | None:
    """Where the runs' behavioural parameters come from.

    The base scenario's ``scenario.parameters``, ``swept`` if the sweep sets it, None for
    a test response.
    """
    if not spec.is_collabsim or spec.base is None:
        return None
    if any(f.key == "scenario.parameters" for f in spec.factors):
        return "swept"
    return str(spec.base["scenario.parameters"])


def _parameter_record(spec: SweepSpec) -> dict[str, Any] | None:
    """The manifest's ``parameters``, in the shape run and compare write it.

    ``source`` as :func:`_parameter_source`; for the ensemble or its median, which of the
    fitted values the runs replaced (:func:`collabsim.ensemble.record`), less those the
    sweep sets itself.
    """
    source = _parameter_source(spec)
    if source is None or source == "swept":
        return None if source is None else {"source": source}
    assert spec.base is not None
    rec = ensemble.record(spec.base)
    swept = {f.key for f in spec.factors}
    rec["replaced"] = {k: v for k, v in rec["replaced"].items() if k not in swept}
    return rec


def _manifest(spec: SweepSpec, pts: pd.DataFrame, used: dict[str, Any]) -> dict[str, Any]:
    return {
        "command": "sweep",
        "name": spec.name,
        "layout": {t: f"{t}/part-*.parquet" for t in TABLES},
        "sweep_file": str(spec.path) if spec.path else None,
        "inputs": inputs(spec),
        "model": spec.model,
        "design": {**design(spec), "problem": problem(spec), "points": len(pts)},
        "seeds": {"seed": spec.seed,
                  "scheme": "numpy SeedSequence(seed, spawn_key=(point, replicate))"},
        "replicates": spec.replicates,
        "parameters": _parameter_record(spec),
        "steps": spec.steps or (spec.base["scenario.steps"] if spec.is_collabsim else None),
        "versions": versions(),
        "git_commit": git_commit(Path(__file__).parent),
        "executor": used,
        "status": "running",
        "started": _now(),
        "runs": {"total": len(pts) * spec.replicates},
        "history": [],
    }


def _schemas(spec: SweepSpec, pts: pd.DataFrame) -> dict[str, pa.Schema]:
    name = spec.name
    factors = T.factor_columns(pts[[c for c in pts.columns if not c.startswith(UNIT_PREFIX)]])
    outputs = T.MODEL_OUTPUTS if spec.is_collabsim else ()
    return {
        POINTS: T.schema([T.POINT, *T.factor_columns(pts)], POINTS, name),
        RUNS: T.schema([*T.KEYS, T.SEED, T.STATUS, T.ERROR,
                        *((T.WORLD_KEYS[1],) if spec.is_collabsim else ()), *factors, *outputs],
                       RUNS, name),
        FAILURES: T.schema(T.FAILURE_COLUMNS, FAILURES, name),
        STEPS: T.schema([*T.KEYS, *T.STEP_COLUMNS], STEPS, name),
        AGENTS: T.schema([*T.KEYS, *T.AGENT_COLUMNS], AGENTS, name),
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

    The folder is locked while the sweep runs: a second process (a fresh sweep or a
    resume) is refused, naming the holder. A resume checks the fingerprints in the
    manifest (sweep file settings, the base scenario and every file it inherits from,
    a table design's CSV, the collabsim version, the calibrated ensemble the runs may
    draw from) and refuses, saying what changed,
    unless the only change is growth: more replicates, more samples of the same design
    and seed, extra levels or extra table rows. Then only the new runs are run.

    Args:
        spec: A :class:`SweepSpec` or the path of a sweep file.
        out: Results folder (created). An existing sweep there is finished or grown only
            with ``resume=True``.
        workers: Worker processes (1 runs in this process unless an executor or a
            scheduler is given).
        executor: Any ``concurrent.futures.Executor`` (not shut down here).
        scheduler: ``"local"`` or a Dask scheduler address.
        resume: Finish (or grow) a sweep: run only what is not yet recorded.
        progress: Show a progress bar (default: when stderr is a terminal).

    Returns:
        A :class:`SweepReport`. Load the data with :func:`collabsim.load_results`.

    Raises:
        InputError: bad input, a locked folder, or a resume whose inputs changed.
        SweepInterrupted: SIGINT or SIGTERM; the finished runs were saved first.
    """
    started = time.perf_counter()
    spec = spec if isinstance(spec, SweepSpec) else load_sweep(spec)
    out = Path(out)
    pts = points(spec)
    if len(pts) == 0:
        raise InputError(f"{spec.path or 'sweep'}: the design has no points")
    if not spec.is_collabsim:
        resolve(spec.model)  # fail before anything is written
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out)
    lock.acquire()
    try:  # the executor first: a scheduler that cannot be reached leaves nothing written
        with _signals() as stopped, open_executor(workers, executor, scheduler) as ex:
            store = Store(out)
            manifest, pts = _open(store, spec, pts, resume)
            renew = ((lambda: _new_pool(workers))
                     if isinstance(ex, ProcessPoolExecutor) and executor is None else None)
            return _run(store, spec, pts, manifest, ex, workers, renew, stopped, progress,
                        started)
    except InputError:
        lock.release()
        if created and {p.name for p in out.iterdir()} <= {LOCK_FILE}:
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        lock.release()


def _open(store: Store, spec: SweepSpec, pts: pd.DataFrame,
          resume: bool) -> tuple[dict[str, Any], pd.DataFrame]:
    """Check the folder (new, or a sweep to resume or grow); returns its manifest and points."""
    out = store.out
    if not store.manifest_path.exists():
        others = [p.name for p in out.iterdir() if p.name != LOCK_FILE]
        if others:
            raise InputError(f"--out {out}: is not empty and holds no sweep; choose a new folder")
        manifest = _manifest(spec, pts, {})
        write_json(manifest, store.manifest_path)  # first: a folder with it can be resumed
        store.schemas = _schemas(spec, pts)
        T.write_table(T.conform(pts, store.schemas[POINTS]),
                      store.folder(POINTS) / T.part_name(0))
        if spec.text:
            (out / "sweep.toml").write_text(spec.text, encoding="utf-8")
        return manifest, pts
    command = manifest_of(out).get("command")
    if isinstance(command, str) and command != "sweep":
        raise InputError(f"--out {out}: holds the output of `collabsim {visible(command)}`, "
                         "not a sweep; choose a new folder")
    if not resume:
        raise InputError(f"--out {out}: already holds a sweep (manifest.json); pass --resume "
                         "to finish or grow it, or choose a new folder")
    try:
        manifest = json.loads(store.manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "design" not in manifest:
            raise ValueError("not a sweep manifest")
    except (OSError, ValueError) as exc:
        raise InputError(f"{store.manifest_path}: damaged ({str(exc).splitlines()[0][:80]}); "
                         "the sweep cannot be checked, so it cannot be resumed: start a new "
                         "folder") from None
    found = changes(manifest, spec)
    if found:
        raise InputError(f"--out {out}: the sweep's inputs changed ({'; '.join(found)}); "
                         "resume only with the same inputs, or grow it with more replicates, "
                         "samples or levels")
    stored = _stored_points(store)
    combined = pts if stored is None else grow_points(stored, pts)
    if combined is None:
        table = manifest.get("inputs", {}).get("table")
        why = (f"the table {spec.table} was edited, not only extended"
               if table and table.get("sha256") != inputs(spec)["table"]["sha256"]
               else "a point of the stored design is not in the new one; only grid, table, "
               "sobol and morris designs can grow")
        raise InputError(f"--out {out}: the design's points changed ({why}), so it cannot be "
                         "resumed")
    store.schemas = _schemas(spec, combined)
    store.repair()
    last = store.parts(RUNS)
    if last and not spec.is_collabsim:  # a test response's outputs, as first seen
        store.schemas[RUNS] = pq.read_schema(last[-1])
    else:
        store.upgrade()
    old = manifest.get("design", {})
    grown = len(combined) != old.get("points") or spec.replicates != old.get("replicates")
    if grown:
        manifest["history"] = [*manifest.get("history", []), {
            "grown": _now(), "points": [old.get("points"), len(combined)],
            "replicates": [old.get("replicates"), spec.replicates],
            "samples": [old.get("samples"), spec.samples],
            "inputs": inputs(spec)}]
    if grown or stored is None:
        T.write_table(T.conform(combined, store.schemas[POINTS]),
                      store.folder(POINTS) / T.part_name(0))
    manifest.update(inputs=inputs(spec), replicates=spec.replicates,
                    design={**design(spec), "problem": problem(spec), "points": len(combined)},
                    runs={"total": len(combined) * spec.replicates}, status="running")
    if spec.text:
        (out / "sweep.toml").write_text(spec.text, encoding="utf-8")
    write_json(manifest, store.manifest_path)
    return manifest, combined


def _stored_points(store: Store) -> pd.DataFrame | None:
    """The points table as stored; None if it is missing or unreadable (it is rewritten)."""
    path = store.folder(POINTS) / T.part_name(0)
    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError, ValueError):
        if path.exists():
            _warn(f"{path}: unreadable; written again from the design")
        return None


class _Buffer:
    """Finished runs not yet written, and the chunk they will go to."""

    def __init__(self, store: Store, spec: SweepSpec, pts: pd.DataFrame) -> None:
        self.store, self.spec = store, spec
        keys = [c for c in pts.columns if c != "point" and not c.startswith(UNIT_PREFIX)]
        self.factors = pts.set_index("point")[keys]
        self.index = store.next_index()
        self.records: list[dict[str, Any]] = []
        self.steps: list[dict[str, Any]] = []
        self.agents: list[dict[str, np.ndarray]] = []
        self.since = time.monotonic()
        self.written = 0

    def add(self, batch: list[Result]) -> None:
        for record, steps, agents in batch:
            self.records.append(record)
            if steps is not None:
                self.steps.extend(steps)
            if agents is not None:
                self.agents.append(agents)
        if len(self.records) >= self.spec.chunk_size:
            self.flush()

    def due(self) -> bool:
        return bool(self.records) and time.monotonic() - self.since >= FLUSH_SECONDS

    def flush(self) -> None:
        if not self.records:
            self.since = time.monotonic()
            return
        runs = pd.DataFrame(self.records)
        tag = {"sweep": self.spec.name}
        failed = runs[runs["status"] != "ok"][[*KEY, "error", "traceback"]]
        runs = runs.drop(columns="traceback")
        factors = self.factors.loc[runs["point"]].reset_index(drop=True)
        runs = pd.concat([runs.reset_index(drop=True), factors], axis=1).assign(
            seed=self.spec.seed, **tag)
        frames = {RUNS: runs, FAILURES: failed.assign(seed=self.spec.seed, **tag)}
        if self.spec.keep_steps and self.spec.is_collabsim:
            frames[STEPS] = pd.DataFrame(self.steps, columns=None if self.steps else KEY)
        if self.spec.keep_agents and self.spec.is_collabsim:
            frames[AGENTS] = pd.DataFrame(
                {k: np.concatenate([a[k] for a in self.agents]) for k in self.agents[0]}
                if self.agents else {k: [] for k in KEY})
        for table in (STEPS, AGENTS):
            if table in frames:
                frames[table]["sweep"] = self.spec.name
        self.store.write_chunk(self.index, frames, time.monotonic() - self.since)
        self.written += len(self.records)
        self.index += 1
        self.records, self.steps, self.agents = [], [], []
        self.since = time.monotonic()


def _run(store: Store, spec: SweepSpec, pts: pd.DataFrame, manifest: dict[str, Any],
         ex: Executor | None, workers: int, renew: Callable[[], ProcessPoolExecutor] | None,
         stopped: threading.Event, progress: bool | None, started: float) -> SweepReport:
    done = store.read_keys(warn=False)[0]
    values = overrides(pts, spec)
    todo = [(p, r, values[p]) for p in range(len(pts)) for r in range(spec.replicates)
            if (p, r) not in done]
    total = len(pts) * spec.replicates
    failed_before = sum(not ok for ok in done.values())
    bar = _progress(total, len(done), progress)
    buffer = _Buffer(store, spec, pts)
    failed_now = 0

    def collect(batch: list[Result]) -> None:
        nonlocal failed_now
        buffer.add(batch)
        failed_now += sum(r["status"] != "ok" for r, _, _ in batch)
        bar.update(len(batch))
        bar.set_postfix(failed=failed_before + failed_now, refresh=False)

    args = (spec.model, spec.base, spec.seed, spec.steps, spec.keep_steps, spec.keep_agents)
    used = capacity(ex, workers)
    manifest["executor"] = used
    write_json(manifest, store.manifest_path)
    try:
        if ex is None:
            cache: dict[int, Scenario] = {}
            for group in _groups(todo, SEQUENTIAL_BATCH):  # an interrupt loses no finished run
                collect(execute(*args[:2], group, *args[2:], cache=cache))
                if buffer.due():
                    buffer.flush()
        else:
            _Stream(ex, args, collect, buffer, used["threads"], renew).run(todo)
    except (KeyboardInterrupt, _Stop) as exc:
        _hold_signals()
        signum = exc.signum if isinstance(exc, _Stop) else signal.SIGINT
        stopped.set()
        buffer.flush()
        bar.close()
        write_json({**manifest, "status": "interrupted"}, store.manifest_path)
        raise SweepInterrupted(len(done) + buffer.written, signum) from None
    except BaseException:
        buffer.flush()  # keep what finished, whatever went wrong
        raise
    buffer.flush()
    bar.close()

    elapsed = time.perf_counter() - started
    failed = failed_before + failed_now
    manifest.update(
        status="complete", finished=_now(),
        runs={"total": total, "ok": total - failed, "failed": failed},
        timings={**manifest.get("timings", {}), _now(): {
            "ran": len(todo), "elapsed_s": round(elapsed, 3), "executor": used,
            "runs_per_s": round(len(todo) / elapsed, 2) if elapsed > 0 else None}},
    )
    write_json(manifest, store.manifest_path)
    return SweepReport(store.out, total, len(todo), failed, len(done), elapsed)


@contextmanager
def _signals() -> Iterator[threading.Event]:
    """SIGTERM stops the sweep like Ctrl-C does (in the main thread only)."""
    stopped = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopped
        return

    def on_term(signum: int, frame: Any) -> None:
        if not stopped.is_set():
            stopped.set()
            raise _Stop(signum)

    previous = signal.signal(signal.SIGTERM, on_term), signal.getsignal(signal.SIGINT)
    try:
        yield stopped
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def _hold_signals() -> None:
    """While the finished runs are saved, a second Ctrl-C or SIGTERM is ignored."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


class _Stream:
    """Batches to an executor: bounded in flight, released in order, dead workers handled.

    About two batches per worker thread are in flight. Results are released in the
    order the batches were submitted (runs are stored in (point, replicate) order). If
    a process pool breaks because a worker died, the runs it held are retried one at a
    time in a new pool; a run that was running alone when its worker died a second time
    is recorded as failed.
    """

    def __init__(self, ex: Executor, args: tuple, collect: Callable[[list[Result]], None],
                 buffer: _Buffer, threads: int,
                 renew: Callable[[], ProcessPoolExecutor] | None) -> None:
        self.ex, self.args, self.collect, self.buffer = ex, args, collect, buffer
        self.threads, self.renew = threads, renew
        self.owned: ProcessPoolExecutor | None = None

    def run(self, todo: list[Item]) -> None:
        size = max(1, min(BATCH_SIZE, math.ceil(len(todo) / (self.threads * 8)))) if todo else 1
        queue = deque(_groups(todo, size))
        suspects: deque[Item] = deque()
        strikes: Counter[tuple[int, int]] = Counter()
        pending: dict[Future, int] = {}
        held: dict[int, list[Result]] = {}
        batches: dict[int, list[Item]] = {}
        order = deque[int]()
        seq = 0
        max_in_flight = 2 * self.threads
        try:
            while queue or suspects or pending:
                while len(pending) < max_in_flight and (queue or suspects):
                    if suspects:
                        if pending:
                            break  # a suspect runs alone, so a death names its run
                        batch = [suspects.popleft()]
                    else:
                        batch = queue.popleft()
                    fut = self.ex.submit(execute, self.args[0], self.args[1], batch,
                                         *self.args[2:])
                    pending[fut], batches[seq] = seq, batch
                    order.append(seq)
                    seq += 1
                finished, _ = wait(pending, timeout=FLUSH_SECONDS / 2,
                                   return_when=FIRST_COMPLETED)
                lost: list[Item] = []
                for fut in finished:
                    s = pending.pop(fut)
                    try:
                        held[s] = fut.result()
                    except BrokenProcessPool:
                        lost += batches[s]
                        held[s] = []
                    except Exception as exc:  # e.g. dask's KilledWorker: the runs failed
                        held[s] = [({"point": p, "replicate": r, "status": "failed",
                                     "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
                                     "traceback": ""}, None, None)
                                   for p, r, _ in batches[s]]
                if lost:
                    lost += self._drain(pending, batches, held)
                    for item in lost:
                        strikes[item[:2]] += 1
                        if strikes[item[:2]] >= 2:
                            held.setdefault(-1, []).append(
                                ({"point": item[0], "replicate": item[1], "status": "failed",
                                  "error": WORKER_DIED, "traceback": ""}, None, None))
                        else:
                            suspects.append(item)
                    self._replace()
                if -1 in held:
                    self.collect(held.pop(-1))
                while order and order[0] in held:
                    s = order.popleft()
                    batches.pop(s)
                    self.collect(held.pop(s))
                if self.buffer.due():
                    self.buffer.flush()
        except BaseException:
            for fut in pending:
                fut.cancel()
            for s in list(order):  # keep every run that finished, in any order
                if s in held:
                    self.collect(held.pop(s))
            if self.owned is not None:
                _stop_pool(self.owned)
            raise
        finally:
            if self.owned is not None:
                self.owned.shutdown(wait=True)

    def _drain(self, pending: dict[Future, int], batches: dict[int, list[Item]],
               held: dict[int, list[Result]]) -> list[Item]:
        """After a pool broke: keep what finished, return the runs that were lost."""
        lost = []
        for fut, s in list(pending.items()):
            try:
                held[s] = fut.result()
            except Exception:
                lost += batches[s]
                held[s] = []
        pending.clear()
        return lost

    def _replace(self) -> None:
        if self.renew is None:
            raise InputError("a worker process died and the executor given cannot be "
                             "replaced; the finished runs are saved: resume with --resume")
        if self.owned is not None:
            self.owned.shutdown(wait=True)
        elif isinstance(self.ex, ProcessPoolExecutor):
            self.ex.shutdown(wait=True)
        self.owned = self.ex = self.renew()


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
