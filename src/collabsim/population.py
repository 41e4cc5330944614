"""Founding members: listed organisations plus a generated population.

Listed organisations (``[[organisation]]`` tables) keep their figures. Generated ones
are drawn from ``population.*``: power from a lognormal whose spread grows with
``power_inequality``, budgets and admin capacity in proportion to power, goals around
one or more bloc centres at a spread set by ``goal_conflict``, and initial trust
around ``initial_trust``, lower between members whose goals differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collabsim.scenario import Scenario
from collabsim.schema import GOAL_DIMENSIONS, SECTOR_FAMILY, SECTOR_GOALS

D = len(GOAL_DIMENSIONS)


@dataclass
class Founders:
    """Initial member attributes as parallel arrays (one row per member)."""

    names: list[str]
    sectors: list[str]
    power: np.ndarray
    budget: np.ndarray
    admin: np.ndarray
    prosociality: np.ndarray
    commitment: np.ndarray
    goals: np.ndarray
    trust: np.ndarray


def goal_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between goal vectors, normalised to [0, 1]."""
    diff = a - b
    return np.sqrt((diff * diff).sum(axis=-1) / a.shape[-1])


def pairwise_goal_distance(goals: np.ndarray) -> np.ndarray:
    """``(n, n)`` normalised goal distances."""
    return goal_distance(goals[:, None, :], goals[None, :, :])


def cultural_distance(sectors: list[str], scale: float, family: float) -> np.ndarray:
    """``(n, n)`` cultural distance: 0 within a sector, ``family`` within a family, else 1."""
    sec = np.array(sectors)
    fam = np.array([SECTOR_FAMILY[s] for s in sectors])
    same_sector = sec[:, None] == sec[None, :]
    same_family = fam[:, None] == fam[None, :]
    return scale * np.where(same_sector, 0.0, np.where(same_family, family, 1.0))


def initial_trust(goals: np.ndarray, s: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Draw a directed trust matrix around the initial trust, lower across distant goals."""
    n = len(goals)
    m = float(np.clip(s["population.initial_trust"], 1e-3, 1 - 1e-3))
    concentration = s["population.trust_concentration"]
    draw = rng.beta(m * concentration, (1 - m) * concentration, size=(n, n))
    penalty = s["population.trust_goal_penalty"]
    trust = np.clip(draw - penalty * pairwise_goal_distance(goals), 0.0, 1.0)
    np.fill_diagonal(trust, 1.0)
    return trust


def generate(s: Scenario, rng: np.random.Generator) -> Founders:
    """Build the founding members of scenario ``s``."""
    listed = s.organisations
    n_gen = s["population.size"]
    sectors_cycle = s["population.sectors"]
    gen_sectors = [sectors_cycle[i % len(sectors_cycle)] for i in range(n_gen)]
    taken = {o.name for o in listed}
    gen_names = [f"{sec}_{i + 1}" for i, sec in enumerate(gen_sectors)]
    names = [o.name for o in listed] + [n + "_gen" if n in taken else n for n in gen_names]
    sectors = [o.sector for o in listed] + gen_sectors

    # Generated members: power from a lognormal, budgets and capacity in proportion.
    sigma = s["population.power_spread"] * s["population.power_inequality"]
    raw = rng.lognormal(0.0, sigma, size=n_gen) if n_gen else np.empty(0)
    rel = raw / raw.mean() if n_gen else raw
    gen_power = np.clip(rel / rel.max(), s["population.power_floor"], 1.0) if n_gen else raw
    gen_budget = s["population.mean_budget"] * rel
    gen_admin = s["population.admin_capacity"] * rel
    mean_p = s["population.prosociality"]
    gen_pro = np.clip(rng.normal(mean_p, s["population.prosociality_sd"], size=n_gen), 0.0, 1.0)
    gen_goals = _generated_goals(s, sectors[len(listed):], rng)

    power = np.concatenate([[o.power for o in listed], gen_power]).astype(float)
    budget = np.concatenate([[o.budget for o in listed], gen_budget]).astype(float)
    admin = np.concatenate([[o.admin_capacity for o in listed], gen_admin]).astype(float)
    prosociality = np.concatenate([[o.prosociality for o in listed], gen_pro]).astype(float)
    commitment = np.concatenate([[o.commitment for o in listed], np.ones(n_gen)]).astype(float)
    listed_goals = np.array([o.goals for o in listed], dtype=float).reshape(-1, D)
    goals = np.vstack([listed_goals, gen_goals])
    trust = initial_trust(goals, s, rng)
    return Founders(names, sectors, power, budget, admin, prosociality, commitment, goals, trust)


def _generated_goals(s: Scenario, sectors: list[str], rng: np.random.Generator) -> np.ndarray:
    """Goals around bloc centres; with one bloc, around the sectors' typical priorities.

    With one bloc each member starts at its sector's typical goals, pulled towards the
    middle as ``goal_conflict`` falls and scattered more as it rises. With several
    blocs, members are dealt in turn to bloc centres spread apart by ``goal_conflict``.
    """
    n = len(sectors)
    if n == 0:
        return np.empty((0, D))
    conflict = s["population.goal_conflict"]
    blocs = s["population.blocs"]
    scatter = s["population.goal_noise"] * conflict + s["population.goal_noise_floor"]
    noise = rng.normal(0.0, scatter, size=(n, D))
    if blocs == 1:
        typical = np.array([SECTOR_GOALS[sec] for sec in sectors])
        centre = 0.5 + conflict * (typical - 0.5)
    else:
        angles = np.arange(blocs) * 2 * np.pi / blocs
        basis = np.array([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]]) / 2.0
        offsets = np.stack([np.cos(angles), np.sin(angles)], axis=1) @ basis
        centre = 0.5 + s["population.bloc_spread"] * conflict * offsets[np.arange(n) % blocs]
    return np.clip(centre + noise, 0.0, 1.0)
