"""Pattern 7 (see docs/validation.md): see collabsim.validation.pooled_budgets."""

from common import main

from collabsim.validation import pooled_budgets

if __name__ == "__main__":
    main(pooled_budgets)
