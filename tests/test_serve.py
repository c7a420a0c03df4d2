"""`bosun serve` in a real browser: headless Chromium (Debian's) driven by Playwright opens the
served URL, sees the graph, approves a unit from the keyboard, and the headless supervisor in
another process merges it. Without the token, the page, its files and the websocket are refused.

`BOSUN_SAVE_SCREENSHOT=1` also saves the browser's picture to screenshots/serve.png.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, BackgroundRun, bosun, first_parent_merges, needs_tool, write_unit

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = needs_tool(
    None if CHROMIUM.exists() else "Chromium is not installed (apt-get install -y chromium; CI installs it)"
)
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

UNITS = [{"id": "greeting", "title": "Say hello", "scope": ["src/greet.py"]}]
SCRIPT = {"greeting": [write_unit("src/greet.py", "def hello():\n    return 'hello'\n")]}

SCREEN_TEXT = """
window.__screenText = "";
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    const decoder = new TextDecoder();
    this.addEventListener("message", (e) => {
      if (typeof e.data !== "string") window.__screenText += decoder.decode(e.data, {stream: true});
    });
  }
};
"""
"""xterm.js paints on a canvas; what the page's terminal was sent is kept for the test to read."""


class Served:
    """`bosun serve ARGS` in the background (its own process group: each page runs a `bosun attach`)."""

    def __init__(self, repo: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bosun.app.cli.main", "serve", *args],
            cwd=repo,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        line = self._line(self.proc.stdout)
        assert line.startswith("Open http://"), line + self.proc.stderr.read()
        self.url = line.split()[1]

    def _line(self, stream, timeout: float = 30) -> str:
        ready, _, _ = select.select([stream], [], [], timeout)
        return stream.readline().strip() if ready else ""

    def stop(self) -> str:
        """Stop serving; returns what it said on stderr."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        return self.proc.stderr.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def status_of(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def supervised(project):
    repo = project(UNITS, SCRIPT, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    run.wait_for("awaiting_approval", "greeting")
    yield repo, run
    if run.proc.poll() is None:
        run.proc.terminate()
        run.proc.wait(timeout=30)


@needs_chromium
def test_approve_a_unit_from_a_browser(supervised, tmp_path):
    from playwright.sync_api import sync_playwright

    repo, run = supervised
    port = free_port()
    served = Served(repo, "--port", str(port))
    try:
        assert urlsplit(served.url).netloc == f"127.0.0.1:{port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            asked: list[str] = []
            page.on("request", lambda request: asked.append(request.url))
            page.add_init_script(SCREEN_TEXT)
            page.goto(served.url)
            page.wait_for_function(
                "window.__screenText.includes('greeting') && window.__screenText.includes('to approve')", timeout=60_000
            )
            page.locator(".xterm-helper-textarea").focus()  # where xterm.js takes the keyboard
            page.keyboard.press("a")
            page.wait_for_function("window.__screenText.includes('Approve merge')", timeout=30_000)
            page.wait_for_timeout(500)  # the dialog painted, for the picture
            picture = tmp_path / "serve.png"
            page.screenshot(path=str(picture))
            page.keyboard.press("a")
            run.wait_for("merged", "greeting", timeout=60)
            page.wait_for_function("window.__screenText.includes('merged')", timeout=30_000)
            browser.close()
        assert first_parent_merges(repo) == ["greeting"]
        assert picture.read_bytes().startswith(b"\x89PNG")
        if os.environ.get("BOSUN_SAVE_SCREENSHOT"):
            (ROOT / "screenshots" / "serve.png").write_bytes(picture.read_bytes())
        origin = f"http://127.0.0.1:{port}"
        assert asked and all(url.startswith(origin) for url in asked), "the page loads nothing from elsewhere"
        units = json.loads(bosun("status", "--json", cwd=repo).stdout)["units"]
        assert [(u["id"], u["state"]) for u in units] == [("greeting", "merged")]
    finally:
        served.stop()


def test_without_the_token_everything_is_refused(supervised):
    repo, _run = supervised
    served = Served(repo)  # port 0: a free one, named in the URL
    try:
        parts = urlsplit(served.url)
        origin = f"http://{parts.netloc}"
        assert parts.hostname == "127.0.0.1" and parts.port and parts.query.startswith("token=")
        assert len(parts.query.removeprefix("token=")) >= 32
        upgrade = {
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        }
        assert status_of(origin + "/") == 403
        assert status_of(origin + "/?token=wrong") == 403
        assert status_of(origin + "/static/js/textual.js") == 403
        assert status_of(origin + "/ws?width=80&height=24", upgrade) == 403
        assert status_of(origin + "/ws?token=wrong", upgrade) == 403
        # with the token: the page (no resource from the internet), its files, but no other site's websocket
        assert status_of(served.url) == 200
        page = urllib.request.urlopen(served.url, timeout=10).read().decode()
        assert "https://" not in page and "fonts.googleapis" not in page
        token = parts.query.removeprefix("token=")
        assert status_of(f"{origin}/static/js/textual.js?token={token}") == 200
        assert status_of(f"{origin}/ws?token={token}", {**upgrade, "Origin": "http://evil.example"}) == 403
    finally:
        served.stop()


def test_serve_refuses_without_a_session_and_warns_off_this_machine(project):
    repo = project(UNITS, SCRIPT, merge="manual")
    nothing = bosun("serve", cwd=repo)
    assert nothing.returncode == 2 and len(nothing.stderr.splitlines()) == 1
    assert "no Bosun session here" in nothing.stderr
    assert bosun("serve", "--port", "70000", cwd=repo).returncode == 2
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    served = Served(repo, "--host", "0.0.0.0")  # the warnings come before the URL
    said = served.stop()
    assert "listening on 0.0.0.0, not only this machine" in said
    assert "no supervisor runs this session" in said
