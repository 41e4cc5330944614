"""Pattern 9 (see docs/validation.md): see collabsim.validation.survey."""

from common import main

from collabsim.validation import survey

if __name__ == "__main__":
    main(survey)
