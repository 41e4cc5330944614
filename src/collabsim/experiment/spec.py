"""Sweep files: what to vary, how to sample it, and how often to run it.

A sweep file is TOML::

    [sweep]
    scenario = "../scenarios/generic.toml"   # relative to this file
    design = "grid"          # grid | lhs | sobol | morris | table
    replicates = 5
    seed = 1

    [parameters]
    "governance.mode" = ["shared", "lead", "nao"]          # levels
    "population.size" = [4, 8, 16]
    "population.initial_trust" = { range = [0.1, 0.9], points = 5 }   # a range

Validation is as strict as for scenarios: unknown keys, values outside a parameter's
allowed range and malformed files give one-line errors naming the file and key.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collabsim.errors import InputError, suggest, where
from collabsim.experiment.toys import response
from collabsim.scenario import (
    BASE_KEY,
    Scenario,
    ScenarioWarning,
    base_file,
    bundled_hint,
    bundled_path,
    inert,
    load_scenario,
    override_param,
    read_toml,
)
from collabsim.schema import Param, check_value, lookup

DESIGNS = ("grid", "lhs", "sobol", "morris", "table")
SOBOL_SAMPLES = 512  #: default base sample of the sobol design (a power of two)
COLLABSIM_MODEL = "collabsim"

SWEEP_FIELDS: tuple[Param, ...] = (
    Param("sweep.name", "str", "", "Name of the sweep (default: the file's stem)."),
    Param("sweep.scenario", "str", "",
          "Base scenario file, relative to the sweep file, or a bundled short name."),
    Param("sweep.model", "str", COLLABSIM_MODEL,
          "What to run: the partnership model, or a registered test response such as "
          "'collabsim.experiment.toys:ishigami'."),
    Param("sweep.design", "choice", "grid", "How points are chosen.", choices=DESIGNS),
    Param("sweep.samples", "int", 16,
          "lhs: number of points; sobol: base sample N, a power of two (default "
          f"{SOBOL_SAMPLES}; N(D+2) points, or N(2D+2) with second_order); morris: number of "
          "trajectories.", 1, 1_000_000),
    Param("sweep.second_order", "bool", False, "sobol: also sample for second-order indices."),
    Param("sweep.morris_levels", "int", 4, "morris: grid levels per factor.", 2, 100),
    Param("sweep.table", "str", "", "table: CSV of points, one column per parameter."),
    Param("sweep.replicates", "int", 1, "Runs per point.", 1, 100_000),
    Param("sweep.seed", "int", 0, "Base seed; run (point, replicate) uses "
          "SeedSequence(seed, spawn_key=(point, replicate)).", 0, 2**63 - 1),
    Param("sweep.steps", "int", 0, "Steps per run (0: the scenario's).", 0,
          lookup("scenario.steps").high),
    Param("sweep.keep_steps", "bool", False, "Also store every run's per-step table."),
    Param("sweep.keep_agents", "bool", False,
          "Also store every run's agent table (one row per member per step)."),
    Param("sweep.chunk_size", "int", 500, "Runs per Parquet chunk written.", 1, 1_000_000),
)
SWEEP_BY_KEY = {p.key: p for p in SWEEP_FIELDS}


@dataclass(frozen=True)
class Factor:
    """One swept parameter: discrete levels, or a continuous range.

    Attributes:
        key: Dotted scenario key (or a free name for a test response).
        levels: The values a grid visits; for sampling designs, the categories.
        low: Lower bound of a range (None for levels).
        high: Upper bound of a range.
        integer: Round sampled values to integers.
    """

    key: str
    levels: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """A continuous range rather than a list of levels."""
        return self.low is not None


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep file."""

    name: str
    path: Path | None
    base: Scenario | None
    model: str
    design: str
    factors: tuple[Factor, ...]
    samples: int = 16
    second_order: bool = False
    morris_levels: int = 4
    table: Path | None = None
    replicates: int = 1
    seed: int = 0
    steps: int = 0
    keep_steps: bool = False
    keep_agents: bool = False
    chunk_size: int = 500
    text: str = field(default="", compare=False)

    @property
    def is_collabsim(self) -> bool:
        """Runs the partnership model (rather than a test response)."""
        return self.model == COLLABSIM_MODEL


