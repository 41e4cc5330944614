"""Founding members: listed organisations plus a generated population.

Listed organisations (``[[organisation]]`` tables) keep their figures. Generated ones
are drawn from ``population.*``: power from a lognormal whose spread grows with
``power_inequality``, budgets and admin capacity in proportion to power, goals around
one or more bloc centres at a spread set by ``goal_conflict``, and initial trust
around ``initial_trust``, lower between members whose goals differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from collabsim.scenario import Scenario
from collabsim.schema import GOAL_DIMENSIONS, SECTOR_FAMILY, SECTOR_GOALS

D = len(GOAL_DIMENSIONS)


@dataclass
class Founders:
    """Initial member attributes of ``B`` replicates: arrays ``(B, n, ...)``.

    Names and sectors are the same in every replicate; the numbers are drawn.
    """

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
    """Euclidean distance between goal vectors (last axis), normalised to [0, 1].

    Summed one goal dimension at a time: that avoids a reduction over a tiny last axis
    (slow in numpy) and the ``(..., D)`` difference array, and adds in the same order.
    """
    total = np.zeros(np.broadcast_shapes(a.shape, b.shape)[:-1])
    for j in range(a.shape[-1]):  # over goal dimensions, not members or replicates
        d = a[..., j] - b[..., j]
        d *= d
        total += d
    total /= a.shape[-1]
    return np.sqrt(total, out=total)


def pairwise_goal_distance(goals: np.ndarray) -> np.ndarray:
    """``(..., n, n)`` normalised goal distances between the rows of ``goals (..., n, D)``."""
    return goal_distance(goals[..., :, None, :], goals[..., None, :, :])


def cultural_distance(sectors: list[str], scale: float, family: float) -> np.ndarray:
    """``(n, n)`` cultural distance: 0 within a sector, ``family`` within a family, else 1."""
    sec = np.array(sectors)
    fam = np.array([SECTOR_FAMILY[s] for s in sectors])
    same_sector = sec[:, None] == sec[None, :]
    same_family = fam[:, None] == fam[None, :]
    return scale * np.where(same_sector, 0.0, np.where(same_family, family, 1.0))


def trust_beta(s: Scenario) -> tuple[float, float]:
    """The beta distribution initial trust is drawn from: its two shape parameters."""
    m = float(np.clip(s["population.initial_trust"], 1e-3, 1 - 1e-3))
    concentration = s["population.trust_concentration"]
    return m * concentration, (1 - m) * concentration


def lower_across_goals(draw: np.ndarray, distance: np.ndarray, s: Scenario) -> np.ndarray:
    """Drawn trust, lower between members whose goals are ``distance`` apart."""
    return np.clip(draw - s["population.trust_goal_penalty"] * distance, 0.0, 1.0)


def generate(s: Scenario, rngs: Sequence[np.random.Generator]) -> Founders:
    """Build the founding members of scenario ``s``, one replicate per generator.

    Each generator draws, in order: generated members' powers, their prosociality,
    their goal noise, then the trust matrix; the arithmetic is done for every
    replicate at once.
    """
    listed = s.organisations
    n_gen = s["population.size"]
    sectors_cycle = s["population.sectors"]
    gen_sectors = [sectors_cycle[i % len(sectors_cycle)] for i in range(n_gen)]
    taken = {o.name for o in listed}
    gen_names = [f"{sec}_{i + 1}" for i, sec in enumerate(gen_sectors)]
    names = [o.name for o in listed] + [n + "_gen" if n in taken else n for n in gen_names]
    sectors = [o.sector for o in listed] + gen_sectors
    n, B = len(names), len(rngs)

    # Generated members: power from a lognormal, budgets and capacity in proportion.
    sigma = s["population.power_spread"] * s["population.power_inequality"]
    mean_p, sd_p = s["population.prosociality"], s["population.prosociality_sd"]
    scatter = s["population.goal_noise"] * s["population.goal_conflict"] \
        + s["population.goal_noise_floor"]
    alpha, beta = trust_beta(s)
    raw, pro, noise, draw = (np.empty((B, n_gen)), np.empty((B, n_gen)),
                             np.empty((B, n_gen, D)), np.empty((B, n, n)))
    for b, rng in enumerate(rngs):  # each replicate's own stream; once per run
        if n_gen:
            raw[b] = rng.lognormal(0.0, sigma, size=n_gen)
        pro[b] = rng.normal(mean_p, sd_p, size=n_gen)
        if n_gen:
            noise[b] = rng.normal(0.0, scatter, size=(n_gen, D))
        draw[b] = rng.beta(alpha, beta, size=(n, n))
    rel = raw / raw.mean(axis=1, keepdims=True) if n_gen else raw
    gen_power = (np.clip(rel / rel.max(axis=1, keepdims=True), s["population.power_floor"], 1.0)
                 if n_gen else raw)

    def founders(listed_values: list[float], generated: np.ndarray) -> np.ndarray:
        fixed = np.broadcast_to(np.asarray(listed_values, dtype=float), (B, len(listed)))
        return np.concatenate([fixed, generated], axis=1)

    listed_goals = np.array([o.goals for o in listed], dtype=float).reshape(-1, D)
    goals = np.concatenate([np.broadcast_to(listed_goals, (B, len(listed), D)),
                            _generated_goals(s, gen_sectors, noise)], axis=1)
    trust = lower_across_goals(draw, pairwise_goal_distance(goals), s)
    trust[:, np.arange(n), np.arange(n)] = 1.0
    return Founders(
        names, sectors,
        power=founders([o.power for o in listed], gen_power),
        budget=founders([o.budget for o in listed], s["population.mean_budget"] * rel),
        admin=founders([o.admin_capacity for o in listed], s["population.admin_capacity"] * rel),
        prosociality=founders([o.prosociality for o in listed], np.clip(pro, 0.0, 1.0)),
        commitment=founders([o.commitment for o in listed], np.ones((B, n_gen))),
        goals=goals, trust=trust)


def _generated_goals(s: Scenario, sectors: list[str], noise: np.ndarray) -> np.ndarray:
    """Goals around bloc centres; with one bloc, around the sectors' typical priorities.

    With one bloc each member starts at its sector's typical goals, pulled towards the
    middle as ``goal_conflict`` falls and scattered more as it rises (``noise``,
    ``(B, n, D)``). With several blocs, members are dealt in turn to bloc centres spread
    apart by ``goal_conflict``.
    """
    n = len(sectors)
    if n == 0:
        return noise
    conflict = s["population.goal_conflict"]
    blocs = s["population.blocs"]
    if blocs == 1:
        typical = np.array([SECTOR_GOALS[sec] for sec in sectors])
        centre = 0.5 + conflict * (typical - 0.5)
    else:
        angles = np.arange(blocs) * 2 * np.pi / blocs
        basis = np.array([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]]) / 2.0
        offsets = np.stack([np.cos(angles), np.sin(angles)], axis=1) @ basis
        centre = 0.5 + s["population.bloc_spread"] * conflict * offsets[np.arange(n) % blocs]
    return np.clip(centre + noise, 0.0, 1.0)
