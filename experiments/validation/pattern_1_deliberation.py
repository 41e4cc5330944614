"""Pattern 1 of the model brief (section 11): see collabsim.validation.deliberation."""

from common import main

from collabsim.validation import deliberation

if __name__ == "__main__":
    main(deliberation)
