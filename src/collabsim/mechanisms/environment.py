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

from collabsim.mechanisms import memory, trust
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
    covered = np.where(need > 0, m.budget / np.where(need > 0, need, 1.0), 1.0)
    return np.clip(1.0 - covered, 0.0, 1.0)


def austerity(m: Members, p: Mapping[str, Any]) -> None:
    """A quarter of the year's real-terms cut."""
    cut = p["environment.austerity"]
    if cut:
        m.budget *= (1.0 - cut) ** (1.0 / QUARTERS_PER_YEAR)


def random_events(m: Members, p: Mapping[str, Any], u: np.ndarray, z: np.ndarray) -> None:
    """Leadership turnover, goal shifts and a scandal, each by chance.

    ``u (B, 2C + W + 2)`` are this step's uniforms: turnover per slot, a political
    shift per slot, (the broker's picks,) whether a scandal breaks and whom it hits;
    ``z (B, C, D)`` this step's normals, the directions of political shifts.
    """
    C, a = m.C, m.active
    turned = a & (u[:, :C] < p["environment.turnover_rate"])
    if turned.any():
        turnover(m, turned, p["environment.turnover_size"], p)
    shifted = a & (u[:, C:2 * C] < p["environment.political_shift_rate"])
    if shifted.any():
        shift_goals(m, shifted, p["environment.political_shift_size"], z)
    scandal = (u[:, -2] < p["environment.scandal_rate"]) & (m.n > 0)
    if scandal.any():
        trust.scandal(m, one_of(m, u[:, -1]) & scandal[:, None], p["environment.scandal_size"],
                      p)


def one_of(m: Members, u: np.ndarray) -> np.ndarray:
    """``(B, C)``: one active member per replicate, picked by the uniforms ``u (B,)``."""
    who = m.kth_active(np.floor(u * m.n).astype(int))
    return (np.arange(m.C)[None, :] == who[:, None]) & (m.n > 0)[:, None]


def turnover(m: Members, rows: np.ndarray, size: float, p: Mapping[str, Any]) -> None:
    """New leadership: trust and understanding move back towards where they started.

    The new representative inherits ``memory.inheritance`` of its organisation's history.
    """
    size = memory.turnover_reach(size, p["memory.inheritance"])
    trust.turnover(m, rows, size, p["population.initial_trust"])
    m.understanding += size * rows[..., None] * (m.goals - m.understanding)


def shift_goals(m: Members, rows: np.ndarray, size: float, z: np.ndarray) -> None:
    """A political shift: the goals of ``rows`` move ``size`` in the directions ``z``."""
    z = z * (size / np.maximum(np.linalg.norm(z, axis=2, keepdims=True) / np.sqrt(D), 1e-9))
    m.goals = np.where(rows[..., None], np.clip(m.goals + z, 0.0, 1.0), m.goals)
