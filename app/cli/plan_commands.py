"""Commands about the plan: `init`, `validate`, `schema`, `graph` and `plan` (a model proposes units)."""

from __future__ import annotations

import argparse
import sys

from bosun.app.cli.repo_session import plan_path, repo_of
from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import load_plan, parse_plan


def cmd_init(args: argparse.Namespace) -> int:
    """Write a plan from what the repository holds; it validates before anything is written."""
    repo = repo_of(args)
    target = repo.path / "bosun.toml"
    if target.exists():
        raise BosunError(f"{target}: already exists; bosun init does not overwrite a plan")
    from bosun.app.cli.example_plan import example_plan, read_repository
    from bosun.orchestration.plan.writing import write_plan
    from bosun.orchestration.session import prepare_dir

    facts = read_repository(repo)
    text = example_plan(facts)
    parse_plan(text, target)  # refused before .bosun/ or the file is written
    prepare_dir(repo)
    write_plan(target, text, "the written plan")
    agents = ", ".join(facts.presets) or "none found (see the commented example)"
    print(f"wrote {target}: base {facts.base}, agents: {agents}. Edit it, then `bosun validate` and `bosun run`")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """The plan's JSON Schema, from the same declaration that validates plans."""
    from bosun.orchestration.plan.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    path = args.plan if args.plan is not None else plan_path(repo_of(args), None)
    plan = load_plan(path)
    try:  # a plan validated in its repository: the base branch it starts from must be there
        repo = GitRepo.discover(path.resolve().parent)
    except BosunError:
        repo = None
    if repo is not None and repo.rev_parse(f"refs/heads/{plan.project.base}") is None:
        from bosun.orchestration.session import no_base

        raise BosunError(no_base(repo, path, plan.project.base))
    # Valid, but `bosun run` refuses a plan without agents: said here already.
    agents = f"{len(plan.agents)} agents" if plan.agents else "0 agents: add one before `bosun run`"
    print(f"{path.name}: ok ({len(plan.units)} units, {agents})")
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    from bosun.orchestration.graph import build_graph, render
    from bosun.orchestration.session import open_session

    repo = repo_of(args)
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


def cmd_plan(args: argparse.Namespace) -> int:
    from bosun.orchestration import planner

    repo = repo_of(args)
    target = repo.path / "bosun.toml"
    if args.base_url or args.model:
        if not (args.base_url and args.model):
            raise BosunError("bosun plan: --base-url and --model go together")
        endpoint = planner.Endpoint(args.base_url, args.model, args.api_key_env)
    else:
        endpoint = planner.endpoint_from_plan(target, args.agent)
        if endpoint is None:
            raise BosunError(
                "bosun plan: name a model with --base-url and --model, or a model agent of bosun.toml with --agent"
            )
    existing = target.read_text() if target.exists() else None
    if existing is not None and not args.force and "[[units]]" in existing.replace(" ", ""):
        raise BosunError(f"{target}: already has units; --force replaces them")
    print(f"asking {endpoint.model} at {endpoint.base_url} for a plan...", file=sys.stderr)
    units, usage = planner.propose(repo, args.goal, endpoint)
    planner.write_plan(target, planner.compose(existing, endpoint, units, args.force))
    print(
        f"wrote {target}: {len(units)} units ({usage.prompt_tokens} tokens in, {usage.completion_tokens} out); "
        "review it, then `bosun run`"
    )
    return 0
