"""Commands that run or read a session: `run`, `resume`, `status` and `land`."""

from __future__ import annotations

import argparse
import sys

from bosun.app.cli.repo_session import command_outcome, need_terminal, opened, plan_path, repo_of, run_screen
from bosun.orchestration.errors import BosunError


def options_of(args: argparse.Namespace, session):
    """The run's options; a flag that cannot take effect says so."""
    from bosun.orchestration.supervisor.loop import Options

    started = [name for name, spec in session.plan.agents.items() if spec.kind != "external"]
    if args.max_agents is not None and args.max_agents > len(started) and session.plan.project.mode != "claim":
        print(
            f"bosun {args.command}: --max-agents {args.max_agents}, but the plan has {len(started)} agent(s) "
            f"Bosun starts: at most {len(started)} work at once (declare more agents to use more)",
            file=sys.stderr,
        )
    return Options(auto_approve=args.auto_approve, max_agents=args.max_agents, wait=args.wait)


def supervise(session, args: argparse.Namespace, options) -> int:
    from bosun.orchestration.sandbox import check_start
    from bosun.orchestration.session import unfilled_submodules
    from bosun.orchestration.submodules import FIX

    try:
        # `required` without a working bubblewrap: one line and exit 2, before any screen; `auto`: a warning
        if (unsandboxed := check_start(session.plan)) is not None:
            print(
                f"bosun {args.command}: WARNING: agents and gates run WITHOUT a sandbox: {unsandboxed}", file=sys.stderr
            )
        for line in unfilled_submodules(session):
            print(
                f"bosun {args.command}: WARNING: {line}: worktrees and gates get an empty folder ({FIX})",
                file=sys.stderr,
            )
        if args.headless:
            from bosun.app.cli.headless import run_headless

            return run_headless(session, options, as_json=args.json)
        return run_screen(session, options)
    finally:
        session.close()


def cmd_run(args: argparse.Namespace) -> int:
    need_terminal(args)
    from bosun.orchestration.session import create_session

    repo = repo_of(args)
    session = create_session(repo, plan_path(repo, args.plan))
    if session.archived is not None:
        where = session.archived.relative_to(repo.path)
        print(f"bosun run: the last session here had finished; kept in {where}; a new one starts", file=sys.stderr)
    return supervise(session, args, options_of(args, session))


def cmd_resume(args: argparse.Namespace) -> int:
    """Refusals come first and write nothing: another supervisor, or an edit that cannot apply."""
    need_terminal(args)
    from bosun.orchestration.plan.reload import apply_plan, edited_plan
    from bosun.orchestration.session import open_session

    session = open_session(repo_of(args))
    try:
        if (live := session.already_supervised()) is not None:
            raise BosunError(live)
        if (edited := edited_plan(session)) is not None:
            change = apply_plan(session, *edited)
            print(
                f"bosun resume: {edited[1].name} changed since the session started; applied: {change.describe()}",
                file=sys.stderr,
            )
        options = options_of(args, session)
        session.store.append_event("resumed", None)
    except BaseException:
        session.close()
        raise
    return supervise(session, args, options)


def cmd_reload(args: argparse.Namespace) -> int:
    """Apply the edited plan to the session, through the running supervisor when there is one."""
    from bosun.orchestration.plan import parse_plan
    from bosun.orchestration.plan.reload import apply_plan, edited_plan, plan_change

    with opened(args) as session:
        edited = edited_plan(session)
        if edited is None:
            print("bosun reload: the plan file is as the session runs it; nothing to apply")
            return 0
        text, path = edited
        change = plan_change(session, parse_plan(text, path))  # refused here with its line, nothing written
        supervisor = session.running_supervisor()
        if supervisor is None:
            apply_plan(session, text, path)
            print(f"reloaded {path.name}: {change.describe()}")
            return 0
        command_id = session.store.add_command("reload", "", text=text, path=str(path))
        result = command_outcome(session, command_id, 15)
        if result is None:
            print(f"queued the reload of {path.name}; the running session (pid {supervisor}) has not taken it yet")
        elif result.startswith("refused"):
            raise BosunError(f"bosun reload: {result}")
        else:
            print(f"reloaded {path.name} in the running session (pid {supervisor}): {change.describe()}")
        return 0


