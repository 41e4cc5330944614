"""collabsim: agent-based simulation of partnerships between public-service organisations.

Quick start::

    from collabsim import load_scenario, run, run_replicates
    scenario = load_scenario("scenarios/baseline.toml")
    result = run(scenario, seed=1)          # one run: .steps, .summary, .agents
    table = run_replicates(scenario, n=20, seed=1)  # one row per replicate
    sweep("experiments/governance_size_trust.toml", "results/gst", workers=2)
    data = load_results("results/gst")           # .points, .runs, .metrics, .steps
"""

from collabsim.errors import InputError
from collabsim.experiment import load_results, load_sweep, sweep
from collabsim.metrics import ARCHETYPES, METRICS, classify
from collabsim.model import PartnershipModel
from collabsim.runner import RunResult, aggregate, replicate_seed, run, run_replicates
from collabsim.scenario import Scenario, load_scenario, loads_scenario

__version__ = "0.1.0"

__all__ = [
    "ARCHETYPES",
    "METRICS",
    "InputError",
    "PartnershipModel",
    "RunResult",
    "Scenario",
    "__version__",
    "aggregate",
    "classify",
    "load_results",
    "load_scenario",
    "load_sweep",
    "loads_scenario",
    "replicate_seed",
    "run",
    "run_replicates",
    "sweep",
]
