"""Decision rules whose effect depends on power imbalance (after Choi & Robertson 2014).

Choi & Robertson study decision rules as ways of handling power imbalance among
stakeholders. Here a member weighs who tabled a proposal against its own power, and
how much that matters depends on whether its vote can block:

- under majority, power-weighted and lead-decides rules its no cannot stop a
  proposal, so a weaker member goes along with a stronger proposer: its acceptability
  threshold falls by ``decision.deference`` per unit of power the proposer has over it,
  and the powerful's proposals pass whatever the weak think;
- under unanimity its no is a veto, so a weaker member guards against a stronger
  proposer: it asks ``decision.veto_guard`` more acceptability per unit of power gap,
  which protects it at the cost of stalling, more so the more unequal the members;
- a supermajority sits between and shifts nothing.

The shift changes the votes the rule counts, not what members think: trust after the
meeting (power plays) and whether a decision was contested follow members' sincere
votes, so a weak member who went along with a plan against its interest still resents
it. A broker's proposals (``who`` < 0) carry no power gap. Both weights are 0 by default.
"""

from __future__ import annotations

import numpy as np

#: Rules under which a single member's no cannot block a proposal.
NON_BLOCKING = ("majority", "power_weighted", "lead_decides")


def power_shift(power: np.ndarray, who: np.ndarray, rule: str, deference: float,
                veto_guard: float) -> np.ndarray | float:
    """What each member adds to a proposal's acceptability in its vote ``(B, K, C)``.

    Args:
        power: ``(B, C)`` members' power.
        who: ``(B, K)`` the member who tabled each proposal; negative for the broker.
        rule: The decision rule.
        deference: Acceptability added per unit of power gap where a no cannot block.
        veto_guard: Acceptability asked per unit of power gap where a no is a veto.
    """
    weight = (deference if rule in NON_BLOCKING
              else -veto_guard if rule == "unanimity" else 0.0)
    if not weight:
        return 0.0
    proposer = np.where(who >= 0, np.take_along_axis(power, np.maximum(who, 0), axis=1), 0.0)
    gap = np.maximum(proposer[:, :, None] - power[:, None, :], 0.0)
    return weight * np.where((who >= 0)[:, :, None], gap, 0.0)
