"""The calibrated parameter ensemble: plausible behavioural parameter sets, with weights.

``collabsim calibrate`` (:mod:`collabsim.calibrate`) fits the influential behavioural
parameters to the published targets with ABC-SMC; its posterior (``posterior.csv``:
one parameter set per row and its weight) and provenance (``provenance.json``) ship in
this package. A scenario says where its behavioural parameters come from with
``scenario.parameters``:

- ``defaults``: the schema's defaults (one parameter set for every run);
- ``ensemble``: each replicate draws one parameter set from the ensemble, so results
  carry parameter uncertainty as well as Monte Carlo noise;
- ``point_estimate``: the ensemble's weighted posterior median.

Keys the scenario pins (sets in its file or a base file, or by ``--set``) always win
over the ensemble. The draw is a pure function of the replicate's seed
(:func:`draw_for`): replicate ``k`` of seed ``s`` gets the same parameter set in
whichever loop, batch or worker runs it, and every scenario of a comparison gets the
same one (common parameter draws, as with common random numbers).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np

from collabsim.scenario import Scenario
from collabsim.schema import PARAMETER_SOURCES  # noqa: F401  (the values of KEY)
from collabsim.seeds import SeedLike, replicate_seed

POSTERIOR = "posterior.csv"
PROVENANCE = "provenance.json"
KEY = "scenario.parameters"

#: Appended to a replicate's spawn key for its ensemble draw, so the draw uses random
#: numbers of its own and never those of the run.
DRAW_KEY = 0x656E73
#: With :data:`DRAW_KEY`, the spawn key of the offset of :meth:`Ensemble.worlds`.
WORLDS_KEY = 0x776F726C


@dataclass(frozen=True)
class Ensemble:
    """A weighted set of parameter sets.

    Attributes:
        params: The dotted keys, in column order.
        values: One row per parameter set.
        weights: Their weights (summing to 1).
        provenance: How the ensemble was made (targets, priors, seed, sizes, dates).
        digest: SHA-256 of the posterior file it was read from ("" if built in memory).
    """

    params: tuple[str, ...]
    values: np.ndarray
    weights: np.ndarray
    provenance: dict[str, Any]
    digest: str = ""

    def __len__(self) -> int:
        return len(self.weights)

    def member(self, i: int) -> dict[str, float]:
        """Parameter set ``i`` as overrides."""
        return {k: float(v) for k, v in zip(self.params, self.values[i], strict=True)}

    def index_for(self, seed: np.random.SeedSequence) -> int:
        """Which parameter set the replicate with this seed draws."""
        ss = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, DRAW_KEY))
        return int(np.random.default_rng(ss).choice(len(self), p=self.weights))

    def draw(self, seed: int, k: int) -> dict[str, float]:
        """The parameter set of replicate ``k`` of seed ``seed``."""
        return self.member(self.index_for(replicate_seed(seed, k)))

    def worlds(self, n: int, seed: int) -> np.ndarray:
        """``n`` members drawn by systematic resampling with probability their weights.

        Member ``i`` fills ``n * weight_i`` of the ``n`` places, give or take one, so an
        unweighted statistic over the places is a posterior-weighted one over members;
        members are returned in order (a member drawn twice fills neighbouring places).
        The one random offset depends only on ``seed``.
        """
        ss = np.random.SeedSequence(seed, spawn_key=(DRAW_KEY, WORLDS_KEY))
        offset = np.random.default_rng(ss).random()
        cdf = np.cumsum(self.weights)
        return np.minimum(np.searchsorted(cdf, (np.arange(n) + offset) / n, side="right"),
                          len(self) - 1)

    def median(self) -> dict[str, float]:
        """The weighted posterior median of each parameter (the point estimate)."""
        out = {}
        for j, key in enumerate(self.params):
            order = np.argsort(self.values[:, j], kind="stable")
            cdf = np.cumsum(self.weights[order])
            out[key] = float(self.values[order[np.searchsorted(cdf, 0.5)], j])
        return out


def load(folder: str | Path | None = None) -> Ensemble:
    """Read an ensemble (default: the one shipped with collabsim)."""
    if folder is None:
        return _shipped()
    return _read(Path(folder))


@cache
def _shipped() -> Ensemble:
    return _read(Path(str(files("collabsim.ensemble"))))


def _read(folder: Path) -> Ensemble:
    import pandas as pd

    raw = (folder / POSTERIOR).read_bytes()
    table = pd.read_csv(io.BytesIO(raw))
    weights = table.pop("weight").to_numpy(dtype=float)
    path = folder / PROVENANCE
    provenance = json.loads(path.read_text()) if path.is_file() else {}
    return Ensemble(tuple(table.columns), table.to_numpy(dtype=float), weights / weights.sum(),
                    provenance, hashlib.sha256(raw).hexdigest())


def draw(seed: int, k: int) -> dict[str, float]:
    """The shipped ensemble's parameter set for replicate ``k`` of seed ``seed``."""
    return load().draw(seed, k)


