from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from collabsim import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BUNDLED = sorted(SCENARIOS.rglob("*.toml"))

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def generic():
    return load_scenario(SCENARIOS / "generic.toml")