def load_sweep(path: str | Path) -> SweepSpec:
    """Load and validate a sweep file."""
    path = Path(path)
    text, doc = read_toml(path, "sweep")
    return sweep_from_dict(doc, str(path), path.parent, text)


def sweep_from_dict(
    doc: dict[str, Any], source: str | None = None, folder: Path | None = None, text: str = ""
) -> SweepSpec:
    """Validate a parsed sweep document."""
    folder = folder or Path.cwd()
    for table in doc:
        if table not in ("sweep", "parameters"):
            hint = suggest(table, ["sweep", "parameters"])
            raise InputError(f"{where(source, table)} is not a known table{hint}; expected "
                             "[sweep] and [parameters]")
    raw = doc.get("sweep", {})
    if not isinstance(raw, dict):
        raise InputError(f"{where(source, 'sweep')} must be a table, like [sweep]")
    values = {p.key: p.default for p in SWEEP_FIELDS}
    for name, value in raw.items():
        key = f"sweep.{name}"
        if key not in SWEEP_BY_KEY:
            raise InputError(
                f"{where(source, key)} is not a known setting{suggest(key, SWEEP_BY_KEY)}; "
                f"expected one of {', '.join(SWEEP_BY_KEY)}"
            )
        values[key] = SWEEP_BY_KEY[key].check(value, source)
    model = values["sweep.model"]
    base = None
    if model == COLLABSIM_MODEL:
        if not values["sweep.scenario"]:
            raise InputError(f"{where(source, 'sweep.scenario')} is missing; give the base "
                             "scenario file, relative to the sweep file, or a bundled "
                             "short name such as \"generic\"")
        base = load_scenario(_existing(folder, values, "sweep.scenario", source, bundled=True))
    else:
        response(model, source)  # only registered test responses: a sweep file runs no code
    params = doc.get("parameters", {})
    if not isinstance(params, dict) or not params:
        table_note = ("; the table design runs the CSV's rows, but each of its columns must "
                      "be listed here too (the values given are checked, not run)"
                      if values["sweep.design"] == "table" else "")
        raise InputError(f"{where(source, 'parameters')} is missing or empty; list at least one "
                         'parameter, e.g. "population.size" = [4, 8, 16]' + table_note)
    factors = tuple(_factor(key, value, base, source) for key, value in params.items())
    if base is not None:  # a swept key that cannot change a run wastes the sweep
        for message in inert(base, params, params):
            warnings.warn(where(source, f"parameters.{message}"), ScenarioWarning, stacklevel=2)
    design = values["sweep.design"]
    if design == "sobol":
        _check_sobol_samples(values, "samples" in raw, source)
    table = None
    if design == "table":
        if not values["sweep.table"]:
            raise InputError(f"{where(source, 'sweep.table')} is missing; the table design "
                             "needs a CSV of points")
        table = _existing(folder, values, "sweep.table", source)
    if design == "grid":
        for f in factors:
            if f.is_range and not f.levels:
                raise InputError(
                    f"{where(source, 'parameters.' + f.key)} is a range without points; the "
                    "grid design needs levels or { range = [low, high], points = N }"
                )
    name = values["sweep.name"] or (Path(source).stem if source else "sweep")
    return SweepSpec(
        name=name, path=Path(source) if source else None, base=base, model=model,
        design=design, factors=factors, samples=values["sweep.samples"],
        second_order=values["sweep.second_order"], morris_levels=values["sweep.morris_levels"],
        table=table, replicates=values["sweep.replicates"], seed=values["sweep.seed"],
        steps=values["sweep.steps"], keep_steps=values["sweep.keep_steps"],
        keep_agents=values["sweep.keep_agents"], chunk_size=values["sweep.chunk_size"], text=text,
    )


