"""Docs that must stay true: the README's two commands and the generated reference."""

from collabsim import odd
from collabsim.cli import describe_text, reference_markdown
from collabsim.infrastructure import MECHANISMS
from collabsim.schema import INPUT, PARAMS

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


def test_odd_parameter_tables_are_generated_from_the_schema():
    text = (ROOT / "docs" / "ODD.md").read_text()
    assert odd.rewrite(text) == text, "run `make docs` to regenerate"
    block = odd.tables()
    assert block in text
    for p in odd.behavioural():
        assert f"`{p.key}`" in block, p.key


def test_every_behavioural_constant_has_a_source():
    for p in PARAMS:
        assert p.source.strip(), p.key
        if p.section in ("dynamics", "effects", "metrics") or p.advanced:
            assert p.source != INPUT, f"{p.key} is behavioural: name its source or 'judgement'"


def test_describe_hides_advanced_constants_unless_asked():
    short, full = describe_text(), describe_text(advanced=True)
    advanced = [p.key for p in PARAMS if p.advanced]
    assert advanced, "some constants are advanced"
    for key in advanced:
        assert f"{key} =" not in short and f"{key} =" in full
    assert "dynamics.trust_gain =" in short
    for text in (short, full):  # each section under one heading
        headings = [line for line in text.splitlines() if line.startswith("[")]
        assert len(headings) == len(set(headings)), headings


def test_every_command_help_reads_cleanly():
    """Descriptions are printed as written (help strings are %-formatted): a doubled '%'
    in either shows as '%%', and no help line may be left unformatted."""
    import argparse

    from collabsim.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert len(subs.choices) >= 10
    for name, sub in subs.choices.items():
        text = sub.format_help()
        assert "%%" not in text and "%(" not in text, name
        assert sub.description, f"{name} has no description"
        for action in sub._actions:  # every argument says what it is
            assert action.help, f"{name} {action.dest} has no help"
