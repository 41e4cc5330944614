"""What a seed means: one integer names one run, however it is started.

``collabsim run X --seed 42 -n 1``, ``run(X, seed=42)`` and
``PartnershipModel(X, rng=42)`` all give replicate 0 of seed 42. Replicate ``k`` of
seed ``S`` uses ``SeedSequence(S, spawn_key=(k,))`` (and design point ``p`` of a
sweep ``SeedSequence(S, spawn_key=(p, k))``), so replicate ``k`` gets the same random
numbers whichever scenario it runs (common random numbers) and however many
replicates are asked for.
"""

from __future__ import annotations

import numpy as np

from collabsim.errors import InputError

#: What a model accepts as its seed.
SeedLike = int | np.integer | np.random.SeedSequence | np.random.Generator | None


def replicate_seed(seed: int, replicate: int, point: int | None = None) -> np.random.SeedSequence:
    """The seed of one replicate (of one design point, for sweeps).

    Raises:
        InputError: for a negative seed, replicate or point (numpy's seeds are not).
    """
    for name, value in (("seed", seed), ("replicate", replicate), ("point", point)):
        if value is not None and int(value) < 0:
            raise InputError(f"{name} = {value} is not allowed; expected an integer >= 0")
    key = (replicate,) if point is None else (point, replicate)
    return np.random.SeedSequence(seed, spawn_key=key)


def as_seed(seed: SeedLike) -> np.random.SeedSequence | np.random.Generator | None:
    """An integer seed as replicate 0 of that seed; anything else as it is."""
    if isinstance(seed, int | np.integer):
        return replicate_seed(int(seed), 0)
    return seed
