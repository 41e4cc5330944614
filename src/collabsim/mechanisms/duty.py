"""The legal duty to collaborate as cited: a mandated member reviews whether to stay.

The police collaboration duty is in the Police Act 1996, sections 22A-22C, inserted by
the Police Reform and Social Responsibility Act 2011 (s. 89): chief officers and policing
bodies (police and crime commissioners) must keep under consideration whether working
with other forces and policing bodies would serve the efficiency or effectiveness of
their own and others' policing, and must put into effect a collaboration that they and
their partners judge would do so. The Policing and Crime Act 2017 (s. 2) lays a similar
duty on police, fire and rescue and ambulance services in England towards one another.
Neither says anything about leaving. With ``legal_duty.exit_ban`` false (the default) a
mandated member reviews its membership every step: if its satisfaction (net benefit per
£ of fair share) stays below the voluntary exit threshold less
``legal_duty.review_margin`` for ``dynamics.exit_patience`` steps, the partnership is
clearly not efficient for it and it leaves (``exit:reviewed``), whatever its trust. That
the review weighs only the member's own benefit, where the statutes count the other
forces' or services' efficiency or effectiveness as well, is judgement. The hard ban
(``legal_duty.exit_ban`` true) is an explicit option stronger than the duty.
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
