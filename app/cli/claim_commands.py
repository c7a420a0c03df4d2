"""The claim protocol for agents Bosun did not start: `board`, `claim`, `heartbeat`, `submit`
and `release`."""

from __future__ import annotations

import argparse

from bosun.app.cli.repo_session import opened, plan_path, repo_of
from bosun.orchestration.agents import external as protocol
from bosun.orchestration.session import dumps


def claim_session(args: argparse.Namespace, agent: str | None = None):
    repo = repo_of(args)
    return protocol.open_or_start(repo, plan_path(repo, None), agent)


def cmd_board(args: argparse.Namespace) -> int:
    session = claim_session(args)
    try:
        data = protocol.board(session)
    finally:
        session.close()
    if args.json:
        print(dumps(data))
        return 0
    print(
        f"integration {data['integration']['branch']} at {data['integration']['commit'][:10]}, "
        f"mode {data['mode']}, {data['open']} unit(s) open"
    )
    for unit in data["ready"]:
        print(
            f"ready    {unit['unit']:<18} {unit['title']}"
            + (f"  (for {unit['for_agent']})" if unit["for_agent"] else "")
        )
    for held in data["claims"]:
        print(f"claimed  {held['unit']:<18} {held['owner']} epoch {held['epoch']}, lease {held['lease_left_s']}s left")
    return 0


def cmd_claim(args: argparse.Namespace) -> int:
    session = claim_session(args, args.agent)
    try:
        print(dumps(protocol.claim_task(session, args.agent, args.unit)))
    finally:
        session.close()
    return 0


def cmd_heartbeat(args: argparse.Namespace) -> int:
    with opened(args) as session:
        lease = protocol.heartbeat(session, args.unit, args.token)
    print(f"lease of '{args.unit}' renewed for {lease:g}s")
    return 0


def cmd_submit(args: argparse.Namespace) -> int:
    with opened(args) as session:
        result = protocol.submit(session, args.unit, args.token)
    who = (
        f"the running session (pid {result['supervisor']}) gates it"
        if result["supervisor"]
        else "no supervisor is running: `bosun resume` gates it"
    )
    print(f"submitted '{args.unit}' at {result['commit'][:10]}; {who}")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    with opened(args) as session:
        protocol.give_up(session, args.unit, args.token)
    print(f"released '{args.unit}'")
    return 0
