"""Global sensitivity as part of validation: a Morris screen over the schema's parameters.

Every numeric parameter of the schema is screened (the behavioural and advanced ones
included) over a band of ±50% around its default, clipped to the range the schema
allows: the schema's ranges are validity bounds (many run to 10⁶), not plausible
values, and ±50% is the band the referee's one-at-a-time analysis used. Skipped, and
listed with the reason: structural parameters (run length, numbers of members or
blocs, the size of the service cohort, which rescales every count) and parameters
whose default is 0 (no band around it).

Each design point is judged on the experiments of :mod:`collabsim.targets` (the survey
population, the generic partnership, POPP, the BCF status quo and pooled budget), all
at the same seed (common random numbers across points). A parameter's influence on an
output is Morris's μ* (mean absolute elementary effect) divided by the output's
standard deviation over the design, so outputs in different units compare; it is
*influential* when that ratio reaches ``threshold`` for any output.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from collabsim.errors import InputError
from collabsim.experiment.design import from_unit
from collabsim.experiment.spec import Factor
from collabsim.schema import PARAM_BY_KEY, PARAMS, Param
from collabsim.targets import Size, distance, outputs

#: Share of the default each side of it that the screen varies a parameter by.
BAND = 0.5

#: Parameters that change what is simulated rather than how: never screened.
STRUCTURAL: dict[str, str] = {
    "scenario.steps": "run length (structural)",
    "population.size": "number of generated members (structural; set by the experiments)",
    "population.blocs": "number of goal blocs (structural)",
    "services.population": "size of the service cohort (rescales every count)",
}

#: The outputs the screen reports (names from :func:`collabsim.targets.outputs`).
OUTPUTS: tuple[str, ...] = (
    "survey_successful", "survey_unsuccessful", "generic_solid_share", "generic_mean_trust",
    "generic_decision_success", "popp_saving_per_pound", "status_quo_bed_days",
    "bcf_trust_change", "bcf_bed_days_change", "calibration_distance",
)

LEVELS = 4  #: Morris grid levels
#: Normalised μ* from which a parameter counts as influential: moving it across its band
#: moves the output by half a standard deviation of its spread over the design.
THRESHOLD = 0.5


def screen_range(p: Param) -> tuple[float, float] | None:
    """The band a parameter is screened over, or None when it has none."""
    if p.default == 0:
        return None
    a, b = sorted(round(p.default * f, 12) for f in (1 - BAND, 1 + BAND))
    if p.low is not None:
        a = max(a, p.low)
    if p.high is not None:
        b = min(b, p.high)
    if p.kind == "int":
        a, b = float(np.ceil(a)), float(np.floor(b))
    return (a, b) if b > a else None


def candidates(keys: Sequence[str] | None = None) -> tuple[list[Factor], dict[str, str]]:
    """The factors to screen and, for every numeric parameter left out, why.

    Args:
        keys: Screen only these (default: every numeric parameter).

    Raises:
        InputError: a key is unknown, not numeric, or has no band to screen.
    """
    factors, skipped = [], {}
    chosen = list(PARAM_BY_KEY) if keys is None else list(keys)
    for key in chosen:
        if key not in PARAM_BY_KEY:
            raise InputError(f"--params: {key!r} is not a known parameter; see "
                             "`collabsim describe --advanced`")
    for p in PARAMS:
        if p.key not in chosen or p.kind not in ("int", "float"):
            continue
        band = screen_range(p)
        why = STRUCTURAL.get(p.key) or (None if band else "default 0: no band around it")
        if why:
            if keys is not None:
                raise InputError(f"--params: {p.key} cannot be screened ({why})")
            skipped[p.key] = why
            continue
        assert band is not None
        factors.append(Factor(p.key, low=band[0], high=band[1], integer=p.kind == "int"))
    if keys is not None:
        wrong = [k for k in chosen if PARAM_BY_KEY[k].kind not in ("int", "float")]
        if wrong:
            raise InputError(f"--params: {wrong[0]} is not numeric; expected numeric "
                             "parameters (see `collabsim describe --advanced`)")
    return factors, skipped


@dataclass
class Screen:
    """A Morris screen's result.

    Attributes:
        factors: The screened parameters and their bands.
        skipped: Numeric parameters not screened, with the reason.
        points: The design, one row per point (parameter values).
        results: The outputs at each point.
        indices: One row per (parameter, output): mu, mu_star, sigma, mu_star_norm.
        ranking: One row per parameter: its largest normalised μ*, the output it is
            reached for, and whether it is influential; most influential first.
        settings: trajectories, replicates, survey, seed, threshold.
    """

    factors: list[Factor]
    skipped: dict[str, str]
    points: pd.DataFrame
    results: pd.DataFrame
    indices: pd.DataFrame
    ranking: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def influential(self) -> list[str]:
        """The influential parameters, most influential first."""
        return list(self.ranking.loc[self.ranking["influential"], "parameter"])


def _evaluate(args: tuple[dict[str, Any], int, Size]) -> dict[str, float]:
    params, seed, size = args
    stats = outputs(params, seed, size)
    stats["calibration_distance"] = distance(stats)
    return {k: stats[k] for k in OUTPUTS}


def evaluate_all(points: list[dict[str, Any]], seed: int, size: Size, workers: int = 1,
                 progress: bool = False) -> list[dict[str, float]]:
    """Outputs at every point, in order; the same whatever the number of workers."""
    from tqdm import tqdm

    jobs = [(p, seed, size) for p in points]
    bar = tqdm(total=len(jobs), disable=not progress, unit="point", leave=False)
    if workers <= 1:
        out = []
        for job in jobs:
            out.append(_evaluate(job))
            bar.update()
    else:
        from collabsim.experiment.engine import _new_pool

        with _new_pool(workers) as pool:
            out = []
            for r in pool.map(_evaluate, jobs, chunksize=1):
                out.append(r)
                bar.update()
    bar.close()
    return out


def morris(keys: Sequence[str] | None = None, trajectories: int = 4, replicates: int = 4,
           survey: int = 20, seed: int = 0, workers: int = 1, threshold: float = THRESHOLD,
           progress: bool = False) -> Screen:
    """Run the Morris screen.

    Args:
        keys: Parameters to screen (default: every numeric schema parameter).
        trajectories: Morris trajectories (the design has trajectories × (k + 1) points).
        replicates: Replicates of each of the generic, POPP and BCF experiments per point.
        survey: Partnerships in the survey population per point.
        seed: Seed of the design and of every run (common random numbers).
        workers: Processes evaluating points; the result does not depend on it.
        threshold: Normalised μ* from which a parameter is influential.
        progress: Show a progress bar.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    factors, skipped = candidates(keys)
    if not factors:
        raise InputError("--params: nothing to screen")
    problem = {"num_vars": len(factors), "names": [f.key for f in factors],
               "bounds": [[0.0, 1.0]] * len(factors)}
    u = morris_sample.sample(problem, trajectories, num_levels=LEVELS, seed=seed % 2**32)
    points = pd.DataFrame({f.key: from_unit(f, u[:, j]) for j, f in enumerate(factors)})
    rows = [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in points.to_dict("records")]
    size = Size(survey=survey, replicates=replicates)
    results = pd.DataFrame(evaluate_all(rows, seed, size, workers, progress))
    records = []
    for name in OUTPUTS:
        y = results[name].to_numpy(dtype=float)
        spread = float(np.nanstd(y, ddof=1)) if len(y) > 1 else 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = morris_analyze.analyze(problem, u, np.nan_to_num(y), num_levels=LEVELS,
                                         num_resamples=100, seed=seed % 2**32)
        for j, f in enumerate(factors):
            mu_star = float(res["mu_star"][j])
            records.append({"parameter": f.key, "output": name, "mu": float(res["mu"][j]),
                            "mu_star": mu_star, "sigma": float(res["sigma"][j]),
                            "mu_star_norm": mu_star / spread if spread > 0 else 0.0})
    indices = pd.DataFrame(records)
    best = indices.loc[indices.groupby("parameter", sort=False)["mu_star_norm"].idxmax()]
    ranking = pd.DataFrame({
        "parameter": best["parameter"].to_numpy(),
        "low": [f.low for f in factors], "high": [f.high for f in factors],
        "source": [PARAM_BY_KEY[f.key].source for f in factors],
        "max_mu_star_norm": best["mu_star_norm"].to_numpy(),
        "output": best["output"].to_numpy()})
    ranking["influential"] = ranking["max_mu_star_norm"] >= threshold
    ranking = ranking.sort_values(["max_mu_star_norm", "parameter"],
                                  ascending=[False, True], kind="stable").reset_index(drop=True)
    settings = {"trajectories": trajectories, "replicates": replicates, "survey": survey,
                "seed": seed, "threshold": threshold, "levels": LEVELS, "band": BAND,
                "points": len(points)}
    return Screen(factors, skipped, points, results, indices, ranking, settings)


