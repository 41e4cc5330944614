"""Pattern 1 (see docs/validation.md): see collabsim.validation.deliberation."""

from common import main

from collabsim.validation import deliberation

if __name__ == "__main__":
    main(deliberation)
