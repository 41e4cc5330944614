"""The scenario schema: the one source of truth for every parameter.

Each parameter has a dotted key, a type, a default, an allowed range or set of
choices and a one-line meaning. Validation, ``collabsim describe``, the scenario
reference (``docs/scenario-reference.md``) and the CLI's ``--set`` parsing all read
this module; nothing else states a default.

The defaults form the model's single default parameter set. ``docs/ODD.md`` gives the
reasoning or source for each behavioural value in the ``dynamics`` section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from collabsim.errors import InputError, suggest, where

SECTORS: tuple[str, ...] = (
    "health",
    "adult_social_care",
    "childrens_services",
    "local_government",
    "police",
    "housing",
    "education",
    "voluntary_sector",
    "other",
)

#: Policy dimensions a member's goals and understanding are expressed over.
GOAL_DIMENSIONS: tuple[str, ...] = ("prevention", "acute_care", "safety", "independence")

GOVERNANCE_MODES = ("shared", "lead", "nao")
#: Where a run's behavioural parameters come from (collabsim.ensemble).
PARAMETER_SOURCES = ("defaults", "ensemble", "point_estimate")
DECISION_RULES = ("unanimity", "supermajority", "majority", "power_weighted", "lead_decides")
FUNDING_RULES = ("separate", "aligned", "pooled", "lead_commissioning", "integrated")
ACCOUNTABILITY = ("none", "mutual", "formal")
SHOCK_KINDS = ("budget_cut", "turnover", "political_shift", "scandal", "join", "leave")

#: The nine elements of collaborative infrastructure (Collaborate CIC; docs/sources.md).
INFRASTRUCTURE = (
    "strategy",
    "governance",
    "outcomes",
    "funding",
    "culture",
    "delivery",
    "data",
    "learning",
    "communications",
)

#: Rungs of the ladder of participation (Hart 1992; docs/sources.md).
PARTICIPATION_RUNGS = {
    1: "manipulation",
    2: "decoration",
    3: "tokenism",
    4: "assigned but informed",
    5: "consulted and informed",
    6: "adult-initiated, shared decisions",
    7: "user-initiated and directed",
    8: "user-initiated, shared decisions",
}


#: Quarters in a year: one step is a quarter (structural, not a parameter).
QUARTERS_PER_YEAR = 4

#: The middle of the trust scale: trust above it counts for a partner, below against.
NEUTRAL_TRUST = 0.5

INPUT = "scenario input"  #: the source of a parameter that describes a place


@dataclass(frozen=True)
class Param:
    """One scenario parameter.

    Attributes:
        key: Dotted name, e.g. ``governance.mode``.
        kind: One of ``float``, ``int``, ``bool``, ``str``, ``choice``, ``strlist``.
        default: Value used when the scenario does not set it.
        help: One-line meaning, with units.
        low: Smallest allowed value (numbers).
        high: Largest allowed value (numbers).
        choices: Allowed values (``choice`` and ``strlist``).
        ui: Whether the dashboard shows it as a control.
        source: Where the default comes from: a published source by name,
            ``"judgement"`` (the modellers' judgement, said plainly), or
            ``"scenario input"`` for a fact about the place a scenario describes.
        advanced: A behavioural constant most users leave alone; ``describe`` and
            the dashboard hide it unless asked.
        why: The reasoning behind the default, for docs/ODD.md.
    """

    key: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    ui: bool = False
    source: str = INPUT
    advanced: bool = False
    why: str = ""

    @property
    def section(self) -> str:
        """The TOML table the parameter lives in."""
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The key inside its table."""
        return self.key.split(".", 1)[1]

    def allowed(self) -> str:
        """Describe the allowed values in words."""
        if self.kind in ("choice", "strlist"):
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str":
            return "a string"
        lo = "-inf" if self.low is None else _fmt(self.low)
        hi = "inf" if self.high is None else _fmt(self.high)
        noun = "an integer" if self.kind == "int" else "a number"
        return f"{noun} in [{lo}, {hi}]"

    def check(self, value: Any, source: str | None = None, key: str | None = None) -> Any:
        """Return ``value`` converted to this parameter's type, or raise InputError."""
        return check_value(self, value, source, key or self.key)


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def check_value(spec: Param, value: Any, source: str | None, key: str) -> Any:
    """Validate one value against ``spec`` and return it in canonical form."""
    loc = where(source, key)

    def bad(extra: str = "") -> InputError:
        return InputError(f"{loc} = {value!r} is not allowed; expected {spec.allowed()}{extra}")

    kind = spec.kind
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()  # a numpy scalar (np.int64(4), np.bool_(True)): its Python value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise bad()
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad()
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise bad()
        if (spec.low is not None and value < spec.low) or (
            spec.high is not None and value > spec.high
        ):
            raise bad()
        return value
    if kind == "str":
        if isinstance(value, str):
            return value
        raise bad()
    if kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return value
        raise bad(suggest(value, spec.choices) if isinstance(value, str) else "")
    if kind == "strlist":
        if not isinstance(value, list | tuple) or not value:
            raise bad()
        for item in value:
            if not isinstance(item, str) or item not in spec.choices:
                hint = suggest(item, spec.choices) if isinstance(item, str) else ""
                raise InputError(
                    f"{loc} contains {item!r}, which is not allowed; "
                    f"expected {spec.allowed()}{hint}"
                )
        return tuple(value)
    raise AssertionError(f"unknown parameter kind {kind}")  # pragma: no cover


def _p(key, kind, default, help, low=None, high=None, choices=(), ui=False, *,
       source=INPUT, advanced=False, why="") -> Param:
    return Param(key, kind, default, help, low, high, tuple(choices), ui, source, advanced, why)


def _c(key, kind, default, help, low=None, high=None, *, source="judgement", why="") -> Param:
    """An advanced behavioural constant: hidden by default, with its source."""
    return Param(key, kind, default, help, low, high, (), False, source, True, why)


_UNIT = (0.0, 1.0)
#: Members' pairwise state (trust, goal distances...) is (n, n) arrays: peak memory is
#: about BYTES_PER_PAIR × n² bytes (measured: 80 at n = 250 to 1000), so the number of
#: members is capped where that stays near 2 GiB.
BYTES_PER_PAIR = 80
MAX_MEMBERS = 5_000

PARAMS: tuple[Param, ...] = (
    # --- scenario -------------------------------------------------------------------------
    _p("scenario.name", "str", "unnamed", "Short name shown in tables and reports."),
    _p("scenario.description", "str", "", "One-line description shown by `collabsim list`."),
    _p("scenario.changes", "str", "",
       "What this scenario changes against the scenario it starts from (`base`): "
       "comma-separated parameter keys, `organisation` or `environment.shocks`. Shown in "
       "comparison reports; the bundled policy options are tested against it."),
    _p("scenario.steps", "int", 40, "Number of steps to simulate; one step is a quarter.", 1, 2000),
    _p("scenario.parameters", "choice", "ensemble",
       "Where the behavioural parameters come from: a draw per replicate from the "
       "calibrated ensemble (ensemble, the default; docs/calibration.md), its posterior "
       "median (point_estimate), or the schema's single default values (defaults). Keys "
       "the scenario or --set pins always win.",
       choices=PARAMETER_SOURCES),
    # --- governance ----------------------------------------------------------------------
    _p("governance.mode", "choice", "shared",
       "Who governs: the members together (shared), one lead organisation (lead), or an "
       "independent network administrative organisation, a broker (nao).",
       choices=GOVERNANCE_MODES, ui=True),
    _p("governance.lead", "str", "",
       "Name of the lead organisation; empty means the most powerful member."),
    _p("governance.decision_rule", "choice", "majority",
       "How a meeting decides among the alternatives tabled.", choices=DECISION_RULES, ui=True),
    _p("governance.supermajority", "float", 0.75,
       "Share of yes votes needed under the supermajority rule.", 0.5, 1.0),
    _p("governance.deliberation_rounds", "int", 2,
       "Rounds of deliberation a meeting may hold before it gives up.", 0, 20, ui=True),
    _p("governance.facilitation", "float", 0.3,
       "Strength of honest-broker facilitation: speeds convergence, damps trust losses.",
       *_UNIT, ui=True),
    _p("governance.accountability", "choice", "mutual",
       "Accountability regime: none, mutual, or a formal partnership agreement.",
       choices=ACCOUNTABILITY),
    _p("governance.admin_capacity", "float", 15.0,
       "Admin capacity of the hub (the lead or the broker), £m of joint money it can "
       "process per step.", 0.0, 1e6, ui=True),
    _p("governance.nao_cost", "float", 0.15,
       "Running cost of the broker under nao governance, £m per step, shared by members.",
       0.0, 1e6),
    _p("governance.meeting_cost", "float", 0.002,
       "Cost of one member's time in one deliberation round, £m.", 0.0, 1e3),
    _p("governance.mandated", "bool", False,
       "A legal duty to collaborate: members pay at least dynamics.mandate_compliance of "
       "what is asked and leave only after review or an agreed wind-down (never with "
       "legal_duty.exit_ban)."),
    _p("governance.adaptive", "bool", False,
       "Let shared governance move to a lead or a broker as the partnership grows or "
       "trust falls (Provan & Kenis 2008)."),
    _c("governance.concession_steps", "int", 5,
       "Concessions a shared-governance proposer weighs, evenly spaced from none to the most "
       "its trust allows.", 2, 100),
    _c("governance.lead_max_concession", "float", 0.5,
       "Share of the way to the members' centre that the lead's last fallback plan concedes.",
       *_UNIT),
    _c("governance.broker_lean", "float", 0.5,
       "How far the broker's fallback alternatives lean towards single members when it does "
       "not facilitate at all (facilitation reduces the lean).", *_UNIT),
    # --- funding -------------------------------------------------------------------------
    _p("funding.rule", "choice", "separate",
       "How joint work is funded.", choices=FUNDING_RULES, ui=True),
    _p("funding.pooled_share", "float", 0.05,
       "Share of each member's budget for joint work per step: paid into the pot under "
       "pooled, lead_commissioning and integrated; the fair share asked of each member "
       "under separate and aligned.", 0.0, 1.0),
    _c("funding.aligned_visibility", "float", 0.3,
       "Share of shortfalls made visible, beyond other detection, by aligned budgets.", *_UNIT,
       why="budgets planned together put every partner's payments on one table"),
    _c("funding.aligned_exit_cost", "float", 0.1,
       "Satisfaction a member gives up by leaving aligned budgets.", 0.0, 10.0,
       why="joint plans are cheap to walk away from"),
    _c("funding.pooled_visibility", "float", 0.2,
       "Share of shortfalls made visible, beyond other detection, by a pooled budget.", *_UNIT),
    _c("funding.pooled_exit_cost", "float", 0.5,
       "Satisfaction a member gives up by leaving a pooled budget (its share is sunk).",
       0.0, 10.0, source="Mason et al. 2015",
       why="pooled funds are hard to unpick once money is committed"),
    _c("funding.lead_commissioning_visibility", "float", 0.1,
       "Share of shortfalls made visible, beyond other detection, under lead commissioning.",
       *_UNIT),
    _c("funding.lead_commissioning_exit_cost", "float", 0.4,
       "Satisfaction a member gives up by leaving lead commissioning.", 0.0, 10.0),
    _c("funding.lead_tilt", "float", 0.4,
       "Share of the delivered plan the lead bends towards its own priorities under lead "
       "commissioning.", *_UNIT),
    _c("funding.integrated_visibility", "float", 0.3,
       "Share of shortfalls made visible, beyond other detection, in integrated provision.",
       *_UNIT),
    _c("funding.integrated_exit_cost", "float", 1.0,
       "Satisfaction a member gives up by leaving integrated provision; at 1 or more a "
       "pressed member cannot ditch and run.", 0.0, 10.0, source="Mason et al. 2015",
       why="merged staff and budgets are the hardest arrangement to leave"),
    _c("funding.integrated_culture_merge", "float", 0.5,
       "Multiplier on cultural distance in integrated teams (merged teams share a culture).",
       *_UNIT, source="Carpenter et al. 2003"),
    # --- infrastructure ------------------------------------------------------------------
    _p("infrastructure.strategy", "float", 0.3,
       "Shared strategy and vision: pulls members' understanding towards a common picture.",
       *_UNIT),
    _p("infrastructure.governance", "float", 0.3,
       "System leadership: shortens meetings and damps trust lost to power plays.", *_UNIT),
    _p("infrastructure.outcomes", "float", 0.3,
       "Shared outcomes and mutual accountability: raises willingness to pay a fair share.",
       *_UNIT),
    _p("infrastructure.funding", "float", 0.3,
       "Flexible funding and commissioning: shields contributions from budget pressure.",
       *_UNIT),
    _p("infrastructure.culture", "float", 0.3,
       "Culture change and organisational development: shrinks cultural distance and "
       "role conflict.", *_UNIT),
    _p("infrastructure.delivery", "float", 0.3,
       "Integrated delivery: raises the admin capacity through which joint money is spent.",
       *_UNIT),
    _p("infrastructure.data", "float", 0.3,
       "Shared data and evidence: detection of shortfalls and evidence of impact.", *_UNIT,
       ui=True),
    _p("infrastructure.learning", "float", 0.3,
       "Learning and relationship-building spaces: the rate at which trust is built.", *_UNIT),
    _p("infrastructure.communications", "float", 0.3,
       "Communications and engagement: the speed of deliberation.", *_UNIT),
    # --- effects: how strongly each infrastructure lever acts (docs/ODD.md section 7.8) ---
    _c("effects.strategy", "float", 0.1,
       "Share of the gap to the shared vision closed per step at full strategy.", *_UNIT),
    _c("effects.governance_meetings", "float", 0.5,
       "Share of meeting time saved at full system leadership.", *_UNIT),
    _c("effects.governance_power_play", "float", 0.5,
       "Share of trust lost to power plays prevented at full system leadership.", *_UNIT),
    _c("effects.outcomes", "float", 0.3,
       "Willingness to contribute added at full shared outcomes.", *_UNIT),
    _c("effects.funding", "float", 0.6,
       "Share of budget pressure kept away from contributions at full flexible funding.",
       *_UNIT),
    _c("effects.culture", "float", 0.7,
       "Share of cultural distance and role conflict removed at full culture change.", *_UNIT,
       source="Collaborate CIC", why="culture change is the biggest barrier, but one that "
       "can be worked on"),
    _c("effects.delivery", "float", 1.0,
       "Rise in hub capacity at full integrated delivery (1 doubles it).", 0.0, 10.0),
    _c("effects.data_detection", "float", 0.4,
       "Share of shortfalls detected added at full shared data.", *_UNIT),
    _c("effects.data_evidence", "float", 0.5,
       "Share of trust gains that rests on evidence of impact, which shared data supplies.",
       *_UNIT),
    _c("effects.learning", "float", 1.0,
       "Rise in the rate of trust growth at full learning spaces (1 doubles it).", 0.0, 10.0),
    _c("effects.communications", "float", 1.0,
       "Rise in deliberation speed at full communications (1 doubles it).", 0.0, 10.0),
    # --- participation -------------------------------------------------------------------
    _p("participation.rung", "int", 4,
       "Rung on the ladder of participation of service users (1 manipulation … 8 shared "
       "decisions): low rungs add cost without improving fit.", 1, 8, ui=True),
    # --- environment ---------------------------------------------------------------------
    _p("environment.austerity", "float", 0.0,
       "Real-terms budget cut per year.", 0.0, 0.5, ui=True),
    _p("environment.turnover_rate", "float", 0.02,
       "Chance per member per step of leadership turnover.", *_UNIT),
    _p("environment.demand_growth", "float", 0.02,
       "Growth in demand per year; budgets that do not keep up feel pressure.", -0.5, 1.0),
    _p("environment.political_shift_rate", "float", 0.01,
       "Chance per member per step that its goals shift.", *_UNIT),
    _p("environment.scandal_rate", "float", 0.005,
       "Chance per step of a safeguarding incident or scandal involving one member.", *_UNIT),
    _c("environment.turnover_size", "float", 0.5,
       "Share of the way a member's trust and understanding return to their starting point "
       "after random leadership turnover.", *_UNIT),
    _c("environment.political_shift_size", "float", 0.2,
       "Goal distance a member's goals move in a random political shift.", *_UNIT),
    _c("environment.scandal_size", "float", 0.3,
       "Share of everyone's trust in a member lost in a random scandal.", *_UNIT),
    # --- services: the service-demand submodel (see collabsim.services) -------------------
    _p("services.enabled", "bool", False,
       "Simulate the care pathway of a population with complex needs (policy scenarios)."),
    _p("services.population", "int", 10_000,
       "People in the cohort with complex needs (e.g. older people at risk of admission).",
       0, 10_000_000),
    _p("services.admission_rate", "float", 0.06,
       "Emergency admissions per person per quarter without prevention.", 0.0, 1.0,
       source="judgement",
       why="5–6% a quarter is typical of older people with complex needs"),
    _p("services.length_of_stay", "float", 8.0, "Mean length of an emergency stay, days.",
       0.0, 365.0,
       source="judgement",
       why="a stay of about 8 days is typical of older people with complex needs"),
    _p("services.bed_day_cost", "float", 400.0,
       "Cost of an acute bed-day, £ (rounded teaching figure; see docs/ODD.md).", 0.0, 1e5,
       source="NHS reference costs",
       why="an excess non-elective bed-day costs roughly £300–£450 at 2019/20 prices"),
    _p("services.care_package_cost", "float", 120.0,
       "Cost of a care package per week, £ (rounded teaching figure; see docs/ODD.md).",
       0.0, 1e5,
       source="PSSRU Unit Costs of Health and Social Care",
       why="low-intensity home care of a few hours a week costs £100–£200 a week"),
    _p("services.package_weeks", "float", 52.0,
       "Weeks of care a discharge care package pays for (people with complex needs rarely "
       "stop needing care within the year).", 0.0, 520.0),
    _p("services.discharge_need", "float", 0.3,
       "Share of emergency admissions that need a care package to go home.", 0.0, 1.0,
       source="judgement",
       why="an illustrative round figure"),
    _p("services.care_capacity", "float", 1.0,
       "Care packages available at the start, relative to the discharge need then; "
       "capacity follows social care's budget.", 0.0, 10.0),
    _p("services.delay_days", "float", 12.0,
       "Extra bed-days for a discharge that waits for a care package.", 0.0, 365.0),
    _p("services.prevention_max", "float", 0.3,
       "Largest share of emergency admissions prevention can avoid.", 0.0, 1.0,
       source="judgement",
       why="bounds what prevention can do"),
    _p("services.prevention_half", "float", 1.6,
       "Prevention stock per 10,000 people (£m of effective prevention) at which half that "
       "share is avoided.", 0.001, 1e6,
       source="Windle et al. 2009",
       why="makes a POPP-scale programme save about £0.85 on bed-days per £1, within the "
           "evaluation's range of £0.80–£1.60"),
    _p("services.prevention_ringfence", "float", 0.0,
       "Share of joint spending ring-fenced for prevention (as POPP's grant was); the rest "
       "follows the plan's priorities.", 0.0, 1.0),
    _p("services.additionality", "float", 1.0,
       "Share of the money members put into joint work that is new activity for the "
       "cohort; the rest re-badges services they already provided, whose effect their "
       "own services lose when the money moves (NAO 2017 on the Better Care Fund).",
       0.0, 1.0,
       source="National Audit Office 2017",
       why="most of a place's joint fund is existing spending moved into it, as the Better Care "
           "Fund was"),
    _p("services.prevention_decay", "float", 0.25,
       "Share of the prevention stock's effect lost each quarter.", 0.0, 1.0,
       source="judgement",
       why="prevention's effects fade within a year without reinvestment"),
    # --- population ----------------------------------------------------------------------
    _p("population.size", "int", 0,
       "Number of organisations to generate (added to any listed ones); at most "
       f"{MAX_MEMBERS:,} members in all.", 0, MAX_MEMBERS, ui=True),
    _p("population.initial_trust", "float", 0.5,
       "Mean initial trust between members (a cooperative prehistory is high).", *_UNIT,
       ui=True),
    _p("population.goal_conflict", "float", 0.3,
       "Spread of generated members' goals: with one bloc, 0 puts every member at the "
       "middle priorities and 1 centres each on its sector's typical priorities, with the "
       "widest scatter around them (population.goal_noise); with several blocs, how far "
       "apart the blocs are.",
       *_UNIT),
    _p("population.blocs", "int", 1,
       "Number of goal blocs generated members are drawn around.", 1, 8),
    _p("population.power_inequality", "float", 0.3,
       "Inequality of generated members' power and budget.", *_UNIT),
    _p("population.mean_budget", "float", 20.0,
       "Mean budget of a generated member, £m per step.", 0.0, 1e6),
    _p("population.admin_capacity", "float", 2.0,
       "Mean admin capacity of a generated member, £m per step.", 0.0, 1e6),
    _p("population.prosociality", "float", 0.5,
       "Mean prosociality of generated members.", *_UNIT),
    _p("population.sectors", "strlist",
       ("health", "adult_social_care", "local_government", "police", "housing",
        "voluntary_sector", "childrens_services", "education"),
       "Sectors assigned in turn to generated members.", choices=SECTORS),
    _c("population.trust_concentration", "float", 12.0,
       "Beta concentration of initial trust (12 gives a standard deviation of about 0.14 at "
       "mean 0.5).", 0.1, 1e4),
    _c("population.trust_goal_penalty", "float", 0.3,
       "Initial trust lost per unit of goal distance between two members.", 0.0, 10.0),
    _c("population.power_spread", "float", 1.5,
       "Lognormal sigma of generated power per unit of power_inequality.", 0.0, 10.0),
    _c("population.power_floor", "float", 0.05,
       "Least power a generated member or a joiner has (above 0: budgets are shared out "
       "per unit of power).", 0.001, 1.0),
    _c("population.prosociality_sd", "float", 0.1,
       "Standard deviation of generated members' prosociality.", *_UNIT),
    _c("population.goal_noise", "float", 0.15,
       "Scatter of generated goals around their centre per unit of goal_conflict.", *_UNIT),
    _c("population.goal_noise_floor", "float", 0.02,
       "Scatter of generated goals around their centre with no goal conflict.", *_UNIT),
    _c("population.bloc_spread", "float", 0.5,
       "Distance of bloc centres from the middle of the goal space per unit of "
       "goal_conflict, with two or more blocs.", *_UNIT),
    _c("population.joiner_goal_noise", "float", 0.05,
       "Scatter of a joiner's goals around its sector's typical priorities.", *_UNIT),
    _c("population.reference_power", "float", 0.5,
       "Power of a joiner whose admin capacity is population.admin_capacity; capacity "
       "scales with power from there.", 0.01, 1.0),
    # --- dynamics: the behavioural constants (see docs/ODD.md for sources) ----------------
    _p("dynamics.understanding_weight", "float", 0.5,
       "Weight of a member's understanding, against its own interests, in the plan it prefers.",
       *_UNIT,
       source="Choi & Robertson 2014",
       why="interests and understanding weigh equally in what a member will accept (Choi & "
           "Robertson 2014 model both)"),
    _p("dynamics.deliberation_rate", "float", 0.15,
       "Share of the gap to trusted partners' understanding closed per deliberation round.",
       *_UNIT,
       source="judgement",
       why="a few quarters of meetings close most of the gap between partners' pictures, as case"
           " studies of partnership boards describe"),
    _p("dynamics.anchoring", "float", 0.1,
       "Share of the gap between a member's understanding and its own interests that "
       "reopens between meetings (each organisation's own pull).", *_UNIT,
       source="judgement",
       why="organisations pull their representatives back to their own agenda between meetings; "
           "keeps deliberation worth repeating"),
    _p("dynamics.alternatives", "int", 3, "Alternatives tabled at each meeting.", 1, 20,
       source="judgement",
       why="a board agenda item typically has a preferred option and one or two alternatives"),
    _p("dynamics.acceptability_scale", "float", 0.5,
       "Goal distance (normalised to [0, 1]) at which a plan becomes wholly unacceptable.",
       0.01, 1.0,
       source="judgement",
       why="a plan half-way across the goal space is wholly unacceptable"),
    _p("dynamics.acceptance_threshold", "float", 0.6,
       "Acceptability a member needs to vote for an alternative.", *_UNIT,
       source="judgement",
       why="members support plans that serve them better than moderately"),
    _p("dynamics.trust_acceptance_bonus", "float", 0.15,
       "How much trust in the proposer adds to an alternative's acceptability for voting.",
       *_UNIT,
       source="Vangen & Huxham 2003",
       why="proposals from trusted partners get the benefit of the doubt (Vangen & Huxham 2003)"),
    _p("dynamics.plan_decay", "float", 0.5,
       "Share of an agreed plan's currency lost each step without a new decision.", *_UNIT,
       source="judgement",
       why="an agreement not reaffirmed loses half its force each quarter"),
    _p("dynamics.synergy", "float", 1.4,
       "Gain in productivity from fully complementary sectors working together.", 0.0, 10.0,
       source="judgement; 1.4 (was 1.2) chosen to fit the calibration targets (Bostock 2014 "
              "survey success shares, once the evidence's mechanisms are on)",
       why="fully complementary partners can roughly double what their money buys, before losses"
           " to poor fit and understanding; it was meant to give advantage ratios of 1.1–1.5 "
           "in working partnerships, but on the calibrated ensemble the survey population's "
           "solid runs reach about 2 (docs/calibration.md)"),
    _p("dynamics.trust_gain", "float", 0.15,
       "Rate at which trust grows after a partner delivers and the partnership wins.", *_UNIT,
       source="Ansell & Gash 2008",
       why="trust grows incrementally, in proportion to small wins (Ansell & Gash 2008)"),
    _p("dynamics.trust_loss", "float", 0.3,
       "Rate at which trust falls on a detected shortfall (larger than trust_gain).", *_UNIT,
       source="Vangen & Huxham 2003",
       why="trust is lost faster than it is built (Vangen & Huxham 2003)"),
    _p("dynamics.power_play_loss", "float", 0.1,
       "Trust lost in the powerful supporters of a decision imposed against a member.", *_UNIT,
       source="People Matters Network 2014",
       why="decisions imposed by the powerful cost trust (People Matters Network 2014 survey: "
           "over 60% rate \"sharing power\" poor or average)"),
    _p("dynamics.alliance_gain", "float", 0.05,
       "Trust gained between members who voted together for an adopted decision.", *_UNIT,
       source="Ansell & Gash 2008",
       why="carrying a decision together is a small shared win between its supporters (Ansell & "
           "Gash 2008)"),
    _p("dynamics.frustration_loss", "float", 0.01,
       "Trust lost all round after a meeting that decides nothing.", *_UNIT,
       source="judgement",
       why="fruitless meetings wear goodwill slowly"),
    _p("dynamics.detection_base", "float", 0.3,
       "Share of a shortfall detected with no shared data or accountability.", *_UNIT,
       source="People Matters Network 2014",
       why="without shared data or accountability most shortfalls go unseen (People Matters "
           "Network 2014 survey: over 60% rate \"holding partners to account\" poor or average)"),
    _p("dynamics.prosociality_adaptation", "float", 0.1,
       "Rate at which prosociality follows what others contribute, times the share of it "
       "members can see (detection).", *_UNIT,
       source="Choi & Robertson 2019",
       why="conditional cooperation adapts over a couple of years (Choi & Robertson 2019)"),
    _p("dynamics.satisfaction_memory", "float", 0.3,
       "Weight of the latest step in a member's running satisfaction.", 0.01, 1.0,
       source="judgement",
       why="satisfaction reflects roughly the last year"),
    _p("dynamics.opportunity_cost", "float", 1.0,
       "How much budget pressure raises the felt cost of each £ put into joint work "
       "(a member under pressure 0.5 feels a £ as 1 + 0.5 × this).", 0.0, 10.0,
       source="judgement",
       why="under budget pressure a £ for joint work is a £ taken from statutory services: at "
           "pressure 0.3 it feels like £1.30 (\"budget management and pressures\" drive de-"
           "integration)"),
    _p("dynamics.exit_threshold", "float", -0.2,
       "Satisfaction (net benefit per £ of fair share) below which a member considers leaving.",
       -10.0, 10.0,
       source="judgement",
       why="members tolerate modest losses for the sake of the partnership"),
    _p("dynamics.exit_trust", "float", 0.35,
       "Mean trust in partners below which a dissatisfied member leaves.", *_UNIT,
       source="judgement",
       why="dissatisfied members leave only once trust has also gone"),
    _p("dynamics.exit_patience", "int", 3,
       "Consecutive steps a member tolerates before it leaves.", 1, 100,
       source="judgement",
       why="three bad quarters in a row before leaving"),
    _p("dynamics.ditch_pressure", "float", 0.3,
       "Budget pressure at which a dissatisfied member hands its responsibility to partners "
       "and leaves (ditch and run).", *_UNIT,
       source="judgement",
       why="a 30% gap between budget and demand forces retrenchment (\"budget management and "
           "pressures\")"),
    _p("dynamics.ditch_trust", "float", 0.5,
       "Mean trust in partners below which a pressed member ditches rather than negotiates.",
       *_UNIT,
       source="judgement",
       why="partners that still trust each other renegotiate rather than walk away; ditching "
           "needs pressure, dissatisfaction and distrust together"),
    _p("dynamics.role_conflict", "float", 0.15,
       "Satisfaction lost per step by care professionals in integrated teams "
       "(Carpenter et al. 2003).", 0.0, 10.0,
       source="Carpenter et al. 2003",
       why="integrated teams raise role conflict and stress for social workers (Carpenter et al."
           " 2003)"),
    _p("dynamics.cultural_distance", "float", 0.4,
       "How far apart different sectors' cultures sit; slows deliberation between them.",
       *_UNIT,
       source="Collaborate CIC",
       why="\"culture change is the biggest barrier\" (Collaborate CIC) but not an absolute one"),
    _p("dynamics.participation_fit_gain", "float", 0.25,
       "Largest gain in fit of what is delivered from service-user participation.", *_UNIT,
       source="judgement",
       why="full user participation improves fit by up to a quarter"),
    _p("dynamics.participation_cost", "float", 0.001,
       "Cost of engaging service users per member per meeting, £m.", 0.0, 1e3,
       source="judgement",
       why="engaging service users costs about £1,000 per member per meeting"),
    _p("dynamics.willingness_prosocial", "float", 0.8,
       "Weight of prosociality in willingness to contribute.", 0.0, 5.0,
       source="Choi & Robertson 2019",
       why="prosocial motivation is the main driver of contribution (Choi & Robertson 2019)"),
    _p("dynamics.willingness_trust", "float", 0.6,
       "Weight of trust in partners in willingness to contribute.", 0.0, 5.0,
       source="judgement",
       why="trust in partners underwrites contributions"),
    _p("dynamics.willingness_return", "float", 0.3,
       "Weight of expected return on a contribution in willingness to contribute.", 0.0, 5.0,
       source="judgement",
       why="expected return matters, less than motivation"),
    _p("dynamics.willingness_pressure", "float", 1.0,
       "Weight of budget pressure against willingness to contribute.", 0.0, 5.0,
       source="judgement",
       why="budget pressure passes straight through to contributions"),
    _p("dynamics.mandate_compliance", "float", 0.5,
       "Share of what is asked that a member under a legal duty to collaborate pays at "
       "least, whatever its willingness (the duty is inspected).", *_UNIT,
       source="judgement; Bitterman & Koliba 2020",
       why="a statutory duty to collaborate is inspected but rarely enforced with sanctions: a "
           "mandated member pays at least half of what it is asked, whatever its willingness "
           "(judgement; Bitterman & Koliba 2020 on mandated collaboration)"),
    _p("dynamics.shared_max_size", "int", 8,
       "Largest partnership shared governance suits: the most partners a shared-governance "
       "member keeps in view, the size at which its meeting load is 1, and the size above "
       "which adaptive governance leaves shared mode.", 2, 10_000,
       source="Provan & Kenis 2008",
       why="shared governance suits few members; a member of a shared board keeps at most seven "
           "partners in view when it drafts a proposal, its meeting time grows with the "
           "relationships it keeps up, and adaptive governance leaves shared mode above eight"),
    _p("dynamics.shared_min_trust", "float", 0.4,
       "Lowest mean trust shared governance suits, for adaptive governance.", *_UNIT,
       source="Provan & Kenis 2008",
       why="shared governance needs high trust density"),
    _c("dynamics.live_plan", "float", 0.25,
       "Plan currency at or above which pooled money is committed to delivery.", *_UNIT),
    _c("dynamics.broker_credibility", "float", 0.5,
       "Trust members place in a broker's proposals with no facilitation; facilitation "
       "raises it towards 1.", *_UNIT),
    _c("dynamics.resentment", "float", 0.5,
       "Trust the supporters of an imposed decision lose in its opponents, relative to what "
       "the opponents lose in them.", 0.0, 10.0),
    _c("dynamics.understanding_spread_penalty", "float", 2.0,
       "Shared understanding lost per unit of mean goal distance of members' understanding "
       "from their centre.", 0.0, 100.0),
    _c("dynamics.stale_plan_productivity", "float", 0.5,
       "Productivity of joint money spent on a plan whose currency has run out, relative to "
       "a fresh plan.", *_UNIT),
    _c("dynamics.detection_mutual", "float", 0.15,
       "Share of shortfalls detected added by mutual accountability.", *_UNIT),
    _c("dynamics.detection_formal", "float", 0.3,
       "Share of shortfalls detected added by a formal partnership agreement.", *_UNIT),
    _c("dynamics.facilitation_damping", "float", 0.5,
       "Share of trust lost to shortfalls that full facilitation prevents.", *_UNIT),
    _c("dynamics.facilitation_speedup", "float", 1.0,
       "Rise in deliberation speed at full facilitation (1 doubles it).", 0.0, 10.0),
    _c("dynamics.family_distance", "float", 0.5,
       "Cultural distance between different sectors of one professional family, relative "
       "to sectors of different families.", *_UNIT),
    # --- metrics: how the measures and the outcome archetypes are read ----------------
    _c("metrics.dense_trust", "float", 0.5,
       "Trust at or above which a directed pair counts towards trust_density.", *_UNIT),
    _c("metrics.contested_share", "float", 0.25,
       "Share of no votes that makes an adopted decision contested.", *_UNIT),
    _c("metrics.key_partner_quantile", "float", 0.5,
       "Power quantile among founders at or above which a member is a key partner "
       "(ditch_and_run).", *_UNIT),
    _c("metrics.early_share", "float", 0.5,
       "Share of the run, from the start, in which a key partner's ditching names the run "
       "ditch_and_run.", *_UNIT),
    _c("metrics.divorce_retention", "float", 0.75,
       "Retention of founders below which a run is an amicable_divorce.", *_UNIT),
    _c("metrics.funnel_queued_share", "float", 0.2,
       "Share of money contributed still queued at the end from which a run is a "
       "narrow_funnel.", *_UNIT),
    _c("metrics.tug_polarisation", "float", 0.2,
       "Polarisation (trust within goal blocs minus across them) from which a run may be a "
       "tug_of_war.", *_UNIT),
    _c("metrics.tug_contested", "float", 0.3,
       "Share of meetings contested or undecided from which a polarised run is a "
       "tug_of_war.", *_UNIT),
    _c("metrics.tokenism_contribution", "float", 0.4,
       "Share of what is asked that members pay below which a deciding run is tokenism.",
       *_UNIT),
    _c("metrics.tokenism_decisions", "float", 0.5,
       "Decision success rate from which a run that pays little is tokenism.", *_UNIT),
    _c("metrics.inertia_stall", "float", 0.5,
       "Share of meeting time spent in meetings that decided nothing (the inertia metric) "
       "from which a run is collaborative_inertia.", *_UNIT,
       why="inertia means decisions stall: the archetype is read from the stall measure, "
           "not from low advantage or trust alone"),
    _c("metrics.success_margin", "float", 0.25,
       "Net benefit, as a share of its fair share over the run, beyond which a member judges "
       "its partnership successful (and below minus which, unsuccessful); used to compare "
       "runs with the 2014 survey.", 0.0, 10.0,
       why="a quarter of what it put in is a gain a member would notice; with the survey's "
           "shares a calibration target, this is not fitted"),
    # --- mechanisms the evidence calls for (docs/ODD.md section 7.9); on by default -------
    _c("memory.scandal_scar", "float", 1.0,
       "Share of the trust a scandal destroys that stays as a scar: trust in the member may "
       "not rise above 1 − scar until the scar fades (0: no memory).", *_UNIT,
       source="Lewicki & Bunker 1996; judgement",
       why="a betrayal is remembered: distrust outlasts the repair of day-to-day trust"),
    _c("memory.shortfall_scar", "float", 2.0,
       "Depth of the scar a member's trust in a partner takes per unit of that partner's "
       "detected shortfall (a failed delivery), capped at 1.", 0.0, 10.0,
       source="Vangen & Huxham 2003; judgement",
       why="in the trust-building loop an unmet expectation sets the loop back, not only "
           "today's trust"),
    _c("memory.ditch_scar", "float", 0.2,
       "Scar every remaining member's trust in every other takes when a partner ditches and "
       "runs (if one can walk out, so can others).", *_UNIT,
       source="judgement"),
    _c("memory.scar_decay", "float", 0.03,
       "Share of a scar that fades per step.", *_UNIT,
       source="Lewicki & Bunker 1996; judgement",
       why="distrust fades slowly: at 3% a quarter a scar halves in about six years"),
    _c("memory.inheritance", "float", 0.5,
       "Share of its organisation's history (trust, scars, understanding) a new "
       "representative inherits after leadership turnover; 0 is a clean start at the "
       "prior.", *_UNIT,
       source="Vangen & Huxham 2003; judgement",
       why="trust rests partly on individuals, partly on organisations' shared history"),
    _c("coordination.tie_cost", "float", 0.005,
       "Cost to each member of keeping up one partner relationship, £m per step, under every "
       "governance mode: the transaction cost that makes size costly.", 0.0, 1e3,
       source="Provan & Kenis 2008; judgement",
       why="coordination grows with the number of relationships, so bigger is not always "
           "better"),
    _c("coordination.hub_relief", "float", 0.5,
       "Share of relationship costs a lead organisation or broker takes off members "
       "(hub-and-spoke instead of everyone with everyone).", *_UNIT,
       source="Provan & Kenis 2008; judgement",
       why="brokered modes exist to economise on the ties a shared network needs"),
    _c("broker.misperception", "float", 0.2,
       "Standard deviation of the broker's lasting error, per goal dimension, in reading each "
       "member's preferences (0: it knows them exactly).", *_UNIT,
       source="judgement",
       why="an independent broker learns members' priorities second hand"),
    _c("decision.deference", "float", 0.2,
       "Acceptability a member adds to a proposal per unit of power its proposer has over it, "
       "under rules where its no cannot block (majority, power_weighted, lead_decides).",
       0.0, 10.0, source="Choi & Robertson 2014; judgement",
       why="decision rules matter as ways of handling power imbalance: where the weak cannot "
           "block, the powerful's proposals pass whatever the weak think"),
    _c("decision.veto_guard", "float", 0.2,
       "Acceptability a member asks beyond the threshold per unit of power a proposer has "
       "over it, under unanimity (where its no is a veto).", 0.0, 10.0,
       source="Choi & Robertson 2014; judgement",
       why="unanimity protects the weak at the cost of stalling, more so the more unequal "
           "the members"),
    _c("participation.voice", "float", 0.3,
       "Willingness to contribute added to every member at the top rung of participation "
       "(service users sharing decisions hold partners to what they agreed); none at rungs "
       "1–3, in proportion between.", 0.0, 5.0, source="Hart 1992; judgement",
       why="only above the rungs of non-participation can users hold partners to account"),
    _p("services.count_in_output", "bool", True,
       "Count the acute and care costs that prevention avoided (£m) in joint output and "
       "collaborative advantage, so a partnership whose value is in the service is not "
       "judged on its spending alone.", source="judgement",
       why="a prevention partnership's value is largely the hospital use it avoids"),
    _p("legal_duty.exit_ban", "bool", False,
       "Under governance.mandated, members may never leave. False gives the duty as cited: "
       "members keep collaboration under review and may leave where it is clearly not "
       "efficient for them (the default: the duty as cited).",
       source="Police Act 1996 ss. 22A-22C (inserted by the Police Reform and Social "
              "Responsibility Act 2011); judgement",
       why="a hard ban is stronger than the police collaboration duty, which asks forces to "
           "keep collaboration under consideration and to collaborate where it would serve "
           "efficiency or effectiveness, and says nothing about leaving"),
    _c("legal_duty.review_margin", "float", 0.2,
       "How far below the voluntary exit threshold a mandated member's satisfaction must stay, "
       "for dynamics.exit_patience steps, before its review finds the partnership "
       "inefficient for it (with legal_duty.exit_ban false).", 0.0, 10.0,
       source="Police Act 1996 ss. 22A-22C (inserted by the Police Reform and Social "
              "Responsibility Act 2011); judgement",
       why="the duty asks for collaboration where it would serve efficiency or "
           "effectiveness, so a member leaves only when clearly not, whatever its trust; "
           "judging that by the member's own benefit alone is ours"),
    _p("ratification.enabled", "bool", True,
       "Home organisations must sign off a plan agreed at the table, judging it against "
       "their own goals and asking more under budget pressure; a plan the decision rule "
       "does not ratify is not adopted (the meeting decided nothing).",
       source="Putnam 1988; Huxham & Vangen 2005",
       why="an agreement between representatives stands only if their organisations "
           "ratify it (the two-level game)"),
    _c("ratification.threshold", "float", 0.5,
       "Acceptability of a plan against its own goals that a home organisation under no "
       "budget pressure needs to sign it off.", *_UNIT,
       source="calibrated: 0.5 fits the calibration targets best of a grid of 0.45-0.55 "
              "(experiments/ratification.py); fitted in the shipped ensemble",
       why="home organisations judge by their own interests, not by the table's"),
    _c("ratification.pressure", "float", 0.1,
       "Acceptability a home organisation asks beyond ratification.threshold per unit of "
       "budget pressure.", 0.0, 10.0,
       source="calibrated: 0.1 chosen with the threshold by the calibration distance; "
              "fitted in the shipped ensemble (whose prior, 0.05-0.15, excludes 0)",
       why="an organisation whose budget is pressed commits less readily"),
    _c("ratification.spread", "float", 0.05,
       "Width of the logistic curve from acceptability to the chance of signing off "
       "(small: a sharp bar).", 1e-3, 1.0, source="judgement",
       why="sign-off by a board is uncertain near the bar"),
    _p("divorce.enabled", "bool", True,
       "Negotiated de-integration: when the joint work no longer serves most members they "
       "agree together to wind the partnership down (exit:amicable), trust kept.",
       source="judgement"),
    _c("divorce.quorum", "float", 0.6,
       "Share of members whose satisfaction is below divorce.satisfaction from which they "
       "agree to wind down.", *_UNIT,
       source="judgement"),
    _c("divorce.satisfaction", "float", -0.5,
       "Satisfaction (net benefit per £ of fair share) below which the joint work no longer "
       "serves a member, for divorce.", -10.0, 10.0,
       source="judgement"),
    _c("divorce.patience", "int", 8,
       "Consecutive steps the quorum must hold before the members agree to wind down.",
       1, 100, source="judgement"),
)

PARAM_BY_KEY: dict[str, Param] = {p.key: p for p in PARAMS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.section for p in PARAMS))


