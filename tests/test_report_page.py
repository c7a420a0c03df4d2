"""The report page as a user opens it: a synthetic 250-unit, 10-agent session written through the
real Store API, rendered, then opened offline in headless Chromium (Playwright): the graph, the
timeline's lanes and the tables are there and visible, and the page asks for nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import ROOT, needs_tool
from report_sessions import synthetic_session

from bosun.app.cli.report_command import write_atomically
from bosun.orchestration.report import figures, read_store
from bosun.orchestration.report.page import report_page
from bosun.orchestration.report.text import summary_text

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = needs_tool(
    None if CHROMIUM.exists() else "Chromium is not installed (apt-get install -y chromium; CI installs it)"
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]


@pytest.fixture(scope="module")
def large(tmp_path_factory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("large")
    played = synthetic_session(folder, units=250, agents=10, slots=3)
    record = read_store(
        played.store, depends_on=played.depends_on, agents=played.agents, gate_slots=played.slots, name="synthetic"
    )
    played.store.close()
    began = time.monotonic()
    found = figures(record)
    page = folder / "report.html"
    write_atomically(page, report_page(found))
    assert time.monotonic() - began < 10, "a 250-unit report is built in seconds"
    return found, page


def test_a_large_session_has_every_unit_agent_and_run(large) -> None:
    found, page = large
    session = found["session"]
    assert session["units"] == session["merged"] == 250 and len(found["units"]) == 250
    assert [a["name"] for a in found["agents"]] == [f"agent-{i}" for i in range(10)]
    assert {r["why"] for r in found["runs"]} >= {"batch", "retry", "bisect"}
    assert sum(a["attempts"] for a in found["agents"]) == session["attempts"]
    assert session["cost_usd"] == pytest.approx(sum(u["cost_usd"] for u in found["units"]))
    assert 0 < session["gate_busy_pct"] <= 100 and session["human_wait_s"] > 0
    html = page.read_text()
    assert html.count('class="unit st-merged"') == 250
    text = summary_text(found)
    assert "250/250 units merged" in text and "agent-9" in text


@needs_chromium
def test_the_page_renders_offline_with_graph_timeline_and_tables(large, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    found, page_file = large
    url = page_file.as_uri()
    asked, failed = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1360, "height": 900})
        page.on("request", lambda request: asked.append(request.url))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(url, wait_until="load")
        assert page.title() == "Bosun report — synthetic"
        for selector in ("svg.graph", "svg.timeline", "#units table", "#agents table", "#runs table", "#findings"):
            assert page.locator(selector).first.is_visible(), selector
        counts = page.evaluate(
            """() => ({
                boxes: document.querySelectorAll('svg.graph g.unit').length,
                edges: document.querySelectorAll('svg.graph path.edge').length,
                lanes: [...document.querySelectorAll('svg.timeline text.lane-name')].map(t => t.textContent),
                tries: document.querySelectorAll('svg.timeline g.bar[class*="try-"]').length,
                runs: document.querySelectorAll('svg.timeline g.bar[class*="run-"]').length,
                unitRows: document.querySelectorAll('#units tbody tr').length,
                agentRows: document.querySelectorAll('#agents tbody tr').length,
                runRows: document.querySelectorAll('#runs tbody tr').length,
                graphWidth: document.querySelector('svg.graph').getBoundingClientRect().width,
            })"""
        )
        assert counts["boxes"] == 250 and counts["unitRows"] == 250
        assert counts["edges"] == sum(len(deps) for deps in found["graph"].values())
        assert counts["lanes"][:10] == [f"agent-{i}" for i in range(10)]
        assert counts["lanes"][10:] == ["gate 1", "gate 2", "gate 3", "human", "cost"]
        assert counts["tries"] == found["session"]["attempts"] and counts["runs"] == len(found["runs"])
        assert counts["agentRows"] == 10 and counts["runRows"] == len(found["runs"]) and counts["graphWidth"] > 500
        picture = tmp_path / "report.png"
        page.screenshot(path=str(picture), full_page=True)
        browser.close()
    assert asked == [url] and not failed, "the page loads nothing but itself"
    assert picture.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("BOSUN_SAVE_SCREENSHOT"):
        (ROOT / "screenshots" / "report.png").write_bytes(picture.read_bytes())
