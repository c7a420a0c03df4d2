"""A gate that fails on the integration branch itself blames no unit: before the first unit on a
branch nobody gated is named the culprit, the gate runs on the branch; failing there too, the unit
waits (no hand-back, no attempt spent) and is judged again once the branch passes."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, release, write_unit
from test_engine import assert_integration_green


def status(repo: Path) -> dict:
    result = bosun("status", "--json", cwd=repo)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_unit_failing_on_a_broken_branch_waits_and_merges_once_a_fix_lands(project) -> None:
    units = [{"id": "other", "scope": ["src/other.py"]}, {"id": "fix", "scope": ["src/legacy.py"]}]
    script = {
        "other": [write_unit("src/other.py", "X = 1\n")],  # one attempt: a hand-back would fail it
        "fix": [[AWAIT_GO, *write_unit("src/legacy.py", "OK = True\n")]],
    }
    repo = project(units, script, extra_files={"src/legacy.py": "BROKEN = True\n"}, sandbox="off")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("gate_failed", "other", timeout=120)
    unit = {u["id"]: u for u in status(repo)["units"]}["other"]
    assert unit["detail"]["base_failing"] and unit["attempts"] == 1, unit["detail"]
    said = status(repo)["base_failing"]
    assert said["commit"] == unit["detail"]["base"]["commit"] and "tests failed" in said["cause"]
    assert "the gate fails on the integration branch itself" in bosun("status", cwd=repo).stdout
    story = bosun("status", "other", cwd=repo).stdout
    assert "not this unit's code" in story and "bosun regate other" in story, story
    release(repo, "fix")  # its merge makes the branch pass: `other` goes back to the queue by itself
    assert run.finish(timeout=120) == 0
    seen = run.all_events()
    assert first_parent_merges(repo) == ["fix", "other"]
    kinds = [e["kind"] for e in seen if e["unit"] == "other"]
    assert "handed_back" not in kinds and "queue_culprit" not in kinds, kinds
    assert kinds.index("gate_failed") < kinds.index("requeued") < kinds.index("merged"), kinds
    assert [e["passed"] for e in seen if e["kind"] == "base_gated"] == [False]  # the branch, gated once
    state = status(repo)
    assert state["base_failing"] is None and {u["id"]: u["attempts"] for u in state["units"]} == {"other": 1, "fix": 1}
    assert_integration_green(repo)


def test_a_regate_after_fixing_the_gate_judges_the_branch_again(project, tmp_path) -> None:
    """The branch fails for the gate's environment (a file the gate needs is missing): the unit
    waits; once the person fixes it and regates the unit, it is gated again and passes on the same
    commit in the same session, and nothing says the branch fails any more."""
    ready = tmp_path / "ready"
    gate = f"test -e {ready} && python check.py"
    script = {"a": [write_unit("src/a.py", "A = 1\n")]}
    repo = project([{"id": "a", "scope": ["src/a.py"]}], script, gate=gate, sandbox="off", merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    run.wait_for("gate_failed", "a", timeout=120)
    assert status(repo)["base_failing"] is not None
    ready.write_text("")
    assert bosun("regate", "a", cwd=repo).returncode == 0
    run.wait_for("awaiting_approval", "a", timeout=120)
    state = status(repo)
    assert state["base_failing"] is None, "the branch is no longer known to fail"
    assert "base_failing" not in state["units"][0]["detail"], state["units"][0]["detail"]
    assert "integration branch itself" not in bosun("status", "a", cwd=repo).stdout
    assert bosun("approve", "a", cwd=repo).returncode == 0
    run.wait_for("merged", "a", timeout=120)
    run.proc.send_signal(signal.SIGINT)
    run.finish(timeout=60)
    seen = run.all_events()
    # Its own run passed this time: nothing was blamed, so the branch was not gated again.
    assert [e["passed"] for e in seen if e["kind"] == "base_gated"] == [False], seen
    assert first_parent_merges(repo) == ["a"]
    assert status(repo)["units"][0]["attempts"] == 1


def test_a_unit_that_breaks_a_passing_branch_is_still_its_own_culprit(project) -> None:
    """The branch is gated once, at the first failure, passes, and the unit is blamed and handed
    back as always; a head Bosun moved the branch to passed already and is never gated again."""
    broken_then_fixed = {
        u: [write_unit(f"src/{u}.py", "BROKEN = 1\n"), write_unit(f"src/{u}.py", "OK = 1\n")] for u in ("a", "b")
    }
    units = [{"id": "a", "scope": ["src/a.py"]}, {"id": "b", "scope": ["src/b.py"], "depends_on": ["a"]}]
    repo = project(units, broken_then_fixed, sandbox="off")
    base = git(repo, "rev-parse", "HEAD")
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["commit"], e["passed"]) for e in seen if e["kind"] == "base_gated"] == [(base, True)]
    for unit in ("a", "b"):
        kinds = [e["kind"] for e in seen if e["unit"] == unit]
        assert "queue_culprit" in kinds and "handed_back" in kinds and kinds[-1] == "merged", kinds
    assert [u["attempts"] for u in status(repo)["units"]] == [2, 2]


def test_a_reload_that_fixes_the_gate_sends_the_waiting_units_back_by_itself(project) -> None:
    script = {"a": [write_unit("src/a.py", "A = 1\n")]}
    repo = project([{"id": "a", "scope": ["src/a.py"]}], script, gate="python check.py --strict")
    (repo / "check.py").write_text((repo / "check.py").read_text() + "if '--strict' in sys.argv: sys.exit(3)\n")
    git(repo, "commit", "-qam", "a check that fails when strict")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    run.wait_for("gate_failed", "a", timeout=120)
    plan = repo / "bosun.toml"
    plan.write_text(plan.read_text().replace("python check.py --strict", "python check.py"))
    reloaded = bosun("reload", cwd=repo)
    assert reloaded.returncode == 0, reloaded.stderr
    run.wait_for("merged", "a", timeout=120)  # no regate: the gate it failed under is gone
    run.proc.send_signal(signal.SIGINT)
    run.finish(timeout=60)
    assert status(repo)["units"][0]["attempts"] == 1
