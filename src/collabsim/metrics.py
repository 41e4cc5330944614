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

if TYPE_CHECKING:
    from collabsim.model import PartnershipModel

@dataclass(frozen=True)
class Metric:
    """One summary metric: what it means, its unit, its range and which way is better.

    Attributes:
        name: Public name (a column of run summaries).
        label: Short plain-language name for reports.
        unit: Unit, in words.
        direction: +1 where more is better, -1 where less is better, 0 where neither
            (an input, or a ratio that must be read beside its amounts); never scored.
        meaning: What it measures, in a sentence a board member can read.
        bounds: Natural range; confidence intervals are clipped to it.
        decimals: Decimal places when shown (fixed point, never scientific notation).
        source: ``run`` (every run), ``services`` (the service-demand submodel) or
            ``compare`` (totals that ``collabsim compare`` adds from the per-step table).
        counted: Says "more"/"fewer" rather than "higher"/"lower".
        fixed_when: Given a scenario, whether the metric is fixed by the rules it runs
            under, so a difference in it holds by definition and is never credited.
        fixed_why: Why, in words.
    """

    name: str
    label: str
    unit: str
    direction: int
    meaning: str
    bounds: tuple[float, float] = (-np.inf, np.inf)
    decimals: int = 3
    source: str = "run"
    counted: bool = False
    fixed_when: Callable[[Any], bool] | None = None
    fixed_why: str = ""

    def fixed(self, scenario: Any) -> bool:
        """Whether this metric holds by definition under ``scenario``."""
        return bool(self.fixed_when and self.fixed_when(scenario))

    def format(self, value: float, sign: bool = False) -> str:
        """Fixed-point text with thousands separators, e.g. ``-26,487`` or ``+0.041``.

        A value too small for the metric's decimals gets up to :data:`EXTRA_DECIMALS`
        more (one significant digit, ``-0.004``), so an interval bound that does not
        reach 0 reads as 0 only when it is smaller still (float noise); such a value,
        like 0 itself, is written without a sign (no ``+0.000`` or ``-0``).
        """
        if not np.isfinite(value):
            return "—"
        decimals = self.decimals
        if round(value, decimals) == 0:
            decimals = next((d for d in range(decimals + 1, decimals + EXTRA_DECIMALS + 1)
                             if round(value, d) != 0), decimals)
            if round(value, decimals) == 0:
                value, sign = 0.0, False
        return f"{value:{'+' if sign else ''},.{decimals}f}"

    def amount(self, value: float, sign: bool = False) -> str:
        """The value with its unit, e.g. ``£12.9m``, ``26,487 bed-days`` or ``0.041``."""
        text = self.format(value, sign)
        if self.unit == "£m":
            body = text.lstrip("+-")
            return f"{text[:len(text) - len(body)]}£{body}m"
        if self.unit in ("share", "score", "index", "ratio"):
            return text
        return f"{text} {self.unit}"


#: Decimals a metric's numbers may gain when a value would otherwise round to 0.
EXTRA_DECIMALS = 3

_UNIT = (0.0, 1.0)
_POSITIVE = (0.0, np.inf)


def _committed(s: Any) -> bool:
    from collabsim.rules.funding import FUNDING

    return FUNDING[s["funding.rule"]].committed


def _no_exit(s: Any) -> bool:
    """A mandate with the hard exit ban, and no forced leaving (the duty as cited allows exits)."""
    return (bool(s["governance.mandated"]) and bool(s["legal_duty.exit_ban"])
            and not any(k.kind == "leave" for k in s.shocks))


