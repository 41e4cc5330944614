"""Negotiated de-integration (amicable divorce), distinct from ditching.

When the joint work no longer serves most members (the share of active members whose
satisfaction is below ``divorce.satisfaction`` reaches ``divorce.quorum``) for
``divorce.patience`` steps in a row, the members agree together to wind the partnership
down: every member leaves in good order (``exit:amicable``), nobody's obligations are
handed to others, and trust is kept. Ditching, by contrast, is one pressed member
walking out and leaving its share to the rest.
"""

from __future__ import annotations

import numpy as np


def agree(satisfaction: np.ndarray, active: np.ndarray, streak: np.ndarray, quorum: float,
          level: float, patience: int) -> tuple[np.ndarray, np.ndarray]:
    """Which replicates agree to wind down ``(B,)``, and the updated streak ``(B,)``."""
    n = active.sum(axis=1)
    unserved = (active & (satisfaction < level)).sum(axis=1)
    held = (n >= 2) & (unserved >= quorum * n)
    streak = np.where(held, streak + 1, 0)
    return streak >= patience, streak
