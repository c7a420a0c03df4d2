"""`bosun doctor [PLAN] [--json]`: one line per thing this machine and the plan need, ✓ or ✗ with
the fix; exit 1 when something the plan needs is missing. Without a plan file, the machine only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bosun.orchestration.errors import BosunError, GitError


def cmd_doctor(args: argparse.Namespace) -> int:
    from bosun.orchestration.doctor import check_all, failed
    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.plan import load_plan

    start = (args.repo or Path.cwd()).resolve()
    try:
        repo = GitRepo.discover(start).path
    except (BosunError, GitError):
        repo = start  # not a repository yet: the machine can still be checked
    path = args.plan if args.plan is None or args.plan.is_absolute() else Path.cwd() / args.plan
    path = path or repo / "bosun.toml"
    plan = load_plan(path) if path.exists() or args.plan is not None else None  # a bad plan: its problems, exit 2
    checks = check_all(plan, repo)
    ended: list[str] = []  # the end of a failing gate's output, shown under the checks
    if args.gate:
        check, ended = _gate_on_base(plan, repo, quiet=args.json)
        checks.append(check)
    code = 1 if failed(checks) else 0
    if args.json:
        shown = {"ok": code == 0, "plan": str(path) if plan else None, "checks": [c.as_json() for c in checks]}
        print(json.dumps(shown, indent=2))
        return code
    if plan is None:
        print(f"no plan at {path}: this machine only (bosun doctor PLAN checks a plan's agents and gate)")
    for check in checks:
        print(check.line())
    if ended:
        print("the gate's output on the base branch ends:\n" + "\n".join(f"  {line}" for line in ended))
    if code:
        print(
            "bosun doctor: something the plan needs is missing (the ✗ lines above say how to fix it)", file=sys.stderr
        )
    return code


def _gate_on_base(plan, repo: Path, quiet: bool):
    """`--gate`: the gate run once on the base branch (orchestration/gate_on_base.py); what runs is
    said on stderr as it starts, since a suite can take minutes."""
    if plan is None:
        raise BosunError("bosun doctor --gate: no plan to take the gate from (bosun doctor PLAN --gate)")
    from bosun.orchestration.gate_on_base import gate_on_base

    return gate_on_base(plan, repo, (lambda _: None) if quiet else (lambda line: print(line, file=sys.stderr)))
