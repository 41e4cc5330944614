"""The HTML report in headless Chromium, offline: the verdict is the first screen."""

from collabsim import load_scenario
from collabsim.compare import compare
from collabsim.report import write_report

from .browser import page
from .conftest import ROOT, SCENARIOS

ARTIFACTS = ROOT / "artifacts"
OPTIONS = ("status_quo", "pooled_budget", "lead_commissioning", "integrated_provision",
           "independent_broker", "legal_duty", "austerity_shock", "prevention_popp",
           "shared_data")


def test_report_opens_offline_with_the_scorecard_on_the_first_screen(tmp_path):
    policy = SCENARIOS / "policy"
    scenarios = [load_scenario(policy / f"{n}.toml") for n in OPTIONS]
    path = write_report(compare(scenarios, replicates=4, seed=1, steps=12), tmp_path / "rep")
    with page(1280, 800) as (pg, requests):
        pg.goto(path.as_uri())
        pg.wait_for_load_state("load")
        assert pg.title().startswith("collabsim comparison: status_quo v. pooled_budget")
        card = pg.locator("#scorecard")
        box = card.bounding_box()
        # The whole scorecard, every option, is visible without scrolling at 1280x800.
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 800, box
        assert card.locator("tbody tr").count() == len(OPTIONS) - 1
        assert box["width"] <= 1280
        # Each cell says its verdict in a word, not by colour alone.
        words = card.locator("td .word").all_inner_texts()
        assert len(words) == 6 * (len(OPTIONS) - 1)
        assert set(words) <= {"Better", "Worse", "Unclear", "Same", "By design", "Shifts"}
        images = pg.locator("img")
        assert images.count() == 4
        widths = pg.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth)")
        assert all(w and w > 300 for w in widths), widths
        external = [u for u in requests if not u.startswith(("file:", "data:"))]
        assert external == [], external
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "report-first-screen.png"))
    assert (ARTIFACTS / "report-first-screen.png").stat().st_size > 10_000
