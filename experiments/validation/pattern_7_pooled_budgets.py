"""Pattern 7 of the model brief (section 11): see collabsim.validation.pooled_budgets."""

from common import main

from collabsim.validation import pooled_budgets

if __name__ == "__main__":
    main(pooled_budgets)
