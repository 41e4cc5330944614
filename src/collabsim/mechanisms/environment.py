"""The environment: austerity, demand and budget pressure, and random events.

Budgets shrink by ``environment.austerity`` a year while demand grows by
``environment.demand_growth``; budget pressure is the gap between the two. Each step
a member may see its leadership turn over or its goals shift, and one member may be
caught up in a scandal. Scheduled shocks reuse the same events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.mechanisms import trust
from collabsim.members import D, Members
from collabsim.schema import QUARTERS_PER_YEAR


def demand_index(p: Mapping[str, Any], steps: int) -> float:
    """Demand relative to the start, from ``environment.demand_growth``."""
    return (1.0 + p["environment.demand_growth"]) ** (steps / QUARTERS_PER_YEAR)


def fair_share(m: Members, p: Mapping[str, Any]) -> np.ndarray:
    """What each member is asked to put in per step, £m."""
    return p["funding.pooled_share"] * m.budget * m.obligation


def pressure(m: Members, demand: float) -> np.ndarray:
    """Budget pressure in [0, 1]: the gap between budget and what is asked of it."""
    need = m.base_budget * demand * m.obligation
    covered = np.divide(m.budget, need, out=np.ones_like(need), where=need > 0)
    return np.clip(1.0 - covered, 0.0, 1.0)


def austerity(m: Members, p: Mapping[str, Any]) -> None:
    """A quarter of the year's real-terms cut."""
    cut = p["environment.austerity"]
    if cut:
        m.budget *= (1.0 - cut) ** (1.0 / QUARTERS_PER_YEAR)


def random_events(m: Members, p: Mapping[str, Any], rng: np.random.Generator) -> None:
    """Leadership turnover, goal shifts and a scandal, each by chance."""
    n = m.n
    if n == 0:
        return
    turned = np.flatnonzero(rng.random(n) < p["environment.turnover_rate"])
    if turned.size:
        turnover(m, turned, p["environment.turnover_size"], p["population.initial_trust"])
    shifted = np.flatnonzero(rng.random(n) < p["environment.political_shift_rate"])
    if shifted.size:
        shift_goals(m, shifted, p["environment.political_shift_size"], rng)
    if rng.random() < p["environment.scandal_rate"]:
        trust.scandal(m.trust, np.array([rng.integers(n)]), p["environment.scandal_size"])


def turnover(m: Members, rows: np.ndarray, size: float, prior: float) -> None:
    """New leadership: trust and understanding move back towards where they started."""
    trust.turnover(m.trust, rows, size, prior)
    m.understanding[rows] += size * (m.goals[rows] - m.understanding[rows])


def shift_goals(m: Members, rows: np.ndarray, size: float, rng: np.random.Generator) -> None:
    """A political shift: the members' goals move ``size`` in a random direction."""
    step = rng.normal(0.0, 1.0, size=(rows.size, D))
    step *= size / np.maximum(np.linalg.norm(step, axis=1, keepdims=True) / np.sqrt(D), 1e-9)
    m.goals[rows] = np.clip(m.goals[rows] + step, 0.0, 1.0)
