"""Pattern 5 (see docs/validation.md): see collabsim.validation.narrow_funnel."""

from common import main

from collabsim.validation import narrow_funnel

if __name__ == "__main__":
    main(narrow_funnel)
