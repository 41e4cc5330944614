"""Validation as a filter (Grimm et al. 2005): every pattern, its class and its check.

A pattern is one of three classes, and only one of them counts as evidence:

- a *design property* holds by construction (an accounting identity or a code rule):
  it is tested, so a broken build is caught, but it is not evidence;
- a *calibration target* is a published figure the behavioural parameters are (or will
  be) fitted to: its fit is reported, never claimed as validation;
- an *independent pattern* is a published finding the model is not built to satisfy and
  that nothing is fitted to. It is judged across a population of contexts (a seeded
  Latin hypercube over size, initial trust, goal conflict, power inequality and
  austerity, plus governance mode and decision rule where the pattern is about
  something else), not at one chosen point, and it passes when it holds in at least
  :data:`PASS_SHARE` of them. Each names the mechanism that should produce it
  (:attr:`Pattern.ablation`: schema parameters set to their neutral value); the tests
  show the check fails with that mechanism switched off.

No pattern sets a behavioural parameter on the default model, and no pattern has a
mechanism or a parameter of its own. Runs use the public API (:func:`collabsim.run`,
:func:`~collabsim.runner.run_replicates`, :meth:`Scenario.with_overrides`), so they
draw whatever parameters the default model draws.

``collabsim patterns`` runs them all; ``make validate`` writes ``docs/validation.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from collabsim.runner import mean_ci, replicate_seed, run, run_replicates
from collabsim.scenario import Scenario, Shock, bundled_scenarios, load_scenario
from collabsim.schema import PARAM_BY_KEY
from collabsim.targets import SURVEY, survey_members

SCENARIOS = bundled_scenarios()
SEED = 2026

DESIGN = "design property"
CALIBRATION = "calibration target"
INDEPENDENT = "independent pattern"
CLASSES = (DESIGN, CALIBRATION, INDEPENDENT)

#: Share of contexts in which an independent pattern must hold to pass.
PASS_SHARE = 0.8

#: The population of contexts: each axis with its range (a Latin hypercube over them).
CONTEXT_AXES: dict[str, tuple[float, float]] = {
    "population.size": (4, 16),
    "population.initial_trust": (0.2, 0.8),
    "population.goal_conflict": (0.1, 0.9),
    "population.power_inequality": (0.1, 0.8),
    "environment.austerity": (0.0, 0.08),
}
#: Categorical axes, used where the pattern is about something else.
CONTEXT_CHOICES: dict[str, tuple[str, ...]] = {
    "governance.mode": ("shared", "lead", "nao"),
    "governance.decision_rule": ("majority", "supermajority", "unanimity"),
}


@dataclass(frozen=True)
class Design:
    """How big a check is: contexts (independent patterns) and replicates per arm."""

    contexts: int
    replicates: int
    seed: int = SEED


QUICK = Design(contexts=6, replicates=4)
FULL = Design(contexts=32, replicates=10)


@dataclass
class Result:
    """The outcome of one pattern check.

    Attributes:
        key: The pattern's name.
        title: Short title.
        cls: Its class (:data:`CLASSES`).
        source: Where the pattern comes from, by name.
        statement: What must hold, as tested.
        effect: The effect in natural units (``unit``).
        interval: Its 95% interval.
        unit: What the effect measures.
        holds: Whether the pattern holds (independent: in ≥ :data:`PASS_SHARE` of contexts;
            calibration: the fit lies in the target; design: the property holds).
        share_of_contexts: Share of contexts where it holds (independent patterns only).
        table: One row per context (independent) or the check's summary table.
        note: What the result means, or why it fails.
        variant: The schema overrides it ran under (empty: the default model).
    """

    key: str
    title: str
    cls: str
    source: str
    statement: str
    effect: float
    interval: tuple[float, float]
    unit: str
    holds: bool
    share_of_contexts: float | None
    table: pd.DataFrame
    note: str = ""
    variant: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The fields ``collabsim patterns --json`` prints."""
        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        return {"key": self.key, "title": self.title, "class": self.cls,
                "source": self.source, "statement": self.statement,
                "effect": num(self.effect), "interval": [num(v) for v in self.interval],
                "unit": self.unit, "share_of_contexts": num(self.share_of_contexts),
                "holds": self.holds, "note": self.note, "variant": self.variant}


