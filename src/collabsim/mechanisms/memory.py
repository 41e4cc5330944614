"""Trust with memory: a betrayal leaves a scar that caps trust and fades slowly.

``scar[b, i, j]`` in [0, 1] is what member ``i`` remembers against member ``j``: its
trust in ``j`` may not rise above ``1 − scar`` until the scar fades. A scandal, a
detected shortfall (a failed delivery) and a partner's ditching each leave a scar as
deep as the betrayal (the worst one is what is remembered: a new scar replaces a
shallower one and does not add to it, so repeated small lapses do not ratchet trust to
nothing); each step takes ``memory.scar_decay`` of it away. Leadership turnover hands a
new representative ``memory.inheritance`` of the organisation's history (trust, scars,
understanding) instead of a clean start. Every function works on a whole batch: ``(B, C)`` member
arrays, ``(B, C, C)`` pairs and the ``active`` mask. With every scar share at 0 (the
defaults) no scar ever forms and trust is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def _off_diagonal(scar: np.ndarray) -> np.ndarray:
    """Nobody scars itself."""
    scar[:, np.eye(scar.shape[1], dtype=bool)] = 0.0
    return scar


def after_scandal(scar: np.ndarray, hit: np.ndarray, size: float, share: float
                  ) -> np.ndarray:
    """Everyone's scar against the members ``hit`` ``(B, C)`` by a scandal of ``size``."""
    if not share:
        return scar
    return _off_diagonal(np.maximum(scar, min(1.0, share * size) * hit[:, None, :]))


def after_shortfall(scar: np.ndarray, seen: np.ndarray, active: np.ndarray, share: float
                    ) -> np.ndarray:
    """Each active member's scar against partners whose shortfall ``seen`` ``(B, C)`` it saw."""
    if not share:
        return scar
    depth = np.minimum(1.0, share * active[:, :, None] * seen[:, None, :])
    return _off_diagonal(np.maximum(scar, depth))


def after_ditching(scar: np.ndarray, ditch: np.ndarray, active: np.ndarray, share: float
                   ) -> np.ndarray:
    """The scar every remaining pair takes in a replicate where a partner ditched."""
    if not share:
        return scar
    stay = active & ~ditch
    hit = ditch.any(axis=1)[:, None, None] & stay[:, :, None] & stay[:, None, :]
    return _off_diagonal(np.maximum(scar, share * hit))


#: The parameters that can leave a scar; with all of them at 0 no scar ever forms.
SCAR_SHARES = ("memory.scandal_scar", "memory.shortfall_scar", "memory.ditch_scar")


def scarring(p: Mapping[str, Any]) -> bool:
    """Whether any betrayal can leave a scar (else scars stay 0 and need no pass)."""
    return any(p[name] for name in SCAR_SHARES)


def remember(trust: np.ndarray, scar: np.ndarray, decay: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Cap trust at ``1 − scar`` (the diagonal stays 1), then let scars fade a step."""
    if not scar.any():
        return trust, scar
    capped = np.minimum(trust, 1.0 - scar)
    eye = np.eye(trust.shape[1], dtype=bool)
    capped[:, eye] = 1.0
    return capped, scar * (1.0 - decay)


def turnover_reach(size: float, inheritance: float) -> float:
    """How far a new representative moves to the prior: ``size`` less what it inherits."""
    return size * (1.0 - inheritance) if inheritance else size


def forget(scar: np.ndarray, rows: np.ndarray, reach: float) -> np.ndarray:
    """A new representative's scars, and its partners' against it, fade by ``reach``."""
    if not scar.any():
        return scar
    r = rows.astype(float)
    keep = (1.0 - reach * r[:, :, None]) * (1.0 - reach * r[:, None, :])
    return scar * keep
