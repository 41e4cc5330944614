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
partnership's joint state (:class:`Joint`) and the parameters, vectorised over a
batch of ``B`` replicates (arrays ``(B, C, ...)`` with an ``active`` mask); the levers
act through :mod:`collabsim.infrastructure`. :meth:`collabsim.batch.Batch.step`
calls them in this order; a single run is a batch of one.

The mechanisms the evidence calls for (docs/ODD.md section 7.9) are hooked into those
steps, each neutral at its defaults: :mod:`~collabsim.mechanisms.memory` (scars,
turnover inheritance), :mod:`~collabsim.mechanisms.coordination` (costs that grow with
size), :mod:`~collabsim.mechanisms.broker` (a broker that misreads preferences),
:mod:`~collabsim.mechanisms.duty` (the legal duty as cited),
:mod:`~collabsim.mechanisms.decision_power` (decision rules and power imbalance),
:mod:`~collabsim.mechanisms.divorce` (negotiated de-integration) and
:mod:`~collabsim.mechanisms.voice` (tokenism and the rung of participation).
"""

from __future__ import annotations

import numpy as np


class Joint:
    """What each of ``B`` partnerships holds in common, one array per quantity.

    Attributes:
        plan: ``(B, D)`` the adopted plan (meaningless where ``has_plan`` is False).
        has_plan: ``(B,)`` a plan has been adopted.
        currency: How current the plan is, 1 when adopted, decaying without decisions.
        pot: Money paid in but not yet committed to delivery, £m.
        queue: Money committed to delivery, waiting for hub capacity, £m.
        advantage: Cumulative joint output minus what the money would buy alone, £m.
        mode: The governance mode, an index into ``schema.GOVERNANCE_MODES``.
        lead: Slot of the lead organisation.
        switch_step: Step at which governance changed mode, -1 if it has not.
        divorce_streak: Consecutive steps most members wanted to wind down
            (:mod:`~collabsim.mechanisms.divorce`).
    """

    FIELDS = ("plan", "has_plan", "currency", "pot", "queue", "advantage", "mode", "lead",
              "switch_step", "divorce_streak")

    def __init__(self, B: int, D: int, mode: int, lead: np.ndarray) -> None:
        self.plan = np.zeros((B, D))
        self.has_plan = np.zeros(B, dtype=bool)
        self.currency, self.pot = np.zeros(B), np.zeros(B)
        self.queue, self.advantage = np.zeros(B), np.zeros(B)
        self.mode = np.full(B, mode)
        self.lead = np.asarray(lead, dtype=int)
        self.switch_step = np.full(B, -1)
        self.divorce_streak = np.zeros(B, dtype=int)