STORY_COMMANDS = {
    "approve": "bosun approve {unit}",
    "reject": "bosun reject {unit} --note '...'",
    "handback": "bosun handback {unit} --note '...'",
    "reassign": "bosun reassign {unit} --to AGENT",
    "takeover": "bosun takeover {unit}",
    "cancel": "bosun cancel {unit}",
    "regate": "bosun regate {unit}",
}
"""What each decision a story offers is on the command line."""


def _story(args: argparse.Namespace) -> int:
    """`bosun status UNIT`: the unit's story (orchestration/unit_story.py), as the screen tells it."""
    from dataclasses import asdict

    from bosun.orchestration.unit_story import unit_story

    with opened(args, validate=False) as session:
        row = session.store.unit(args.unit)
        if row is None:
            raise BosunError(f"bosun status: no unit '{args.unit}' in this session (bosun status lists them)")
        story = unit_story(session, row)
    if args.json:
        from bosun.orchestration.session import dumps

        print(dumps(asdict(story)))
        return 0
    print(story.headline)
    for title, lines in (("why", story.cause), ("gate", story.gate), ("the agent's last words", story.last_words)):
        if lines:
            print(f"\n{title}")
            print("\n".join(f"  {line}" for line in lines))
    if story.spend:
        print(f"\nspend\n  {story.spend}")
    if story.decisions:
        print("\nwhat applies")
        print("\n".join(f"  {STORY_COMMANDS[kind].format(unit=row.id)}" for kind in story.decisions))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from bosun.orchestration.states import DONE_STATES, waits_for_human
    from bosun.orchestration.status import sandbox_probe, status_json

    if args.unit is not None:
        return _story(args)
    # The JSON shows the sandbox: bubblewrap is probed while the session is loaded and read.
    probing = sandbox_probe() if args.json else None
    with opened(args, validate=False) as session:
        data = status_json(session, full=args.json, probing=probing)  # the text: no figures, disk, sandbox
    if args.json:
        from bosun.orchestration.session import dumps

        print(dumps(data))
        return 0
    commit = data["integration"]["commit"] or "-"
    print(f"integration {data['integration']['branch']} at {commit[:10]}")
    if data["supervisor"] is None and not all(u["state"] in DONE_STATES for u in data["units"]):
        print("no supervisor runs this session: nothing is handed out, gated or merged until `bosun resume`")
    if data["base_failing"]:
        from bosun.orchestration.integration.base_said import says

        print(says(data["base_failing"]))
    if data["queue"]["says"]:
        print(data["queue"]["says"])
    print(f"{'unit':<18} {'state':<18} {'agent':<10} {'try':>3}  {'gate':<28} branch")
    for unit in data["units"]:
        gate = unit["gate"]
        verdict = "-" if gate is None else f"{'passed' if gate['passed'] else 'FAILED'} {gate['duration_s']:.1f}s"
        if unit["approved"] and unit["state"] == "awaiting_approval":  # yours no more: it waits to land
            verdict += ", approved"
        elif unit["held"]:  # clashes with a unit ahead of it: checked again once those land
            verdict = "held for units ahead" if gate is None else f"{verdict}, held"
        print(
            f"{unit['id']:<18} {unit['state']:<18} {unit['agent'] or '-':<10} {unit['attempts']:>3}  "
            f"{verdict:<28} {unit['branch'] or '-'}"
        )
    waiting = [f"{u['id']} ({u['state']})" for u in data["units"] if waits_for_human(u["state"], u["approved"])]
    if waiting:
        print(f"waiting for you: {', '.join(waiting)}; `bosun status UNIT` says why and what applies")
    print(f"\n{'agent':<12} {'activity':<8} {'unit':<18} {'lease':>7} {'tokens in/out':>16} {'cost':>9}")
    for agent in data["agents"]:
        usage = agent["usage"] or {}
        tokens = f"{usage.get('prompt_tokens', 0)}/{usage.get('completion_tokens', 0)}" if usage else "-"
        cost = f"${usage['cost_usd']:.4f}" if usage.get("cost_usd") is not None else "-"
        lease = f"{agent['lease_left_s']:.0f}s" if agent["lease_left_s"] is not None else "-"
        print(
            f"{agent['name']:<12} {agent['activity']:<8} {agent['unit'] or '-':<18} {lease:>7} {tokens:>16} {cost:>9}"
        )
    return 0