def point_estimate() -> dict[str, float]:
    """The shipped ensemble's weighted posterior median."""
    return load().median()


def _as_sequence(seed: SeedLike) -> np.random.SeedSequence:
    if isinstance(seed, int | np.integer):
        return replicate_seed(int(seed), 0)
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        ss = getattr(seed.bit_generator, "seed_seq", None)
        if isinstance(ss, np.random.SeedSequence):
            return ss
    return np.random.SeedSequence()  # no seed: a fresh draw, as the run itself is


def resolve(scenario: Scenario, seed: SeedLike) -> Scenario:
    """The scenario one run simulates: its ``scenario.parameters`` applied.

    With ``defaults`` the scenario itself; otherwise the scenario with the ensemble's
    draw for this seed (or its median) set on every key it does not pin.
    """
    mode = scenario[KEY]
    if mode == "defaults":
        return scenario
    if mode == "point_estimate":
        return _with(scenario, point_estimate())
    return at_member(scenario, load().index_for(_as_sequence(seed)))


def drawn_keys() -> frozenset[str]:
    """The keys the shipped ensemble holds: drawn per replicate unless a scenario pins them."""
    return frozenset(load().params)


def at_member(scenario: Scenario, i: int) -> Scenario:
    """The scenario with member ``i`` of the shipped ensemble on every key it does not pin."""
    return _with(scenario, load().member(i))


def _with(scenario: Scenario, values: dict[str, float]) -> Scenario:
    free = {k: v for k, v in values.items() if k not in scenario.pinned}
    return scenario.with_overrides(free, source="ensemble", pin=False) if free else scenario


def drawn(scenario: Scenario, seeds: Iterable[SeedLike]) -> np.ndarray | None:
    """The ensemble member each replicate draws (an index per seed).

    None unless ``scenario.parameters`` is ``ensemble``: one parameter set then serves
    every replicate.
    """
    if scenario[KEY] != "ensemble":
        return None
    ens = load()
    return np.fromiter((ens.index_for(_as_sequence(s)) for s in seeds), dtype=np.int64)


def record(scenario: Scenario) -> dict[str, Any]:
    """Where a scenario's runs take their behavioural parameters from, for a manifest.

    The scenario's own table holds the schema's defaults on the keys it does not pin;
    this says which of them the runs replaced, and by what: the posterior median's values
    (``point_estimate``) or each replicate's draw (``ensemble``: the runs table's
    ``member`` column names the row of the shipped posterior).
    """
    mode = scenario[KEY]
    if mode == "defaults":
        return {"source": mode, "replaced": {}}
    ens = load()
    free = [k for k in ens.params if k not in scenario.pinned]
    out: dict[str, Any] = {"source": mode, "posterior_sha256": ens.digest}
    if mode == "point_estimate":
        median = ens.median()
        out["replaced"] = {k: median[k] for k in free}
    else:
        out["replaced"] = {k: "drawn per replicate: the runs table's member column is the row "
                              "of the ensemble's posterior.csv" for k in free}
    return out


def unused(scenario: Scenario) -> str | None:
    """A sentence when ``scenario.parameters`` asks for the ensemble but it can vary nothing.

    A scenario saved with every key written (as the dashboard saves them) pins every
    parameter, so the ensemble would silently change nothing.
    """
    if scenario[KEY] == "defaults":
        return None
    held = [k for k in load().params if k in scenario.pinned]
    if len(held) < len(load().params):
        return None
    return (f"{KEY} = {scenario[KEY]} has no effect: the scenario sets every parameter the "
            f"ensemble holds ({', '.join(held)}); remove those it should draw")


def groups(scenario: Scenario, seeds: Iterable[SeedLike], members: np.ndarray | None = None
           ) -> list[tuple[Scenario, list[int]]]:
    """Replicates that simulate the same parameter set, for an engine that batches them.

    Returns ``(resolved scenario, indices into seeds)`` pairs in order of first
    appearance: one group with every index under ``defaults`` or ``point_estimate``, one
    per distinct ensemble member drawn under ``ensemble``. ``seeds`` is read once, so it
    may be a generator (no list of seeds is kept). ``members``, when the caller already
    has :func:`drawn` of these seeds, saves drawing them again.
    """
    if members is None:
        members = drawn(scenario, seeds)
    if members is None:  # one parameter set: the defaults or the posterior median
        return [(resolve(scenario, None), list(range(sum(1 for _ in seeds))))]
    found: dict[int, list[int]] = {}
    for i, j in enumerate(members.tolist()):
        found.setdefault(j, []).append(i)
    return [(at_member(scenario, j), idx) for j, idx in found.items()]
