"""The study scripts under experiments/ run, and what they print obeys the model's laws."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_tension_prints_one_row_per_lever_and_a_definition_changes_no_behaviour():
    script = ROOT / "experiments" / "tension.py"
    out = subprocess.run([sys.executable, str(script), "--replicates", "4", "--survey", "4"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    rows = {cells[1]: cells[2:-1] for line in out.splitlines()[2:]
            if (cells := [c.strip() for c in line.split("|")])}
    sys.path.insert(0, str(script.parent))
    try:
        from tension import LEVERS
    finally:
        sys.path.remove(str(script.parent))
    assert list(rows) == [name for name, _ in LEVERS]
    base, margin = rows["the defaults"], rows["success margin 0.1 (a definition)"]
    # The success margin only labels members' verdicts: every run is the same ...
    assert margin[:4] == base[:4]
    # ... and a lower bar for success can only add successful members.
    assert float(margin[4].rstrip("%")) >= float(base[4].rstrip("%"))
