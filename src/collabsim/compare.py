"""Comparing policy options with common random numbers and common parameter draws.

Replicate ``k`` of every scenario uses the same seed, ``SeedSequence(seed,
spawn_key=(k,))``, so differences between options are paired: the noise the options
share cancels, and comparing a scenario with itself gives exactly zero.

Over the calibrated ensemble (any scenario with ``scenario.parameters = ensemble``) the
comparison is stratified by *plausible world*: ``M`` ensemble members are drawn by
systematic resampling with probability their posterior weights
(:meth:`collabsim.ensemble.Ensemble.worlds`), and each option runs ``r`` replicates in
each, member-major: replicate ``k`` runs in world ``k // r`` with seed ``k``, in every
option. Each headline difference then has two intervals: the Monte Carlo interval of the
mean (chance, given the worlds) and the spread of the per-world mean difference over the
worlds (what we do not know about the model's parameters).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from collabsim import ensemble
from collabsim.errors import InputError
from collabsim.metrics import REGISTRY, SERVICE_METRICS, Metric
from collabsim.runner import BATCH_SIZE, aggregate, batches, mean_ci, members_table
from collabsim.scenario import Scenario
from collabsim.store import unique

#: The outcomes a partnership board asks about first, in the order the verdict shows them.
BOARD: tuple[str, ...] = ("collaborative_advantage", "emergency_bed_days",
                          "delayed_transfer_days", "retention", "mean_trust")

#: Totals ``compare`` adds to each run from its per-step table (metric: step column).
STEP_TOTALS = {"prevention_spend": "prevention_spend", "acute_cost_avoided": "acute_cost_avoided"}

FIXED_BY_SETUP = "the same in every run of both: fixed by the set-up, not by chance"

#: A verdict on one paired difference, and what it means in words.
VERDICTS = {
    "better": "clearly better: the 95% interval of the paired difference excludes zero",
    "worse": "clearly worse: the 95% interval of the paired difference excludes zero",
    "unclear": "no clear difference with this many replicates",
    "same": "identical in every paired run",
    "by design": "fixed by the rules the option runs under; not credited",
    "not scored": "neither direction is better (an input, or a ratio read beside its amounts)",
    "shifts": "money moves between sectors; shown, not judged",
}


@dataclass
class Comparison:
    """The result of :func:`compare`.

    Attributes:
        scenarios: The scenarios compared; the first is the reference.
        replicates: Replicates per scenario.
        seed: Base seed.
        runs: One row per (scenario, replicate) with every summary column.
        steps: Per-step tables of every run, with ``scenario`` and ``replicate``.
        members: Per-run organisation table (paid, saved, net benefit), for the
            wrong-pocket chart.
        summary: Per scenario: each metric's mean and 95% CI, archetype shares.
        differences: One row per (option, metric): paired mean difference from the
            reference with its Monte Carlo 95% interval (over replicates), the shares of
            paired runs in which the option is better, worse or the same, and a verdict
            (see :data:`VERDICTS`); over the ensemble also the weighted share of
            plausible worlds in which it is better or worse and the spread of the
            per-world mean difference (:data:`WORLD_COLUMNS`).
        worlds: Over the ensemble, one row per world: ``world``, the ensemble
            ``member`` drawn and its parameter values; ``None`` otherwise.
        per_world: Over the ensemble, replicates per world (``replicates`` is then
            worlds × per_world); 0 otherwise.
    """

    scenarios: list[Scenario]
    replicates: int
    seed: int
    runs: pd.DataFrame
    steps: pd.DataFrame
    members: pd.DataFrame
    summary: dict[str, dict[str, Any]]
    differences: pd.DataFrame
    worlds: pd.DataFrame | None = None
    per_world: int = 0
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def over_ensemble(self) -> bool:
        """Whether the options ran over plausible worlds drawn from the ensemble."""
        return self.worlds is not None

    @property
    def names(self) -> list[str]:
        """Scenario labels, in order (made unique)."""
        return list(dict.fromkeys(self.runs["scenario"]))

    @property
    def metrics(self) -> list[str]:
        """The metrics compared (service metrics when every scenario has them)."""
        return [m for m in REGISTRY if m in self.runs]

    def scenario(self, name: str) -> Scenario:
        """The scenario with label ``name``."""
        return self.scenarios[self.names.index(name)]


def labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Scenario names made distinct (ignoring case): ``x, x, x (2)`` give ``x (1), x (3), x (2)``.

    Statistics are grouped by label, so two scenarios never share one.
    """
    return unique([s.name for s in scenarios], " ({})")