def cmd_land(args: argparse.Namespace) -> int:
    repo = repo_of(args)
    from bosun.orchestration.plan import load_plan
    from bosun.orchestration.session import open_session

    plan = load_plan(repo.path / "bosun.toml") if not (repo.path / ".bosun" / "state.db").exists() else None
    if plan is None:
        session = open_session(repo)
        plan = session.plan
        session.close()
    base_ref, integration_ref = f"refs/heads/{plan.project.base}", f"refs/heads/{plan.project.integration}"
    base, target = repo.rev_parse(base_ref), repo.rev_parse(integration_ref)
    if base is None or target is None:
        raise BosunError(f"branch '{plan.project.base if base is None else plan.project.integration}' does not exist")
    if base == target:
        print(f"{plan.project.base} is already at {target[:10]}")
        return 0
    if not repo.is_ancestor(base, target):
        raise BosunError(f"{plan.project.integration} is not a fast-forward of {plan.project.base}; nothing changed")
    if repo.is_dirty():
        raise BosunError(f"{repo.path}: the working tree has uncommitted changes; commit or stash them first")
    for lock in (repo.git_dir / "index.lock", repo.git_dir / f"{base_ref}.lock"):
        if lock.exists():  # git would update the working tree, then fail on the ref: refuse first
            raise BosunError(
                f"{lock}: a git lock file is in the way (another git process, or one that crashed); "
                "remove it if no git command is running, then land again"
            )
    current = repo.run("symbolic-ref", "--quiet", "HEAD", check=False).out.strip()
    if current == base_ref:
        repo.run("merge", "--ff-only", "--quiet", target)
    elif not repo.update_ref(base_ref, target, base, "bosun land"):
        raise BosunError(f"branch '{plan.project.base}' moved meanwhile; nothing changed")
    print(f"landed: {plan.project.base} {base[:10]} -> {target[:10]}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    """End the session and start over: agents stopped, `.bosun/` archived, the integration branch and
    `refs/bosun/*` put back to the base branch. Asks first unless --yes."""
    from bosun.orchestration.plan import load_plan
    from bosun.orchestration.session_reset import reset_session

    repo = repo_of(args)
    if (repo.path / ".bosun" / "state.db").exists():
        with opened(args) as session:
            project = session.plan.project
            left = sum(1 for u in session.store.units() if u.state not in ("merged", "cancelled"))
            supervisor = session.running_supervisor()
    else:  # nothing to archive (or a reset was interrupted): the branches are still put back
        project, left, supervisor = load_plan(repo.path / "bosun.toml").project, 0, None
    if not args.yes:
        if not sys.stdin.isatty():
            raise BosunError("bosun reset: it asks before ending the session; add --yes to run it without a terminal")
        running = f", stopping the supervisor (pid {supervisor}) and its agents" if supervisor else ""
        answer = input(
            f"End the session ({left} unit(s) not merged){running}, archive .bosun/ and put "
            f"'{project.integration}' back to '{project.base}'? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("bosun reset: nothing changed")
            return 0
    done = reset_session(repo)
    print(
        f"reset: session archived in {done.archive.relative_to(repo.path)}; '{project.integration}' is back at "
        f"'{project.base}' ({done.base[:10]}); {done.refs_removed} ref(s) under refs/bosun removed"
        + (f"; stopped {done.stopped} process(es)" if done.stopped else "")
    )
    return 0
