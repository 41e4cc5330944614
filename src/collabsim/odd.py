"""The parameter tables of docs/ODD.md, generated from the schema.

``python -m collabsim.odd docs/ODD.md`` (run by ``make docs``) rewrites the block
between the two markers; ``tests/test_docs.py`` checks that it is up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from collabsim.schema import INPUT, PARAMS, Param

BEGIN = "<!-- parameter tables: generated from src/collabsim/schema.py by `make docs` -->"
END = "<!-- end of generated parameter tables -->"

SECTION_TITLES = {
    "governance": "Governance rules",
    "funding": "Funding rules",
    "effects": "Strength of the infrastructure levers",
    "environment": "Random events",
    "services": "Service-demand submodel",
    "population": "Generated members",
    "dynamics": "Behaviour",
    "metrics": "Measures and outcome archetypes",
    "memory": "Trust with memory",
    "coordination": "Coordination costs",
    "broker": "The broker",
    "participation": "Participation of service users",
    "decision": "Decision rules and power",
    "legal_duty": "The legal duty",
    "ratification": "Ratification by the home organisations",
    "divorce": "Negotiated de-integration",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _default(p: Param) -> str:
    return f"{p.default:g}" if isinstance(p.default, float) else str(p.default)


def behavioural() -> list[Param]:
    """Every parameter whose default is a claim about behaviour, not a fact of a place."""
    return [p for p in PARAMS if p.source != INPUT]


def tables() -> str:
    """The generated block, markers included."""
    from collabsim import ensemble

    out = [BEGIN, ""]
    params = behavioural()
    drawn = ensemble.drawn_keys()
    for section in dict.fromkeys(p.section for p in params):
        out += [f"**{SECTION_TITLES[section]}** (`[{section}]`)", "",
                "| key | default | allowed | meaning | source | reasoning |",
                "|---|---|---|---|---|---|"]
        for p in params:
            if p.section == section:
                key = f"`{p.key}`" + (" *(advanced)*" if p.advanced else "") + (
                    " *(ensemble)*" if p.key in drawn else "")
                out.append(f"| {key} | {_default(p)} | {p.allowed()} | {_cell(p.help)} | "
                           f"{_cell(p.source)} | {_cell(p.why)} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def rewrite(text: str) -> str:
    """``text`` with the block between the markers replaced by :func:`tables`."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + tables() + tail


def main(argv: list[str]) -> int:
    """Rewrite the ODD file named on the command line."""
    path = Path(argv[0])
    path.write_text(rewrite(path.read_text()))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