def compare(
    scenarios: Sequence[Scenario], replicates: int = 50, seed: int = 0, *,
    steps: int | None = None, worlds: int | None = None, batch_size: int = BATCH_SIZE,
) -> Comparison:
    """Run every scenario with common random numbers and compare.

    Args:
        scenarios: The reference first, then the options.
        replicates: Replicates per scenario; over the ensemble, replicates per world.
        seed: Base seed.
        steps: Override ``scenario.steps``.
        worlds: Over the ensemble, how many plausible worlds to draw (default: as many
            as the ensemble has members). Ignored otherwise.
        batch_size: Replicates advanced together (results do not depend on it).
    """
    sources = {s[ensemble.KEY] for s in scenarios}
    if len(sources) > 1:
        raise InputError(
            f"{ensemble.KEY} differs between the scenarios ({', '.join(sorted(sources))}): "
            "their differences would mix the options with the parameter sets; give every "
            "scenario one source (--ensemble, --point-estimate or --defaults)")
    drawn = sources == {"ensemble"}
    world_table = None
    if drawn and replicates < 2:
        raise InputError(f"--replicates {replicates}: over the ensemble each plausible world "
                         "needs at least 2 replicates (for its Monte Carlo interval)")
    if drawn:
        ens = ensemble.load()
        members = ens.worlds(worlds or len(ens), seed)
        world_table = pd.DataFrame([{"world": j, "member": int(i), **ens.member(int(i))}
                                    for j, i in enumerate(members)])
    runs: list[dict[str, Any]] = []
    tables, members_out = [], []
    for label, s in zip(labels(scenarios), scenarios, strict=True):
        for ks, batch in _option_batches(s, replicates, seed, world_table, steps, batch_size):
            runs += [{"scenario": label, "replicate": k, **row}
                     for k, row in zip(ks, batch.summaries(), strict=True)]
            tables.append(batch.frame().assign(
                scenario=label, replicate=np.repeat(np.asarray(ks), batch.steps)))
            members_out += [members_table(batch.everyone(i)).assign(scenario=label, replicate=k)
                            for i, k in enumerate(ks)]
    runs_df = pd.DataFrame(runs).sort_values(["scenario", "replicate"], kind="stable",
                                             key=_scenario_order(labels(scenarios)),
                                             ignore_index=True)
    if world_table is not None:
        runs_df.insert(2, "world", runs_df["replicate"] // replicates)
        runs_df.insert(3, "member", world_table["member"].to_numpy()[runs_df["world"]])
    steps_df = pd.concat(tables, ignore_index=True)
    if all(s["services.enabled"] for s in scenarios):
        totals = steps_df.groupby(["scenario", "replicate"], sort=False)[
            list(STEP_TOTALS.values())].sum()
        index = pd.MultiIndex.from_frame(runs_df[["scenario", "replicate"]])
        for metric, column in STEP_TOTALS.items():
            runs_df[metric] = totals[column].reindex(index).to_numpy()
    else:
        runs_df = runs_df.drop(columns=[m for m in SERVICE_METRICS if m in runs_df])
    summary = {name: _aggregate(grp) for name, grp in runs_df.groupby("scenario", sort=False)}
    total = replicates * (len(world_table) if world_table is not None else 1)
    cmp = Comparison(list(scenarios), total, seed, runs_df, steps_df,
                     pd.concat(members_out, ignore_index=True), summary, pd.DataFrame(),
                     world_table, replicates if world_table is not None else 0)
    cmp.differences = paired_differences(cmp)
    return cmp


def _scenario_order(names: list[str]) -> Any:
    rank = {n: i for i, n in enumerate(names)}
    return lambda col: col.map(rank) if col.name == "scenario" else col


def _option_batches(
    s: Scenario, replicates: int, seed: int, world_table: pd.DataFrame | None,
    steps: int | None, batch_size: int,
) -> Iterator[tuple[list[int], Any]]:
    """One option's batches: its replicates, or ``replicates`` in each world, member-major.

    In world ``j`` the option runs replicates ``j * replicates … (j + 1) * replicates - 1``
    with the member's values on every key the scenario does not pin (and no further draw),
    so replicate ``k`` of every option has the same seed and the same parameter set.
    """
    if world_table is None or s[ensemble.KEY] != "ensemble":
        n = replicates * (len(world_table) if world_table is not None else 1)
        yield from batches(s, n, seed, steps=steps, batch_size=batch_size)
        return
    params = [c for c in world_table.columns if c not in ("world", "member")]
    member = world_table["member"].to_numpy()
    starts = [j for j in range(len(member)) if j == 0 or member[j] != member[j - 1]]
    for j, end in zip(starts, [*starts[1:], len(member)], strict=True):
        # neighbouring worlds that drew the same member run as one block of replicates
        row = world_table.loc[j, params]
        free = {k: float(row[k]) for k in params if k not in s.pinned}
        world = s.with_overrides({**free, ensemble.KEY: "defaults"}, source="ensemble",
                                 pin=False)
        yield from batches(world, replicates * (end - j), seed, steps=steps,
                           batch_size=batch_size, first=j * replicates)


def _aggregate(runs: pd.DataFrame) -> dict[str, Any]:
    """:func:`~collabsim.runner.aggregate`, plus the totals ``compare`` adds."""
    out = aggregate(runs)
    for name in STEP_TOTALS:
        if name in runs:
            mean, lo, hi = mean_ci(runs[name].to_numpy(dtype=float))
            low, high = REGISTRY[name].bounds
            out["metrics"][name] = {"mean": mean, "ci95": [max(lo, low), min(hi, high)]}
    return out


DIFFERENCE_COLUMNS = ["option", "metric", "unit", "direction", "difference", "mc_ci_low",
                      "mc_ci_high", "share_better", "share_worse", "share_same", "clear",
                      "by_design", "verdict"]

#: Columns :func:`paired_differences` adds over the ensemble (NaN otherwise): the share of
#: plausible worlds (drawn with probability their posterior weight) whose mean paired
#: difference is better, worse or zero, the median and 5th–95th percentiles of the
#: per-world mean difference, and ``world_se``, the typical standard error of one world's
#: mean (its own chance error, which the spread over worlds includes).
WORLD_COLUMNS = ["worlds", "worlds_better", "worlds_worse", "worlds_same", "world_median",
                 "world_p05", "world_p95", "world_se"]


def paired_differences(cmp: Comparison) -> pd.DataFrame:
    """Each option minus the reference, replicate by replicate, with a verdict.

    ``mc_ci_low``/``mc_ci_high`` is the Monte Carlo 95% interval of the mean paired
    difference: it reflects chance over replicates only, not uncertainty about the
    model's parameters. Over the ensemble it is the stratified interval (within-world
    variances, one stratum per world), so it still measures chance only; the spread over
    plausible worlds is in :data:`WORLD_COLUMNS`. A difference is never credited (verdict
    ``by design``) when the metric is fixed by the rules either scenario runs under
    (``Metric.fixed_when``), or when it does not vary between runs in either scenario.
    """
    names = cmp.names
    ref = cmp.runs[cmp.runs["scenario"] == names[0]].set_index("replicate").sort_index()
    rows = []
    for name in names[1:]:
        opt = cmp.runs[cmp.runs["scenario"] == name].set_index("replicate").sort_index()
        for metric in cmp.metrics:
            spec = REGISTRY[metric]
            a, b = ref[metric].to_numpy(dtype=float), opt[metric].to_numpy(dtype=float)
            diff = b - a  # blank where either run leaves the metric undefined
            mean, lo, hi = (stratified_ci(diff.reshape(-1, cmp.per_world)) if cmp.per_world
                            else mean_ci(diff))
            paired = ~np.isnan(diff)
            d, a_ = diff[paired], a[paired]
            same = np.abs(d) <= 1e-9 * np.maximum(1.0, np.abs(a_))
            direction = spec.direction
            better = _share((direction * d > 0) & ~same) if direction else np.nan
            worse = _share((direction * d < 0) & ~same) if direction else np.nan
            by_design = (spec.fixed(cmp.scenario(names[0])) or spec.fixed(cmp.scenario(name))
                         or (_constant(a) and _constant(b)))
            clear = bool(lo > 0 or hi < 0)
            world = (world_spread(diff.reshape(-1, cmp.per_world), direction,
                                  _world_means(np.abs(a).reshape(-1, cmp.per_world)))
                     if cmp.per_world else dict.fromkeys(WORLD_COLUMNS, np.nan))
            rows.append({"option": name, "metric": metric, "unit": spec.unit,
                         "direction": direction, "difference": mean, "mc_ci_low": lo,
                         "mc_ci_high": hi, "share_better": better, "share_worse": worse,
                         "share_same": _share(same), "clear": clear,
                         "by_design": bool(by_design),
                         "verdict": _verdict(spec, mean, clear, bool(same.size and same.all()),
                                             bool(by_design)), **world})
    return pd.DataFrame(rows, columns=[*DIFFERENCE_COLUMNS, *WORLD_COLUMNS])


def _share(flags: np.ndarray) -> float:
    """The share of True among the pairs where the metric is defined (blank if none)."""
    return float(flags.mean()) if flags.size else np.nan


def _constant(values: np.ndarray) -> bool:
    """Whether the metric takes one value in every run that defines it."""
    x = values[~np.isnan(values)]
    return bool(x.size > 1 and np.ptp(x) == 0)


def _world_means(values: np.ndarray) -> np.ndarray:
    """Per world (row), the mean of the defined values; blank where there are none."""
    defined = ~np.isnan(values)
    count = defined.sum(axis=1)
    total = np.where(defined, values, 0.0).sum(axis=1)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _by_world(diff: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per world (row): the mean, count and variance (ddof 1) of the defined differences.

    Worlds with no defined difference are left out. A world with only one takes the
    pooled variance of the others (blank if no world has two), not a variance of 0.
    """
    defined = ~np.isnan(diff)
    n = defined.sum(axis=1)
    diff, defined, n = diff[n > 0], defined[n > 0], n[n > 0]
    means = _world_means(diff)
    sq = np.where(defined, (diff - means[:, None]) ** 2, 0.0).sum(axis=1)
    dof = int((n - 1).sum())
    pooled = float(sq.sum()) / dof if dof else np.nan
    return means, n, np.where(n > 1, sq / np.maximum(n - 1, 1), pooled)


def stratified_ci(diff: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Monte Carlo interval of equally sized strata (one row per world).

    The variance of the mean is the sum of the within-world variances over ``r``
    replicates, divided by the number of worlds squared; Student-t with worlds × (r − 1)
    degrees of freedom. Differences between worlds do not widen it: that spread is
    parameter uncertainty, reported apart (:func:`world_spread`).
    """
    from scipy import stats

    means, n, var_w = _by_world(diff)
    m = len(means)
    if m == 0:
        return np.nan, np.nan, np.nan
    mean = float(means.mean())
    dof = int((n - 1).sum())
    if dof < 1:
        return mean, np.nan, np.nan
    var = float((var_w / n).sum()) / m**2
    if not np.isfinite(var):
        return mean, np.nan, np.nan
    if var == 0:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, dof) * np.sqrt(var))
    return mean, mean - half, mean + half


