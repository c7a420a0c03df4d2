"""The scripted agent: replays a recorded script of edits and commits, as a real subprocess.

Bosun starts it like any other agent (SPEC §6): in the unit's worktree, with the scrubbed
environment, reading BOSUN_TASK_FILE and writing BOSUN_REPORT_FILE. It imports only the
standard library so it starts fast with `python -I -S`. The script format is in the README.

    python -I -S scripted.py SCRIPT.toml [--speed X]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path


def _inside(worktree: Path, relative: str) -> Path:
    target = (worktree / relative).resolve()
    if not target.is_relative_to(worktree.resolve()) or ".git" in Path(relative).parts:
        raise SystemExit(f"scripted agent: path {relative!r} leaves the worktree")
    return target


def _git(*args: str) -> int:
    return subprocess.run(["git", *args], stdout=sys.stdout, stderr=sys.stdout).returncode


def _write_report(status: str, summary: str, unit: str) -> None:
    report = {"protocol": 1, "unit": unit, "status": status, "summary": summary}
    Path(os.environ["BOSUN_REPORT_FILE"]).write_text(json.dumps(report))


def play(steps: list[dict], worktree: Path, unit: str, speed: float) -> int:
    """Run the steps in order; the exit code is the agent's."""
    reported = False
    for step in steps:
        if "write" in step or "append" in step:
            path = _inside(worktree, step.get("write") or step["append"])
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a" if "append" in step else "w", encoding="utf-8") as handle:
                handle.write(step.get("content", ""))
        elif "delete" in step:
            _inside(worktree, step["delete"]).unlink(missing_ok=True)
        elif "commit" in step:
            # Nothing to commit (a replayed step after a crash) is not an error: git says so and goes on.
            _git("add", "--all")
            _git("commit", "--quiet", "--no-verify", "-m", step["commit"])
        elif "sleep" in step:
            time.sleep(float(step["sleep"]) / speed)
        elif "run" in step:
            code = subprocess.run(step["run"], stdout=sys.stdout, stderr=sys.stdout).returncode
            if code != 0 and step.get("check", False):
                return code
        elif "report" in step:
            _write_report(step["report"], step.get("summary", ""), unit)
            reported = True
        elif "exit" in step:
            return int(step["exit"])
        else:
            print(f"scripted agent: unknown step {step!r}", file=sys.stderr)
            return 2
        print(f"step: {next(iter(step))}", flush=True)
    if not reported:
        _write_report("done", f"scripted work on {unit}", unit)
    return 0


def main(argv: list[str]) -> int:
    script_path = Path(argv[0])
    speed = float(argv[argv.index("--speed") + 1]) if "--speed" in argv else 1.0
    task = json.loads(Path(os.environ["BOSUN_TASK_FILE"]).read_text())
    unit = task["unit"]
    attempts = tomllib.loads(script_path.read_text()).get("unit", {}).get(unit)
    if not attempts:
        print(f"scripted agent: {script_path.name} has no [[unit.{unit}]] entry", file=sys.stderr)
        return 1
    entry = attempts[min(task["attempt"], len(attempts)) - 1]
    code = play(entry.get("steps", []), Path.cwd(), unit, speed)
    return int(entry.get("exit", code)) if code == 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
