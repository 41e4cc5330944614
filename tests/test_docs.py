"""Docs that must stay true: the README's two commands and the generated reference."""

from collabsim.cli import reference_markdown
from collabsim.infrastructure import MECHANISMS
from collabsim.schema import PARAMS

from .conftest import ROOT


def test_readme_opens_with_the_two_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    head = "\n".join(lines[:12])
    assert "make run" in head and "make test" in head
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_scenario_reference_is_generated_from_the_schema():
    on_disk = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert on_disk == reference_markdown(), "run `make docs` to regenerate"
    for p in PARAMS:
        assert f"`{p.key}`" in on_disk


def test_odd_names_every_mechanism_and_dynamics_parameter():
    odd = (ROOT / "docs" / "ODD.md").read_text()
    for mechanism, _ in MECHANISMS.values():
        assert mechanism in odd
    for p in PARAMS:
        if p.section == "dynamics":
            assert p.key in odd, p.key
