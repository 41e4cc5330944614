"""The model's mechanisms, one module each, in the order a step runs them.

1. :mod:`~collabsim.mechanisms.environment`: austerity, demand and budget pressure,
   random events (turnover, political shifts, scandals).
2. :mod:`~collabsim.mechanisms.meeting`: deliberation, tabling, votes, the adopted
   plan and the meeting's cost.
3. :mod:`~collabsim.mechanisms.contribution`: willingness, what is asked and paid,
   shortfalls; prosociality following what others pay.
4. :mod:`~collabsim.mechanisms.delivery`: pot, queue and hub capacity (the narrow
   funnel), production and each member's benefit (with :mod:`collabsim.services`).
5. :mod:`~collabsim.mechanisms.trust`: every change of trust.
6. :mod:`~collabsim.mechanisms.exit`: expected return, satisfaction, leaving and
   ditching.
7. :mod:`~collabsim.mechanisms.adaptation`: governance evolution.

Each is a function of the members' state (:class:`collabsim.members.Members`), the
partnership's joint state (:class:`Joint`) and the parameters; the levers act through
:mod:`collabsim.infrastructure`. ``PartnershipModel.step`` calls them in this order.

The mechanisms the evidence calls for (docs/ODD.md section 7.9) are batched functions
of ``(B, C)`` and ``(B, C, C)`` arrays that :class:`collabsim.batch.Batch` calls, each
neutral at its defaults: :mod:`~collabsim.mechanisms.memory` (scars, turnover
inheritance), :mod:`~collabsim.mechanisms.coordination` (costs that grow with size),
:mod:`~collabsim.mechanisms.broker` (a broker that misreads preferences),
:mod:`~collabsim.mechanisms.duty` (the legal duty as cited),
:mod:`~collabsim.mechanisms.decision_power` (decision rules and power imbalance),
:mod:`~collabsim.mechanisms.divorce` (negotiated de-integration) and
:mod:`~collabsim.mechanisms.voice` (tokenism and the rung of participation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Joint:
    """What the partnership holds in common.

    Attributes:
        plan: The adopted plan ``(D,)``, or ``None`` before the first decision.
        currency: How current the plan is, 1 when adopted, decaying without decisions.
        pot: Money paid in but not yet committed to delivery, £m.
        queue: Money committed to delivery, waiting for hub capacity, £m.
        advantage: Cumulative joint output minus what the money would buy alone, £m.
    """

    plan: np.ndarray | None = None
    currency: float = 0.0
    pot: float = 0.0
    queue: float = 0.0
    advantage: float = 0.0