@dataclass(frozen=True)
class Field:
    """A field of a repeated table (an organisation or a shock)."""

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False

    def as_param(self, table: str) -> Param:
        """View the field as a Param for validation and docs."""
        return Param(f"{table}.{self.name}", self.kind, self.default, self.help, self.low,
                     self.high, self.choices)


ORGANISATION_FIELDS: tuple[Field, ...] = (
    Field("name", "str", None, "Unique name of the organisation.", required=True),
    Field("sector", "choice", None, "Sector.", choices=SECTORS, required=True),
    Field("power", "float", 0.5,
          "Statutory weight, size and control of the purse strings, 0–1.", 0.0, 1.0),
    Field("budget", "float", 20.0, "Resources per step, £m.", 0.0, 1e6),
    Field("admin_capacity", "float", 2.0, "Joint money it can process per step, £m.", 0.0, 1e6),
    Field("prosociality", "float", 0.5,
          "Willingness to contribute beyond self-interest, 0–1.", 0.0, 1.0),
    Field("commitment", "float", 1.0,
          "Share of its fair share it has agreed to pay under separate or aligned budgets "
          "(0: at the table but not paying); pooled, lead-commissioning and integrated "
          "funding ask every member for its full share.", 0.0, 1.0),
    Field("goals", "goals", None,
          "Priorities over " + ", ".join(GOAL_DIMENSIONS) + " (each 0–1); "
          "default: the sector's typical priorities.", 0.0, 1.0),
)

