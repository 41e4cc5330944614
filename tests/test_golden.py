"""Golden master: the model reproduces the recorded fixed-seed runs of every scenario.

The recording is in ``tests/golden/`` (re-recorded only on purpose, with
``python tests/golden/regenerate.py``). Integers, strings and booleans must match
exactly; floats to a relative 1e-10, which allows harmless re-association of sums.
"""

import io
from functools import cache

import numpy as np
import pandas as pd
import pytest

from collabsim.schema import SHOCK_KINDS

from .conftest import ROOT
from .golden import regenerate


@cache
def fresh() -> dict[str, pd.DataFrame]:
    """Today's tables, through the same CSV round trip as the recording."""
    tables = {}
    for name, table in regenerate.record().items():
        buf = io.StringIO()
        regenerate.write(table, buf)
        buf.seek(0)
        tables[name] = pd.read_csv(buf)
    return tables


def assert_same(recorded: pd.DataFrame, now: pd.DataFrame, name: str) -> None:
    assert list(now.columns) == list(recorded.columns), f"{name}: columns differ"
    assert len(now) == len(recorded), f"{name}: row count differs"
    for col in recorded.columns:
        a, b = recorded[col], now[col]
        if pd.api.types.is_float_dtype(a) and pd.api.types.is_numeric_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            bad = ~np.isclose(x, y, rtol=1e-10, atol=1e-12, equal_nan=True)
            assert not bad.any(), (
                f"{name}.{col} differs in {bad.sum()} rows, first at row "
                f"{np.flatnonzero(bad)[0]}: {x[bad][0]!r} != {y[bad][0]!r}")
        else:
            assert a.dtype == b.dtype, f"{name}.{col}: dtype {a.dtype} != {b.dtype}"
            same = (a == b) | (a.isna() & b.isna())
            assert same.all(), f"{name}.{col} differs at rows {list(np.flatnonzero(~same))[:5]}"


@pytest.mark.parametrize("name", ["steps.csv.gz", "summaries.csv", "events.csv", "members.csv"])
def test_golden_master(name):
    recorded = pd.read_csv(ROOT / "tests" / "golden" / name)
    assert_same(recorded, fresh()[name], name)


def test_golden_master_covers_every_bundled_scenario_and_every_shock():
    recorded = pd.read_csv(ROOT / "tests" / "golden" / "summaries.csv")
    bundled = {regenerate.label(p) for p in (ROOT / "scenarios").rglob("*.toml")}
    assert bundled <= set(recorded["scenario"])
    kinds = set(pd.read_csv(ROOT / "tests" / "golden" / "events.csv")["kind"])
    assert set(SHOCK_KINDS) <= kinds
    assert {"exit:dissatisfied", "exit:ditched", "exit:forced"} <= kinds


def test_golden_comparison_catches_a_change():
    recorded = pd.read_csv(ROOT / "tests" / "golden" / "summaries.csv")
    changed = recorded.copy()
    changed.loc[0, "mean_trust"] *= 1 + 1e-8
    with pytest.raises(AssertionError, match="mean_trust"):
        assert_same(recorded, changed, "summaries")
