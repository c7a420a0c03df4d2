"""Starting agents: the task file, the prompt, the command line and the environment.

An agent is a process Bosun starts in the unit's worktree. It gets the task as JSON in a file
outside the tracked tree, an environment with every secret removed, and reports by committing
(plus an optional report file that is never trusted over what git shows).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path

from bosun.orchestration import lfs, prepare
from bosun.orchestration.agents.presets import PRESETS
from bosun.orchestration.agents.scripted import compile_script
from bosun.orchestration.ansi import strip_ansi, strip_ansi_in
from bosun.orchestration.errors import BosunError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.plan import AgentSpec, Plan, UnitSpec
from bosun.orchestration.process import Child, scrubbed_env
from bosun.orchestration.safe_files import read_small, replace_text
from bosun.orchestration.sandbox import active, bwrap, leftovers, limits, network_of, ports
from bosun.orchestration.sandbox.boxes import agent_box
from bosun.orchestration.sandbox.probe import bwrap_path
from bosun.orchestration.sandbox.proxy import open_egress
from bosun.orchestration.worktrees import AgentClone

SCRIPTED_RUNNER = Path(__file__).with_name("scripted.py")
# Runs the model agent from this very copy of Bosun, without PYTHONPATH in the agent's environment.
_MODEL_BOOTSTRAP = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[3])!r}); "
    "from bosun.orchestration.agents.model import main; sys.exit(main(sys.argv[1:]))"
)


def build_task(
    unit: UnitSpec, *, branch: str, base_commit: str, attempt: int, handback: dict | None, integrated: list[dict]
) -> dict:
    """The task JSON an agent reads (a hand-back's gate output as plain text: no terminal escapes)."""
    return {
        "protocol": 1,
        "unit": unit.id,
        "title": unit.title,
        "prompt": unit.prompt,
        "scope": list(unit.scope) if unit.scope else [],
        "branch": branch,
        "base_commit": base_commit,
        "attempt": attempt,
        "handback": strip_ansi_in(handback),
        "integrated": integrated,
    }


def compose_prompt(task: dict) -> str:
    """The instruction text a CLI agent gets as `{prompt}`: the unit's prompt plus the rules."""
    lines = [f"# {task['title']} (unit {task['unit']}, attempt {task['attempt']})", "", task["prompt"], ""]
    if task["scope"]:
        lines.append("Change only these paths: " + ", ".join(task["scope"]) + ".")
    handback = task.get("handback")
    if handback:
        lines.append(f"This unit was handed back to you ({handback['reason']}).")
        if handback.get("note"):
            lines.append(f"Note from the supervisor: {handback['note']}")
        if handback.get("files"):
            lines.append("Files involved: " + ", ".join(handback["files"]) + ".")
        if handback.get("passed_gate"):
            lines.append(
                "Its tests passed; if the note asks for nothing you should change, exit without a new "
                "commit and your work goes back for approval as it is."
            )
        if handback["reason"] == "conflict":
            lines.append(
                "The integration branch has been merged into your worktree; resolve the conflict "
                "markers in those files and commit the merge."
            )
        if handback["reason"] == "semantic_conflict":
            lines += [
                "Your change merges cleanly with the integration branch (now merged into your worktree), "
                "but the two do not fit together. Fix every place below, then commit:",
                "```",
                handback.get("output_tail") or "",
                "```",
            ]
        elif handback.get("output_tail"):
            lines += [
                "The end of the output of the check that failed on the merged tree:",
                "```",
                handback["output_tail"],
                "```",
            ]
    lines += [
        "",
        f"Work in the current directory, on branch {task['branch']}. Commit your work with git when "
        "it is done; Bosun merges only what is committed. The task as JSON is in $BOSUN_TASK_FILE.",
    ]
    return "\n".join(lines)


PLACEHOLDER = re.compile(r"\{(task_file|prompt|unit|worktree|gate)\}")


def named_arguments(agent) -> list[str]:
    """The arguments of a command agent written in the plan as they are (no placeholder filled in):
    the files among them (the user's own agent scripts) are made readable in the agent's box."""
    return [a for a in agent.command or () if not PLACEHOLDER.search(a)] if agent.kind == "command" else []


def agent_argv(
    agent: AgentSpec, plan_root: Path, values: dict[str, str], work_dir: Path, speed: float = 1.0
) -> list[str]:
    """The command line that starts `agent`, placeholders filled (never through a shell).
    `work_dir` is Bosun's own folder for what it prepares for agents (a scripted agent's script as JSON)."""
    if agent.kind == "scripted":
        source = (plan_root / (agent.script or "")).resolve()
        try:
            script = compile_script(str(source), str(work_dir / f"script.{agent.name}.json"))
        except (OSError, ValueError) as exc:  # tomllib's errors are ValueErrors
            raise BosunError(f"agent '{agent.name}': cannot read its script {source}: {exc}") from None
        return [sys.executable, "-I", "-S", str(SCRIPTED_RUNNER), script, "--speed", str(speed)]
    if agent.kind == "command":
        return [PLACEHOLDER.sub(lambda m: values[m.group(1)], arg) for arg in agent.command]
    if agent.kind == "model":
        argv = [
            sys.executable,
            "-I",
            "-c",
            _MODEL_BOOTSTRAP,
            "--base-url",
            agent.base_url or "",
            "--model",
            agent.model or "",
        ]
        if agent.api_key_env:
            argv += ["--api-key-env", agent.api_key_env]
        if agent.price_in is not None or agent.price_out is not None:
            argv += ["--price-in", str(agent.price_in or 0.0), "--price-out", str(agent.price_out or 0.0)]
        return argv
    raise BosunError(f"agent '{agent.name}' is external: it joins by claiming and Bosun never starts it")


def agent_env(agent: AgentSpec, *, task_file: Path, report_file: Path, unit: str, worktree: Path) -> dict[str, str]:
    allowed = agent.env + ((agent.api_key_env,) if agent.api_key_env else ())
    preset = PRESETS.get(agent.preset or "")
    quiet = {name: value for name, value in (preset.env if preset else ()) if name not in agent.env}
    return scrubbed_env(
        allowed,
        {
            **quiet,
            "BOSUN_TASK_FILE": str(task_file),
            "BOSUN_REPORT_FILE": str(report_file),
            "BOSUN_UNIT": unit,
            "BOSUN_WORKTREE": str(worktree),
            # If the agent breaks its worktree's .git, its git must not walk up into the user's repository.
            "GIT_CEILING_DIRECTORIES": str(worktree.parent),
            # A git identity, so no agent needs to write one into the clone's config (issue 15).
            "GIT_AUTHOR_NAME": f"{agent.name} (Bosun agent)",
            "GIT_AUTHOR_EMAIL": f"{agent.name}@agents.bosun.localhost",
            "GIT_COMMITTER_NAME": f"{agent.name} (Bosun agent)",
            "GIT_COMMITTER_EMAIL": f"{agent.name}@agents.bosun.localhost",
        },
    )


REPORT_MAX_BYTES = 1_000_000
CONFIG_MAX = 1_000_000
"""The agent's own git config is read (to add its identity and the LFS block) only up to this size."""


def start_agent(
    plan: Plan,
    agent: AgentSpec,
    *,
    clone: AgentClone,
    bosun_dir: Path,
    unit: str,
    argv: list[str],
    env: dict[str, str],
    worktree: Path,
    task_file: Path,
    report_file: Path,
    log: Path,
) -> Child:
    """Start an agent on its unit, in its sandbox when the plan and the machine allow,
    with its own block of ports. Runs in a worker thread. The child's end (its `wait`) takes
    back what the sandbox wrote: the agent's objects and branch, and its report. The project's
    `setup` and `copy` first (prepare.py): a failure raises SetupFailed, nothing started."""
    if log.is_file() and log.stat().st_size:  # the same attempt again, after a supervisor's restart
        _say(log, f"\n--- bosun: this attempt starts again ({time.strftime('%H:%M:%S')}, after a restart) ---\n")
    # Written down before anything starts, setup included, by a token their environments carry
    # (leftovers.py): a supervisor killed meanwhile leaves nothing the next one cannot end.
    token, pending = leftovers.pending(bosun_dir, f"agent.{unit}")
    held: dict = {"block": None, "given_back": False}

    def give_back() -> None:
        """The port block and the record, once: when the agent has ended, or when it never started."""
        if not held["given_back"]:
            held["given_back"] = True
            ports.release(held["block"])
            leftovers.forget(pending)

    try:
        ready = _prepare(plan, agent, clone, bosun_dir, worktree, log, token)
        if not pending.exists():  # the supervisor stopped during setup and ended it (loop._stop_all)
            raise BosunError(f"unit '{unit}': the session stopped before its agent started")
        block = held["block"] = ports.allocate()
        # An agent's own checkout keeps LFS pointers as they are: the content is in the user's store,
        # where its git-lfs would not look (and would try a remote the clone does not have).
        env = {**env, **block.env(), "GIT_LFS_SKIP_SMUDGE": "1", leftovers.TOKEN: token}

        def on_start(child: Child) -> None:
            fault_point("agent.spawned")
            group = child.limit.path if child.limit else None
            leftovers.record(bosun_dir, f"agent.{unit}", child.pid, child.start_time, group, token)

        if not active(plan, agent):
            if agent.preset:
                _say(log, UNCONFINED.format(name=agent.name, preset=agent.preset))
            private_tmp = bosun_dir / "tmp" / unit
            shutil.rmtree(private_tmp, ignore_errors=True)
            private_tmp.mkdir(parents=True)
            env["TMPDIR"] = str(private_tmp)

            def on_end() -> None:
                give_back()
                shutil.rmtree(private_tmp, ignore_errors=True)

            limit = limits.open_group(f"agent.{unit}", agent.memory)
            child = Child(argv, worktree, env, log, on_start=on_start, on_end=on_end, limit=limit)
            child.prepared = ready
            return child

        view = clone.sandbox_view(unit)
        outbox = clone.sandbox_dir(unit) / "report"
        outbox.mkdir()
        env["BOSUN_REPORT_FILE"] = str(outbox / report_file.name)
        # Read-only inside: what Bosun prepared for the agent (a scripted agent's script) and the files
        # the plan's command names in its own words (an agent script of the user's), never a filled-in
        # placeholder. A folder is not: what else the script needs is a `mounts` entry away.
        prepared = [a for a in argv if a.startswith(str(bosun_dir) + "/")]
        named = named_arguments(agent)
        readable = [task_file, *(Path(a) for a in prepared + named if a.startswith("/") and Path(a).is_file())]
        network = network_of(agent)
        box = agent_box(
            agent,
            repo=clone.user.path,
            bosun_dir=bosun_dir,
            argv=argv,
            env=env,
            worktree=worktree,
            git_read=view.read,
            git_write=[*view.write, (outbox, outbox)],
            git_env=view.env,
            readable=readable,
            network=network == "host",
        )
        # The agent's own git config (`git config user.email x`, `--global`): a file in its private
        # HOME, since the clone's config is read-only inside. No git of Bosun's reads it (GIT_ENV).
        if box.home is not None:
            storage = clone.sandbox_dir(unit) / "lfs"  # made by sandbox_view where LFS is in use
            _seed_git_config(
                box.home / ".gitconfig", env, storage if storage.is_dir() and shutil.which("git-lfs") else None
            )
        own_config = str(Path(box.env["HOME"]) / ".gitconfig")
        box.env.update(GIT_CONFIG=own_config, GIT_CONFIG_GLOBAL=own_config)
        if ready is not None:
            prepare.show(box, worktree, ready)
        egress = open_egress(f"agent.{unit}", network) if isinstance(network, tuple) else None
        if egress is not None:
            box.proxy = egress.socket

        def on_end() -> None:
            if egress is not None:
                egress.close()
            give_back()
            clone.absorb(unit)
            _take_report(outbox / report_file.name, report_file)

        limit = limits.open_group(f"agent.{unit}", agent.memory)
        command = argv if limit is not None else limits.inner_limit(argv)
        child = Child(
            bwrap.argv(bwrap_path() or "bwrap", box, command),
            worktree,
            env,
            log,
            on_start=on_start,
            on_end=on_end,
            limit=limit,
        )
        child.prepared = ready
        child.egress = egress  # the supervisor listens for what it refuses (egress_denied)
        return child
    except BaseException:  # nothing started (a Child that failed to start gave back already)
        give_back()
        raise


def _prepare(plan: Plan, agent: AgentSpec, clone: AgentClone, bosun_dir: Path, worktree: Path, log: Path, token: str):
    """The worktree made ready (`copy` files, `setup`'s products); None when the plan asks for neither."""
    settings = prepare.Settings.of(plan.project)
    if not settings.wanted:
        return None
    prepare.save_settings(bosun_dir, settings)
    prepare.exclude(clone.path, settings, [])
    prepare.copy_files(settings, clone.user.path, worktree)
    boxed = active(plan, agent)
    start = prepare.starter(clone.user.path, bosun_dir, settings, boxed, token)
    prepared = prepare.Preparer(bosun_dir, settings).prepare(worktree, log, start, boxed)
    prepare.exclude(clone.path, settings, prepared.produced)
    return prepared


def _seed_git_config(own: Path, env: dict[str, str], lfs_storage: Path | None) -> None:
    """With GIT_CONFIG set, `git config --get` reads only the agent's own file (git-lfs too): its
    identity there (tools such as aider ask for it and else write one), and where LFS is in use
    Bosun's LFS block (lfs.agent_config). Never written through a link."""
    if own.is_symlink():
        own.unlink()
    text = read_small(own, CONFIG_MAX) or ""  # a config too big to read starts again from Bosun's
    seeded = text
    if "[user]" not in seeded:
        name, email = env.get("GIT_AUTHOR_NAME", "Bosun agent"), env.get("GIT_AUTHOR_EMAIL", "agent@bosun.localhost")
        seeded = f"[user]\n\tname = {name}\n\temail = {email}\n" + seeded
    seeded = lfs.agent_config(seeded, lfs_storage)
    if seeded != text:
        replace_text(own, seeded)


UNCONFINED = (
    "bosun: agent '{name}' runs {preset} with its permission prompts off and WITHOUT Bosun's sandbox: "
    "every command it chooses runs as you, with your files and network\n"
)


def _say(log: Path, line: str) -> None:
    """A line of Bosun's own at the top of the agent's log (the CLI's output follows it)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(line)


def _take_report(inside: Path, report_file: Path) -> None:
    """Copy the report out of the sandbox's folder: a regular file of sane size, or nothing."""
    try:
        if inside.is_file() and not inside.is_symlink() and inside.stat().st_size <= REPORT_MAX_BYTES:
            replace_text(report_file, inside.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        pass


def read_report(path: Path, unit: str) -> dict | None:
    """The agent's report if it is well-formed and about this unit; None means 'not trusted'."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(report, dict)
        or report.get("protocol") != 1
        or report.get("unit") != unit
        or report.get("status") not in ("done", "blocked")
    ):
        return None
    summary = report.get("summary")
    usage = report.get("usage")
    return {
        "status": report["status"],
        "summary": strip_ansi(summary).replace("\r\n", "\n").replace("\r", "\n") if isinstance(summary, str) else "",
        "usage": usage if isinstance(usage, dict) else None,
    }
