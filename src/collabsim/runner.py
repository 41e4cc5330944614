"""Running scenarios: one run, replicates, and their summary statistics.

A run is a pure function of (scenario, seed); :mod:`collabsim.seeds` says what a seed
means, for single runs and replicates alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from collabsim import ensemble
from collabsim.batch import Batch
from collabsim.metrics import ARCHETYPES, METRIC_BOUNDS, METRICS
from collabsim.scenario import Scenario
from collabsim.seeds import replicate_seed
from collabsim.services import SERVICE_METRICS


@dataclass
class RunResult:
    """The output of one run.

    Attributes:
        steps: The model table, one row per step.
        summary: Every metric of brief section 9, the diagnostics and the archetype.
        agents: One row per member per step, when asked for.
        events: ``(step, kind, who)`` for shocks, exits and governance changes.
        members: One row per organisation that was ever a member: its membership and
            what it paid into joint work, saved (service submodel) and gained in all.
    """

    steps: pd.DataFrame
    summary: dict[str, Any]
    agents: pd.DataFrame | None = None
    events: list[tuple[int, str, str]] = field(default_factory=list)
    members: pd.DataFrame | None = None


def run(
    scenario: Scenario,
    seed: int | np.random.SeedSequence = 0,
    *,
    steps: int | None = None,
    agents: bool = False,
) -> RunResult:
    """Run one simulation: a batch of one.

    Args:
        scenario: The scenario to run.
        seed: An integer (replicate 0 of that seed, see :mod:`collabsim.seeds`) or a
            ``SeedSequence``.
        steps: Override ``scenario.steps``.
        agents: Also return the per-member table.

    Example:
        >>> from collabsim import load_scenario, run
        >>> result = run(load_scenario("scenarios/baseline.toml"), seed=1)
        >>> sorted(result.summary)[:2]
        ['acceptability', 'advantage_ratio']
    """
    seq = replicate_seed(seed, 0) if isinstance(seed, int | np.integer) else seed
    ((_, batch),) = engine_batches(scenario, [seq], agents=agents, steps=steps)
    return batch.result(0)


def engine_batches(
    scenario: Scenario, seqs: list[np.random.SeedSequence], *, agents: bool = False,
    steps: int | None = None, members: np.ndarray | None = None,
) -> list[tuple[list[int], Batch]]:
    """Run the replicates with these random streams; ``(indices into seqs, batch)`` pairs.

    One batch per parameter set simulated: with ``scenario.parameters = "defaults"`` or
    ``"point_estimate"`` a single batch; with ``"ensemble"`` one per ensemble member
    drawn (:func:`collabsim.ensemble.groups`; each replicate's draw depends only on its
    own seed, so its result does not depend on the batch). ``members``: the draws, when
    the caller already has them (:func:`collabsim.ensemble.drawn`).
    """
    out = []
    for resolved, idx in ensemble.groups(scenario, seqs, members):
        batch = Batch(resolved, [seqs[i] for i in idx], agents=agents, steps=steps)
        batch.run()
        out.append((idx, batch))
    return out


def members_table(everyone: Iterable[Any]) -> pd.DataFrame:
    """Every organisation that was a member, with what it paid, saved and gained."""
    return pd.DataFrame([
        {"name": a.name, "sector": a.sector, "founding": a.founding, "active": a.active,
         "exit_step": a.exit_step, "exit_reason": a.exit_reason, "budget": a.base_budget,
         "paid": a.cum_paid,
         "saved": a.cum_saved, "net_benefit": a.cum_net}
        for a in everyone
    ])


#: Replicates advanced together: memory is bounded by this, not by the number asked for.
BATCH_SIZE = 256


def batches(
    scenario: Scenario, n: int, seed: int, *, steps: int | None = None, agents: bool = False,
    point: int | None = None, batch_size: int = BATCH_SIZE, first: int = 0,
) -> Iterator[tuple[list[int], Batch]]:
    """Replicates ``first … first + n - 1`` run in batches of at most ``batch_size``.

    Replicate ``k`` runs with :func:`~collabsim.seeds.replicate_seed` ``(seed, k,
    point)`` and its own random numbers, so its result is the same whichever batch
    (or worker) runs it. Yields ``(replicates, finished batch)``. Under the ensemble the
    replicates are first sorted by the parameter set they draw (a batch simulates one),
    then each set's replicates run in batches of at most ``batch_size``, in the order
    the sets are first drawn: sorting over all ``n`` rather than within each batch keeps
    the batches full.
    """
    ks = range(first, first + n)
    for resolved, idx in ensemble.groups(scenario, (replicate_seed(seed, k, point) for k in ks)):
        for start in range(0, len(idx), batch_size):
            chunk = [ks[i] for i in idx[start:start + batch_size]]
            batch = Batch(resolved, [replicate_seed(seed, k, point) for k in chunk],
                          agents=agents, steps=steps)
            batch.run()
            yield chunk, batch


def replicates(
    scenario: Scenario, n: int, seed: int, *, steps: int | None = None, agents: bool = False,
    point: int | None = None,
) -> Iterator[tuple[int, RunResult]]:
    """``(k, result)`` for replicates ``k = 0 … n - 1``, advanced in bounded batches.

    Results are yielded one at a time: memory does not grow with ``n``. Under the
    ensemble they come grouped by parameter set, not in order of ``k``.
    """
    for ks, batch in batches(scenario, n, seed, steps=steps, agents=agents, point=point):
        yield from zip(ks, batch.results(), strict=True)


def run_replicates(
    scenario: Scenario, n: int = 20, seed: int = 0, *, steps: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> pd.DataFrame:
    """Run ``n`` replicates; one row per replicate with every summary column (none for 0)."""
    if n < 0:
        raise ValueError(f"n = {n} replicates is not allowed; expected 0 or more")
    rows: list[dict[str, Any]] = []
    for ks, batch in batches(scenario, n, seed, steps=steps, batch_size=batch_size):
        rows += [{"replicate": k, **row} for k, row in zip(ks, batch.summaries(), strict=True)]
    if not rows:
        return pd.DataFrame({"replicate": pd.Series(dtype="int64")})
    return pd.DataFrame(rows).sort_values("replicate", kind="stable", ignore_index=True)


def run_replicates_full(
    scenario: Scenario, n: int, seed: int, *, steps: int | None = None, agents: bool = False,
    batch_size: int = BATCH_SIZE,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Like :func:`run_replicates`, also returning the stacked per-step tables."""
    rows, tables, agent_tables = [], [], []
    for ks, batch in batches(scenario, n, seed, steps=steps, agents=agents,
                             batch_size=batch_size):
        rows += [{"replicate": k, **row} for k, row in zip(ks, batch.summaries(), strict=True)]
        frame = batch.frame()
        frame.insert(0, "replicate", np.repeat(np.asarray(ks), batch.steps))
        tables.append(frame)
        if agents:
            agent_tables += [batch.agent_frame(i).assign(replicate=k) for i, k in enumerate(ks)]
    steps_df = pd.concat(tables, ignore_index=True).sort_values("replicate", kind="stable",
                                                                 ignore_index=True)
    steps_df = steps_df[[c for c in steps_df.columns if c != "replicate"] + ["replicate"]]
    agent_df = (pd.concat(agent_tables, ignore_index=True)
                .sort_values("replicate", kind="stable", ignore_index=True)
                if agent_tables else None)
    runs = pd.DataFrame(rows).sort_values("replicate", kind="stable", ignore_index=True)
    return runs, steps_df, agent_df


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; a single value gives a zero-width one.

    Blank values (NaN: a metric a run leaves undefined, such as the acceptability of
    plans where no meeting decided) are left out; with none left, every figure is blank.
    """
    from scipy import stats  # imported here: it is slow to import and only needed here

    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(x.mean())
    if x.size < 2 or np.all(x == x[0]):
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def aggregate(runs: pd.DataFrame) -> dict[str, Any]:
    """Summarise replicate rows: each metric's mean and 95% CI, archetype shares.

    The interval is Student-t, clipped to the metric's natural range
    (:data:`~collabsim.metrics.METRIC_BOUNDS`).
    """
    metrics = {}
    for name in (*METRICS, *SERVICE_METRICS):
        if name not in runs:
            continue
        mean, lo, hi = mean_ci(runs[name].to_numpy(dtype=float))
        low, high = METRIC_BOUNDS.get(name, (-np.inf, np.inf))
        metrics[name] = {"mean": mean, "ci95": [max(lo, low), min(hi, high)]}
    counts = runs["archetype"].value_counts() if "archetype" in runs else pd.Series(dtype=int)
    shares = {a: float(counts.get(a, 0) / max(len(runs), 1)) for a in ARCHETYPES}
    return {"metrics": metrics, "archetypes": shares}


__all__ = [
    "BATCH_SIZE",
    "RunResult",
    "aggregate",
    "batches",
    "mean_ci",
    "replicate_seed",
    "replicates",
    "run",
    "run_replicates",
    "run_replicates_full",
]
