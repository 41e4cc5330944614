"""Reduced versions of the pattern checks (full versions: `make validate`).

Patterns the model reproduces must hold here too; those it does not reproduce (see
docs/validation.md) must still run and report a well-formed result with its reason.
"""

import math

import pytest

from collabsim.validation import PATTERNS

REPRODUCED = {1, 2, 4, 5, 6, 7, 8}


@pytest.mark.parametrize("check", PATTERNS, ids=lambda c: c.__name__)
def test_pattern(check):
    result = check(quick=True)
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
