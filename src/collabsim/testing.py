"""Hypothesis strategies and checks for users who extend or validate collabsim.

Needs ``hypothesis`` (the ``test`` extra). ``scenarios()`` draws valid scenarios over
every parameter of the schema, every rule, lever and shock; ``assert_invariants``
checks the model's laws on a finished model: trust in [0, 1], budgets non-negative,
no NaN where a value is defined, savings non-negative while all joint money is new,
and money conserved (contributed = spent + queued + unspent pot).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from collabsim.model import PartnershipModel
from collabsim.scenario import Scenario, from_dict
from collabsim.schema import (
    ACCOUNTABILITY,
    DECISION_RULES,
    FUNDING_RULES,
    GOAL_DIMENSIONS,
    GOVERNANCE_MODES,
    INFRASTRUCTURE,
    PARAMS,
    SECTORS,
    SHOCK_KINDS,
    Param,
)

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def organisation_tables(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    """``n`` listed organisations with distinct names."""
    return [
        {
            "name": f"org{i}",
            "sector": draw(st.sampled_from(SECTORS)),
            "power": draw(unit),
            "budget": draw(st.floats(0.0, 200.0)),
            "admin_capacity": draw(st.floats(0.0, 20.0)),
            "prosociality": draw(unit),
            "commitment": draw(unit),
            "goals": {d: draw(unit) for d in GOAL_DIMENSIONS},
        }
        for i in range(n)
    ]


@st.composite
def scenario_docs(draw: st.DrawFn, max_members: int = 12, max_steps: int = 12) -> dict[str, Any]:
    """A valid scenario document (nested dict, as parsed from TOML)."""
    steps = draw(st.integers(1, max_steps))
    listed = draw(st.integers(0, max_members))
    generated = draw(st.integers(max(0, 2 - listed), max(2, max_members - listed)))
    orgs = draw(organisation_tables(listed))
    names = [o["name"] for o in orgs]
    doc: dict[str, Any] = {
        "scenario": {"name": "drawn", "steps": steps},
        "governance": {
            "mode": draw(st.sampled_from(GOVERNANCE_MODES)),
            "decision_rule": draw(st.sampled_from(DECISION_RULES)),
            "supermajority": draw(st.floats(0.5, 1.0)),
            "deliberation_rounds": draw(st.integers(0, 4)),
            "facilitation": draw(unit),
            "accountability": draw(st.sampled_from(ACCOUNTABILITY)),
            "admin_capacity": draw(st.floats(0.0, 50.0)),
            "mandated": draw(st.booleans()),
            "adaptive": draw(st.booleans()),
            "lead": draw(st.sampled_from(["", *names])),
        },
        "funding": {
            "rule": draw(st.sampled_from(FUNDING_RULES)),
            "pooled_share": draw(st.floats(0.0, 0.3)),
        },
        "infrastructure": {lever: draw(unit) for lever in INFRASTRUCTURE},
        "participation": {"rung": draw(st.integers(1, 8))},
        "services": {
            "enabled": draw(st.booleans()),
            "population": draw(st.integers(0, 50_000)),
            "care_capacity": draw(st.floats(0.0, 2.0)),
            "prevention_ringfence": draw(unit),
        },
        "environment": {
            "austerity": draw(st.floats(0.0, 0.5)),
            "turnover_rate": draw(st.floats(0.0, 0.3)),
            "demand_growth": draw(st.floats(-0.2, 0.5)),
            "political_shift_rate": draw(st.floats(0.0, 0.3)),
            "scandal_rate": draw(st.floats(0.0, 0.3)),
            "shocks": [
                {
                    "step": draw(st.integers(1, steps)),
                    "kind": draw(st.sampled_from(SHOCK_KINDS)),
                    "size": draw(unit),
                    "target": draw(st.sampled_from(["", *names, *SECTORS])),
                }
                for _ in range(draw(st.integers(0, 3)))
            ],
        },
        "population": {
            "size": generated,
            "initial_trust": draw(unit),
            "goal_conflict": draw(unit),
            "blocs": draw(st.integers(1, 3)),
            "power_inequality": draw(unit),
            "mean_budget": draw(st.floats(0.0, 100.0)),
        },
    }
    if orgs:
        doc["organisation"] = orgs
    for spec in PARAMS:  # every other parameter, over its whole allowed range
        table = doc.setdefault(spec.section, {})
        if spec.name not in table and spec.section != "scenario" and spec.kind != "str":
            table[spec.name] = draw(schema_values(spec))
    return doc


def schema_values(spec: Param) -> st.SearchStrategy[Any]:
    """Values ``spec`` allows; large magnitudes are capped so that runs stay quick."""
    if spec.kind == "bool":
        return st.booleans()
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "strlist":
        return st.lists(st.sampled_from(spec.choices), min_size=1, max_size=4)
    low = -1e3 if spec.low is None else spec.low
    high = 1e3 if spec.high is None else spec.high
    if spec.kind == "int":
        return st.integers(int(low), int(min(high, low + 20)))
    return st.floats(low, min(high, max(low + 1.0, 100.0)), allow_nan=False)


def scenarios(max_members: int = 12, max_steps: int = 12) -> st.SearchStrategy[Scenario]:
    """Valid scenarios over every governance mode, rule, lever and shock kind."""
    return scenario_docs(max_members, max_steps).map(from_dict)


def assert_invariants(model: PartnershipModel, rtol: float = 1e-9) -> None:
    """Check the model's laws on a model that has run (raises AssertionError)."""
    t = model.trust
    assert np.all((t >= 0.0) & (t <= 1.0)), "trust outside [0, 1]"
    assert np.all(model.budget >= 0.0), "negative budget"
    for name in ("power", "budget", "prosociality", "satisfaction", "goals", "understanding"):
        assert np.all(np.isfinite(getattr(model, name))), f"non-finite {name}"
    assert np.all((model.prosociality >= 0.0) & (model.prosociality <= 1.0))
    assert np.all(model.cum_paid >= 0.0)
    # Savings are never negative while all joint money is new; re-badged money
    # (services.additionality < 1) can lose prevention, which costs members.
    all_new = model.params["services.additionality"] == 1.0
    assert np.all(np.isfinite(model.cum_saved))
    assert not all_new or np.all(model.cum_saved >= 0.0), "negative savings"
    if model.services is not None:
        totals = model.services.totals
        assert all(np.isfinite(v) for v in totals.values()), totals
        can_be_negative = () if all_new else ("acute_avoided", "care_avoided")
        assert all(v >= 0.0 for k, v in totals.items() if k not in can_be_negative), totals
    contributed = sum(r["contribution"] for r in model.history)
    spent = sum(r["spent"] for r in model.history)
    held = spent + model.queue + model.pot
    assert abs(contributed - held) <= rtol * max(1.0, contributed), (
        f"money not conserved: contributed {contributed} != spent+queued+pot {held}"
    )