def world_spread(diff: np.ndarray, direction: int,
                 scale: np.ndarray | None = None) -> dict[str, float]:
    """Per-world mean differences (rows: worlds) summarised over the worlds.

    The worlds were drawn with probability their posterior weights, so each counts once:
    the shares are posterior-weighted shares of plausible parameter sets. A world whose
    mean difference is 0 (within 1e-9 of ``scale``) counts as the same.
    """
    means, n, var_w = _by_world(diff)
    if scale is not None:  # of the worlds kept; a blank scale counts as 0
        scale = np.nan_to_num(scale[(~np.isnan(diff)).any(axis=1)], nan=0.0)
    if means.size == 0:
        return dict.fromkeys(WORLD_COLUMNS, np.nan) | {"worlds": 0.0}
    tol = 1e-9 * np.maximum(1.0, scale if scale is not None else np.abs(means))
    same = np.abs(means) <= tol
    better = (direction * means > 0) & ~same if direction else np.full(len(means), np.nan)
    worse = (direction * means < 0) & ~same if direction else np.full(len(means), np.nan)
    p05, median, p95 = np.quantile(means, [0.05, 0.5, 0.95])
    se = float(np.sqrt((var_w / n).mean())) if diff.shape[1] > 1 else np.nan
    return {"worlds": float(len(means)), "worlds_better": float(np.mean(better)),
            "worlds_worse": float(np.mean(worse)), "worlds_same": float(same.mean()),
            "world_median": float(median), "world_p05": float(p05), "world_p95": float(p95),
            "world_se": se}


