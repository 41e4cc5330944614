"""Pattern 4 (see docs/validation.md): see collabsim.validation.trust_asymmetry."""

from common import main

from collabsim.validation import trust_asymmetry

if __name__ == "__main__":
    main(trust_asymmetry)
