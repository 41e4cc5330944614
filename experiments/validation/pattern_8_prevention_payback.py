"""Pattern 8 of the model brief (section 11): see collabsim.validation.prevention_payback."""

from common import main

from collabsim.validation import prevention_payback

if __name__ == "__main__":
    main(prevention_payback)