def format_screen(screen: Screen, top: int | None = None) -> str:
    """The ranked table the terminal shows."""
    s = screen.settings
    lines = [f"Morris screen: {len(screen.factors)} parameters, {s['trajectories']} "
             f"trajectories ({s['points']} points), {s['replicates']} replicates and "
             f"{s['survey']} survey partnerships per point, seed {s['seed']}",
             f"influence = mu* / standard deviation of the output; influential from "
             f"{s['threshold']:g}", "",
             f"  {'rank':>4}  {'parameter':<44}{'band':>20}  {'influence':>9}  "
             f"{'on output':<26}"]
    rows = screen.ranking if top is None else screen.ranking.head(top)
    for i, r in enumerate(rows.itertuples(), 1):
        band = f"[{r.low:g}, {r.high:g}]"
        mark = "*" if r.influential else " "
        lines.append(f"  {i:>4}{mark} {r.parameter:<44}{band:>20}  {r.max_mu_star_norm:>9.3f}  "
                     f"{r.output:<26}")
    lines += ["", f"influential (*): {len(screen.influential)} of {len(screen.factors)}"]
    if screen.skipped:
        lines.append("not screened: " + "; ".join(f"{k} ({v})"
                                                   for k, v in screen.skipped.items()))
    return "\n".join(lines) + "\n"


def to_json(screen: Screen) -> dict[str, Any]:
    """The screen as plain data."""
    return {
        "settings": screen.settings,
        "outputs": list(OUTPUTS),
        "influential": screen.influential,
        "ranking": screen.ranking.to_dict("records"),
        "skipped": [{"parameter": k, "why": v} for k, v in screen.skipped.items()],
    }
