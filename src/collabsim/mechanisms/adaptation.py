"""Governance evolution: shared governance gives way as size grows or trust falls.

Provan & Kenis (2008): shared governance suits small partnerships with dense trust.
With ``governance.adaptive``, a shared partnership that outgrows
``dynamics.shared_max_size`` or whose mean trust falls below
``dynamics.shared_min_trust`` moves to a broker if its members broadly accept the
current plan, and to a lead organisation otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from collabsim.members import Members


def next_mode(
    mode: np.ndarray, m: Members, p: Mapping[str, Any], has_plan: np.ndarray,
    modes: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Which replicates change governance ``(B,)``, and the code of the mode they move to.

    ``mode (B,)`` is each replicate's governance mode, an index into ``modes`` (the
    modes' names in code order); ``has_plan (B,)`` says whether a plan was adopted.
    """
    n = m.n
    shared = (mode == modes.index("shared")) & (n >= 2)
    trust = m.mean(m.trust_out())
    change = shared & ((n > p["dynamics.shared_max_size"])
                       | (trust < p["dynamics.shared_min_trust"]))
    consensus = np.where(has_plan, m.mean(m.plan_acc), 0.0)
    to = np.where(consensus >= p["dynamics.acceptance_threshold"], modes.index("nao"),
                  modes.index("lead"))
    return change, to