# Contexts and runs ---------------------------------------------------------------------
def contexts(n: int, seed: int = SEED, about: Sequence[str] = (),
             regions: Sequence[Mapping[str, tuple[float, float]]] = ()) -> list[dict[str, Any]]:
    """``n`` contexts from a seeded Latin hypercube, leaving out the axes in ``about``.

    Numeric axes span :data:`CONTEXT_AXES`; categorical ones (:data:`CONTEXT_CHOICES`)
    are read off further columns of the same hypercube, so each choice gets an equal
    share of the contexts. With ``regions``, the contexts are split evenly between them
    and each region narrows the ranges of the axes it names (a stratified design, for a
    pattern whose prediction differs between regions).
    """
    from scipy.stats import qmc

    numeric = [k for k in CONTEXT_AXES if k not in about]
    choices = [k for k in CONTEXT_CHOICES if k not in about]
    u = qmc.LatinHypercube(d=len(numeric) + len(choices), seed=seed).random(n)
    out = []
    for i, row in enumerate(u):
        ctx: dict[str, Any] = {}
        region = regions[i * len(regions) // n] if regions else {}
        for j, key in enumerate(numeric):
            lo, hi = region.get(key, CONTEXT_AXES[key])
            value = lo + row[j] * (hi - lo)
            ctx[key] = round(value) if key == "population.size" else round(float(value), 4)
        for j, key in enumerate(choices):
            options = CONTEXT_CHOICES[key]
            ctx[key] = options[min(int(row[len(numeric) + j] * len(options)), len(options) - 1)]
        out.append(ctx)
    return out


def generic(**overrides: Any) -> Scenario:
    """The generic generated partnership, with ``overrides``."""
    base = load_scenario(SCENARIOS / "generic.toml")
    return base.with_overrides(overrides) if overrides else base


def context_seed(seed: int, index: int) -> int:
    """The base seed of context ``index``.

    Arms within a context share it (common random numbers); contexts get independent
    streams.
    """
    return int(np.random.SeedSequence(seed, spawn_key=(10_000 + index,)).generate_state(1)[0])


def _legal(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Drop combinations the scenario language forbids (a lead decides only with a lead)."""
    out = dict(overrides)
    if out.get("governance.decision_rule") == "lead_decides" and \
            out.get("governance.mode", "shared") == "shared":
        out["governance.decision_rule"] = "majority"
    return out


# Independent patterns ------------------------------------------------------------------
#: What one context's check returns: the effect there, whether the pattern holds there,
#: and any columns worth showing.
Verdict = tuple[float, bool, dict[str, float]]


def _differences(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> np.ndarray:
    """Paired differences b − a in ``metric``, replicate by replicate (NaN pairs left out)."""
    d = b[metric].to_numpy(dtype=float) - a[metric].to_numpy(dtype=float)
    return d[np.isfinite(d)]


def _paired(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> float:
    """Mean over replicates of b − a in ``metric`` (NaN pairs left out)."""
    d = _differences(a, b, metric)
    return float(d.mean()) if d.size else math.nan


def _not_lower(a: pd.DataFrame, b: pd.DataFrame, metric: str) -> bool:
    """Whether b is *not significantly* below a in ``metric``, paired by replicate.

    A secondary condition ("does not lower decision success") fails only where the paired
    differences' 95% interval (mean ± Student's t quantile × standard error) lies wholly
    below zero, so that Monte Carlo noise in a quantity the contrast leaves unchanged does
    not count as a failure. With fewer than two pairs, the mean must not be negative.
    """
    d = _differences(a, b, metric)
    if d.size < 2:
        return bool(d.size == 0 or d.mean() >= 0)
    t = float(stats.t.ppf(0.975, d.size - 1))
    return bool(d.mean() + t * d.std(ddof=1) / math.sqrt(d.size) >= 0)


def _arms(s: Scenario, arms: Sequence[Mapping[str, Any]], n: int, seed: int,
          own: bool = False) -> list[pd.DataFrame]:
    return [run_replicates(s.with_overrides(_legal(arm)), n, seed)
            for arm in arms]


def _raises_keeping(s: Scenario, arms: Sequence[Mapping[str, Any]], n: int, seed: int,
                    raised: str, kept: str, kept_name: str) -> Verdict:
    """The second arm raises ``raised`` and does not significantly lower ``kept``.

    The effect is the mean paired rise in ``raised``; ``kept_name`` names the mean paired
    change in ``kept`` among the context's figures.
    """
    a, b = _arms(s, arms, n, seed)
    effect = _paired(a, b, raised)
    return effect, bool(effect > 0 and _not_lower(a, b, kept)), {
        kept_name: _paired(a, b, kept)}


def judge_deliberation(s: Scenario, n: int, seed: int) -> Verdict:
    """Four deliberation rounds against none: decisions and own acceptability."""
    return _raises_keeping(s, [{"governance.deliberation_rounds": 0},
                               {"governance.deliberation_rounds": 4}], n, seed,
                           "own_acceptability", "decision_success_rate", "d_decision_success")


def judge_decision_rules(s: Scenario, n: int, seed: int) -> Verdict:
    """Majority against unanimity: decision success and equity_sd."""
    return _raises_keeping(s, [{"governance.decision_rule": "unanimity"},
                               {"governance.decision_rule": "majority"}], n, seed,
                           "equity_sd", "decision_success_rate", "d_decision_success")


def judge_rules_power(s: Scenario, n: int, seed: int) -> Verdict:
    """Majority's extra equity_sd under unequal against equal power."""
    gaps = []
    for power in (0.1, 0.8):
        una, maj = _arms(s, [{"governance.decision_rule": "unanimity",
                              "population.power_inequality": power},
                             {"governance.decision_rule": "majority",
                              "population.power_inequality": power}], n, seed)
        gaps.append(_paired(una, maj, "equity_sd"))
    effect = gaps[1] - gaps[0]
    return effect, bool(effect > 0), {"equity_gap_equal_power": gaps[0],
                                      "equity_gap_unequal_power": gaps[1]}


#: Where Provan & Kenis expect shared governance to fit: few members, high trust
#: density, high goal consensus (the cut-offs are judgement). Half the contexts of the
#: governance-fit pattern are drawn from here.
FITS_SHARED: dict[str, tuple[float, float]] = {
    "population.size": (4, 8), "population.initial_trust": (0.5, 0.8),
    "population.goal_conflict": (0.1, 0.5)}


def _fits_shared(s: Scenario) -> bool:
    return all(lo <= s[key] <= hi for key, (lo, hi) in FITS_SHARED.items())


def judge_governance_fit(s: Scenario, n: int, seed: int) -> Verdict:
    """Shared, lead and NAO: does the mode Provan & Kenis expect to fit do best?"""
    shared, lead, nao = _arms(s, [{"governance.mode": m} for m in ("shared", "lead", "nao")],
                              n, seed)
    ratio = {m: float(r["advantage_ratio"].mean())
             for m, r in (("shared", shared), ("lead", lead), ("nao", nao))}
    gap = ratio["shared"] - max(ratio["lead"], ratio["nao"])
    fits = _fits_shared(s)
    effect = gap if fits else -gap
    return effect, bool(effect > 0), {"shared_fits": float(fits), **{
        f"advantage_ratio_{m}": v for m, v in ratio.items()}}


def judge_prehistory(s: Scenario, n: int, seed: int) -> Verdict:
    """Initial trust 0.8 against 0.2: advantage ratio and retention."""
    return _raises_keeping(s, [{"population.initial_trust": 0.2},
                               {"population.initial_trust": 0.8}], n, seed,
                           "advantage_ratio", "retention", "d_retention")


def judge_size(s: Scenario, n: int, seed: int) -> Verdict:
    """Double the context's size: advantage ratio and decision success."""
    size = s["population.size"]
    small, big = _arms(s, [{"population.size": size}, {"population.size": 2 * size}], n, seed)
    d_ratio = _paired(small, big, "advantage_ratio")
    d_success = _paired(small, big, "decision_success_rate")
    return d_ratio, bool(d_ratio < 0 or d_success < 0), {"d_decision_success": d_success}


#: Inertia (share of meeting time spent in meetings that decided nothing) from which a
#: run counts as stalled, and the share of stalled runs that makes inertia common in a
#: context (judgement: "a quarter of the time wasted, in one run in four").
STALLED = 0.25
COMMON = 0.25


def judge_inertia(s: Scenario, n: int, seed: int) -> Verdict:
    """Share of runs whose meetings stall."""
    runs = run_replicates(s, n, seed)
    stalled = float((runs["inertia"] >= STALLED).mean())
    return stalled, bool(stalled >= COMMON), {"mean_inertia": float(runs["inertia"].mean())}


def judge_low_conflict(s: Scenario, n: int, seed: int) -> Verdict:
    """Goal conflict 0.1 against 0.9: decision success."""
    low, high = _arms(s, [{"population.goal_conflict": 0.1},
                          {"population.goal_conflict": 0.9}], n, seed)
    at_low = float(low["decision_success_rate"].mean())
    effect = -_paired(low, high, "decision_success_rate")
    return effect, bool(at_low >= 0.9 and effect > 0), {"decision_success_low_conflict": at_low}


def judge_mandate(s: Scenario, n: int, seed: int) -> Verdict:
    """A legal duty against none: advantage ratio."""
    vol, man = _arms(s, [{"governance.mandated": False}, {"governance.mandated": True}], n, seed)
    d = _paired(vol, man, "advantage_ratio")
    return d, bool(d > 0), {"d_collaborative_advantage": _paired(vol, man,
                                                                 "collaborative_advantage")}


def judge_facilitation(s: Scenario, n: int, seed: int) -> Verdict:
    """Facilitation 0.6 against none: trust and decision success."""
    return _raises_keeping(s, [{"governance.facilitation": 0.0},
                               {"governance.facilitation": 0.6}], n, seed,
                           "mean_trust", "decision_success_rate", "d_decision_success")


# Design properties and calibration targets ---------------------------------------------
#: What a whole check returns: effect, its 95% interval, whether it holds, its table and
#: a note (empty when it holds).
Outcome = tuple[float, tuple[float, float], bool, pd.DataFrame, str]
Check = Callable[["Design", Mapping[str, Any]], Outcome]


def check_narrow_funnel(d: Design, over: Mapping[str, Any]) -> Outcome:
    """A lead hub of £2m against £16m a quarter: queues and advantage ratio."""
    base = generic(**{"governance.mode": "lead", "funding.rule": "pooled", **over})
    arms = {cap: run_replicates(base.with_overrides({"governance.admin_capacity": cap}),
                                d.replicates, d.seed) for cap in (2.0, 16.0)}
    diff = (arms[16.0]["advantage_ratio"] - arms[2.0]["advantage_ratio"]).to_numpy()
    mean, lo, hi = mean_ci(diff)
    queued = arms[2.0]["funds_queued"].mean() > arms[16.0]["funds_queued"].mean()
    table = pd.DataFrame({"admin_capacity": [2.0, 16.0],
                          "funds_queued": [arms[c]["funds_queued"].mean() for c in arms],
                          "advantage_ratio": [arms[c]["advantage_ratio"].mean() for c in arms]})
    return mean, (lo, hi), bool(queued and lo > 0), table, ""


def check_mandated_stay(d: Design, over: Mapping[str, Any]) -> Outcome:
    """Under a hard duty (the exit ban) no founder leaves, even under pressure."""
    s = generic(**{"environment.austerity": 0.08, "population.initial_trust": 0.2,
                   "population.goal_conflict": 0.7, "governance.mandated": True,
                   "legal_duty.exit_ban": True, **over})
    runs = run_replicates(s, d.replicates * 2, d.seed)
    low = float(runs["retention"].min())
    mean, lo, hi = mean_ci(runs["retention"].to_numpy(dtype=float))
    table = pd.DataFrame({"statistic": ["least retention", "mean retention"],
                          "value": [low, mean]})
    return mean, (lo, hi), bool(low == 1.0), table, ""


def check_trust_asymmetry(d: Design, over: Mapping[str, Any]) -> Outcome:
    """Quarters to rebuild half the trust a scandal destroys."""
    calm = generic(**{"environment.scandal_rate": 0.0, "environment.turnover_rate": 0.0,
                      **over})
    # the same scenario, pins included (a round trip through a file would pin every key)
    shocked = replace(calm, shocks=(Shock(step=10, kind="scandal", size=0.5,
                                          target="health"),))
    recover = []
    for k in range(d.replicates):
        seq = replicate_seed(d.seed, k)
        hit = run(shocked, seq).steps["mean_trust"].to_numpy()
        free = run(calm, seq).steps["mean_trust"].to_numpy()
        gap = (free - hit)[9:]  # from step 10, the first quarter felt
        half = np.flatnonzero(gap <= gap[0] / 2)
        recover.append(float(half[0]) if half.size else float(len(gap)))
    mean, lo, hi = mean_ci(np.array(recover))
    table = pd.DataFrame({"replicate": range(len(recover)), "quarters_to_half": recover})
    return mean, (lo, hi), bool(mean > 1.0), table, ""


def check_bcf(d: Design, over: Mapping[str, Any]) -> Outcome:
    """Northvale's status quo against its pooled budget, as the NAO stated the finding."""
    status = load_scenario(SCENARIOS / "policy" / "status_quo.toml")
    pooled = load_scenario(SCENARIOS / "policy" / "pooled_budget.toml")
    if over:
        status, pooled = status.with_overrides(over), pooled.with_overrides(over)
    n = d.replicates * 3
    a, b = run_replicates(status, n, d.seed), run_replicates(pooled, n, d.seed)
    rows = []
    for metric in ("mean_trust", "decision_success_rate", "emergency_bed_days",
                   "delayed_transfer_days"):
        mean, lo, hi = mean_ci(b[metric].to_numpy(float) - a[metric].to_numpy(float))
        rows.append({"metric": metric, "status_quo": float(a[metric].mean()),
                     "pooled_budget": float(b[metric].mean()), "difference": mean,
                     "ci_low": lo, "ci_high": hi,
                     "relative": mean / abs(float(a[metric].mean()) or 1.0)})
    table = pd.DataFrame(rows).set_index("metric")
    trust_up = table.loc["mean_trust", "ci_low"] > 0
    # "Did not fall": no significant reduction (the interval of the change reaches 0).
    beds_flat = table.loc["emergency_bed_days", "ci_low"] <= 0 <= \
        table.loc["emergency_bed_days", "ci_high"] or table.loc["emergency_bed_days",
                                                                "ci_low"] > 0
    delays_flat = table.loc["delayed_transfer_days", "ci_high"] >= 0
    holds = bool(trust_up and beds_flat and delays_flat)
    row = table.loc["delayed_transfer_days"]

    def cut(metric: str) -> str:
        r = table.loc[metric]
        return (f"{metric.replace('_', ' ')} by {-r['relative']:.0%} ({-r['difference']:,.0f}, "
                f"95% CI {-r['ci_high']:,.0f} to {-r['ci_low']:,.0f})")

    cuts = [cut(m) for m, flat in (("emergency_bed_days", beds_flat),
                                   ("delayed_transfer_days", delays_flat)) if not flat]
    note = "" if holds else (
        "Not reproduced: pooling Northvale's budgets "
        + ("raises trust" if trust_up else "does not raise trust significantly")
        + (" but significantly cuts " + " and ".join(cuts) if cuts else "")
        + "; the NAO found joint working improved while admissions and delayed days rose.")
    return (float(row["difference"]), (float(row["ci_low"]), float(row["ci_high"])), holds,
            table.reset_index(), note)


def check_popp(d: Design, over: Mapping[str, Any]) -> Outcome:
    """Acute saving per £1 of prevention in the POPP-like scenario."""
    s = load_scenario(SCENARIOS / "policy" / "popp_pilot.toml")
    runs = run_replicates(s.with_overrides(over) if over else s, d.replicates * 2, d.seed)
    mean, lo, hi = mean_ci(runs["acute_saving_per_pound"].to_numpy())
    table = pd.DataFrame({"statistic": ["mean", "ci_low", "ci_high", "min", "max"],
                          "acute_saving_per_pound": [mean, lo, hi,
                                                     runs["acute_saving_per_pound"].min(),
                                                     runs["acute_saving_per_pound"].max()]})
    holds = bool(lo >= 0.7 and hi <= 1.6)
    note = "" if holds else (f"Fit not reached: {mean:.2f} saved per £1 (95% interval {lo:.2f} "
                             f"to {hi:.2f}); the check asks for the interval within 0.70 to 1.60.")
    return mean, (lo, hi), holds, table, note


def check_survey(d: Design, over: Mapping[str, Any]) -> Outcome:
    """Success and failure shares across the survey population, by sector."""
    # The survey population runs at the parameter set it is given when calibration reads
    # it; validation judges it as any run is made: on the ensemble unless ``over`` says.
    where = {"scenario.parameters": PARAM_BY_KEY["scenario.parameters"].default, **over}
    df = survey_members(d.contexts * 8, d.seed, over=where)
    table = (df.groupby("sector")["judgement"].value_counts(normalize=True).unstack(fill_value=0)
             .reindex(columns=["successful", "mixed", "unsuccessful"], fill_value=0))
    table["survey_successful"] = [SURVEY[s][0] for s in table.index]
    table["survey_unsuccessful"] = [SURVEY[s][1] for s in table.index]
    overall = float((df["judgement"] == "successful").mean())
    failed = float((df["judgement"] == "unsuccessful").mean())
    rng = np.random.default_rng(d.seed)
    boot = [float((rng.choice(df["judgement"].to_numpy(), len(df)) == "successful").mean())
            for _ in range(200)]
    lo, hi = float(np.quantile(boot, 0.025)), float(np.quantile(boot, 0.975))
    off = (table["successful"] - table["survey_successful"]).abs()
    misfits = [f"{sector} ({table.loc[sector, 'successful']:.0%} v. "
               f"{table.loc[sector, 'survey_successful']:.0%})" for sector in off[off > 0.10].index]
    holds = bool(0.57 <= overall <= 0.72 and not misfits and 0.04 <= failed <= 0.22)
    note = "" if holds else (
        f"Fit not reached: {overall:.0%} of members judge their partnership successful and "
        f"{failed:.0%} unsuccessful"
        + (f"; sectors more than 10 points from the survey: {', '.join(misfits)}"
           if misfits else "") + ".")
    return overall, (lo, hi), holds, table.reset_index(), note


# The registry ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Pattern:
    """One pattern: what it says, where from, how it is checked and what it takes.

    Attributes:
        key: Name (``collabsim patterns`` and the tests use it).
        title: Short title.
        cls: Its class (:data:`CLASSES`).
        source: The published source, by name.
        statement: What must hold, as tested.
        unit: What the effect measures, in natural units.
        takes: What the model takes from the source.
        judgement: What in the check is the modellers' judgement.
        judge: Independent patterns: the check in one context.
        about: Context axes the pattern varies itself (left out of its contexts).
        check: Design properties and calibration targets: the whole check.
        ablation: Independent patterns: the mechanism that should produce it, switched
            off (schema parameters at their neutral value).
        mechanism: That mechanism, in words.
        regions: Independent patterns: strata of the contexts (see :func:`contexts`).
        limits: What the check cannot show.
    """

    key: str
    title: str
    cls: str
    source: str
    statement: str
    unit: str
    takes: str
    judgement: str
    judge: Callable[[Scenario, int, int], Verdict] | None = None
    about: tuple[str, ...] = ()
    check: Check | None = None
    ablation: Mapping[str, Any] = field(default_factory=dict)
    mechanism: str = ""
    regions: tuple[Mapping[str, tuple[float, float]], ...] = ()
    limits: str = ""


#: Members accept any plan: voting on acceptability switched off.
#: Any plan is accepted at the table and stands without sign-off at home.
ACCEPT_ANY = {"dynamics.acceptance_threshold": 0.0, "dynamics.trust_acceptance_bonus": 0.0,
              "ratification.enabled": False}
#: How a pattern's "does not lower" condition is judged (:func:`_not_lower`).
NOT_LOWER = "the paired difference's 95% interval reaches 0"
ANY_PLAN = ("members and their home organisations judge plans by acceptability "
            "(acceptance_threshold and trust_acceptance_bonus 0, ratification off: any plan "
            "is accepted and stands)")

PATTERNS: tuple[Pattern, ...] = (
    # --- independent patterns ----------------------------------------------------------
    Pattern(
        "deliberation", "More deliberation, more and better decisions", INDEPENDENT,
        "Choi & Robertson (2014)",
        "four deliberation rounds before the vote, against none, do not lower decision "
        "success and raise the acceptability of adopted plans judged against members' own "
        "goals, over the meetings that decided",
        "own acceptability (0-1), 4 rounds minus none",
        "that deliberation moves what members understand of the shared problem, and "
        "that success is measured by decisions and their acceptability in forums that "
        "decide",
        "four rounds as 'more deliberation'; any rise counts; 'does not lower' as not "
        f"significantly lower ({NOT_LOWER}); a context where no meeting decides without "
        "deliberation has nothing to compare and counts as not holding",
        judge=judge_deliberation, about=("governance.deliberation_rounds",),
        ablation={"dynamics.deliberation_rate": 0.0},
        mechanism="deliberation moves understanding (dynamics.deliberation_rate = 0)",
        limits=(
            "Choi & Robertson simulated forums with preference strings and modification "
            "rules; the model's members average their understanding in a four-dimensional "
            "goal space, so this is inspired by their finding, not a replication. Four rounds "
            "also give the meeting more chances to vote, so a rise in decisions is not "
            "deliberation's alone.")),
    Pattern(
        "decision_rules", "Majority decides more, unanimity more fairly", INDEPENDENT,
        "Choi & Robertson (2014)",
        "majority rule, against unanimity, does not lower decision success and raises the "
        "spread of adopted plans' acceptability across members (equity_sd)",
        "equity_sd, majority minus unanimity",
        "the trade-off between how often a forum decides and how evenly its decisions "
        "suit its members",
        "majority and unanimity as the two ends; any rise in equity_sd counts; 'does not "
        f"lower' as not significantly lower ({NOT_LOWER})",
        judge=judge_decision_rules, about=("governance.decision_rule",),
        ablation=ACCEPT_ANY,
        mechanism=ANY_PLAN,
        limits=(
            "A generic property of voting rules: it says little about the model's other "
            "parameters. The effect is small in natural units.")),
    Pattern(
        "rules_power", "Decision rules matter more under power imbalance", INDEPENDENT,
        "Choi & Robertson (2014)",
        "the equity cost of majority rule over unanimity (its extra equity_sd) is larger "
        "at power inequality 0.8 than at 0.1",
        "extra equity_sd of majority, unequal minus equal power",
        "that decision rules are ways of mitigating power imbalance",
        "power inequality 0.1 and 0.8 as 'equal' and 'unequal'",
        judge=judge_rules_power,
        about=("governance.decision_rule", "population.power_inequality"),
        ablation=ACCEPT_ANY,
        mechanism=ANY_PLAN,
        limits=(
            "The model has no mechanism through which a rule protects the weak other than who "
            "must agree; Choi & Robertson's forums also varied deliberation with the rule.")),
    Pattern(
        "governance_fit", "Governance mode fits size, trust and consensus", INDEPENDENT,
        "Provan & Kenis (2008)",
        "shared governance gives the highest advantage ratio of the three modes where the "
        "partnership is small (≤ 8), trusting (initial trust ≥ 0.5) and consensual "
        "(goal conflict ≤ 0.5), and a lead or NAO gives the highest elsewhere",
        "advantage ratio of the fitting mode minus the best other",
        "the direction of fit: shared for few members, high trust density and goal "
        "consensus; lead or NAO otherwise",
        "the cut-offs 8 members, trust 0.5 and conflict 0.5; advantage ratio as 'does best'",
        judge=judge_governance_fit, about=("governance.mode",),
        ablation={"dynamics.shared_max_size": 2},
        mechanism="a shared-governance proposer builds common ground with the partners it "
                  "keeps in view, as far as it trusts them (dynamics.shared_max_size = 2: "
                  "none beyond one)",
        regions=(FITS_SHARED, {}),
        limits=(
            "Provan & Kenis speak of trust density and of the need for network-level "
            "competencies; the model uses initial mean trust and has no competency need. "
            "Differences between modes are a few hundredths of the advantage ratio.")),
    Pattern(
        "prehistory", "A cooperative prehistory helps", INDEPENDENT,
        "Ansell & Gash (2008); Vangen & Huxham (2003)",
        "initial trust 0.8, against 0.2, raises the advantage ratio and does not lower "
        "retention",
        "advantage ratio, trust 0.8 minus 0.2",
        "that a prehistory of cooperation (or conflict) is a starting condition that "
        "helps (or hinders) collaboration",
        "0.2 and 0.8 as conflictual and cooperative prehistories; 'does not lower' as not "
        f"significantly lower ({NOT_LOWER})",
        judge=judge_prehistory, about=("population.initial_trust",),
        ablation={"dynamics.willingness_trust": 0.0, "dynamics.trust_acceptance_bonus": 0.0},
        mechanism="trust feeds contributions and votes (willingness_trust and "
                  "trust_acceptance_bonus = 0)",
        limits=(
            "Initial trust also raises contributions directly (willingness_trust), so part of "
            "the effect is a short path from input to output.")),
    Pattern(
        "size_costs", "Bigger is not always better", INDEPENDENT,
        "Provan & Kenis (2008); Huxham & Vangen (2005)",
        "doubling a partnership's size lowers its advantage ratio or its decision success: "
        "coordination costs grow with the number of members",
        "advantage ratio, double size minus context size",
        "that coordination costs rise with the number of members",
        "doubling as the contrast; a fall in either measure counts",
        judge=judge_size, about=("population.size",),
        ablation={"governance.meeting_cost": 0.0, "coordination.tie_cost": 0.0},
        mechanism="coordination costs: meetings and the ties between members cost time and "
                  "money (governance.meeting_cost and coordination.tie_cost = 0)",
        limits=(
            "The model's synergy rises with the diversity of partners, which grows with size; "
            "the pattern fails if that outweighs coordination costs. Decision success also "
            "falls with size for a reason other than cost (more members must agree), so with "
            "the costs off the pattern still holds in some contexts; under a broker (NAO), "
            "whose running cost is shared by more members as the partnership grows, it "
            "rarely holds, which is Provan & Kenis's own point that brokered forms suit "
            "larger networks.")),
    Pattern(
        "inertia_common", "Collaborative inertia is common", INDEPENDENT,
        "Huxham & Vangen (2005)",
        f"in at least {COMMON:.0%} of runs a partnership spends {STALLED:.0%} or more of its "
        "meeting time in meetings that decide nothing",
        "share of runs that stall",
        "that inertia (slow, stalled joint work) is the common outcome",
        f"'stalls' as inertia ≥ {STALLED}, 'common' as one run in four",
        judge=judge_inertia,
        ablation=ACCEPT_ANY,
        mechanism=ANY_PLAN,
        limits=(
            "Huxham & Vangen describe inertia from case studies, not as a rate: 'common' and "
            "'stalled' are our reading.")),
    Pattern(
        "low_conflict", "With little conflict, forums decide", INDEPENDENT,
        "Choi & Robertson (2011)",
        "at goal conflict 0.1 at least 90% of meetings decide, and fewer decide at 0.9",
        "decision success, conflict 0.1 minus 0.9",
        "that forums with low conflict reach agreement within a few rounds and that "
        "conflict makes consensus harder",
        "0.1 and 0.9 as low and high conflict; 90% as 'nearly all'",
        judge=judge_low_conflict, about=("population.goal_conflict",),
        ablation=ACCEPT_ANY,
        mechanism=ANY_PLAN,
        limits=(
            "Decision success in the model falls with conflict through the acceptability "
            "threshold; the 90% bar is ours.")),
    Pattern(
        "mandate_outcomes", "Mandated collaboration can do better", INDEPENDENT,
        "Bitterman & Koliba (2020)",
        "a legal duty to collaborate raises the advantage ratio",
        "advantage ratio, mandated minus voluntary",
        "that externally mandated networks achieved better outcomes (theirs: water "
        "quality) than voluntary ones; nothing about exits",
        "advantage ratio as 'outcomes'",
        judge=judge_mandate, about=(),
        ablation={"dynamics.mandate_compliance": 0.0},
        mechanism="a duty makes members pay part of what is asked "
                  "(dynamics.mandate_compliance = 0)",
        limits=(
            "Bitterman & Koliba measured water quality in a coupled model of one basin; the "
            "model's outcome is the advantage ratio. The mandate's floor under contributions "
            "(dynamics.mandate_compliance) is judgement.")),
    Pattern(
        "facilitation", "Facilitative leadership builds trust", INDEPENDENT,
        "Ansell & Gash (2008)",
        "facilitation 0.6, against none, raises final trust and does not lower decision "
        "success",
        "mean trust, facilitated minus not",
        "that facilitative leadership brings parties together and builds trust",
        f"0.6 as 'facilitated'; 'does not lower' as not significantly lower ({NOT_LOWER})",
        judge=judge_facilitation, about=(),
        ablation={"dynamics.facilitation_damping": 0.0, "dynamics.facilitation_speedup": 0.0,
                  "dynamics.broker_credibility": 0.0},
        mechanism="facilitation damps trust losses, speeds deliberation and lends a "
                  "broker credibility (all three set to 0)",
        limits=(
            "Facilitation acts through three named constants (damping, speed-up, broker "
            "credibility) whose sizes are judgement.")),
    # --- design properties -----------------------------------------------------------
    Pattern(
        "narrow_funnel", "The narrow funnel", DESIGN,
        "Bitterman & Koliba (2020); Allen's models of integration",
        "with a lead hub of £2m a quarter against £16m, funds queue and the advantage "
        "ratio falls",
        "advantage ratio, £16m minus £2m",
        "that thin administrative capacity at a central actor is a bottleneck",
        "the accounting: only money spent counts as joint output, and spending is capped "
        "by capacity, so this holds by construction",
        check=check_narrow_funnel,
        limits=(
            "Holds by construction; not evidence.")),
    Pattern(
        "mandated_stay", "Members under a hard duty do not leave", DESIGN,
        "the model's own rule",
        "under austerity, low trust and conflict, no mandated founder ever leaves",
        "mean retention (every run must keep every founder)",
        "nothing: a code rule (mandated members may not leave)",
        "the rule itself",
        check=check_mandated_stay,
        limits=(
            "A code rule; Bitterman & Koliba say nothing about exits, and the cited police "
            "duty is conditional.")),
    Pattern(
        "trust_asymmetry", "Trust is lost faster than it is rebuilt", DESIGN,
        "Vangen & Huxham (2003)",
        "half the trust a scandal destroys in one quarter takes more than one quarter to "
        "rebuild",
        "quarters to rebuild half the loss",
        "that trust is lost faster than it is built",
        "built in: a scandal cuts trust at once and gains are incremental "
        "(dynamics.trust_gain < the one-off cut)",
        check=check_trust_asymmetry,
        limits=(
            "Follows from the sizes of the trust constants; not evidence.")),
    # --- calibration targets -----------------------------------------------------------
    Pattern(
        "bcf_pooled_budgets", "Pooled budgets: joint working up, outcomes not", CALIBRATION,
        "NAO (2017); Mason et al. (2015)",
        "pooling Northvale's budgets raises trust (95% CI above 0) while neither emergency "
        "bed-days nor delayed-transfer days fall significantly",
        "delayed-transfer days, pooled minus status quo",
        "90% of Better Care Fund areas reported better joint working while emergency "
        "admissions and delayed days rose; over half of integrated-funding schemes found "
        "no health effect",
        "trust as 'joint working'; 'did not fall' as no significant reduction",
        check=check_bcf,
        limits=(
            "One place (Northvale), illustrative figures; trust stands for 'joint working'.")),
    Pattern(
        "popp_payback", "Prevention roughly pays back", CALIBRATION,
        "Windle et al. (2009); POPP as reported in the source slides (£0.73)",
        "acute bed-day costs saved per £1 of prevention in the POPP-like scenario lie in "
        "[0.7, 1.6]",
        "£ saved per £1",
        "the range of the evaluation's estimate, £0.80-£1.60 (central £1.20), and £0.73",
        "the model compares with zero prevention within one run, the evaluation pilot "
        "with control sites; services.prevention_half was set to hit this",
        check=check_popp,
        limits=(
            "The model's figure compares against no prevention within a run, the evaluation's "
            "pilot against control sites; the two are not the same quantity.")),
    Pattern(
        "survey", "Success shares match the 2014 survey", CALIBRATION,
        "Bostock (2014), People Matters Network",
        "across a generated population of partnerships, 57-72% of members judge theirs "
        "successful and 4-22% unsuccessful, each sector within 10 points of the survey",
        "share judged successful",
        "the success and failure shares overall and by sector",
        "the population of partnerships and what 'judged successful' means "
        "(metrics.success_margin)",
        check=check_survey,
        limits=(
            "Who counts as 'judging the partnership successful' is our rule "
            "(metrics.success_margin, judgement); the population of partnerships is "
            "generated, not sampled.")),
)

PATTERN_BY_KEY: dict[str, Pattern] = {p.key: p for p in PATTERNS}


# Running them ------------------------------------------------------------------------------
def _one_context(key: str, ctx: Mapping[str, Any], over: Mapping[str, Any], n: int,
                 seed: int) -> Verdict:
    """One context of one independent pattern (a top-level function: it is pickled)."""
    pattern = PATTERN_BY_KEY[key]
    assert pattern.judge is not None
    return pattern.judge(generic(**_legal({**ctx, **over})), n, seed)


def judge(pattern: Pattern, design: Design = QUICK, over: Mapping[str, Any] | None = None,
          executor: Any = None) -> Result:
    """Run one pattern's check, on the default model or under ``over``.

    Args:
        pattern: The pattern.
        design: Its size.
        over: Schema overrides for every run (e.g. :attr:`Pattern.ablation`).
        executor: A ``concurrent.futures`` executor for the contexts, or None.
    """
    over = dict(over or {})
    if pattern.judge is None:
        assert pattern.check is not None
        effect, interval, holds, table, note = pattern.check(design, over)
        return Result(pattern.key, pattern.title, pattern.cls, pattern.source,
                      pattern.statement, effect, interval, pattern.unit, holds, None, table,
                      note, over)
    ctxs = contexts(design.contexts, design.seed, pattern.about, pattern.regions)
    call = partial(_one_context, pattern.key, over=over, n=design.replicates)
    seeds = [context_seed(design.seed, i) for i in range(len(ctxs))]
    if executor is None:
        verdicts = [call(c, seed=s) for c, s in zip(ctxs, seeds, strict=True)]
    else:
        verdicts = list(executor.map(_call_one, [(pattern.key, c, over, design.replicates, s)
                                                 for c, s in zip(ctxs, seeds, strict=True)]))
    table = pd.DataFrame([{**c, "effect": e, "holds": h, **extra}
                          for c, (e, h, extra) in zip(ctxs, verdicts, strict=True)])
    effects = table["effect"].to_numpy(dtype=float)
    finite = effects[np.isfinite(effects)]
    mean, lo, hi = mean_ci(finite) if finite.size else (math.nan, math.nan, math.nan)
    share = float(table["holds"].mean())
    holds = share >= PASS_SHARE
    note = "" if holds else (
        f"Fails: holds in {share:.0%} of contexts (needs {PASS_SHARE:.0%}).")
    return Result(pattern.key, pattern.title, pattern.cls, pattern.source, pattern.statement,
                  mean, (lo, hi), pattern.unit, holds, share, table, note, over)


def _call_one(args: tuple[str, Mapping[str, Any], Mapping[str, Any], int, int]) -> Verdict:
    key, ctx, over, n, seed = args
    return _one_context(key, ctx, over, n, seed)


def judge_all(design: Design = QUICK, workers: int = 1,
              keys: Sequence[str] | None = None,
              over: Mapping[str, Any] | None = None) -> list[Result]:
    """Every pattern (or those named), in registry order; ``over`` is set in every run."""
    from collabsim.experiment.engine import open_executor

    chosen = [p for p in PATTERNS if keys is None or p.key in keys]
    with open_executor(workers) as ex:
        return [judge(p, design, over, executor=ex) for p in chosen]
