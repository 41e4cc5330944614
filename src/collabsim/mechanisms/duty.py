"""The legal duty to collaborate as cited: keep it under review, collaborate where efficient.

The police collaboration duty (Police Reform and Social Responsibility Act 2011, as
amended) asks forces to keep opportunities to collaborate under review and to
collaborate where that is in the interests of efficiency or effectiveness. With
``legal_duty.exit_ban`` false a mandated member reviews its membership every step: if
its satisfaction (net benefit per £ of fair share) stays below the voluntary exit
threshold less ``legal_duty.review_margin`` for ``dynamics.exit_patience`` steps, the
partnership is clearly not efficient for it and it leaves (``exit:reviewed``), whatever
its trust. The hard ban (``legal_duty.exit_ban`` true, today's default) is an explicit
option stronger than the duty.
"""

from __future__ import annotations

import numpy as np


def review(satisfaction: np.ndarray, low_steps: np.ndarray, active: np.ndarray,
           threshold: np.ndarray | float, patience: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Who leaves after review ``(B, C)``, and the updated count of inefficient steps."""
    inefficient = active & (satisfaction < threshold)
    low = np.where(inefficient, low_steps + 1, 0)
    return active & (low >= patience), low
