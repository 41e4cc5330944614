"""Service users' voice: tokenism depends on the rung of participation.

Hart's ladder puts manipulation, decoration and tokenism (rungs 1–3) below real
participation. Above them service users share in decisions, and so see and ask about
what partners actually put in; a partner that agreed a plan in front of them is held
to paying for it. Each member's willingness to contribute rises by
``participation.voice`` × (rung − 3) / 5 (0 at rungs 1–3, the whole weight at rung 8).
Meetings that decide while little is paid (the tokenism archetype) therefore persist
only where users are kept at the foot of the ladder. At voice 0 (the default)
participation changes only fit and cost (docs/ODD.md section 7.8).
"""

from __future__ import annotations

from collabsim.infrastructure import LAST_NON_PARTICIPATION, PARTICIPATION_SPAN


def push(rung: int, voice: float) -> float:
    """Willingness added to every member's contribution by service users' voice."""
    return voice * max(0, rung - LAST_NON_PARTICIPATION) / PARTICIPATION_SPAN
