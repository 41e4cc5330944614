"""Test responses with known sensitivity, for validating the sweep and analysis chain.

A response is a function ``f(params, rng) -> dict of outputs``; a sweep file names it
with ``model = "collabsim.experiment.toys:ishigami"``.

References:
    Ishigami, T. & Homma, T. (1990). An importance quantification technique in
    uncertainty analysis for computer models. Proc. ISUMA '90, 398–403.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def ishigami(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """The Ishigami function on x1, x2, x3 given in [0, 1] (mapped to [-π, π]).

    With a = 7, b = 0.1 its total-effect indices are ordered x1 (0.56) > x2 (0.44) >
    x3 (0.24), and x3 has no first-order effect.
    """
    x1, x2, x3 = (2 * math.pi * params[k] - math.pi for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    return {"y": y}


def linear(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """``y = 4 a + 2 b + c`` plus a little noise: the ordering a > b > c is known."""
    return {"y": 4 * params["a"] + 2 * params["b"] + params["c"] + 0.01 * rng.normal()}


def fragile(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, but raises for ``a > 0.8``: a run that fails."""
    if params["a"] > 0.8:
        raise RuntimeError(f"fragile response fails at a = {params['a']:.3f}")
    return linear(params, rng)


def slow(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, taking 20 ms: for tests that interrupt a sweep."""
    import time

    time.sleep(0.02)
    return linear(params, rng)


def quits(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, but calls ``sys.exit(0)`` for ``a > 0.8``: a run that exits."""
    import sys

    if params["a"] > 0.8:
        sys.exit(0)
    return linear(params, rng)


def crashes(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, but ends its process with ``os._exit`` for ``a > 0.9``.

    Only for sweeps with worker processes: it stands for a run that is killed (for
    lack of memory, say) every time it runs.
    """
    import os

    if params["a"] > 0.9:
        os._exit(3)
    return linear(params, rng)


def timed(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, taking 50 ms and reporting when it ran (for concurrency tests)."""
    import time

    start = time.time()
    time.sleep(0.05)
    return {**linear(params, rng), "start": start, "end": time.time()}
