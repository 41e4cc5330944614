"""Figures of the validation patterns (`make validate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from collabsim.validation import Result

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "docs" / "img" / "validation"


def figure(default: Result, ablated: Result | None, path: Path) -> Path:
    """Each context's effect on the default model and with the mechanism switched off.

    A filled dot is a context where the pattern holds, an open one where it does not.
    """
    fig = Figure(figsize=(6.0, 2.6), layout="constrained")
    ax = fig.subplots()
    arms = [("default model", default)] + ([("mechanism off", ablated)] if ablated else [])
    for y, (_, result) in enumerate(arms):
        effect = result.table["effect"].to_numpy(dtype=float)
        holds = result.table["holds"].to_numpy(dtype=bool)
        jitter = np.linspace(-0.15, 0.15, len(effect))
        ax.scatter(effect[holds], y + jitter[holds], color="#4a7fb0", s=18,
                   label="holds" if y == 0 else None)
        ax.scatter(effect[~holds], y + jitter[~holds], facecolor="none", edgecolor="#b04a4a",
                   s=18, label="does not hold" if y == 0 else None)
        share = result.share_of_contexts or 0.0
        ax.text(1.01, y, f"{share:.0%}", transform=ax.get_yaxis_transform(), va="center",
                fontsize=8)
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_yticks(range(len(arms)), [label for label, _ in arms], fontsize=8)
    ax.set_xlabel(default.unit, fontsize=8)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title(f"{default.title}: effect in each context", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
