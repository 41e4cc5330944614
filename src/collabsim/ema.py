"""collabsim as an EMA Workbench model (Kwakkel 2017).

``model(base, uncertainties=[...], levers=[...])`` returns an EMA Workbench
``ReplicatorModel`` whose parameters, bounds and categories come from collabsim's
parameter schema and whose outcomes, with their directions (maximise, minimise or
neither), come from the metric registry. Any EMA sampler, evaluator or analysis then
works on it directly::

    from ema_workbench import SequentialEvaluator, perform_experiments
    from collabsim.ema import model

    m = model("scenarios/generic.toml",
              uncertainties=["population.initial_trust", "environment.austerity"],
              levers=["governance.mode"], replications=5)
    with SequentialEvaluator(m) as evaluator:
        experiments, outcomes = perform_experiments(m, scenarios=100, policies=3,
                                                    evaluator=evaluator)

EMA Workbench names must be Python identifiers, so a key's dots (and the colon of
``archetype:NAME``) become double underscores in EMA's tables
(``population__initial_trust``, ``archetype__tokenism``); :func:`ema_name` gives the
name, and the model function still receives the dotted keys.

Replicate ``k`` of every experiment uses the seed ``SeedSequence(seed, spawn_key=(k,))``,
as ``collabsim run`` and ``compare`` do: experiments are compared under common random
numbers. Each outcome is the mean over the replications; ``archetype:NAME`` is the
share of replications that ended as archetype NAME.

Needs the ``ema`` extra: ``pip install 'collabsim[ema]'``.

References:
    Kwakkel, J. H. (2017). The Exploratory Modeling Workbench. Environmental Modelling
    & Software 96:239–250.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.analysis import CATEGORICAL, SHARE_PREFIX, outcome_names, outcomes
from collabsim.experiment.discovery import as_experiments
from collabsim.metrics import ARCHETYPES, METRIC_DIRECTION, METRICS
from collabsim.runner import replicate_seed, run
from collabsim.scenario import Scenario, load_scenario
from collabsim.schema import check_value, lookup

Range = tuple[float, float] | Sequence[Any] | None


def _ema():
    """The ema_workbench package, imported quietly (it warns about optional extras)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench
    except ImportError:
        raise InputError("the EMA adapter needs EMA Workbench; install it with "
                         "pip install 'collabsim[ema]'") from None
    return ema_workbench


def ema_name(key: str) -> str:
    """The EMA Workbench name of a scenario key or outcome: ``a.b`` → ``a__b``."""
    return key.replace(".", "__").replace(":", "__")


def parameter(key: str, narrow: Range = None) -> Any:
    """An EMA parameter for a scenario key, its range or categories from the schema.

    Args:
        key: A dotted scenario key (see ``collabsim describe``).
        narrow: Optionally ``(low, high)`` within the schema's range, or a list of
            allowed levels; each value is checked against the schema.

    Raises:
        InputError: an unknown key, a kind EMA cannot vary (text), a value outside the
            schema, or a number without bounds in the schema and none given.
    """
    ema = _ema()
    spec = lookup(key, "ema")
    where, name = f"ema: {key}", ema_name(key)

    def check(value: Any) -> Any:
        return check_value(spec, value, "ema", key)

    if isinstance(narrow, Sequence) and not isinstance(narrow, str) and not (
            spec.kind in ("int", "float") and len(narrow) == 2):
        levels = [check(v) for v in narrow]
        return ema.CategoricalParameter(name, levels, variable_name=key)
    if spec.kind == "choice":
        return ema.CategoricalParameter(name, list(spec.choices), variable_name=key)
    if spec.kind == "bool":
        return ema.BooleanParameter(name, variable_name=key)
    if spec.kind not in ("int", "float"):
        raise InputError(f"{where}: a {spec.kind} cannot be varied; choose a number, a choice "
                         "or a true/false parameter")
    low, high = (check(narrow[0]), check(narrow[1])) if narrow is not None else (spec.low,
                                                                                 spec.high)
    if low is None or high is None or not np.isfinite([low, high]).all():
        raise InputError(f"{where} has no bound on one side; give one, e.g. "
                         f"uncertainties={{'{key}': (low, high)}}")
    if not low < high:
        raise InputError(f"{where}: ({low}, {high}) is not allowed; low must be below high")
    if spec.kind == "int":
        return ema.IntegerParameter(name, int(low), int(high), variable_name=key)
    return ema.RealParameter(name, float(low), float(high), variable_name=key)


