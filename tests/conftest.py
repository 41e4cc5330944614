import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from collabsim import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BUNDLED = sorted(SCENARIOS.rglob("*.toml"))

# Locally every run explores new examples; in CI (CI=true) the examples are fixed so a
# red run is always reproducible. `HYPOTHESIS_PROFILE=deep` explores much further.
settings.register_profile("dev", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", settings.get_profile("dev"), derandomize=True,
                          database=None)
settings.register_profile("deep", settings.get_profile("dev"), max_examples=1500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def generic():
    return load_scenario(SCENARIOS / "generic.toml")
