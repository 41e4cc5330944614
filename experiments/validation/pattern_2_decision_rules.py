"""Pattern 2 (see docs/validation.md): see collabsim.validation.decision_rules."""

from common import main

from collabsim.validation import decision_rules

if __name__ == "__main__":
    main(decision_rules)
