"""Pattern 6 of the model brief (section 11): see collabsim.validation.mandate."""

from common import main

from collabsim.validation import mandate

if __name__ == "__main__":
    main(mandate)