#: Every metric, in display order: the one source of their meaning, unit and direction.
REGISTRY: dict[str, Metric] = {m.name: m for m in (
    Metric("collaborative_advantage", "Collaborative advantage", "£m", 1,
           "Value of what joint work produced beyond what the same money would have "
           "produced with each member working alone, over the run. Service value, not "
           "cash: it does not come back to anyone's budget.", decimals=1),
    Metric("advantage_ratio", "Advantage ratio", "ratio", 1,
           "Joint output divided by what working alone would have produced; above 1, "
           "working together pays.", _POSITIVE, decimals=2),
    Metric("inertia", "Inertia", "share", -1,
           "Share of meeting time spent in meetings that decided nothing.", _UNIT),
    Metric("decision_success_rate", "Decisions made", "share", 1,
           "Share of the meetings held that agreed a plan.", _UNIT),
    Metric("acceptability", "Acceptability of plans", "score", 1,
           "How acceptable the agreed plans were to the members, on average (0 to 1).", _UNIT),
    Metric("equity_sd", "Unevenness of plans", "score", -1,
           "How unevenly the agreed plans suited the members: the spread of acceptability "
           "across members.", _POSITIVE),
    Metric("own_acceptability", "Plans against own goals", "score", 1,
           "How acceptable the agreed plans were to members judged by their own goals, not "
           "by the preferences deliberation moved (0 to 1), averaged over the meetings that "
           "decided; blank where none did.", _UNIT),
    Metric("own_equity_sd", "Unevenness against own goals", "score", -1,
           "How unevenly the agreed plans suited members' own goals: the spread across "
           "members, averaged over the meetings that decided; blank where none did.",
           _POSITIVE),
    Metric("mean_trust", "Trust", "score", 1,
           "Average trust between the members still in the partnership at the end (0 to 1).",
           _UNIT),
    Metric("trust_density", "Trusting pairs", "share", 1,
           "Share of pairs of members who trust each other at least moderately (0.5 or more) "
           "at the end.", _UNIT),
    Metric("retention", "Partners retained", "share", 1,
           "Share of the founding members still in the partnership at the end.", _UNIT,
           fixed_when=_no_exit,
           fixed_why="a legal duty with an exit ban forbids leaving, so every partner stays by "
           "definition"),
    Metric("total_contribution", "Money paid in", "£m", 0,
           "Money members paid into joint work over the run: a cost, read with what it "
           "bought.", _POSITIVE, decimals=1),
    Metric("funds_queued", "Money stuck at the hub", "£m", -1,
           "Joint money still waiting, unspent, at the hub at the end: a bottleneck.",
           _POSITIVE, decimals=1),
    Metric("free_riding", "Free riding", "share", -1,
           "Average share of what members were asked to pay that they did not pay.", _UNIT,
           fixed_when=_committed,
           fixed_why="pooled, lead-commissioning and integrated budgets take each share in "
           "advance, so free riding is zero by definition"),
    Metric("net_benefit_gini", "Inequality of benefit", "index", -1,
           "Inequality of the members' net benefits from the partnership (0: equal, "
           "1: one member gets everything).", _UNIT),
    Metric("emergency_bed_days", "Emergency bed-days", "bed-days", -1,
           "Hospital bed-days used by the cohort's emergency admissions over the run, "
           "delayed discharges included.", _POSITIVE, decimals=0, source="services",
           counted=True),
    Metric("delayed_transfer_days", "Delayed transfers", "bed-days", -1,
           "Days people stayed in hospital only because no care package was ready "
           "(delayed transfers of care), over the run.", _POSITIVE, decimals=0,
           source="services", counted=True),
    Metric("unmet_need", "Unmet care need", "person-quarters", -1,
           "People needing a care package on leaving hospital for whom none was "
           "available, summed over quarters.", _POSITIVE, decimals=0, source="services",
           counted=True),
    Metric("prevention_spend", "Prevention spending", "£m", 0,
           "Joint money spent on prevention over the run.", _POSITIVE, decimals=1,
           source="compare"),
    Metric("acute_cost_avoided", "Acute costs avoided", "£m", 0,
           "Acute bed-day costs that prevention avoided over the run, against no "
           "prevention in the same run (not against another option).", _POSITIVE,
           decimals=1, source="compare"),
    Metric("acute_saving_per_pound", "Acute saving per £ of prevention", "£ per £", 0,
           "Acute bed-day costs avoided per £1 spent on prevention, against no prevention "
           "in the same run. A ratio: it rises when less is spent (returns diminish), so "
           "it is shown beside the two amounts it comes from and never scored.",
           _POSITIVE, decimals=2, source="services"),
)}

#: Derived views of :data:`REGISTRY`, kept for the modules that import them.
METRICS: tuple[str, ...] = tuple(k for k, m in REGISTRY.items() if m.source == "run")
SERVICE_METRICS: tuple[str, ...] = tuple(k for k, m in REGISTRY.items()
                                         if m.source == "services")

#: Diagnostics the summary holds besides the metrics; the archetype classifier reads them.
DIAGNOSTICS: tuple[str, ...] = (
    "contribution_rate", "queued_share", "polarisation", "contested_share",
    "key_partner_ditched", "unspent_pot", "total_spent",
)

