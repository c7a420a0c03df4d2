"""The house rules the code keeps, checked where CI runs them: no product module over 400 lines,
and ruff's lint (C901: no function above complexity 15) and format clean over the whole tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("app", "widgets", "orchestration")
MAX_LINES = 400


def test_no_product_module_is_over_400_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for folder in PRODUCT
        for path in (ROOT / folder).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: split them by job"


def test_no_file_cites_the_private_specification():
    """The contract Bosun was built from is not shipped: code, tests and docs say what they mean
    instead of pointing at its sections."""
    needles = ("SPEC" + " §", "SPEC" + ".md")  # spelled apart: this file is tracked too
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    citing = [
        name
        for name in tracked.splitlines()
        if name.endswith((".py", ".md", ".toml"))
        and (ROOT / name).is_file()
        and any(needle in (ROOT / name).read_text(encoding="utf-8") for needle in needles)
    ]
    assert citing == [], citing


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("ruff is part of the test extra: pip install '.[test]'")
    return [found]


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"])
def test_ruff_is_clean(args):
    result = subprocess.run([*_ruff(), *args], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
