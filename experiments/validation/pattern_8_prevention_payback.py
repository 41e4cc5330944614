"""Pattern 8 (see docs/validation.md): see collabsim.validation.prevention_payback."""

from common import main

from collabsim.validation import prevention_payback

if __name__ == "__main__":
    main(prevention_payback)
