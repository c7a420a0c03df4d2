"""benchmarks/replay_history.py end to end on a small real history: its units replay the commits
through Bosun (a command agent of the user's own outside the repository, the queue, the sandbox
as the machine allows) and the integration branch ends with the source's own tree; the source's
submodule, which its check imports, comes along."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import git

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "replay_history.py"


def test_a_replayed_history_ends_at_the_source_s_own_tree(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "src").mkdir(parents=True)
    git(source, "init", "-q", "-b", "main")
    (source / "src" / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    (source / "check.py").write_text(
        "import sys\nsys.path[:0] = ['src', 'vendor/ops']\nimport calc, ops\nassert calc.add(2, 2) == ops.FOUR\n"
    )
    ops = tmp_path / "ops"
    ops.mkdir()
    git(ops, "init", "-q", "-b", "main")
    (ops / "ops.py").write_text("FOUR = 4\n")
    git(ops, "add", "-A")
    git(ops, "commit", "-qm", "ops")
    git(source, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(ops), "vendor/ops")
    git(source, "add", "-A")
    git(source, "commit", "-qm", "start")
    steps = [
        ("src/calc.py", "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"),
        ("src/names.py", "NAMES = ['add', 'sub']\n"),
        (
            "src/calc.py",
            "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\n"
            "def mul(a, b):\n    return a * b\n",
        ),
    ]
    for path, content in steps:
        (source / path).write_text(content)
        git(source, "add", "-A")
        git(source, "commit", "-qm", f"change {path}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(source),
            "main~3..main",
            str(tmp_path / "replay"),
            "--paths",
            "src",
            "--gate",
            f"{sys.executable} check.py",
            "--agents",
            "2",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3/3 merged" in done.stdout and "equals main under src: yes" in done.stdout, done.stdout
    assert "gate passed on 3/3" in done.stdout, done.stdout  # the raw-git baseline has the submodule too