#: Every key of a run's summary (the service submodel adds SERVICE_METRICS).
SUMMARY: tuple[str, ...] = (*METRICS, *DIAGNOSTICS, "archetype")

#: Natural ranges of the metrics; confidence intervals are clipped to them.
METRIC_BOUNDS: dict[str, tuple[float, float]] = {
    k: m.bounds for k, m in REGISTRY.items() if m.bounds != (-np.inf, np.inf)}
METRIC_DIRECTION: dict[str, int] = {k: m.direction for k, m in REGISTRY.items()}

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


def ratio(num: Any, den: Any) -> Any:
    """``num / den``, or 0 where the denominator is (numerically) zero; elementwise."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    small = np.abs(den) <= EPS
    out = np.where(small, 0.0, num / np.where(small, 1.0, den))
    return float(out) if out.ndim == 0 else out


def gini(x: np.ndarray) -> Any:
    """Gini mean difference normalised by the mean absolute value, in [0, 1].

    Net benefits can be negative, where the textbook Gini is undefined; dividing by
    the mean absolute value keeps the index in [0, 1] and equal to the usual Gini
    when all values are non-negative. Over the last axis (one value per leading row).
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[-1]
    scale = np.abs(x).sum(axis=-1)
    xs = np.sort(x, axis=-1)
    # sum_{i,j} |x_i - x_j| = 2 * sum_i (2i - n - 1) x_(i), with i from 1
    diff = 2.0 * (xs * (2 * np.arange(1, n + 1) - n - 1)).sum(axis=-1)
    ok = (n >= 2) & (scale > EPS)
    out = np.where(ok, np.clip(diff / (2.0 * n * np.where(ok, scale, 1.0)), 0.0, 1.0), 0.0)
    return float(out) if out.ndim == 0 else out


def polarisation(goals: np.ndarray, trust: np.ndarray, active: np.ndarray | None = None
                 ) -> Any:
    """Trust within goal blocs minus trust across them (0 when no two blocs exist).

    Blocs are the two sides of the members' first principal axis of goals. Takes one
    partnership ``(n, D)``, ``(n, n)`` or a batch ``(B, C, D)``, ``(B, C, C)`` with an
    ``active (B, C)`` mask.
    """
    single = goals.ndim == 2
    if single:
        goals, trust = goals[None], trust[None]
    if active is None:
        active = np.ones(goals.shape[:2], dtype=bool)
    n = active.sum(axis=1)
    out = np.zeros(len(goals))
    if goals.shape[1] >= 4 and (n >= 4).any():
        a = active[..., None]
        centre = (goals * a).sum(axis=1, keepdims=True) / np.maximum(n, 1)[:, None, None]
        centred = (goals - centre) * a  # departed members drop out of the axis
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        side = (centred @ vt[:, 0, :, None])[..., 0] > 0
        one, other = (side & active).sum(axis=1), (~side & active).sum(axis=1)
        pairs = active[:, :, None] & active[:, None, :]
        same = (side[:, :, None] == side[:, None, :]) & pairs
        same &= ~np.eye(goals.shape[1], dtype=bool)
        across = (side[:, :, None] != side[:, None, :]) & pairs
        ok = (n >= 4) & (one >= 2) & (other >= 2)
        within = (trust * same).sum(axis=(1, 2)) / np.maximum(same.sum(axis=(1, 2)), 1)
        between = (trust * across).sum(axis=(1, 2)) / np.maximum(across.sum(axis=(1, 2)), 1)
        out = np.where(ok, within - between, 0.0)
    return float(out[0]) if single else out


#: Step-table columns the summary reads.
SUMMARY_COLUMNS = ("joint_output", "solo_output", "meeting_time", "contribution",
                   "asked_total", "free_riding", "spent", "decided", "acceptability",
                   "acceptability_sd", "contested", "mean_trust", "trust_density",
                   "own_acceptability", "own_equity_sd")


