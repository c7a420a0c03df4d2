"""What `pip install .` installs runs the demo: the wheel carries the demo project, the scripted
agent and everything else the README's first command needs (tests run from the checkout, so
nothing else would notice a file missing from the wheel)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import ROOT


def test_the_wheel_holds_the_demo_and_runs_it(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("bosun-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("bosun/app/demo_project/bosun.toml", "bosun/app/demo_project/team.toml",
                   "bosun/app/demo_project/src/calc/__init__.py", "bosun/orchestration/agents/scripted.py",
                   "bosun/app/tui/bosun.tcss"):
        assert needed in names, f"{needed} is missing from the wheel"
    assert {name.split("/")[0] for name in names if not name.startswith("bosun-")} == {"bosun"}, \
        "the wheel claims an import name besides bosun"
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    demo = subprocess.run([sys.executable, "-m", "bosun.app.cli.main", "demo", "--headless", "--json", "--speed", "20"],
                          cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert sum(1 for line in demo.stdout.splitlines() if json.loads(line)["kind"] == "merged") == 9
