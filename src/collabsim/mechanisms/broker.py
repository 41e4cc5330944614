"""A broker with imperfect knowledge of members' preferences.

Under nao governance the broker tables the centre of members' preferences and
alternatives that lean towards a few members. It knows those preferences only as it
reads them: each member's preference is seen with a lasting error, drawn once per run
(``bias``, standard normal per goal dimension) and scaled by ``broker.misperception``.
The broker's running cost is ``governance.nao_cost``, charged to members in proportion
to their budgets; how well it facilitates is ``governance.facilitation``, a separate
setting. At misperception 0 (the default) the broker reads every preference exactly.
"""

from __future__ import annotations

import numpy as np


def perceived(pref: np.ndarray, bias: np.ndarray | None, misperception: float
              ) -> np.ndarray:
    """What the broker takes members' preferences ``(B, C, D)`` to be."""
    if not misperception or bias is None:
        return pref
    return np.clip(pref + misperception * bias, 0.0, 1.0)
