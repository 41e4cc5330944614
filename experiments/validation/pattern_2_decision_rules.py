"""Pattern 2 of the model brief (section 11): see collabsim.validation.decision_rules."""

from common import main

from collabsim.validation import decision_rules

if __name__ == "__main__":
    main(decision_rules)