def outcome(name: str) -> Any:
    """An EMA outcome (mean over replications) with its direction from the registry."""
    ema = _ema()
    if name.startswith(SHARE_PREFIX):
        if name[len(SHARE_PREFIX):] not in ARCHETYPES:
            raise InputError(f"ema: outcome {name}: not an archetype; expected one of "
                             f"{', '.join(ARCHETYPES)}")
        kind = ema.ScalarOutcome.INFO
    elif name in METRIC_DIRECTION:
        kind = {1: ema.ScalarOutcome.MAXIMIZE, -1: ema.ScalarOutcome.MINIMIZE}.get(
            METRIC_DIRECTION[name], ema.ScalarOutcome.INFO)
    else:
        raise InputError(f"ema: outcome {name}: not a metric; expected one of "
                         f"{', '.join(METRIC_DIRECTION)} or archetype:NAME")
    return ema.ScalarOutcome(ema_name(name), kind=kind, variable_name=name, function=np.mean)


@dataclass(frozen=True)
class Runner:
    """The model function EMA calls: one replicate of the base scenario, changed.

    Picklable, so EMA's multiprocessing evaluator can send it to its workers.
    """

    base: Scenario
    outcomes: tuple[str, ...]
    steps: int | None = None

    def __call__(self, seed: int = 0, replicate: int = 0, **params: Any) -> dict[str, float]:
        """Run replicate ``replicate`` with the parameters EMA drew."""
        changes = {k: v.item() if isinstance(v, np.generic) else v for k, v in params.items()}
        scenario = self.base.with_overrides(changes, source="ema")
        summary = run(scenario, replicate_seed(seed, replicate), steps=self.steps).summary
        out = {}
        for name in self.outcomes:
            if name.startswith(SHARE_PREFIX):
                out[name] = float(summary[CATEGORICAL] == name[len(SHARE_PREFIX):])
            elif name in summary:
                out[name] = float(summary[name])
            else:
                raise InputError(f"ema: outcome {name} is not produced by {self.base.name} "
                                 "(service metrics need services.enabled = true)")
        return out


def model(
    base: str | Path | Scenario,
    uncertainties: Sequence[str] | Mapping[str, Range] = (),
    levers: Sequence[str] | Mapping[str, Range] = (),
    outcomes: Sequence[str] | None = None,
    *,
    replications: int = 1,
    seed: int = 0,
    steps: int | None = None,
    name: str = "collabsim",
) -> Any:
    """The partnership model as an EMA Workbench ``ReplicatorModel``.

    Args:
        base: The scenario (or its file) every experiment starts from.
        uncertainties: Scenario keys EMA samples as uncertainties; a mapping may narrow
            each to ``(low, high)`` or a list of levels.
        levers: Scenario keys EMA samples as policy levers, given the same way.
        outcomes: Metric names (and ``archetype:NAME`` shares); default: every summary
            metric.
        replications: Runs per experiment (replicate k uses the same seed in every
            experiment: common random numbers).
        seed: Base seed.
        steps: Steps per run (default: the scenario's).
        name: The EMA model's name (letters, digits and underscores).

    Raises:
        InputError: an unknown key or outcome, a value outside the schema, or a key
            given twice.
    """
    ema = _ema()
    scenario = base if isinstance(base, Scenario) else load_scenario(base)
    if replications < 1:
        raise InputError(f"ema: replications = {replications}: expected at least 1")

    def params(given: Sequence[str] | Mapping[str, Range]) -> list[Any]:
        items = given.items() if isinstance(given, Mapping) else ((k, None) for k in given)
        return [parameter(k, r) for k, r in items]

    unc, lev = params(uncertainties), params(levers)
    keys = [p.variable_name[0] for p in (*unc, *lev)]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise InputError(f"ema: {twice[0]} is given twice; a key is an uncertainty or a lever")
    names = tuple(outcomes) if outcomes is not None else METRICS
    outs = [outcome(n) for n in names]
    m = ema.ReplicatorModel(name, function=Runner(scenario, names, steps))
    m.uncertainties = unc
    m.levers = lev
    m.outcomes = outs
    m.constants = [ema.Constant("seed", int(seed))]
    m.replications = [{"replicate": k} for k in range(replications)]
    return m


def from_sweep(results: Any) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """A collabsim sweep as EMA's ``(experiments, outcomes)``: one row per design point.

    Experiments hold the swept parameters (levels that are not numbers as categories);
    outcomes the mean of every numeric output over each point's successful replicates,
    and ``archetype:NAME`` shares, in point order. PRIM, CART and feature scoring take
    them as they are.
    """
    shares = outcome_names(results, CATEGORICAL) if CATEGORICAL in results.runs else []
    names = [*results.outputs, *shares]
    means = (outcomes(results, names).groupby("point")[names].mean()
             .reindex(results.points["point"]))
    experiments = as_experiments(results.points[results.factors].reset_index(drop=True))
    return experiments, {n: means[n].to_numpy() for n in names}
