"""Pattern 4 of the model brief (section 11): see collabsim.validation.trust_asymmetry."""

from common import main

from collabsim.validation import trust_asymmetry

if __name__ == "__main__":
    main(trust_asymmetry)