def summarise_batch(
    steps: Mapping[str, np.ndarray], founders: Mapping[str, np.ndarray], queue: np.ndarray,
    pot: np.ndarray, polarised: np.ndarray, p: Any,
) -> list[dict[str, Any]]:
    """Summaries of a batch of runs: every metric, the diagnostics and the archetype.

    Args:
        steps: Step-table columns (:data:`SUMMARY_COLUMNS`), ``(T, B)`` each.
        founders: ``(B, F)`` arrays of the founding members: ``power``, ``cum_net``,
            ``active``, ``ditched`` and ``exit_step`` (NaN while a member).
        queue: ``(B,)`` money queued at the hub at the end, £m.
        pot: ``(B,)`` money paid in and not committed at the end, £m.
        polarised: ``(B,)`` :func:`polarisation` at the end.
        p: The scenario.
    """
    # One contiguous row per run: each run's sums are then the same whatever the batch.
    col = {k: np.ascontiguousarray(np.asarray(steps[k], dtype=float).T)
           for k in SUMMARY_COLUMNS}
    B, T = col["meeting_time"].shape
    decided = col["decided"].astype(bool)
    held = col["meeting_time"] > 0
    n_held = held.sum(axis=1)
    n_decided = decided.sum(axis=1)
    joint, solo = col["joint_output"].sum(axis=1), col["solo_output"].sum(axis=1)

    def over(values: np.ndarray, mask: np.ndarray, count: np.ndarray, none: float = 0.0
             ) -> np.ndarray:
        """Mean of ``values`` where ``mask``, per run; ``none`` where nothing is counted."""
        total = np.where(mask, values, 0.0).sum(axis=1)
        return np.where(count > 0, total / np.maximum(count, 1), none)

    fr_seen = ~np.isnan(col["free_riding"])
    total_contribution = col["contribution"].sum(axis=1)
    early = T * p["metrics.early_share"]
    power = np.asarray(founders["power"], dtype=float)
    F = power.shape[1]
    top = (np.quantile(power, p["metrics.key_partner_quantile"], axis=1) if F
           else np.zeros(B))
    key_ditched = (np.asarray(founders["ditched"], dtype=bool)
                   & (np.nan_to_num(founders["exit_step"], nan=np.inf) <= early)
                   & (power >= top[:, None])).any(axis=1)
    metrics = {
        "collaborative_advantage": joint - solo,
        "advantage_ratio": ratio(joint, solo),
        "inertia": ratio(np.where(~decided, col["meeting_time"], 0.0).sum(axis=1),
                         col["meeting_time"].sum(axis=1)),
        "decision_success_rate": over(decided.astype(float), held, n_held),
        "acceptability": over(col["acceptability"], decided, n_decided),
        "equity_sd": over(col["acceptability_sd"], decided, n_decided),
        # Blank (NaN) where no meeting decided: no plan, so no acceptability to own goals.
        "own_acceptability": over(col["own_acceptability"], decided, n_decided, np.nan),
        "own_equity_sd": over(col["own_equity_sd"], decided, n_decided, np.nan),
        "mean_trust": col["mean_trust"][:, -1] if T else np.zeros(B),
        "trust_density": col["trust_density"][:, -1] if T else np.zeros(B),
        "retention": (np.asarray(founders["active"], dtype=float).mean(axis=1) if F
                      else np.zeros(B)),
        "total_contribution": total_contribution,
        "funds_queued": np.asarray(queue, dtype=float),
        "free_riding": over(col["free_riding"], fr_seen, fr_seen.sum(axis=1)),
        "net_benefit_gini": gini(founders["cum_net"]) if F else np.zeros(B),
        "contribution_rate": ratio(total_contribution, col["asked_total"].sum(axis=1)),
        "queued_share": ratio(queue, total_contribution),
        "polarisation": np.asarray(polarised, dtype=float),
        "contested_share": over(col["contested"], held, n_held),
        "key_partner_ditched": key_ditched,
        "unspent_pot": np.asarray(pot, dtype=float),
        "total_spent": col["spent"].sum(axis=1),
    }
    out = []
    for k in range(B):  # one dict per run, after the runs
        row = {name: (bool(v[k]) if v.dtype == bool else float(v[k]))
               for name, v in metrics.items()}
        out.append(row)
    return out


def summarise(model: PartnershipModel) -> dict[str, Any]:
    """The run's summary: every metric, the diagnostics and the archetype.

    A model is a batch of one: this is :func:`summarise_batch` over its replicate.
    """
    return model.summary()


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
         "decisions stall: at least {inertia_stall:.0%} of meeting time was spent in "
         "meetings that decided nothing",
         lambda d, t: d["inertia"] >= t["inertia_stall"]),
    Rule("solid_partnership",
         "none of the above: members stay, decisions are made, money is paid and spent",
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
