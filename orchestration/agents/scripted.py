"""The scripted agent: replays a recorded script of edits and commits, as a real subprocess.

Bosun starts it like any other agent: in the unit's worktree, with the scrubbed
environment, reading BOSUN_TASK_FILE and writing BOSUN_REPORT_FILE. The script format is in
the README. Bosun hands it the script already turned from TOML into JSON (`compile_script`),
so the agent itself imports only `json` and `os` and starts in a few milliseconds with
`python -I -S`: a scripted team measures Bosun, not Python's start-up.

    python -I -S scripted.py SCRIPT.json [--speed X]
"""

from __future__ import annotations

import json
import os
import sys
import time


def compile_script(toml_path: str, json_path: str) -> str:
    """Bosun's side: the script as JSON, rewritten only when the TOML changed."""
    import tomllib

    if not os.path.exists(json_path) or os.path.getmtime(json_path) < os.path.getmtime(toml_path):
        with open(toml_path, "rb") as handle:
            data = tomllib.load(handle)
        temporary = json_path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temporary, json_path)
    return json_path


def _inside(worktree: str, relative: str) -> str:
    target = os.path.realpath(os.path.join(worktree, relative))
    root = os.path.realpath(worktree)
    if not target.startswith(root + os.sep) or ".git" in relative.split("/"):
        raise SystemExit(f"scripted agent: path {relative!r} leaves the worktree")
    return target


def _run(argv: list[str]) -> int:
    """Run a command with this agent's output (posix_spawn: no `subprocess` import to pay for)."""
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ)
    except OSError as exc:
        print(f"scripted agent: cannot run {argv[0]}: {exc}", flush=True)
        return 127
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _write_report(status: str, summary: str, unit: str) -> None:
    report = {"protocol": 1, "unit": unit, "status": status, "summary": summary}
    with open(os.environ["BOSUN_REPORT_FILE"], "w", encoding="utf-8") as handle:
        json.dump(report, handle)


def play(steps: list[dict], worktree: str, unit: str, speed: float) -> int:
    """Run the steps in order; the exit code is the agent's."""
    reported = False
    for step in steps:
        if "write" in step or "append" in step:
            path = _inside(worktree, step.get("write") or step["append"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a" if "append" in step else "w", encoding="utf-8") as handle:
                handle.write(step.get("content", ""))
        elif "delete" in step:
            path = _inside(worktree, step["delete"])
            if os.path.lexists(path):
                os.unlink(path)
        elif "commit" in step:
            # Nothing to commit (a replayed step after a crash) is not an error: git says so and goes on.
            _run(["git", "add", "--all"])
            _run(["git", "commit", "--quiet", "--no-verify", "-m", step["commit"]])
        elif "sleep" in step:
            time.sleep(float(step["sleep"]) / speed)
        elif "await" in step:  # a signal file the driver of a test drops in: order without sleeps
            path = _inside(worktree, step["await"])
            while not os.path.lexists(path):
                time.sleep(0.02)
            os.unlink(path)
        elif "run" in step:
            code = _run(list(step["run"]))
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
    speed = float(argv[argv.index("--speed") + 1]) if "--speed" in argv else 1.0
    with open(os.environ["BOSUN_TASK_FILE"], encoding="utf-8") as handle:
        task = json.load(handle)
    with open(argv[0], encoding="utf-8") as handle:
        script = json.load(handle)
    unit = task["unit"]
    attempts = script.get("unit", {}).get(unit)
    if not attempts:
        print(f"scripted agent: the script has no [[unit.{unit}]] entry", file=sys.stderr)
        return 1
    entry = attempts[min(task["attempt"], len(attempts)) - 1]
    code = play(entry.get("steps", []), os.getcwd(), unit, speed)
    return int(entry.get("exit", code)) if code == 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
