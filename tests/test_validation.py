"""The pattern checks at full size (as `make validate` runs them), the survey reduced.

Patterns the model reproduces must hold here too; those it does not reproduce (see
docs/validation.md) must still run and report a well-formed result with its reason.
With the evidence's mechanisms on by default runs vary more, and the reduced checks
(a handful of replicates) no longer resolve patterns 1, 2 and 4, which hold at full
size; the batched engine runs the full checks in a few seconds. Pattern 6 (a legal duty
raises collaborative advantage) no longer holds: with the duty as cited (no exit ban)
the advantage gained is small and not significant.
"""

import math

import pytest

from collabsim.validation import PATTERNS

REPRODUCED = {1, 2, 4, 5, 7, 8}


@pytest.mark.parametrize("check", PATTERNS, ids=lambda c: c.__name__)
def test_pattern(check):
    result = check(quick=check.__name__ == "survey")
    assert math.isfinite(result.effect)
    lo, hi = result.ci
    assert lo <= result.effect <= hi
    assert len(result.table) > 0 and result.source and result.claim
    if result.number in REPRODUCED:
        assert result.holds, result.claim
    elif not result.holds:
        assert result.note, "a pattern that does not hold must say why"


def test_docs_list_every_pattern():
    from .conftest import ROOT

    text = (ROOT / "docs" / "validation.md").read_text()
    for number in range(1, 10):
        assert f"\n## {number}. " in text
        assert f"img/validation/pattern_{number}.png" in text
        assert (ROOT / "docs" / "img" / "validation" / f"pattern_{number}.png").exists()
