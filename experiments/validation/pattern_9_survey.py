"""Pattern 9 of the model brief (section 11): see collabsim.validation.survey."""

from common import main

from collabsim.validation import survey

if __name__ == "__main__":
    main(survey)
