"""`bosun doctor --gate`: the plan's gate run once on the base branch as a session runs it (a
folder holding exactly that commit, `setup` and `copy`, the sandbox, the scrubbed environment,
each `checks` command after the tests), so a branch the gate fails on is known before any agent
works. In a session every unit's run would fail on it alike: they would wait for the branch to
pass (integration/base_gate.py) instead of merging."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from bosun.orchestration import prepare
from bosun.orchestration.ansi import strip_ansi
from bosun.orchestration.doctor import Check
from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.gate_runs import pipeline
from bosun.orchestration.plan import Plan
from bosun.orchestration.safe_files import remove_tree
from bosun.orchestration.sandbox import check_start

SHOWN_LINES = 8
"""How much of a failing run's output end is said (its whole log is kept, and named)."""


def gate_on_base(plan: Plan, repo: Path, say: Callable[[str], None]) -> tuple[Check, list[str]]:
    """One line: whether the gate passes on the base branch, and where its log is when it does not;
    and the last lines of a failing run's output. `say` is told what runs (a suite can take minutes)."""
    project, name = plan.project, f"gate on '{plan.project.base}'"
    commit = GitRepo(repo).rev_parse(f"refs/heads/{project.base}")
    if commit is None:
        return Check(name, False, f"no branch '{project.base}' here", f"set [project] base to a branch of {repo}"), []
    try:
        check_start(plan)  # a plan that requires the sandbox runs nothing without it, as `bosun run`
    except BosunError as exc:
        return Check(name, False, f"not run: {exc}", "see the sandbox line above"), []
    work = Path(tempfile.mkdtemp(prefix="bosun-doctor-gate."))  # its own .bosun: no session's is touched
    children: list = []

    def announce(label: str) -> None:
        say(f"running the gate's {_named(label)} on '{project.base}' at {commit[:10]} ...")

    try:
        prepare.save_settings(work, prepare.Settings.of(project))
        results = pipeline(plan, GitRepo(repo), work, commit, "base", "base", children.append, announce=announce)
        took = sum(result.duration_s for _, result in results)
        failed = next(((label, result) for label, result in results if not result.passed), None)
        if failed is None:
            return Check(name, True, f"passes at {commit[:10]} in {took:.1f}s"), []
        label, result = failed
        kept = Path(tempfile.mkdtemp(prefix="bosun-doctor-gate-log.")) / "gate.log"
        shutil.copyfile(result.log_path, kept)
        cause = result.cause.replace(str(result.log_path), str(kept))  # a setup failure names its log
        said = [line for line in strip_ansi(result.output_tail).splitlines() if line.strip()]
        fix = f"fix the branch or the gate before a session (its log: {kept}); units would wait for it"
        return Check(name, False, f"{_named(label)}: {cause} at {commit[:10]}", fix), said[-SHOWN_LINES:]
    except BaseException:  # Ctrl+C: an unsandboxed gate would outlive us (a sandboxed one dies with us)
        for child in children:
            child.kill()
        raise
    finally:
        remove_tree(work)  # what the gate left read-only too


def _named(label: str) -> str:
    """`tests`, or a `checks` command (the pipeline names it by its command line)."""
    return label if label == "tests" else f"check `{label}`"