def _check_sobol_samples(values: dict[str, Any], given: bool, source: str | None) -> None:
    """Sobol' points are balanced only in powers of two: default 512, refuse others."""
    if not given:
        values["sweep.samples"] = SOBOL_SAMPLES
    n = values["sweep.samples"]
    if n & (n - 1):
        low = 1 << (n.bit_length() - 1)
        raise InputError(f"{where(source, 'sweep.samples')} = {n} is not allowed; the sobol design "
                         f"needs a power of two, such as {low} or {2 * low}")


def scenario_files(path: str | Path) -> list[Path]:
    """A scenario file and every file it inherits from (``base = ...``), in that order.

    The chain is the one :func:`~collabsim.scenario.load_scenario` follows; call this
    only on a file that loads.
    """
    chain = [Path(path)]
    while True:
        _, doc = read_toml(chain[-1])
        table = doc.get("scenario")
        if not isinstance(table, dict) or not isinstance(table.get(BASE_KEY), str):
            return chain
        chain.append(base_file(chain[-1], table[BASE_KEY]))


def _existing(folder: Path, values: dict[str, Any], key: str, source: str | None,
              bundled: bool = False) -> Path:
    """The file a sweep setting names, relative to the sweep file; it must exist.

    With ``bundled``, a name that is no file there may name a bundled scenario.
    """
    path = folder / values[key]
    if bundled and not path.is_file():
        path = bundled_path(values[key]) or path
    if not path.is_file():
        hint = bundled_hint(values[key]) if bundled else ""
        raise InputError(f"{where(source, key)} = {values[key]!r}: no such file ({path}){hint}")
    return path


def _factor(key: str, value: Any, base: Scenario | None, source: str | None) -> Factor:
    loc = f"parameters.{key}"
    spec = override_param(base, key, source) if base is not None else Param(key, "float", 0.0, "")
    if spec.kind in ("str", "strlist"):
        raise InputError(f"{where(source, loc)}: {key} cannot be swept (it is a {spec.kind})")

    def check(v: Any) -> Any:
        return check_value(spec, v, source, loc)

    if isinstance(value, list):
        if not value:
            raise InputError(f"{where(source, loc)} has no levels")
        return Factor(key, tuple(check(v) for v in value), integer=spec.kind == "int")
    if not isinstance(value, dict):
        raise InputError(f"{where(source, loc)} = {value!r} is not allowed; expected a list of "
                         "levels or a table { levels = [...] } or { range = [low, high] }")
    unknown = set(value) - {"levels", "range", "points"}
    if unknown:
        name = sorted(unknown)[0]
        raise InputError(f"{where(source, f'{loc}.{name}')} is not a known field"
                         f"{suggest(name, ['levels', 'range', 'points'])}; expected levels, "
                         "range or points")
    if "levels" in value:
        if set(value) != {"levels"}:
            raise InputError(f"{where(source, loc)}: give levels, or a range (with points), "
                             f"not both; {', '.join(sorted(set(value) - {'levels'}))} would be "
                             "ignored")
        return _factor(key, value["levels"], base, source)
    rng = value.get("range")
    if not (isinstance(rng, list) and len(rng) == 2):
        raise InputError(f"{where(source, loc + '.range')} = {rng!r} is not allowed; expected "
                         "[low, high]")
    if spec.kind not in ("int", "float"):
        raise InputError(f"{where(source, loc + '.range')}: {key} is a {spec.kind}; give its "
                         "levels instead")
    low, high = check(rng[0]), check(rng[1])
    if not low < high:
        raise InputError(f"{where(source, loc + '.range')} = {rng!r} is not allowed; low must be "
                         "below high")
    levels: tuple[Any, ...] = ()
    if "points" in value:
        points = check_value(Param(loc + ".points", "int", 2, "", 2, 10_000), value["points"],
                             source, loc + ".points")
        step = (high - low) / (points - 1)
        raw = [low + i * step for i in range(points)]
        levels = tuple(dict.fromkeys(round(v) if spec.kind == "int" else v for v in raw))
    return Factor(key, levels, float(low), float(high), integer=spec.kind == "int")
