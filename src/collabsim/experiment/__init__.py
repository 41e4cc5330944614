"""The experiment engine: sweep files, designs, executors, a resumable store, analysis."""

from collabsim.experiment.analysis import (
    factor_table,
    plot_factor,
    plot_heatmap,
    plot_sensitivity,
    point_means,
    sensitivity,
)
from collabsim.experiment.engine import SweepReport, open_executor, sweep
from collabsim.experiment.results import SweepResults, load_results
from collabsim.experiment.spec import SweepSpec, load_sweep

__all__ = [
    "SweepReport",
    "SweepResults",
    "SweepSpec",
    "factor_table",
    "load_results",
    "load_sweep",
    "open_executor",
    "plot_factor",
    "plot_heatmap",
    "plot_sensitivity",
    "point_means",
    "sensitivity",
    "sweep",
]
