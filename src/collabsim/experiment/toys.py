"""Test responses with known sensitivity, for validating the sweep and analysis chain.

A response is a function ``f(params, rng) -> dict of outputs``; a sweep file names it
with ``model = "collabsim.experiment.toys:ishigami"``. Only the responses registered
here (:data:`RESPONSES`) can be named: a sweep file is data, so it never imports or
calls anything else.

References:
    Ishigami, T. & Homma, T. (1990). An importance quantification technique in
    uncertainty analysis for computer models. Proc. ISUMA '90, 398–403.
    Homma, T. & Saltelli, A. (1996). Importance measures in global sensitivity
    analysis of nonlinear models. Reliability Engineering & System Safety 52:1–17.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from collabsim.errors import InputError, where

Response = Callable[[Mapping[str, float], np.random.Generator], dict[str, float]]
RESPONSES: dict[str, Response] = {}


def register(fn: Response) -> Response:
    """Add a test response to the registry a sweep file may name."""
    RESPONSES[f"{__name__}:{fn.__name__}"] = fn
    return fn


def response(ref: str, source: str | None = None) -> Response:
    """The registered test response ``ref`` names, or a one-line InputError."""
    if ref not in RESPONSES:
        raise InputError(f"{where(source, 'sweep.model')} = {ref!r} is not allowed; expected "
                         f"'collabsim' or a registered test response: {', '.join(RESPONSES)}")
    return RESPONSES[ref]



@register
def ishigami(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """The Ishigami function on x1, x2, x3 given in [0, 1] (mapped to [-π, π]).

    With a = 7, b = 0.1 its total-effect indices are ordered x1 (0.56) > x2 (0.44) >
    x3 (0.24), and x3 has no first-order effect.
    """
    x1, x2, x3 = (2 * math.pi * params[k] - math.pi for k in ("x1", "x2", "x3"))
    y = math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)
    return {"y": y}


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> dict[str, dict[str, float]]:
    """Analytic first-order (S1) and total (ST) Sobol indices of :func:`ishigami`.

    The partial variances are V1 = (1 + bπ⁴/5)²/2, V2 = a²/8, V13 = 8b²π⁸/225 and
    no other (Homma & Saltelli 1996).
    """
    v1 = 0.5 * (1 + b * math.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * math.pi**8 / 225
    v = v1 + v2 + v13
    return {"S1": {"x1": v1 / v, "x2": v2 / v, "x3": 0.0},
            "ST": {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v}}


#: The region where :func:`box` responds: ``a`` in [0.2, 0.5] and ``b`` in [0.6, 1].
BOX = {"a": (0.2, 0.5), "b": (0.6, 1.0)}


@register
def box(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """About 1 inside :data:`BOX` and about 0 outside, with a little noise; ``c`` is inert.

    For scenario discovery: PRIM should restrict ``a`` and ``b`` to the box and leave
    ``c`` free.
    """
    inside = all(low <= params[k] <= high for k, (low, high) in BOX.items())
    return {"y": float(inside) + 0.1 * rng.normal(), "z": params["c"]}


@register
def linear(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """``y = 4 a + 2 b + c`` plus a little noise: the ordering a > b > c is known."""
    return {"y": 4 * params["a"] + 2 * params["b"] + params["c"] + 0.01 * rng.normal()}


@register
def noisy(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """:func:`linear`'s signal buried in noise of standard deviation 5 (replicates disagree)."""
    return {"y": 4 * params["a"] + 2 * params["b"] + params["c"] + 5.0 * rng.normal()}


@register
def fragile(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, but raises for ``a > 0.8``: a run that fails."""
    if params["a"] > 0.8:
        raise RuntimeError(f"fragile response fails at a = {params['a']:.3f}")
    return linear(params, rng)


@register
def slow(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, taking 20 ms: for tests that interrupt a sweep."""
    import time

    time.sleep(0.02)
    return linear(params, rng)


@register
def quits(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, but calls ``sys.exit(0)`` for ``a > 0.8``: a run that exits."""
    import sys

    if params["a"] > 0.8:
        sys.exit(0)
    return linear(params, rng)


@register
def crashes(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, but ends its process with ``os._exit`` for ``a > 0.9``.

    Only for sweeps with worker processes: it stands for a run that is killed (for
    lack of memory, say) every time it runs.
    """
    import os

    if params["a"] > 0.9:
        os._exit(3)
    return linear(params, rng)


@register
def timed(params: Mapping[str, float], rng: np.random.Generator) -> dict[str, float]:
    """Like :func:`linear`, taking 50 ms and reporting when it ran (for concurrency tests)."""
    import time

    start = time.time()
    time.sleep(0.05)
    return {**linear(params, rng), "start": start, "end": time.time()}
