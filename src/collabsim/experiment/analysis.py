"""Outcomes of a sweep, and their sensitivity to the swept parameters, with diagnostics.

An *outcome* is a numeric column of the runs table (a summary metric) or, for the
categorical ``archetype``, the share of runs of each archetype (``archetype:NAME``,
one outcome per archetype; a run counts 1 for its own archetype, 0 for the others).

``sensitivity`` computes Sobol first-order and total indices (Saltelli 2002; Saltelli
et al. 2010; Jansen 1999, as implemented by SALib) or Morris elementary effects
(Morris 1991; Campolongo et al. 2007) with bootstrap 95% intervals, on the mean of each
point's replicates, and checks them: an index outside what theory allows by more than
its interval, intervals too wide to rank parameters, and replicate noise that swamps
the differences between points are reported in plain words. SALib's own warnings are
caught and restated.

References:
    Herman, J. & Usher, W. (2017). SALib: an open-source Python library for
    sensitivity analysis. JOSS 2(9):97.
    Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity
    indices. Computer Physics Communications 145:280–297.
    Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. & Tarantola, S.
    (2010). Variance based sensitivity analysis of model output. Computer Physics
    Communications 181:259–270.
    Morris, M. D. (1991). Factorial sampling plans for preliminary computational
    experiments. Technometrics 33(2):161–174.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from collabsim.errors import InputError, suggest
from collabsim.experiment.design import UNIT_PREFIX
from collabsim.experiment.results import SweepResults, parameter_source
from collabsim.metrics import ARCHETYPES

METHODS = ("sobol", "morris")
CATEGORICAL = "archetype"
SHARE_PREFIX = CATEGORICAL + ":"  #: outcome names of archetype shares, e.g. archetype:tokenism
MAX_HALFWIDTH = 0.2  #: default: an index interval wider than ± this is flagged
NOISE_SHARE = 0.5  #: replicate noise above this share of the between-point variance is flagged

#: The meaning of every column of the indices table (printed, written beside the CSV,
#: and documented in docs/experiments.md).
COLUMNS: dict[str, str] = {
    "metric": "the outcome analysed; archetype:NAME is the share of a point's runs that "
              "ended as archetype NAME",
    "parameter": "the swept parameter",
    "S1": "first-order Sobol index: the share of the outcome's variance that this parameter "
          "explains on its own (0 to 1)",
    "S1_conf": "half-width of the 95% bootstrap interval of S1: the interval is S1 ± S1_conf",
    "ST": "total Sobol index: the share of variance this parameter takes part in, "
          "interactions included; in theory S1 ≤ ST",
    "ST_conf": "half-width of the 95% bootstrap interval of ST (ST ± ST_conf)",
    "mu": "Morris mean elementary effect: the signed change in the outcome when the parameter "
          "moves across its whole swept range",
    "mu_star": "Morris mean absolute elementary effect (μ*), same units as mu; ranks "
               "importance",
    "mu_star_conf": "half-width of the 95% bootstrap interval of mu_star",
    "sigma": "standard deviation of the elementary effects: large when the effect depends on "
             "the other parameters (interactions) or is non-linear",
    "noise_share": "variance of the point means due to replicate noise (within-point variance "
                   "/ replicates) over the variance of the point means; empty with one run per "
                   "point",
    "flags": "checks this row failed, ';'-separated (empty when none): s1_above_st, "
             "s1_negative, wide_interval, noisy",
}


# Outcomes ------------------------------------------------------------------------------------
def outcome_names(results: SweepResults, metric: str) -> list[str]:
    """The outcome columns ``metric`` stands for.

    A numeric output is itself; ``archetype`` is the share of every archetype that
    occurs in the sweep; ``archetype:NAME`` the share of one.

    Raises:
        InputError: ``metric`` is neither an output nor an archetype.
    """
    if metric in results.outputs:
        return [metric]
    seen = set(results.runs.loc[results.runs["status"] == "ok", CATEGORICAL].dropna()) \
        if CATEGORICAL in results.runs else set()
    if metric == CATEGORICAL and seen:
        return [SHARE_PREFIX + a for a in ARCHETYPES if a in seen]
    if metric.startswith(SHARE_PREFIX) and metric[len(SHARE_PREFIX):] in ARCHETYPES and seen:
        return [metric]
    raise unknown_metric(metric, [*results.outputs,
                                  *([CATEGORICAL, SHARE_PREFIX + "NAME"] if seen else [])])


def unknown_metric(metric: str, allowed: Sequence[str]) -> InputError:
    """The error for a ``--metric`` that is no output of the sweep, with the nearest name."""
    return InputError(f"--metric {metric}: not an output of this sweep{suggest(metric, allowed)}; "
                      f"expected one of {', '.join(allowed)}")


def outcomes(results: SweepResults, names: Sequence[str]) -> pd.DataFrame:
    """Successful runs with one column per outcome (archetype shares as 0/1 indicators)."""
    ok = results.runs[results.runs["status"] == "ok"]
    frame = ok[["point", "replicate", *results.factors]].copy()
    for name in names:
        if name.startswith(SHARE_PREFIX):
            frame[name] = (ok[CATEGORICAL] == name[len(SHARE_PREFIX):]).astype(float)
        else:
            frame[name] = ok[name].astype(float)
    return frame


def bounds(name: str) -> tuple[float, float]:
    """The natural range of an outcome (shares lie in [0, 1]); intervals are clipped to it."""
    from collabsim.metrics import METRIC_BOUNDS

    if name.startswith(SHARE_PREFIX):
        return 0.0, 1.0
    return METRIC_BOUNDS.get(name, (-np.inf, np.inf))


def point_means(results: SweepResults, metric: str) -> np.ndarray:
    """Mean of one outcome over each point's successful replicates, in point order."""
    names = outcome_names(results, metric)
    if len(names) != 1:
        raise InputError(f"--metric {metric}: stands for {len(names)} outcomes; name one, "
                         f"e.g. {names[0]}")
    return _point_means(outcomes(results, names), results, names[0]).to_numpy(dtype=float)


