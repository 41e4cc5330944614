"""Pattern 6 (see docs/validation.md): see collabsim.validation.mandate."""

from common import main

from collabsim.validation import mandate

if __name__ == "__main__":
    main(mandate)