def world_differences(cmp: Comparison) -> pd.DataFrame:
    """Over the ensemble: per option, metric and world, the mean paired difference.

    One row per (option, metric, world) with the world's ensemble member; empty when
    the comparison did not run over the ensemble.
    """
    cols = ["option", "metric", "world", "member", "difference"]
    if not cmp.over_ensemble or cmp.worlds is None:
        return pd.DataFrame(columns=cols)
    runs = cmp.runs.set_index(["scenario", "replicate"]).sort_index()
    ref = runs.loc[cmp.names[0]]
    rows = []
    for name in cmp.names[1:]:
        opt = runs.loc[name]
        for metric in cmp.metrics:
            diff = (opt[metric] - ref[metric]).to_numpy(dtype=float)
            means = _world_means(diff.reshape(-1, cmp.per_world))  # blank: none defined
            rows.append(pd.DataFrame({"option": name, "metric": metric,
                                      "world": cmp.worlds["world"],
                                      "member": cmp.worlds["member"], "difference": means}))
    return pd.concat(rows, ignore_index=True)[cols]


def _verdict(spec: Metric, mean: float, clear: bool, same: bool, by_design: bool) -> str:
    if same:
        return "same"
    if by_design:
        return "by design"
    if spec.direction == 0:
        return "not scored"
    if not clear:
        return "unclear"
    return "better" if spec.direction * mean > 0 else "worse"