def _point_means(frame: pd.DataFrame, results: SweepResults, name: str) -> pd.Series:
    means = frame.groupby("point")[name].mean().reindex(results.points["point"])
    if not means.isna().any():
        return means
    missing = ~results.points["point"].isin(frame["point"]).to_numpy()
    if missing.any():
        raise InputError(f"--metric {name}: {int(missing.sum())} point(s) have no "
                         "successful run; sensitivity indices need every point")
    if frame[name].isna().all():
        raise InputError(f"--metric {name}: blank in every run of this sweep (a service "
                         "outcome with services.enabled off, say); choose another output")
    raise InputError(f"--metric {name}: blank in every run of {int(means.isna().sum())} "
                     "point(s) (for example no meeting decided there); sensitivity indices "
                     "need a value at every point")


def noise_share(frame: pd.DataFrame, name: str) -> float:
    """Replicate noise in the point means as a share of their variance (NaN: one run each).

    The variance of a point's mean due to replicate noise is the within-point variance
    over the number of replicates; it is compared with the variance of the point means
    across the design.
    """
    grouped = frame.groupby("point")[name]
    counts = grouped.count()
    if counts.max() < 2:
        return float("nan")
    within = float(grouped.var(ddof=1).mean())
    between = float(grouped.mean().var(ddof=1))
    if between <= 0:
        return float("inf") if within > 0 else float("nan")
    return within / float(counts.mean()) / between


# Sensitivity ---------------------------------------------------------------------------------
@dataclass
class Sensitivity:
    """Sensitivity indices and what the checks found.

    Attributes:
        table: One row per outcome and parameter; columns as in :data:`COLUMNS`.
        warnings: One line per problem that makes indices unreliable.
        notes: One line per thing worth knowing that is not a problem.
    """

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def legend(self) -> list[str]:
        """``column: meaning`` for every column of the table."""
        return [f"{c}: {COLUMNS[c]}" for c in self.table.columns]


def sensitivity(
    results: SweepResults, method: str, metrics: Sequence[str], seed: int = 0,
    max_halfwidth: float = MAX_HALFWIDTH, resamples: int = 1000,
) -> Sensitivity:
    """Sensitivity indices of each outcome to each factor, with 95% intervals and checks.

    Args:
        results: A sweep with a ``sobol`` or ``morris`` design.
        method: ``sobol`` or ``morris``.
        metrics: Outputs to analyse; ``archetype`` stands for every archetype's share.
        seed: Seed of the bootstrap.
        max_halfwidth: Sobol intervals wider than ± this are flagged.
        resamples: Bootstrap resamples.

    Raises:
        InputError: wrong method for the design, unknown metric, a point with no
            successful run, or no outcome that varies.
    """
    design = results.manifest["design"]
    if method not in METHODS:
        raise InputError(f"--method {method}: expected one of {', '.join(METHODS)}")
    if design["kind"] != method:
        raise InputError(f"--method {method}: this sweep used the {design['kind']!r} design; "
                         f"{method} indices need a sweep with design = \"{method}\"")
    names = list(dict.fromkeys(n for m in metrics for n in outcome_names(results, m)))
    frame = outcomes(results, names)
    out = Sensitivity(pd.DataFrame())
    n = int(design.get("samples", 0))
    if method == "sobol" and n & (n - 1):
        out.warnings.append(f"the base sample N = {n} is not a power of two, so the Sobol' "
                            "points lose their balance and the indices converge slowly; rerun "
                            "with a power of two")
    tables = []
    for name in names:
        y = _point_means(frame, results, name)
        if np.ptp(y.to_numpy()) == 0:
            out.notes.append(f"{name} is the same at every point ({y.iloc[0]:g}); no indices")
            continue
        part = (_sobol(design, y.to_numpy(), seed, resamples, out, name) if method == "sobol"
                else _morris(design, results, y.to_numpy(), seed, resamples, out, name))
        part.insert(0, "metric", name)
        part["noise_share"] = noise_share(frame, name)
        tables.append(part)
    if not tables:
        raise InputError(f"--metric: {', '.join(names)} do(es) not vary across this sweep; "
                         "nothing to analyse")
    out.table = pd.concat(tables, ignore_index=True)
    _check(out, method, max_halfwidth)
    if parameter_source(results.manifest) == "ensemble":
        out.notes.append(
            "every run drew the behavioural parameters the sweep does not set from the "
            "calibrated ensemble (scenario.parameters = ensemble), so replicate noise and the "
            "indices' intervals include that parameter uncertainty; for one parameter set add "
            '"scenario.parameters" = ["defaults"] to [parameters]')
    if frame.groupby("point").size().max() < 2:
        out.notes.append("one run per point: replicate noise could not be checked (set "
                         "replicates ≥ 2 in the sweep file for a stochastic model)")
    return out


