"""Per-run summary metrics (brief section 9) and the archetype classifier (section 10).

Metric names are public API: reports, sweeps and checks rely on them. The classifier
is an ordered list of named rules over diagnostics of the run; the first rule that
holds names the run's archetype. Its thresholds are scenario parameters
(``metrics.*`` in :mod:`collabsim.schema`), documented in docs/ODD.md and tested in
tests/test_metrics.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from collabsim.schema import PARAMS
from collabsim.services import SERVICE_METRICS

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

#: Summary metrics, in display order (brief section 9). ``archetype`` is categorical.
METRICS: tuple[str, ...] = (
    "collaborative_advantage",
    "advantage_ratio",
    "inertia",
    "decision_success_rate",
    "acceptability",
    "equity_sd",
    "mean_trust",
    "trust_density",
    "retention",
    "total_contribution",
    "funds_queued",
    "free_riding",
    "net_benefit_gini",
)

#: Diagnostics the summary holds besides the metrics; the archetype classifier reads them.
DIAGNOSTICS: tuple[str, ...] = (
    "contribution_rate", "queued_share", "polarisation", "contested_share",
    "key_partner_ditched", "unspent_pot", "total_spent",
)

#: Every key of a run's summary (the service submodel adds SERVICE_METRICS).
SUMMARY: tuple[str, ...] = (*METRICS, *DIAGNOSTICS, "archetype")

#: Natural ranges of the metrics; confidence intervals are clipped to them.
METRIC_BOUNDS: dict[str, tuple[float, float]] = {
    **{m: (0.0, 1.0) for m in ("inertia", "decision_success_rate", "acceptability",
                               "mean_trust", "trust_density", "retention", "free_riding",
                               "net_benefit_gini")},
    **{m: (0.0, np.inf) for m in ("equity_sd", "total_contribution", "funds_queued",
                                  *SERVICE_METRICS)},
}

#: +1 where more is better, -1 where less is better, 0 where neither (for comparisons).
METRIC_DIRECTION: dict[str, int] = {
    "collaborative_advantage": 1, "advantage_ratio": 1, "inertia": -1,
    "decision_success_rate": 1, "acceptability": 1, "equity_sd": -1, "mean_trust": 1,
    "trust_density": 1, "retention": 1, "total_contribution": 0, "funds_queued": -1,
    "free_riding": -1, "net_benefit_gini": -1, "emergency_bed_days": -1,
    "delayed_transfer_days": -1, "unmet_need": -1, "acute_saving_per_pound": 1,
}

ARCHETYPES: tuple[str, ...] = (
    "solid_partnership",
    "collaborative_inertia",
    "narrow_funnel",
    "tug_of_war",
    "amicable_divorce",
    "ditch_and_run",
    "tokenism",
)


EPS = 1e-12  # sums of money (in £m) below this count as zero


def ratio(num: float, den: float) -> float:
    """``num / den``, or 0 when the denominator is (numerically) zero."""
    return float(num / den) if abs(den) > EPS else 0.0


def gini(x: np.ndarray) -> float:
    """Gini mean difference normalised by the mean absolute value, in [0, 1].

    Net benefits can be negative, where the textbook Gini is undefined; dividing by
    the mean absolute value keeps the index in [0, 1] and equal to the usual Gini
    when all values are non-negative.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    scale = np.abs(x).sum()
    if n < 2 or scale <= EPS:
        return 0.0
    xs = np.sort(x)
    # sum_{i,j} |x_i - x_j| = 2 * sum_i (2i - n - 1) x_(i), with i from 1
    diff = 2.0 * np.dot(2 * np.arange(1, n + 1) - n - 1, xs)
    return float(np.clip(diff / (2.0 * n * scale), 0.0, 1.0))


def polarisation(goals: np.ndarray, trust: np.ndarray) -> float:
    """Trust within goal blocs minus trust across them (0 when no two blocs exist).

    Blocs are the two sides of the members' first principal axis of goals.
    """
    n = len(goals)
    if n < 4:
        return 0.0
    centred = goals - goals.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    side = centred @ vt[0] > 0
    if side.sum() < 2 or (~side).sum() < 2:
        return 0.0
    same = side[:, None] == side[None, :]
    off = ~np.eye(n, dtype=bool)
    return float(trust[same & off].mean() - trust[~same].mean())


