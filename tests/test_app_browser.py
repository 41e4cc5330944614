"""A real browser drives the dashboard: presets, controls, layout, hostile names, the lesson.

One server (started with the solid_partnership preset) serves every test in this module;
the fixture stops its whole process group, so no dashboard outlives the tests.
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from collabsim import load_scenario
from collabsim.app import control_values, controls, css_name, presets

from .browser import page
from .conftest import ROOT

ARTIFACTS = ROOT / "artifacts"
WIDTH, HEIGHT = 1280, 720
CONTROLS = {c.key: c for c in controls()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "collabsim.cli", "app", "teaching/solid_partnership",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("dashboard did not start")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in its group


# Helpers -------------------------------------------------------------------------------------
def running(pg) -> dict:
    return json.loads(pg.locator(".collabsim-running").text_content())


def wait_running(pg, check, what: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(ValueError):
            state = running(pg)
            if check(state):
                return state
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; running: {running(pg)}")
        time.sleep(0.1)


def open_page(pg, url: str) -> None:
    pg.goto(url)
    pg.locator(".collabsim-step").wait_for(timeout=90_000)
    pg.locator(".collabsim-running").wait_for(state="attached")


def choose(pg, box: str, option: str) -> None:
    pg.locator(f"{box} .v-select").first.click()
    menu = pg.locator(".menuable__content__active")
    menu.get_by_role("option", name=option, exact=True).click()


def choose_preset(pg, name: str) -> None:
    choose(pg, ".collabsim-preset", name)  # the preset's Select has this class itself
    wait_running(pg, lambda r: r["scenario"] == name and r["quarter"] == 0, f"preset {name}")


def set_control(pg, key: str, value) -> None:
    box = f".collabsim-control-{css_name(key)}"
    c = CONTROLS[key]
    if c.param.kind == "choice":
        choose(pg, box, value)
    else:
        slider = pg.locator(f"{box} [role=slider]").first
        now = running(pg)[key]
        presses = round((value - now) / c.step)
        slider.focus()
        for _ in range(abs(presses)):
            slider.press("ArrowRight" if presses > 0 else "ArrowLeft")
    wait_running(pg, lambda r: r[key] == pytest.approx(value) and r["quarter"] == 0,
                 f"{key} = {value}")


def step(pg, n: int) -> dict:
    start = running(pg)["quarter"]
    for i in range(n):
        pg.locator(".collabsim-step").click()
        wait_running(pg, lambda r, q=start + i + 1: r["quarter"] == q, f"quarter {start + i + 1}")
    return running(pg)


def shown_labels(pg) -> dict[str, str]:
    out = {}
    for key in CONTROLS:
        label = pg.locator(f".collabsim-control-{css_name(key)} .collabsim-control-label")
        out[key] = label.first.text_content().strip()
    return out


def open_more(pg) -> None:
    more = pg.get_by_text("More settings", exact=True)
    if not pg.locator(f".collabsim-control-{css_name('population.size')}").first.is_visible():
        more.click()
        pg.locator(f".collabsim-control-{css_name('population.size')}").first.wait_for()


def explanation(pg) -> str:
    return pg.locator(".collabsim-story").inner_text()


# Tests ----------------------------------------------------------------------------------------
def test_each_preset_loads_its_values_and_runs_them(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with page(WIDTH, HEIGHT) as (pg, requests):
        open_page(pg, server)
        open_more(pg)
        for name in reversed(list(presets())):
            choose_preset(pg, name)
            pg.locator(".collabsim-reset").click()
            expected = control_values(load_scenario(presets()[name]))
            state = wait_running(pg, lambda r: r["quarter"] == 0, "reset")
            assert {k: state[k] for k in expected} == expected, name  # it runs the preset
            want = {k: CONTROLS[k].text(v) for k, v in expected.items()}
            assert shown_labels(pg) == want, name  # and every control shows it
        # One control set to another preset's value applies, and changes the run.
        choose_preset(pg, "tokenism")
        before = step(pg, 6)
        pg.locator(".collabsim-reset").click()
        wait_running(pg, lambda r: r["quarter"] == 0, "reset")
        solid = control_values(load_scenario(presets()["solid_partnership"]))
        set_control(pg, "funding.rule", solid["funding.rule"])
        assert shown_labels(pg)["funding.rule"] == "How joint work is funded: pooled"
        after = step(pg, 6)
        assert after["funding.rule"] == "pooled" and before["funding.rule"] == "separate"
        assert before["paid"] < 0.5 * before["asked"]  # tokenism pays little ...
        assert after["paid"] >= 0.9 * after["asked"]  # ... a pooled budget collects in full
        # ... and nothing of it leaks into the next preset.
        choose_preset(pg, "narrow_funnel")
        assert running(pg)["funding.rule"] == control_values(
            load_scenario(presets()["narrow_funnel"]))["funding.rule"]
        external = [u for u in requests
                    if not u.startswith((server, "blob:", "data:", "ws://127.0.0.1"))]
        assert external == [], external


def test_layout_fits_a_projector(server):
    with page(WIDTH, HEIGHT) as (pg, _):
        open_page(pg, server)
        choose_preset(pg, "ditch_and_run")  # six named organisations with long names
        step(pg, 8)
        pg.screenshot(path=str(ARTIFACTS / "app-1280x720.png"))

        def box(selector: str) -> dict:
            return pg.locator(selector).first.bounding_box()

        network, story = box(".collabsim-network svg"), box(".collabsim-story-card")
        charts = [pg.locator(".collabsim-charts svg").nth(i).bounding_box() for i in range(4)]
        for b in [network, story, *charts]:
            assert b["x"] >= 0 and b["y"] >= 0, b
            assert b["x"] + b["width"] <= WIDTH and b["y"] + b["height"] <= HEIGHT, b
        assert network["x"] + network["width"] <= story["x"]  # the card hides no node
        # Every node and every name lies inside the drawing, uncut.
        inside = pg.eval_on_selector(".collabsim-network svg", """svg => {
            const r = svg.getBoundingClientRect();
            return [...svg.querySelectorAll('circle, text')].every(e => {
                const b = e.getBoundingClientRect();
                return b.left >= r.left - 0.5 && b.right <= r.right + 0.5
                    && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5; });
        }""")
        assert inside
        # Charts have readable tick labels on both axes.
        sizes = pg.eval_on_selector_all(".collabsim-charts svg text",
                                        "els => els.map(e => parseFloat(e.getAttribute("
                                        "'font-size')))")
        assert min(sizes) >= 11 and len(sizes) >= 4 * 8
        for hidden in ("PAGE 0", "Use Threads", "Render Interval"):
            assert pg.get_by_text(hidden).count() == 0


def test_hostile_names_render_as_text(server, tmp_path):
    evil = '<img src=x onerror="document.title=\'XSS-FIRED\';window.__xss=1">'
    path = tmp_path / "evil_app.toml"
    path.write_text(
        '[scenario]\nname = "<b>evil</b>"\nsteps = 20\n[population]\ninitial_trust = 0.02\n'
        f"[[organisation]]\nname = {json.dumps(evil)}\nsector = \"health\"\nprosociality = 0.0\n"
        '[[organisation]]\nname = "Normal org"\nsector = "housing"\n')
    with page(WIDTH, HEIGHT) as (pg, _):
        open_page(pg, server)
        pg.get_by_text("Open or save a scenario file").click()
        pg.locator(".collabsim-path input").fill(str(path))
        pg.locator(".collabsim-path input").press("Enter")
        wait_running(pg, lambda r: r["scenario"] == "<b>evil</b>", "the file to open")
        step(pg, 3)
        assert pg.evaluate("window.__xss") is None
        assert pg.title() != "XSS-FIRED"
        assert pg.locator("img[onerror]").count() == 0 and pg.locator("b", has_text="evil") \
            .count() == 0
        assert "<img src=x" in pg.locator(".collabsim-network").inner_text()  # shown as text
        if running(pg)["archetype"]:
            assert evil in explanation(pg)
        assert "<b>evil</b>" in pg.locator(".collabsim-time").inner_text()


def test_the_lesson_plan_demos_do_what_the_text_says(server):
    """Each demo step of docs/teaching.md, in order, on the dashboard."""
    with page(WIDTH, HEIGHT) as (pg, _):
        open_page(pg, server)
        open_more(pg)
        # Demo 1: the good case: trust builds, joint output pulls away from the solo line.
        choose_preset(pg, "solid_partnership")
        state = step(pg, 12)
        assert state["archetype"] == "solid_partnership"
        assert "Labelled solid partnership because joint output is" in explanation(pg)
        # Demo 2: inertia: ten partners agree at the table, their home organisations do
        # not sign off; almost no decisions, nobody leaves ...
        choose_preset(pg, "collaborative_inertia")
        state = step(pg, 12)
        assert state["members"] == 10 and state["decisions"] <= 2
        assert state["archetype"] == "collaborative_inertia"
        assert "meetings reached a decision" in explanation(pg)
        # ... majority rule: fewer home organisations must sign off, so plans stand ...
        set_control(pg, "governance.decision_rule", "majority")
        state = step(pg, 12)
        assert state["decisions"] >= 10
        # ... and more deliberation rounds on top.
        set_control(pg, "governance.deliberation_rounds", 5)
        state = step(pg, 12)
        assert state["decisions"] >= 10 and state["archetype"] == "solid_partnership"
        # Demo 3: tokenism: plans agreed, almost nothing paid in.
        choose_preset(pg, "tokenism")
        assert shown_labels(pg)["participation.rung"].endswith("rung 2, decoration")
        state = step(pg, 12)
        assert state["archetype"] == "tokenism" and state["paid"] < 0.25 * state["asked"]
        set_control(pg, "participation.rung", 6)
        set_control(pg, "infrastructure.data", 0.8)
        state = step(pg, 12)
        assert state["paid"] > 0.5 * state["asked"]  # users sharing decisions: partners pay
        set_control(pg, "funding.rule", "pooled")
        state = step(pg, 12)
        assert state["paid"] >= 0.9 * state["asked"]  # a pooled budget collects in full
        # Demo 4: the funnel: money queues at the lead's small team until its capacity rises.
        choose_preset(pg, "narrow_funnel")
        state = step(pg, 12)
        assert state["archetype"] == "narrow_funnel" and "queued" in explanation(pg)
        set_control(pg, "governance.admin_capacity", 10.0)
        state = step(pg, 12)
        assert state["queued"] < 1.0 and state["archetype"] != "narrow_funnel"
        # ... the tug of war: two blocs, trust split along the bloc line.
        choose_preset(pg, "tug_of_war")
        state = step(pg, 12)
        assert state["archetype"] == "tug_of_war" and "blocs" in explanation(pg)
        # Demo 5: coming apart: the partners agree to wind the service down ...
        choose_preset(pg, "amicable_divorce")
        state = step(pg, 40)
        assert state["archetype"] == "amicable_divorce" and state["members"] < 8
        assert "Left so far" in explanation(pg) and "(amicable, step" in explanation(pg)
        # ... and a key partner ditches early.
        choose_preset(pg, "ditch_and_run")
        state = step(pg, 10)
        assert state["archetype"] == "ditch_and_run"
        assert "handed over its work and left" in explanation(pg)
