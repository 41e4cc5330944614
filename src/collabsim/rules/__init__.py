"""Governance, decision and funding rules: small named strategies in registries.

A scenario names a rule by string; :data:`GOVERNANCE`, :data:`DECISION` and
:data:`FUNDING` map those names to implementations. A new rule is one new class
registered here (and one new choice in :mod:`collabsim.schema`).
"""

from collabsim.rules.decision import DECISION
from collabsim.rules.funding import FUNDING
from collabsim.rules.governance import GOVERNANCE

__all__ = ["DECISION", "FUNDING", "GOVERNANCE"]
