"""Calibration: ABC-SMC (pyabc) of the influential parameters to the published targets.

The parameters fitted (:data:`FITTED`) are the behavioural weights the Morris screen
(:mod:`collabsim.screen`) and the referee's analyses found to decide the results; each
has a uniform prior over the screen's band (±50% of its default, within the schema's
range). A particle is judged on the experiments of :mod:`collabsim.targets`, each at a
seed drawn for that particle, and its distance is the sum of the targets' normalised
misses (0 when every statistic lies in its published interval).

Reproducible: particle ``i`` of generation ``t`` is proposed and simulated with NumPy's
global generator seeded from ``(seed, t, i)``, and a generation keeps the first
``population`` accepted particles in index order, so the result does not depend on the
number of workers, on how evaluations are batched, or on an interruption (pyabc's
history in ``OUT/history.db`` resumes with ``resume=True``).

Output: ``OUT/posterior.csv`` (the last generation's parameter sets and weights) and
``OUT/provenance.json`` (targets, priors, seed, sizes, the epsilon schedule, versions,
date); copied into ``collabsim/ensemble/`` they become the shipped ensemble.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.schema import PARAM_BY_KEY
from collabsim.screen import screen_range
from collabsim.targets import TARGETS, Size, distance, outputs

#: The parameters fitted by default: the ten behavioural constants with the largest
#: influence on the calibration targets in ``collabsim screen`` (docs/calibration.md),
#: leaving out scenario inputs (facts about a place, not behaviour), and the two bars of
#: ratification by the home organisations, which came after the screen.
FITTED: tuple[str, ...] = (
    "dynamics.acceptability_scale",
    "dynamics.understanding_weight",
    "dynamics.acceptance_threshold",
    "dynamics.synergy",
    "dynamics.willingness_prosocial",
    "dynamics.willingness_trust",
    "dynamics.ditch_pressure",
    "dynamics.opportunity_cost",
    "population.goal_noise",
    "services.prevention_max",
    "ratification.threshold",
    "ratification.pressure",
)

HISTORY = "history.db"
POSTERIOR = "posterior.csv"
PROVENANCE = "provenance.json"

MODEL_NOTE = ("calibrated on the model with the evidence mechanisms of docs/ODD.md section "
              "7.9 on at their judgement defaults (trust memory, size costs, the broker, the "
              "duty as cited, negotiated exit, decision rules and power, participation voice, "
              "ratification by the home organisations)")


def priors(keys: Sequence[str]) -> dict[str, tuple[float, float]]:
    """Each fitted parameter's uniform prior: the screen's band around its default."""
    out = {}
    for key in keys:
        if key not in PARAM_BY_KEY:
            raise InputError(f"--params: {key!r} is not a known parameter; see "
                             "`collabsim describe --advanced`")
        p = PARAM_BY_KEY[key]
        band = screen_range(p) if p.kind == "float" else None
        if band is None:
            raise InputError(f"--params: {key} cannot be calibrated; expected a real-valued "
                             "parameter with a non-zero default")
        out[key] = band
    return out


def particle_seed(seed: int, t: int, i: int) -> int:
    """The NumPy seed of particle ``i`` of generation ``t`` (``t = -1``: the prior sample)."""
    return int(np.random.SeedSequence([seed, t + 1, i]).generate_state(1)[0])


def _simulate(args: tuple[bytes, int, int, list[int]]) -> list[Any]:
    import cloudpickle

    payload, seed, t, ids = args
    simulate_one = cloudpickle.loads(payload)
    out = []
    for i in ids:
        # pyabc proposes with NumPy's global generator: seed it for this particle.
        np.random.seed(particle_seed(seed, t, i))  # noqa: NPY002
        random.seed(particle_seed(seed, t, i))
        out.append(simulate_one())
    return out


def _make_sampler(seed: int, workers: int, batch: int, report: Callable[[str], None] | None):
    from pyabc.sampler import Sampler

    class SeededSampler(Sampler):
        """Evaluate particles in batches (over workers), keep the first n accepted by index."""

        def __init__(self) -> None:
            super().__init__()
            self.pool: Any = None

        def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf,
                                    all_accepted=False, ana_vars=None):
            import cloudpickle

            payload = cloudpickle.dumps(simulate_one)
            sample = self._create_empty_sample()
            evaluated, accepted, started = 0, 0, time.perf_counter()
            while accepted < n:
                ids = list(range(evaluated, evaluated + batch))
                if workers > 1:
                    if self.pool is None:
                        from collabsim.experiment.engine import _new_pool

                        self.pool = _new_pool(workers)
                    chunks = [ids[w::workers] for w in range(workers)]
                    parts = list(self.pool.map(_simulate, [(payload, seed, t, c)
                                                           for c in chunks]))
                    by_id = {i: r for c, part in zip(chunks, parts, strict=True)
                             for i, r in zip(c, part, strict=True)}
                    results = [by_id[i] for i in ids]
                else:
                    results = _simulate((payload, seed, t, ids))
                for result in results:
                    evaluated += 1
                    sample.append(result)
                    if result.accepted:
                        accepted += 1
                        if accepted == n:
                            break
                if report is not None:
                    report(f"  generation {t}: {accepted}/{n} accepted of {evaluated} "
                           f"evaluated ({time.perf_counter() - started:.0f} s)")
            self.nr_evaluations_ = evaluated
            return sample

        def stop(self) -> None:
            if self.pool is not None:  # at once, also when interrupted mid-batch
                from collabsim.experiment.engine import _stop_pool

                _stop_pool(self.pool)
                self.pool = None

    return SeededSampler()


@dataclass(frozen=True)
class Settings:
    """What a calibration is asked to do."""

    params: tuple[str, ...] = FITTED
    population: int = 40
    generations: int = 4
    seed: int = 0
    survey: int = 30
    replicates: int = 8
    workers: int = 1
    batch: int = 20


def _model(size: Size) -> Callable[[dict[str, float]], dict[str, float]]:
    def model(parameters: dict[str, float]) -> dict[str, float]:
        run_seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002 (seeded per particle)
        return outputs({k: float(v) for k, v in parameters.items()}, run_seed, size)

    return model


def _distance(x: dict[str, float], x0: dict[str, float]) -> float:
    return distance(x)


def calibrate(out: Path, settings: Settings = Settings(), *, resume: bool = False,
              progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run (or resume) ABC-SMC; write the posterior and its provenance into ``out``.

    Returns:
        The provenance written to ``OUT/provenance.json``.
    """
    try:
        import pyabc
    except ImportError:
        raise InputError("calibrate needs pyabc: install collabsim[calibrate]") from None

    logging.getLogger("ABC").setLevel(logging.WARNING)
    out = Path(out)
    db = out / HISTORY
    if resume and not db.is_file():
        raise InputError(f"--resume: {out} holds no calibration history ({HISTORY}); "
                         "run without --resume first")
    if not resume and db.exists():
        raise InputError(f"--out {out}: it already holds a calibration ({HISTORY}); add "
                         "--resume to continue it, or choose another folder")
    bands = priors(settings.params)
    prior = pyabc.Distribution(**{k: pyabc.RV("uniform", lo, hi - lo)
                                  for k, (lo, hi) in bands.items()})
    size = Size(survey=settings.survey, replicates=settings.replicates)
    sampler = _make_sampler(settings.seed, settings.workers, settings.batch, progress)
    abc = pyabc.ABCSMC(_model(size), prior, _distance, population_size=settings.population,
                       sampler=sampler)
    started = time.perf_counter()
    uri = f"sqlite:///{db.resolve()}"
    if resume:
        history = abc.load(uri, 1)
        previous = json.loads((out / "settings.json").read_text())
        if previous != _jsonable(settings, resume=True):
            raise InputError(f"--resume: {out} was started with other settings "
                             f"({previous}); resume with the same ones")
        done = history.max_t + 1
    else:
        out.mkdir(parents=True, exist_ok=True)
        (out / "settings.json").write_text(json.dumps(_jsonable(settings, resume=True)))
        abc.new(uri, {t.name: 0.0 for t in TARGETS})
        done = 0
    left = settings.generations - done
    try:
        history = (abc.run(minimum_epsilon=0.0, max_nr_populations=left) if left > 0
                   else abc.history)
    finally:
        sampler.stop()
    elapsed = time.perf_counter() - started
    provenance = write_posterior(out, history, settings, bands, elapsed, first=done)
    provenance["fit_of_point_estimate"] = fit(out, settings)
    (out / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


def fit(out: Path, settings: Settings) -> list[dict[str, Any]]:
    """Each target's statistic at the posterior median (at the calibration's seed and size)."""
    from collabsim.ensemble import load

    stats = outputs(load(out).median(), settings.seed,
                    Size(survey=settings.survey, replicates=settings.replicates))
    return [{"name": t.name, "value": stats[t.name] if np.isfinite(stats[t.name]) else None,
             "low": t.low if np.isfinite(t.low) else None,
             "high": t.high if np.isfinite(t.high) else None,
             "miss": t.miss(stats[t.name])} for t in TARGETS]


def _jsonable(settings: Settings, resume: bool = False) -> dict[str, Any]:
    doc = asdict(settings)
    doc["params"] = list(doc["params"])
    if resume:  # workers and batch do not change the result; more generations continue it
        for key in ("workers", "batch", "generations"):
            doc.pop(key)
    return doc


def sessions(out: Path, first: int, last: int, this: dict[str, Any]) -> list[dict[str, Any]]:
    """Which code ran which generations: the earlier sessions of ``out``, then this one.

    ``this`` (commit, whether the tree was dirty, date) ran generations ``first`` to
    ``last``; a session that ran none (a resume with nothing left) adds nothing. An earlier
    provenance written before sessions were recorded counts as one session (its commit
    and date, generations 0 to its last); generations before ``first`` that no readable
    record covers (an interrupted first session writes no provenance) are listed with an
    unknown commit.
    """
    try:
        before = json.loads((out / PROVENANCE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    before = before if isinstance(before, dict) else {}
    listed = before.get("sessions")
    if not isinstance(listed, list):
        listed = ([{"git_commit": before.get("git_commit"), "date": before.get("date"),
                    "generations": [0, int(before["generations_done"]) - 1]}]
                  if isinstance(before.get("generations_done"), int) else [])
    done = [r for r in listed if isinstance(r, dict) and _span(r.get("generations"))
            and r["generations"][0] < first]  # not those this one re-ran
    covered = max((r["generations"][1] for r in done), default=-1)
    if covered < first - 1:
        done.append({"git_commit": None, "date": None, "generations": [covered + 1, first - 1],
                     "note": "not recorded (a session that wrote no provenance)"})
    if last >= first:
        done.append({**this, "generations": [first, last]})
    return done


def _span(value: Any) -> bool:
    """A session's ``generations``: ``[first, last]`` integers."""
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, int) for v in value))


def effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.square(w).sum())


def write_posterior(out: Path, history: Any, settings: Settings,
                    bands: dict[str, tuple[float, float]], elapsed: float,
                    first: int) -> dict[str, Any]:
    """Write posterior.csv and provenance.json from a pyabc history.

    ``first`` is the first generation this session ran (for the provenance's sessions).
    """
    from collabsim.store import git_commit, git_dirty, versions

    df, w = history.get_distribution(m=0, t=history.max_t)
    posterior = df[list(settings.params)].reset_index(drop=True)
    posterior.insert(0, "weight", np.asarray(w, dtype=float))
    here = Path(__file__).parent  # the package's own repository, wherever the command runs
    commit, date = git_commit(here), datetime.now(UTC).strftime("%Y-%m-%d")
    ran = sessions(out, first, int(history.max_t),
                   {"git_commit": commit, "dirty": git_dirty(here), "date": date})
    posterior.to_csv(out / POSTERIOR, index=False)
    every = history.get_all_populations()
    pops = every[every["t"] >= 0]
    vers = versions()
    try:
        from importlib.metadata import version

        vers["pyabc"] = version("pyabc")
    except Exception:  # pragma: no cover - pyabc is installed if this runs
        pass
    command = (f"collabsim calibrate --out DIR --population {settings.population} "
               f"--generations {settings.generations} --survey {settings.survey} "
               f"--replicates {settings.replicates} --seed {settings.seed}")
    if tuple(settings.params) != FITTED:
        command += " --params " + ",".join(settings.params)
    provenance = {
        "command": command,
        "method": "ABC-SMC (pyabc), uniform priors, distance = sum of normalised misses",
        "model": MODEL_NOTE,
        "targets": [{"name": t.name, "low": t.low if np.isfinite(t.low) else None,
                     "high": t.high if np.isfinite(t.high) else None, "scale": t.scale,
                     "source": t.source, "meaning": t.meaning} for t in TARGETS],
        "priors": [{"parameter": k, "low": lo, "high": hi,
                    "default": PARAM_BY_KEY[k].default, "source": PARAM_BY_KEY[k].source}
                   for k, (lo, hi) in bands.items()],
        # workers and batching do not change the ensemble, so they are not recorded
        "settings": {**_jsonable(settings, resume=True), "generations": settings.generations},
        "generations_done": int(history.max_t + 1),
        "epsilon_schedule": [float(e) for e in pops["epsilon"]],
        "evaluations": [int(n) for n in pops["samples"]],
        # how many particles the weights are worth, and the largest one's share
        "effective_sample_size": round(effective_size(posterior["weight"].to_numpy()), 2),
        "largest_weight": round(float(posterior["weight"].max() / posterior["weight"].sum()), 4),
        "prior_sample_evaluations": int(every.loc[every["t"] < 0, "samples"].sum()),
        # pyabc's wall time of every generation, across interruptions
        "elapsed_s": round(float(every["wall_time"].sum()), 1),
        "elapsed_this_session_s": round(elapsed, 1),
        "versions": vers,
        "git_commit": commit,
        "date": date,
        # the commit and date of each stretch of generations, across resumes
        "sessions": ran,
    }
    (out / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n")
    return provenance


def summary_table(out: Path) -> pd.DataFrame:
    """Weighted posterior median and 90% interval of each parameter, against its prior."""
    post = pd.read_csv(out / POSTERIOR)
    w = post.pop("weight").to_numpy()
    rows = []
    for key in post.columns:
        x = post[key].to_numpy()
        order = np.argsort(x)
        cdf = np.cumsum(w[order]) / w.sum()
        q = [float(x[order][np.searchsorted(cdf, p)]) for p in (0.05, 0.5, 0.95)]
        rows.append({"parameter": key, "default": PARAM_BY_KEY[key].default,
                     "p05": q[0], "median": q[1], "p95": q[2]})
    return pd.DataFrame(rows)