def summarise(model: PartnershipModel) -> dict[str, Any]:
    """The run's summary: every metric, the diagnostics and the archetype."""
    h = model.history
    steps = len(h)
    col = {k: np.array([r[k] for r in h], dtype=float) for k in (
        "joint_output", "solo_output", "meeting_time", "contribution", "asked_total",
        "free_riding", "spent")}
    decided = np.array([r["decided"] for r in h], dtype=bool)
    held = col["meeting_time"] > 0
    joint, solo = col["joint_output"].sum(), col["solo_output"].sum()
    time_total = col["meeting_time"].sum()
    dec_acc = np.array([r["acceptability"] for r in h if r["decided"]], dtype=float)
    dec_sd = np.array([r["acceptability_sd"] for r in h if r["decided"]], dtype=float)
    contested = np.array([r["contested"] for r in h], dtype=bool)
    last = h[-1] if h else {}
    founders = model.founders
    fr = col["free_riding"][~np.isnan(col["free_riding"])] if steps else np.empty(0)
    cum_net = np.array([a.cum_net for a in founders])
    total_contribution = float(col["contribution"].sum())
    p = model.p
    early = steps * p["metrics.early_share"]
    top_power = (np.quantile([a.power for a in founders], p["metrics.key_partner_quantile"])
                 if founders else 0.0)
    key_ditched = any(
        a.exit_reason == "ditched" and a.exit_step is not None and a.exit_step <= early
        and a.power >= top_power
        for a in founders
    )
    out: dict[str, Any] = {
        "collaborative_advantage": float(joint - solo),
        "advantage_ratio": ratio(joint, solo),
        "inertia": ratio(col["meeting_time"][~decided].sum(), time_total),
        "decision_success_rate": float(decided[held].mean()) if held.any() else 0.0,
        "acceptability": float(dec_acc.mean()) if dec_acc.size else 0.0,
        "equity_sd": float(dec_sd.mean()) if dec_sd.size else 0.0,
        "mean_trust": float(last.get("mean_trust", 0.0)),
        "trust_density": float(last.get("trust_density", 0.0)),
        "retention": float(np.mean([a.active for a in founders])) if founders else 0.0,
        "total_contribution": total_contribution,
        "funds_queued": float(model.queue),
        "free_riding": float(fr.mean()) if fr.size else 0.0,
        "net_benefit_gini": gini(cum_net),
        "contribution_rate": ratio(total_contribution, col["asked_total"].sum()),
        "queued_share": ratio(model.queue, total_contribution),
        "polarisation": polarisation(model.goals, model.trust),
        "contested_share": float(contested[held].mean()) if held.any() else 0.0,
        "key_partner_ditched": bool(key_ditched),
        "unspent_pot": float(model.pot),
        "total_spent": float(col["spent"].sum()),
    }
    if model.services is not None:
        out.update(model.services.summary())
    out["archetype"] = classify(out, p.params)
    return out


#: The classifier's thresholds by name (``metrics.<name>``), at their defaults.
THRESHOLDS: dict[str, float] = {
    p.name: p.default for p in PARAMS if p.section == "metrics"
}


@dataclass(frozen=True)
class Rule:
    """One archetype rule: a name, a plain-language reading, and its test.

    ``reading`` is formatted with the thresholds; ``test`` takes the diagnostics and
    the thresholds.
    """

    archetype: str
    reading: str
    test: Callable[[Mapping[str, Any], Mapping[str, float]], bool]


#: Ordered rules; the first that holds wins. Thresholds are parameters of the model.
RULES: tuple[Rule, ...] = (
    Rule("ditch_and_run",
         "a key partner (power at or above the founders' {key_partner_quantile:.0%} quantile) "
         "handed over its responsibilities and left in the first {early_share:.0%} of the run",
         lambda d, t: d["key_partner_ditched"]),
    Rule("amicable_divorce",
         "fewer than {divorce_retention:.0%} of the founding members remain at the end",
         lambda d, t: d["retention"] < t["divorce_retention"]),
    Rule("narrow_funnel",
         "at least {funnel_queued_share:.0%} of all money contributed is still queued at the "
         "hub at the end",
         lambda d, t: d["queued_share"] >= t["funnel_queued_share"]),
    Rule("tug_of_war",
         "trust within goal blocs exceeds trust across them by at least {tug_polarisation:g} "
         "and at least {tug_contested:.0%} of meetings end contested or undecided",
         lambda d, t: d["polarisation"] >= t["tug_polarisation"]
         and (d["contested_share"] + 1 - d["decision_success_rate"]) >= t["tug_contested"]),
    Rule("tokenism",
         "meetings decide, but members pay less than {tokenism_contribution:.0%} of what is "
         "asked of them",
         lambda d, t: d["contribution_rate"] < t["tokenism_contribution"]
         and d["decision_success_rate"] >= t["tokenism_decisions"]),
    Rule("collaborative_inertia",
         "decisions stall (under {inertia_decisions:.0%} of meetings decide), joint output "
         "barely beats working alone (advantage ratio under {inertia_advantage:g}), or trust "
         "is low (under {inertia_trust:g})",
         lambda d, t: d["decision_success_rate"] < t["inertia_decisions"]
         or d["advantage_ratio"] < t["inertia_advantage"]
         or d["mean_trust"] < t["inertia_trust"]),
    Rule("solid_partnership",
         "sustained advantage, members retained, trust at least moderate",
         lambda d, t: True),
)
assert {r.archetype for r in RULES} == set(ARCHETYPES)


def thresholds(params: Mapping[str, Any] | None = None) -> dict[str, float]:
    """The classifier's thresholds from a scenario's parameters (default: the defaults)."""
    if params is None:
        return THRESHOLDS
    return {name: params[f"metrics.{name}"] for name in THRESHOLDS}


def classify(diagnostics: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> str:
    """Name the archetype of a run from its summary metrics and diagnostics.

    Args:
        diagnostics: The run's summary.
        params: The scenario's parameters, for its ``metrics.*`` thresholds; the
            defaults when left out.
    """
    t = thresholds(params)
    for rule in RULES:
        if rule.test(diagnostics, t):
            return rule.archetype
    raise AssertionError("the last rule always holds")  # pragma: no cover


def explain(diagnostics: Mapping[str, Any], params: Mapping[str, Any] | None = None) -> str:
    """Plain-language reason for the archetype ``classify`` gives."""
    name = classify(diagnostics, params)
    return next(r.reading for r in RULES if r.archetype == name).format(**thresholds(params))
