"""Can generic.toml be uncertain while the survey population still matches the survey?

The acceptance asks for two things at once: that ``scenarios/generic.toml`` (a mild
context: goal conflict 0.3, trust 0.5, eight members) be a solid partnership in only
35-85% of runs, and that 57-72% of the survey population's founding members judge their
partnership successful. This experiment moves, one at a time and at the schema's other
defaults, each lever in the schema that could make a mild partnership fail: random
political shifts and leadership turnover, scandals, a softer ratification bar (sign-off
less certain on both sides of it), a steeper acceptability, returns near one
(``dynamics.synergy``), and, for contrast, the success margin (a definition, not a
behaviour). It prints the figures of ``experiments/ratification.py`` for each: generic's
solid share and decision success (and at goal conflict 1.0), the survey's successful and
unsuccessful shares, and the calibration distance (0 inside every target).

Run: ``python experiments/tension.py --replicates 200 --survey 60`` (a few minutes).
"""

from __future__ import annotations

from ratification import arguments, table

LEVERS: list[tuple[str, dict[str, object]]] = [
    ("the defaults", {}),
    ("political shifts x4 (rate 0.04)", {"environment.political_shift_rate": 0.04}),
    ("political shifts x4, twice as large (0.4)",
     {"environment.political_shift_rate": 0.04, "environment.political_shift_size": 0.4}),
    ("leadership turnover x3 (rate 0.06)", {"environment.turnover_rate": 0.06}),
    ("scandals x6 (rate 0.03)", {"environment.scandal_rate": 0.03}),
    ("softer sign-off (ratification.spread 0.15)", {"ratification.spread": 0.15}),
    ("softer sign-off (ratification.spread 0.25)", {"ratification.spread": 0.25}),
    ("steeper acceptability (scale 0.35)", {"dynamics.acceptability_scale": 0.35}),
    ("returns near one (synergy 0.8)", {"dynamics.synergy": 0.8}),
    ("returns near one, success margin 0.1",
     {"dynamics.synergy": 0.8, "metrics.success_margin": 0.1}),
    ("success margin 0.1 (a definition)", {"metrics.success_margin": 0.1}),
]


def main() -> None:
    args = arguments(__doc__)
    table("lever", LEVERS, args.replicates, args.survey, args.seed)


if __name__ == "__main__":
    main()
