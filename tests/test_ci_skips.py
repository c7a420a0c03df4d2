"""CI that cannot lie: under CI=true a test whose tool is missing fails instead of skipping, and
every skip in the suite goes through the one mechanism in conftest.py that does so."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

SAMPLE = """\
from conftest import import_tool, needs_tool, tool_missing

@needs_tool("frobnicator is not installed")
def test_marked():
    pass

def test_called():
    tool_missing("gizmo is not installed")

def test_imported():
    import_tool("no_such_module_for_bosun_tests", "no_such_module is not installed")

@needs_tool(None)
def test_present():
    pass
"""

# Skips that are not about a missing tool: the condition a test needs is absent because a tool is there.
NOT_A_TOOL = {"test_differential.py": ["no interpreter here without pyrefly beside it"]}


MODULE = """\
from conftest import import_tool

import_tool("no_such_module_for_bosun_tests", "no_such_module is not installed")

def test_never_collected():
    pass
"""


def run_sample(tmp_path: Path, ci: str | None, sample: str = SAMPLE) -> str:
    (tmp_path / "test_sample.py").write_text(sample)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(ROOT / "tests")
    if ci is not None:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfs", "-p", "conftest", "-p", "no:cacheprovider", "test_sample.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_a_missing_tool_skips_on_a_workstation(tmp_path: Path) -> None:
    out = run_sample(tmp_path, None)
    assert "1 passed, 3 skipped" in out, out
    assert "frobnicator is not installed" in out and "gizmo is not installed" in out


def test_a_missing_tool_fails_under_ci(tmp_path: Path) -> None:
    out = run_sample(tmp_path, "true")
    assert "2 failed, 1 passed, 1 error" in out, out  # the mark fails the setup: an error, not a skip
    for tool in ("frobnicator", "gizmo", "no_such_module"):
        assert f"CI must run this test, but {tool} is not installed" in out, out
    assert "1 passed, 3 skipped" in run_sample(tmp_path, "false")


def test_a_module_that_needs_a_missing_module_skips_whole_or_stops_ci(tmp_path: Path) -> None:
    assert "1 skipped" in run_sample(tmp_path, None, MODULE)
    out = run_sample(tmp_path, "true", MODULE)
    assert "CI must run this test, but no_such_module is not installed" in out and "1 error" in out, out


def test_every_skip_in_the_suite_goes_through_tool_missing() -> None:
    """A bare pytest.skip / skipif / importorskip would let CI pass without running the test."""
    bare = re.compile(r"pytest\.(skip\(|mark\.skipif|importorskip)")
    found = []
    for path in sorted([*(ROOT / "tests").glob("*.py"), *(ROOT / "tests" / "stubs").glob("*.py")]):
        if path.name in ("conftest.py", Path(__file__).name):
            continue
        for line in path.read_text().splitlines():
            if bare.search(line) and not any(reason in line for reason in NOT_A_TOOL.get(path.name, [])):
                found.append(f"{path.name}: {line.strip()}")
    assert not found, "route these through conftest.tool_missing / needs_tool / import_tool:\n" + "\n".join(found)