def _salib(call, out: Sensitivity, name: str):
    """Run a SALib function, restating any warning it gives in our words."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = call()
    seen = dict.fromkeys(str(w.message).strip().split("\n")[0].rstrip(".") for w in caught)
    for text in seen:
        if text.startswith("Constant values"):
            out.warnings.append(f"{name}: the outcome is the same in many bootstrap resamples "
                                "(it varies at few points), so its intervals are unreliable")
        else:
            out.warnings.append(f"{name}: the index calculation reported a numerical problem "
                                f"({text}); treat these indices with caution")
    return res


def _sobol(design, y, seed, resamples, out, name) -> pd.DataFrame:
    from SALib.analyze import sobol as sobol_analyze

    problem = design["problem"]
    res = _salib(lambda: sobol_analyze.analyze(
        problem, y, calc_second_order=design["second_order"], num_resamples=resamples,
        seed=seed), out, name)
    return pd.DataFrame({"parameter": problem["names"], "S1": res["S1"],
                         "S1_conf": res["S1_conf"], "ST": res["ST"], "ST_conf": res["ST_conf"]})


def _morris(design, results, y, seed, resamples, out, name) -> pd.DataFrame:
    from SALib.analyze import morris as morris_analyze

    problem = design["problem"]
    x = results.points[[UNIT_PREFIX + n for n in problem["names"]]].to_numpy()
    res = _salib(lambda: morris_analyze.analyze(
        problem, x, y, num_levels=design["morris_levels"], num_resamples=resamples,
        seed=seed), out, name)
    return pd.DataFrame({"parameter": problem["names"], "mu": res["mu"],
                         "mu_star": res["mu_star"], "mu_star_conf": res["mu_star_conf"],
                         "sigma": res["sigma"]})


def _check(out: Sensitivity, method: str, max_halfwidth: float) -> None:
    """Flag rows and add one warning line per outcome and problem."""
    t = out.table
    flags: dict[str, pd.Series] = {"noisy": t["noise_share"] > NOISE_SHARE}
    if method == "sobol":
        flags = {
            "s1_above_st": t["S1"] - t["S1_conf"] > t["ST"],
            "s1_negative": t["S1"] + t["S1_conf"] < 0,
            "wide_interval": t[["S1_conf", "ST_conf"]].max(axis=1) > max_halfwidth,
            **flags,
        }
    t["flags"] = [";".join(k for k, s in flags.items() if s.iloc[i]) for i in range(len(t))]
    for metric, rows in t.groupby("metric", sort=False):
        def params(flag: str, rows: pd.DataFrame = rows) -> str:
            return ", ".join(rows.loc[flags[flag].loc[rows.index], "parameter"])

        if method == "sobol" and (p := params("s1_above_st")):
            out.warnings.append(f"{metric}: S1 exceeds ST by more than its interval for {p}; "
                                "this cannot hold in theory, so the sample is too small")
        if method == "sobol" and (p := params("s1_negative")):
            out.warnings.append(f"{metric}: S1 is below 0 by more than its interval for {p}; "
                                "this cannot hold in theory, so the sample is too small")
        if method == "sobol" and (p := params("wide_interval")):
            widest = float(rows[["S1_conf", "ST_conf"]].to_numpy().max())
            out.warnings.append(f"{metric}: intervals wider than ±{max_halfwidth:g} (up to "
                                f"±{widest:.2f}) for {p}; indices this uncertain cannot rank "
                                "parameters: raise samples in the sweep file "
                                "(a power of two)")
        share = float(rows["noise_share"].iloc[0])
        if share > NOISE_SHARE:
            out.warnings.append(f"{metric}: replicate noise is {share:.0%} of the variance "
                                "between point means, so the indices mostly measure noise: "
                                "add replicates")
