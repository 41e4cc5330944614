"""Docs and code cite published sources by name, never unpublished working material."""

import re

from .conftest import ROOT

UNPUBLISHED = re.compile(r"\bseeds? 00\d|\bseed 00\d's|\bthe (model )?brief\b|\bbrief's\b",
                         re.IGNORECASE)


def test_docs_and_code_cite_sources_by_name():
    files = [*(ROOT / "docs").glob("*.md"), ROOT / "README.md",
             *(ROOT / "src" / "collabsim").rglob("*.py"),
             *(ROOT / "experiments").rglob("*.py")]
    hits = [f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
            for f in files for n, line in enumerate(f.read_text().splitlines(), 1)
            if UNPUBLISHED.search(line)]
    assert hits == []


def test_sources_page_describes_each_source_and_is_linked():
    text = (ROOT / "docs" / "sources.md").read_text()
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert len(headings) == 5
    for section in text.split("\n## ")[1:]:
        assert "**What it says.**" in section and "**What the model takes.**" in section
    assert "sources.md" in (ROOT / "docs" / "teaching.md").read_text()
    assert "sources.md" in (ROOT / "docs" / "ODD.md").read_text()
