"""A real browser drives the dashboard: load, choose a preset, step ten times."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from .browser import page
from .conftest import ROOT, SCENARIOS

ARTIFACTS = ROOT / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "collabsim.cli", "app",
         str(SCENARIOS / "teaching" / "solid_partnership.toml"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read().decode() if proc.stdout else ""
            proc.kill()
            raise AssertionError(f"dashboard did not start:\n{out[-2000:]}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def drawings(pg):
    return pg.eval_on_selector_all(".collabsim-network svg, .collabsim-charts svg",
                                   "els => els.map(e => e.outerHTML)")


def test_dashboard_in_chromium(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with page(1400, 1000) as (pg, requests):
        pg.goto(server)
        pg.get_by_role("button", name="Step", exact=True).wait_for(timeout=90_000)
        pg.wait_for_selector(".collabsim-charts svg", timeout=30_000)
        assert pg.locator(".collabsim-network svg").count() == 1
        assert pg.locator(".collabsim-charts svg").count() == 4
        pg.screenshot(path=str(ARTIFACTS / "app-loaded.png"))

        # Choose a preset and load it.
        pg.locator(".v-select").filter(has_text="preset").first.click()
        pg.locator(".v-list-item").filter(has_text="narrow_funnel").first.click()
        pg.get_by_role("button", name="Reset", exact=True).click()
        pg.wait_for_selector("text=Time: 0.0")
        before = drawings(pg)

        timings = []
        for i in range(1, 11):
            start = time.perf_counter()
            pg.get_by_role("button", name="Step", exact=True).click()
            pg.wait_for_selector(f"text=Time: {i}.0", timeout=20_000)
            timings.append(time.perf_counter() - start)
        after = drawings(pg)
        assert len(after) == len(before) == 5
        assert all(a != b for a, b in zip(after, before, strict=True)), "drawings did not change"
        assert "step 10" in after[0]
        label = pg.locator("text=Archetype:").first.inner_text()
        assert label.startswith("Archetype: ") and label != "Archetype: —"
        assert pg.locator("text=What is happening").count() == 1
        pg.screenshot(path=str(ARTIFACTS / "app-after-10-steps.png"))
        external = [u for u in requests
                    if not u.startswith((server, "blob:", "data:", "ws://127.0.0.1"))]
        assert external == [], external
    (ARTIFACTS / "app-step-timings.txt").write_text(
        "\n".join(f"{t:.3f}" for t in timings) + "\n")
