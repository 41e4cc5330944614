"""The HTML report renders in headless Chromium, offline, and asks for nothing external."""

from collabsim import load_scenario
from collabsim.compare import compare
from collabsim.report import write_report

from .browser import page
from .conftest import ROOT, SCENARIOS

ARTIFACTS = ROOT / "artifacts"


def test_report_renders_offline_in_chromium(tmp_path):
    policy = SCENARIOS / "policy"
    scenarios = [load_scenario(policy / f"{n}.toml")
                 for n in ("status_quo", "pooled_budget", "prevention_popp")]
    path = write_report(compare(scenarios, replicates=5, seed=1, steps=16), tmp_path / "rep")
    with page() as (pg, requests):
        pg.goto(path.as_uri())
        pg.wait_for_load_state("load")
        assert pg.title().startswith("collabsim comparison: status_quo v. pooled_budget")
        assert pg.locator("h2").count() >= 8
        assert pg.locator("table").count() >= 5
        images = pg.locator("img")
        assert images.count() == 3
        widths = pg.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth)")
        assert all(w and w > 300 for w in widths), widths
        assert "Headline findings" in pg.content()
        external = [u for u in requests if not u.startswith(("file:", "data:"))]
        assert external == [], external
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "report-first-screen.png"))
    assert (ARTIFACTS / "report-first-screen.png").stat().st_size > 10_000
