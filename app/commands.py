"""What each `bosun` command does; `cli.py` only parses. Each returns the exit code."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestration.errors import BosunError
from orchestration.gitcmd import GitRepo
from orchestration.graph import build_graph, render
from orchestration import planner, protocol
from orchestration.orchestrator import Options
from orchestration.plan import load_plan
from orchestration.session import Session, create_session, dumps, open_session, prepare_dir
from orchestration.status import status_json
from orchestration.states import COMMAND_STATES

from .example_plan import EXAMPLE_PLAN
from .headless import run_headless


def _repo(args: argparse.Namespace) -> GitRepo:
    return GitRepo.discover((args.repo or Path.cwd()).resolve())


@contextmanager
def _opened(args: argparse.Namespace) -> Iterator[Session]:
    """The session in the repository's `.bosun/`, closed afterwards."""
    session = open_session(_repo(args))
    try:
        yield session
    finally:
        session.close()


def _plan_path(repo: GitRepo, given: Path | None) -> Path:
    if given is None:
        return repo.path / "bosun.toml"
    return given if given.is_absolute() else (Path.cwd() / given)


def cmd_init(args: argparse.Namespace) -> int:
    repo = _repo(args)
    target = repo.path / "bosun.toml"
    if target.exists():
        raise BosunError(f"{target}: already exists; bosun init does not overwrite a plan")
    prepare_dir(repo)
    target.write_text(EXAMPLE_PLAN)
    print(f"wrote {target} (edit it, then `bosun validate` and `bosun run`)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    path = args.plan if args.plan is not None else _plan_path(_repo(args), None)
    plan = load_plan(path)
    print(f"{path.name}: ok ({len(plan.units)} units, {len(plan.agents)} agents)")
    return 0


def _options(args: argparse.Namespace) -> Options:
    return Options(auto_approve=args.auto_approve, max_agents=args.max_agents, wait=args.wait)


def _supervise(session, args: argparse.Namespace, options: Options) -> int:
    try:
        if args.headless:
            return run_headless(session, options, as_json=args.json)
        return run_screen(session, options)
    finally:
        session.close()


def need_terminal(args: argparse.Namespace) -> None:
    """Refuse before anything is written when the screen cannot be shown."""
    if not args.headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise BosunError(f"bosun {args.command}: the supervisor screen needs a terminal; "
                         "add --headless to print events instead")


def run_screen(session, options: Options) -> int:
    """The supervisor screen; the human ends the session, so the supervisor waits for decisions."""
    from .tui import BosunApp  # Textual loads only for the screen

    options.wait = True
    result = BosunApp(session, options).run()
    return 1 if result is None else result


def cmd_run(args: argparse.Namespace) -> int:
    need_terminal(args)
    repo = _repo(args)
    session = create_session(repo, _plan_path(repo, args.plan))
    return _supervise(session, args, _options(args))


def cmd_resume(args: argparse.Namespace) -> int:
    need_terminal(args)
    session = open_session(_repo(args))
    session.store.append_event("resumed", None)
    return _supervise(session, args, _options(args))


def cmd_status(args: argparse.Namespace) -> int:
    with _opened(args) as session:
        data = status_json(session)
    if args.json:
        print(dumps(data))
        return 0
    commit = data["integration"]["commit"] or "-"
    print(f"integration {data['integration']['branch']} at {commit[:10]}")
    print(f"{'unit':<18} {'state':<18} {'agent':<10} {'try':>3}  {'gate':<28} branch")
    for unit in data["units"]:
        gate = unit["gate"]
        verdict = "-" if gate is None else f"{'passed' if gate['passed'] else 'FAILED'} {gate['duration_s']:.1f}s"
        print(f"{unit['id']:<18} {unit['state']:<18} {unit['agent'] or '-':<10} {unit['attempts']:>3}  "
              f"{verdict:<28} {unit['branch'] or '-'}")
    print(f"\n{'agent':<12} {'activity':<8} {'unit':<18} {'lease':>7} {'tokens in/out':>16} {'cost':>9}")
    for agent in data["agents"]:
        usage = agent["usage"] or {}
        tokens = f"{usage.get('prompt_tokens', 0)}/{usage.get('completion_tokens', 0)}" if usage else "-"
        cost = f"${usage['cost_usd']:.4f}" if usage.get("cost_usd") is not None else "-"
        lease = f"{agent['lease_left_s']:.0f}s" if agent["lease_left_s"] is not None else "-"
        print(f"{agent['name']:<12} {agent['activity']:<8} {agent['unit'] or '-':<18} {lease:>7} {tokens:>16} {cost:>9}")
    return 0


def _decide(args: argparse.Namespace, kind: str, **extra) -> int:
    """Queue a human decision in the store; a running supervisor applies it and we report how it went."""
    with _opened(args) as session:
        row = session.store.unit(args.unit)
        if row is None:
            known = ", ".join(u.id for u in session.store.units())
            raise BosunError(f"unknown unit '{args.unit}' (units: {known})")
        allowed = COMMAND_STATES[kind]
        if row.state not in allowed:
            raise BosunError(f"unit '{row.id}' is {row.state}; {kind} applies to a unit that is "
                             + " or ".join(allowed))
        if kind == "reassign" and extra["to"] not in session.plan.agents:
            raise BosunError(f"unknown agent '{extra['to']}' (agents: {', '.join(session.plan.agents)})")
        command_id = session.store.add_command(kind, row.id, **{k: v for k, v in extra.items() if v is not None})
        supervisor = session.running_supervisor()
        if supervisor is None:
            print(f"queued {kind} of '{row.id}'; no session is running: `bosun resume` applies it")
            return 0
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            result = session.store.command_result(command_id)
            if result is not None:
                if result != "done":
                    raise BosunError(f"{kind} of '{row.id}' {result}")
                print(f"{kind} of '{row.id}' applied by the running session (pid {supervisor})")
                return 0
            time.sleep(0.05)
        print(f"queued {kind} of '{row.id}'; the running session (pid {supervisor}) has not taken it yet")
        return 0


def cmd_approve(args: argparse.Namespace) -> int:
    return _decide(args, "approve")


def cmd_reject(args: argparse.Namespace) -> int:
    return _decide(args, "reject", note=args.note)


def cmd_handback(args: argparse.Namespace) -> int:
    return _decide(args, "handback", note=args.note)


def cmd_cancel(args: argparse.Namespace) -> int:
    return _decide(args, "cancel", note=args.note, with_dependents=args.with_dependents or None)


def cmd_reassign(args: argparse.Namespace) -> int:
    return _decide(args, "reassign", to=args.to)


def cmd_graph(args: argparse.Namespace) -> int:
    repo = _repo(args)
    if (repo.path / ".bosun" / "state.db").exists():
        session = open_session(repo)
        rows = session.store.units()
        graph, states = session.graph, {u.id: u.state for u in rows}
        owners = {u.id: u.agent for u in rows}
        session.close()
    else:
        plan = load_plan(repo.path / "bosun.toml")
        graph, states = build_graph(plan), {}
        owners = {u.id: u.agent for u in plan.units.values()}
    print(render(graph, states, owners, args.format))
    return 0


def _protocol_session(args: argparse.Namespace, agent: str | None = None):
    repo = _repo(args)
    return protocol.open_or_start(repo, _plan_path(repo, None), agent)


def cmd_board(args: argparse.Namespace) -> int:
    session = _protocol_session(args)
    try:
        data = protocol.board(session)
    finally:
        session.close()
    if args.json:
        print(dumps(data))
        return 0
    print(f"integration {data['integration']['branch']} at {data['integration']['commit'][:10]}, "
          f"mode {data['mode']}, {data['open']} unit(s) open")
    for unit in data["ready"]:
        print(f"ready    {unit['unit']:<18} {unit['title']}" + (f"  (for {unit['for_agent']})" if unit["for_agent"] else ""))
    for held in data["claims"]:
        print(f"claimed  {held['unit']:<18} {held['owner']} epoch {held['epoch']}, lease {held['lease_left_s']}s left")
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    session = _protocol_session(args, args.agent)
    try:
        print(dumps(protocol.claim_task(session, args.agent, args.unit)))
    finally:
        session.close()
    return 0


def cmd_heartbeat(args: argparse.Namespace) -> int:
    with _opened(args) as session:
        lease = protocol.heartbeat(session, args.unit, args.token)
    print(f"lease of '{args.unit}' renewed for {lease:g}s")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    with _opened(args) as session:
        result = protocol.submit(session, args.unit, args.token)
    who = (f"the running session (pid {result['supervisor']}) gates it" if result["supervisor"]
           else "no supervisor is running: `bosun resume` gates it")
    print(f"submitted '{args.unit}' at {result['commit'][:10]}; {who}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    with _opened(args) as session:
        protocol.give_up(session, args.unit, args.token)
    print(f"released '{args.unit}'")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    with _opened(args) as session:
        if session.running_supervisor() is None:
            protocol.revoke(session, args.unit, args.note)
            print(f"revoked the claim on '{args.unit}'")
            return 0
    return _decide(args, "revoke", note=args.note)


def cmd_land(args: argparse.Namespace) -> int:
    repo = _repo(args)
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
    current = repo.run("symbolic-ref", "--quiet", "HEAD", check=False).out.strip()
    if current == base_ref:
        repo.run("merge", "--ff-only", "--quiet", target)
    elif not repo.update_ref(base_ref, target, base, "bosun land"):
        raise BosunError(f"branch '{plan.project.base}' moved meanwhile; nothing changed")
    print(f"landed: {plan.project.base} {base[:10]} -> {target[:10]}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args)


def cmd_plan(args: argparse.Namespace) -> int:
    repo = _repo(args)
    target = repo.path / "bosun.toml"
    if args.base_url or args.model:
        if not (args.base_url and args.model):
            raise BosunError("bosun plan: --base-url and --model go together")
        endpoint = planner.Endpoint(args.base_url, args.model, args.api_key_env)
    else:
        endpoint = planner.endpoint_from_plan(target, args.agent)
        if endpoint is None:
            raise BosunError("bosun plan: name a model with --base-url and --model, or a model agent of bosun.toml "
                             "with --agent")
    existing = target.read_text() if target.exists() else None
    if existing is not None and not args.force and "[[units]]" in existing.replace(" ", ""):
        raise BosunError(f"{target}: already has units; --force replaces them")
    print(f"asking {endpoint.model} at {endpoint.base_url} for a plan...", file=sys.stderr)
    units, usage = planner.propose(repo, args.goal, endpoint)
    planner.write_plan(target, planner.compose(existing, endpoint, units, args.force))
    print(f"wrote {target}: {len(units)} units ({usage.prompt_tokens} tokens in, {usage.completion_tokens} out); "
          "review it, then `bosun run`")
    return 0
