"""The human's decisions from a second terminal or a script: approve, reject, hand back,
cancel, reassign, revoke and regate, queued in the store's command table for the running session."""

from __future__ import annotations

import argparse
import sys

from bosun.app.cli.repo_session import command_outcome, opened
from bosun.orchestration.agents import external as protocol
from bosun.orchestration.errors import BosunError
from bosun.orchestration.integration.regate import why_not_regate
from bosun.orchestration.states import COMMAND_STATES


def decide(args: argparse.Namespace, kind: str, **extra) -> int:
    """Queue a human decision in the store; a running supervisor applies it and we report how it went."""
    with opened(args) as session:
        row = session.store.unit(args.unit)
        if row is None:
            known = ", ".join(u.id for u in session.store.units())
            raise BosunError(f"unknown unit '{args.unit}' (units: {known})")
        allowed = COMMAND_STATES[kind]
        if row.state not in allowed:
            raise BosunError(
                f"unit '{row.id}' is {row.state}; {kind} applies to a unit that is " + " or ".join(allowed)
            )
        if kind == "regate" and (why := why_not_regate(row)) is not None:
            raise BosunError(why)
        if kind == "reassign" and extra["to"] not in session.plan.agents:
            raise BosunError(f"unknown agent '{extra['to']}' (agents: {', '.join(session.plan.agents)})")
        command_id = session.store.add_command(kind, row.id, **{k: v for k, v in extra.items() if v is not None})
        supervisor = session.running_supervisor()
        if supervisor is None:
            print(f"queued {kind} of '{row.id}'; no session is running: `bosun resume` applies it")
            return 0
        result = command_outcome(session, command_id, 15)
        if result is None:
            print(f"queued {kind} of '{row.id}'; the running session (pid {supervisor}) has not taken it yet")
        elif result != "done":
            raise BosunError(f"{kind} of '{row.id}' {result}")
        else:
            print(f"{kind} of '{row.id}' applied by the running session (pid {supervisor})")
        return 0


def cmd_approve(args: argparse.Namespace) -> int:
    return decide(args, "approve")


def cmd_reject(args: argparse.Namespace) -> int:
    return decide(args, "reject", note=args.note)


def cmd_handback(args: argparse.Namespace) -> int:
    return decide(args, "handback", note=args.note)


def cmd_cancel(args: argparse.Namespace) -> int:
    return decide(args, "cancel", note=args.note, with_dependents=args.with_dependents or None)


def cmd_regate(args: argparse.Namespace) -> int:
    """The gate again on the same commit (it timed out, could not run, or a test is flaky): no attempt spent."""
    return decide(args, "regate")


def cmd_reassign(args: argparse.Namespace) -> int:
    return decide(args, "reassign", to=args.to)


def cmd_revoke(args: argparse.Namespace) -> int:
    with opened(args) as session:
        if session.running_supervisor() is None:
            protocol.revoke(session, args.unit, args.note)
            print(f"revoked the claim on '{args.unit}'")
            return 0
    return decide(args, "revoke", note=args.note)


def cmd_takeover(args: argparse.Namespace) -> int:
    """The human becomes the unit's owner and gets the claim JSON; `bosun submit` hands the work in."""
    import json

    from bosun.orchestration.supervisor.takeover import take_over_now

    with opened(args) as session:
        row = session.store.unit(args.unit)
        if row is None:
            raise BosunError(f"unknown unit '{args.unit}' (units: {', '.join(session.plan.units)})")
        if row.state not in COMMAND_STATES["takeover"]:
            raise BosunError(
                f"unit '{row.id}' is {row.state}; takeover applies to a unit that is "
                + " or ".join(COMMAND_STATES["takeover"])
            )
        supervisor = session.running_supervisor()
        if supervisor is None:
            claim = take_over_now(session, row.id, args.note)
        else:  # the supervisor stops its agent first, then hands the unit over
            command_id = session.store.add_command("takeover", row.id, **({"note": args.note} if args.note else {}))
            result = command_outcome(session, command_id, 60)
            if result is None:
                raise BosunError(
                    f"the running session (pid {supervisor}) has not taken over '{row.id}' yet; "
                    "the takeover stays queued"
                )
            if result != "done":
                raise BosunError(f"takeover of '{row.id}' {result}")
            taken = session.store.unit(row.id)
            task = json.loads((session.tasks_dir / f"{row.id}.json").read_text())
            claim = {
                **task,
                "worktree": taken.worktree,
                "token": taken.epoch,
                "owner": taken.owner,
                "task_file": str(session.tasks_dir / f"{row.id}.json"),
                "submit": f"bosun submit {row.id} --token {taken.epoch}",
            }
    print(json.dumps(claim, indent=2))
    print(f"'{args.unit}' is yours: work in {claim['worktree']}, commit, then `{claim['submit']}`", file=sys.stderr)
    return 0