#: Scenario fields that describe it rather than what it simulates.
METADATA = ("scenario.name", "scenario.description", "scenario.changes")


def differing_parameters(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """The parameters (and organisation fields) whose values differ between scenarios."""
    flat = [_flatten(s) for s in scenarios]
    keys = list(dict.fromkeys(k for f in flat for k in f))
    rows = []
    for key in keys:
        values = [f.get(key, "—") for f in flat]
        if key not in METADATA and len({repr(v) for v in values}) > 1:
            rows.append({"parameter": key, **dict(zip(labels(scenarios), values, strict=True))})
    return pd.DataFrame(rows)


def declared_changes(s: Scenario) -> list[str]:
    """The keys a scenario says it changes against its base (``scenario.changes``)."""
    return [k.strip() for k in s["scenario.changes"].split(",") if k.strip()]


def undeclared_changes(reference: Scenario, option: Scenario) -> list[str]:
    """Parameters in which ``option`` differs from ``reference`` without declaring it.

    A declared key covers itself and, for ``organisation`` and ``environment.shocks``,
    every entry of that list.
    """
    changed = differing_parameters([reference, option])
    declared = declared_changes(option)
    return [k for k in (changed["parameter"] if len(changed) else [])
            if not any(k == d or k.startswith(d + "[") for d in declared)]


def changed_keys(reference: Scenario, option: Scenario) -> list[str]:
    """What ``option`` changes against ``reference``, each list of tables named once."""
    changed = differing_parameters([reference, option])
    keys = changed["parameter"] if len(changed) else []
    return list(dict.fromkeys(k.split("[")[0] for k in keys))


def _flatten(s: Scenario) -> dict[str, Any]:
    out: dict[str, Any] = {k: (", ".join(v) if isinstance(v, tuple) else v)
                           for k, v in s.params.items()}
    for org in s.organisations:
        for attr in ("sector", "power", "budget", "admin_capacity", "prosociality",
                     "commitment"):
            out[f"organisation[{org.name}].{attr}"] = getattr(org, attr)
        out[f"organisation[{org.name}].goals"] = ", ".join(f"{g:g}" for g in org.goals)
    for i, shock in enumerate(s.shocks, start=1):
        out[f"environment.shocks[{i}]"] = (f"step {shock.step}: {shock.kind} {shock.size:g} "
                                          f"{shock.target}")
    return out


def change_text(spec: Metric, difference: float) -> str:
    """A difference in words with its unit, e.g. ``31,668 fewer bed-days``, ``£12.9m higher``."""
    up = difference > 0
    if spec.counted:
        return f"{spec.format(abs(difference))} {'more' if up else 'fewer'} {spec.unit}"
    return f"{spec.amount(abs(difference))} {'higher' if up else 'lower'}"


def shares_text(row: Any) -> str:
    """Better, worse and tied shares of paired runs, ties counted as ties."""
    return (f"better in {row.share_better:.0%}, worse in {row.share_worse:.0%}, "
            f"the same in {row.share_same:.0%} of paired runs")


def finding(row: Any) -> str:
    """One difference in plain words: the change, its interval and the shares of runs."""
    spec = REGISTRY[row.metric]
    return (f"{spec.label.lower()}: {change_text(spec, row.difference)} (95% interval "
            f"{interval_text(spec, row.mc_ci_low, row.mc_ci_high)}; {shares_text(row)})")


def interval_text(spec: Metric, low: float, high: float) -> str:
    """An interval with its unit once, e.g. ``-10,763 to -2,878 bed-days``, ``+£1.3m to +£7.6m``."""
    if spec.unit == "£m":
        return f"{spec.amount(low, True)} to {spec.amount(high, True)}"
    return f"{spec.format(low, True)} to {spec.amount(high, True)}"


def findings(cmp: Comparison) -> dict[str, list[tuple[str, list[str]]]]:
    """Per option, its findings in plain words, grouped under a heading.

    Board outcomes come first, then other clear changes. Ties are reported as ties,
    unclear outcomes as unclear, and differences that hold by definition are named as
    such and never credited.
    """
    order = {m: i for i, m in enumerate((*BOARD, *REGISTRY))}
    out = {}
    for name in cmp.names[1:]:
        sub = cmp.differences[cmp.differences["option"] == name]
        sub = sub.assign(rank=sub["metric"].map(order)).sort_values("rank", kind="stable")
        groups = []
        for verdict in ("better", "worse"):
            rows = [r for r in sub.itertuples() if r.verdict == verdict]
            board = [r for r in rows if r.metric in BOARD]
            rest = [r for r in rows if r.metric not in BOARD][:max(0, 4 - len(board))]
            if board or rest:
                groups.append((verdict.capitalize(), [finding(r) for r in (*board, *rest)]))
        unclear = [REGISTRY[r.metric].label.lower() for r in sub.itertuples()
                   if r.metric in BOARD and r.verdict in ("unclear", "same")]
        if unclear:
            groups.append(("No clear difference", [", ".join(unclear)]))
        fixed = [REGISTRY[r.metric] for r in sub.itertuples() if r.verdict == "by design"]
        if fixed:
            groups.append(("Not credited, fixed by design", [
                f"{m.label.lower()} ({m.fixed_why or FIXED_BY_SETUP})" for m in fixed]))
        out[name] = groups or [("No clear difference",
                                [f"on any metric with {cmp.replicates} replicates"])]
    return out


def headlines(cmp: Comparison) -> list[str]:
    """One plain paragraph per option (see :func:`findings`)."""
    return [f"{name} v. {cmp.names[0]}: " + " ".join(
        f"{head}: {'; '.join(items)}." for head, items in groups)
        for name, groups in findings(cmp).items()]


def sector_balances(cmp: Comparison) -> pd.DataFrame:
    """Per scenario, replicate and sector: paid, saved and the cash balance (£m)."""
    per_run = (cmp.members.groupby(["scenario", "replicate", "sector"], sort=False)
               [["paid", "saved"]].sum().reset_index())
    return per_run.assign(balance=per_run["saved"] - per_run["paid"])


def balance_differences(cmp: Comparison) -> pd.DataFrame:
    """Per option and sector: the paired change in cash balance from the reference."""
    wide = sector_balances(cmp).pivot_table(index="replicate", columns=["scenario", "sector"],
                                            values="balance", sort=False)
    names = cmp.names
    rows = []
    for name in names[1:]:
        for sector in dict.fromkeys(cmp.members["sector"]):
            if (name, sector) not in wide or (names[0], sector) not in wide:
                continue
            mean, lo, hi = mean_ci((wide[(name, sector)] - wide[(names[0], sector)]).to_numpy())
            rows.append({"option": name, "sector": sector, "difference": mean,
                         "mc_ci_low": lo, "mc_ci_high": hi, "clear": bool(lo > 0 or hi < 0)})
    return pd.DataFrame(rows, columns=["option", "sector", "difference", "mc_ci_low",
                                       "mc_ci_high", "clear"])


def pocket_cell(balances: pd.DataFrame, name: str) -> dict[str, str]:
    """Who pays, who saves for one option: whose cash balance clearly moves, and how far.

    Not scored: paying less into joint work is not in itself better, so the cell names
    the sectors whose balance (saved − paid) moves most rather than judging it.

    Args:
        balances: :func:`balance_differences` of the comparison.
        name: The option.
    """
    sub = balances[(balances["option"] == name) & balances["clear"]]
    if sub.empty:
        return {"verdict": "unclear", "text": "no sector's cash clearly moves",
                "reason": "no sector's balance clearly differs"}
    money = REGISTRY["total_contribution"]
    ends = sub.reindex(sub["difference"].abs().sort_values(ascending=False).index).head(2)
    gain, lose = int((sub["difference"] > 0).sum()), int((sub["difference"] < 0).sum())
    return {"verdict": "shifts",
            "text": ", ".join(f"{r.sector.replace('_', ' ')} {money.amount(r.difference, True)}"
                              for r in ends.itertuples()),
            "reason": f"{gain} sector(s) up, {lose} down"}


def _runs_text(r: Any) -> str:
    text = f"{r['share_better']:.0%} better, {r['share_worse']:.0%} worse"
    return text + (f", {r['share_same']:.0%} same" if r["share_same"] > 0 else "")


def scorecard(cmp: Comparison) -> pd.DataFrame:
    """Options × board outcomes: each cell's verdict, amount and plain-language reason.

    The amount leaves out the unit where the outcome's heading gives it (``6,820 fewer``);
    the reason gives the shares of paired runs better, worse and the same.
    """
    rows = []
    d = cmp.differences.set_index(["option", "metric"])
    balances = balance_differences(cmp)
    for name in cmp.names[1:]:
        for metric in BOARD:
            if (name, metric) not in d.index:
                continue
            r = d.loc[(name, metric)]
            spec = REGISTRY[metric]
            if r["verdict"] == "by design":
                reason = "not credited: fixed by the option's rules"
            elif r["verdict"] == "same":
                reason = "identical in every paired run"
            else:
                reason = "runs: " + _runs_text(r)
            text = change_text(spec, r["difference"])
            rows.append({"option": name, "outcome": metric, "verdict": r["verdict"],
                         "text": text.removesuffix(f" {spec.unit}"), "reason": reason})
        rows.append({"option": name, "outcome": "who_pays", **pocket_cell(balances, name)})
    return pd.DataFrame(rows, columns=["option", "outcome", "verdict", "text", "reason"])


def wrong_pocket(cmp: Comparison) -> pd.DataFrame:
    """Mean paid and saved per scenario and sector (£m over the run)."""
    table = sector_balances(cmp).groupby(["scenario", "sector"], sort=False)[
        ["paid", "saved", "balance"]].mean()
    return table.reset_index()
