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

from collabsim.members import Members


def next_mode(mode: str, m: Members, p: Mapping[str, Any], has_plan: bool) -> str | None:
    """The governance mode the partnership moves to, or ``None`` to stay as it is."""
    if mode != "shared" or m.n < 2:
        return None
    trust = float(m.trust_out().mean())
    if m.n > p["dynamics.shared_max_size"] or trust < p["dynamics.shared_min_trust"]:
        consensus = float(m.plan_acc.mean()) if has_plan else 0.0
        return "nao" if consensus >= p["dynamics.acceptance_threshold"] else "lead"
    return None
