"""`bosun --version`, and a second supervisor on a live session: refused, naming the live one
(pid, since when) and how to see it (`bosun attach`), never pointing at `bosun resume`."""

from __future__ import annotations

import re
import time
from importlib.metadata import version
from pathlib import Path

from conftest import AWAIT_GO, BackgroundRun, bosun, release, write_unit


def test_version_prints_the_installed_distributions_version(tmp_path: Path) -> None:
    result = bosun("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"bosun {version('bosun')}"
    assert re.fullmatch(r"bosun \d+\.\d+\.\d+\S*", result.stdout.strip())


def test_a_second_supervisor_names_the_live_one_and_points_at_attach(project) -> None:
    repo = project([{"id": "a"}], {"a": [[AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]]})
    before = time.time()
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    try:
        run.wait_for("running", "a")
        for command in (("run", "--headless"), ("resume", "--headless")):
            second = bosun(*command, cwd=repo)
            assert second.returncode == 2, second.stdout + second.stderr
            [line] = second.stderr.strip().splitlines()
            assert f"pid {run.proc.pid}, since " in line and "`bosun attach`" in line, line
            assert "bosun resume" not in line and "bosun reset" not in line, line
            since = re.search(r"since (\S+ \S+)\)", line).group(1)
            started = time.mktime(time.strptime(since, "%Y-%m-%d %H:%M:%S"))
            assert before - 2 <= started <= time.time(), (line, before)
        release(repo, "a")
        run.wait_for("merged", "a")
    finally:
        run.proc.terminate()
        run.finish()
