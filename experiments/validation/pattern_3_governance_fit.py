"""Pattern 3 (see docs/validation.md): see collabsim.validation.governance_fit."""

from common import main

from collabsim.validation import governance_fit

if __name__ == "__main__":
    main(governance_fit)