SHOCK_FIELDS: tuple[Field, ...] = (
    Field("step", "int", None, "Step at whose start the event happens.", 1, 100_000,
          required=True),
    Field("kind", "choice", None, "What happens.", choices=SHOCK_KINDS, required=True),
    Field("size", "float", 0.2,
          "Strength: share of budget cut, trust lost or reset, goal distance moved, or the "
          "joiner's power.", 0.0, 1.0),
    Field("target", "str", "",
          "A member's name or a sector; empty means every member (or a random one for "
          "scandal, turnover and leave)."),
)

#: Typical priorities of each sector over GOAL_DIMENSIONS, used when an organisation
#: lists no goals. Illustrative: acute providers weigh acute care, councils and the
#: voluntary sector prevention and independence, the police safety.
SECTOR_GOALS: dict[str, tuple[float, float, float, float]] = {
    "health": (0.45, 0.9, 0.35, 0.45),
    "adult_social_care": (0.7, 0.35, 0.55, 0.85),
    "childrens_services": (0.75, 0.25, 0.85, 0.5),
    "local_government": (0.65, 0.25, 0.55, 0.65),
    "police": (0.45, 0.2, 0.95, 0.3),
    "housing": (0.6, 0.2, 0.5, 0.8),
    "education": (0.7, 0.15, 0.6, 0.6),
    "voluntary_sector": (0.8, 0.2, 0.45, 0.85),
    "other": (0.5, 0.5, 0.5, 0.5),
}

#: Broad professional cultures; members of one family sit close together.
SECTOR_FAMILY: dict[str, int] = {
    "health": 0,
    "adult_social_care": 1,
    "childrens_services": 1,
    "local_government": 2,
    "housing": 2,
    "education": 2,
    "police": 3,
    "voluntary_sector": 4,
    "other": 5,
}

#: Sectors whose professionals feel role conflict in integrated teams.
CARE_PROFESSIONS: frozenset[str] = frozenset(
    {"health", "adult_social_care", "childrens_services"}
)


def defaults() -> dict[str, Any]:
    """Every parameter's default, by dotted key."""
    return {p.key: p.default for p in PARAMS}


def lookup(key: str, source: str | None = None) -> Param:
    """Find a parameter by dotted key, or raise an InputError with a suggestion."""
    try:
        return PARAM_BY_KEY[key]
    except KeyError:
        raise InputError(
            f"{where(source, key)} is not a known parameter{suggest(key, PARAM_BY_KEY)}; "
            "see `collabsim describe`"
        ) from None
