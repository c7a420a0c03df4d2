"""What `pip install .` installs runs the demo: the wheel carries the demo project, the scripted
agent and everything else the README's first command needs, under the one import name `bosun`
(tests otherwise run from the checkout, so nothing else would notice a file missing from the wheel)."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_the_wheel_holds_the_demo_and_runs_it(demo_from_wheel) -> None:
    names, demo, _ = demo_from_wheel
    for needed in (
        "bosun/app/demo_project/bosun.toml",
        "bosun/app/demo_project/team.toml",
        "bosun/app/demo_project/src/calc/__init__.py",
        "bosun/orchestration/agents/scripted.py",
        "bosun/app/tui/bosun.tcss",
        "bosun/orchestration/plan/bosun.schema.json",  # what `bosun init`'s #:schema line names
    ):
        assert needed in names, f"{needed} is missing from the wheel"
    assert {name.split("/")[0] for name in names if not name.startswith("bosun-")} == {"bosun"}, (
        "the wheel claims an import name besides bosun"
    )
    for init in sorted(ROOT.glob("[aow]*/**/__init__.py")):  # every package of app/, orchestration/, widgets/
        if "demo_project" not in init.parts and init.relative_to(ROOT).parts[0] in ("app", "orchestration", "widgets"):
            assert f"bosun/{init.relative_to(ROOT).as_posix()}" in names, f"{init.parent} is missing from the wheel"
    assert demo.returncode == 0, demo.stderr
    assert sum(1 for line in demo.stdout.splitlines() if json.loads(line)["kind"] == "merged") == 9
