"""The `bosun` command line. Exit 0 on success, 1 when a run ended with units not
merged, 2 on bad input: one line on stderr saying what is wrong and where.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from pathlib import Path

from bosun.orchestration.errors import BosunError, GitError, LostClaim, PlanError, StaleToken

# Which module of bosun.app.cli holds each command; it is imported only when its command runs,
# so `bosun --help` loads argparse alone and `bosun heartbeat` no screen and no analyser.
COMMAND_MODULES = {
    **dict.fromkeys(("init", "validate", "graph", "plan", "schema"), "plan_commands"),
    **dict.fromkeys(("run", "resume", "status", "land", "reload", "reset"), "session_commands"),
    **dict.fromkeys(
        ("approve", "reject", "handback", "cancel", "reassign", "revoke", "takeover", "regate"), "decision_commands"
    ),
    **dict.fromkeys(("board", "claim", "heartbeat", "submit", "release"), "claim_commands"),
    **dict.fromkeys(("attach", "serve"), "remote_commands"),
    "demo": "demo",
    "report": "report_command",
    "doctor": "doctor_command",
    "log": "log_command",
}


# argparse asks gettext for the same few strings once per parser and argument, and each ask looks
# for catalogue files on disk (a third of building all thirty parsers): ask once per string.
argparse._ = functools.cache(argparse._)


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, as wide as the terminal, without loading `shutil` to ask: every
    `add_argument` makes a formatter, and `shutil` (with its compression modules) costs a command
    more than a millisecond of a ~25 ms start."""

    def __init__(self, prog: str, **kwargs) -> None:
        kwargs.setdefault("width", _columns() - 2)
        super().__init__(prog, **kwargs)


def _columns() -> int:
    """What `shutil.get_terminal_size` answers: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2, like every other bad input."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:
        raise BosunError(f"{self.prog}: {message} (see {self.prog} --help)")


class _Version(argparse.Action):
    """`bosun --version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("bosun")
        except PackageNotFoundError:  # run from a checkout that was never installed
            found = "unknown (not installed)"
        print(f"bosun {found}")
        parser.exit()


class _Unused:
    """Stands for the parser of a command that is not being run: its arguments are not built."""

    def add_argument(self, *args, **kwargs) -> None:
        pass


def command_named(argv: list[str]) -> str | None:
    """The command `argv` runs (its first word that is not an option), if it is one of Bosun's."""
    word = next((w for w in argv if not w.startswith("-")), None)
    return word if word in COMMAND_MODULES else None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser, or with `only` that command's alone (what a start needs: building
    all thirty cost more than the rest of `bosun --version`; `bosun --help` builds them all)."""
    common = _Parser(add_help=False)
    common.add_argument("--repo", type=Path, default=None, help="the repository (default: the current one)")
    parser = _Parser(prog="bosun", description="Supervise a team of coding agents through a test-gated merge.")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        if only is not None and name != only:
            return _Unused()  # type: ignore[return-value]
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    demo = add("demo", "build a throwaway project and supervise a scripted team on it")
    demo.add_argument("--headless", action="store_true", help="print events instead of opening the screen")
    demo.add_argument("--speed", type=float, default=1.0, help="scale the scripted agents' pace (2 = twice as fast)")
    demo.add_argument("--keep", type=Path, default=None, metavar="DIR", help="build the repository in DIR and keep it")
    demo.add_argument("--json", action="store_true", help="with --headless: one JSON object per event")
    add("init", "write a commented bosun.toml from what the repository holds and prepare .bosun/")
    validate = add("validate", "check a plan and print every problem with its place")
    validate.add_argument("plan", nargs="?", type=Path, default=None)
    add("schema", "print the plan's JSON Schema (for editors: taplo, Even Better TOML)")
    for name, help_text in (
        ("run", "start a session from the plan"),
        ("resume", "continue the session in .bosun/ after a crash or quit"),
    ):
        run = add(name, help_text)
        if name == "run":
            run.add_argument("plan", nargs="?", type=Path, default=None)
        run.add_argument("--headless", action="store_true", help="print one line per event instead of the screen")
        run.add_argument("--json", action="store_true", help="with --headless: one JSON object per event")
        run.add_argument("--auto-approve", action="store_true", help="merge every unit whose gate passed")
        run.add_argument("--max-agents", type=int, default=None, metavar="N", help="agents at work at once")
        run.add_argument("--wait", action="store_true", help="keep waiting for human decisions instead of ending")
    status = add("status", "print every unit's state, owner, branch and last gate result")
    status.add_argument(
        "unit", nargs="?", default=None, help="one unit's story instead: why it is where it is, what applies"
    )
    status.add_argument("--json", action="store_true")
    log = add("log", "an agent's output for one unit, as the screen's Output tab reads it")
    log.add_argument("unit")
    log.add_argument("--attempt", type=int, default=None, metavar="N", help="that attempt (default: the latest)")
    log.add_argument("--raw", action="store_true", help="the log as the agent wrote it")
    log.add_argument("--follow", "-f", action="store_true", help="keep printing while the attempt runs")
    report = add("report", "the session's story: time and cost per unit and agent, the gate's runs, findings")
    report.add_argument("--json", action="store_true", help="print every figure as JSON")
    report.add_argument("--html", type=Path, default=None, metavar="FILE", help="write one self-contained page")
    for name, help_text in (
        ("approve", "merge a unit whose gate passed"),
        ("reject", "send a unit awaiting approval back to its agent"),
        ("handback", "return a unit to the same agent with the reason"),
        ("cancel", "stop a unit for good"),
    ):
        decision = add(name, help_text)
        decision.add_argument("unit")
        if name in ("reject", "handback", "cancel"):
            decision.add_argument("--note", default=None, help="a note for the agent")
        if name == "cancel":
            decision.add_argument(
                "--with-dependents",
                action="store_true",
                help="also cancel every unit that depends on it (they could never start)",
            )
    regate = add("regate", "run a unit's gate again on the same commit (a timeout, a lost gate, a flaky test)")
    regate.add_argument("unit")
    reassign = add("reassign", "give a unit to another agent, in a fresh worktree")
    reassign.add_argument("unit")
    reassign.add_argument("--to", required=True, metavar="AGENT")
    graph = add("graph", "print the dependency graph with states")
    graph.add_argument("--format", choices=("ascii", "dot", "mermaid", "json"), default="ascii")
    board = add("board", "print the shared state agents observe (ready units, claims, what is integrated)")
    board.add_argument("--json", action="store_true")
    claim = add("claim", "take a ready unit for an external agent; prints its task JSON (exit 1 if none won)")
    claim.add_argument("unit", nargs="?", default=None)
    claim.add_argument("--agent", required=True, metavar="NAME", help='an agent of kind "external" in the plan')
    for name, help_text in (
        ("heartbeat", "renew the lease of a claim"),
        ("submit", "hand in a claimed unit: its new commits are gated"),
        ("release", "give a claimed unit back"),
    ):
        held = add(name, help_text)
        held.add_argument("unit")
        held.add_argument("--token", required=True, type=int, metavar="T", help="the token `bosun claim` printed")
    revoke = add("revoke", "take a claim away from its holder; the unit is ready again")
    revoke.add_argument("unit")
    revoke.add_argument("--note", default=None)
    takeover = add("takeover", "become the unit's owner: its agent stopped, its worktree kept; prints the claim JSON")
    takeover.add_argument("unit")
    takeover.add_argument("--note", default=None, help="why (kept in the unit's task)")
    add("land", "fast-forward the base branch to the integration branch")
    doctor = add("doctor", "check this machine for what the plan needs: one line each, ✓ or ✗ with the fix")
    doctor.add_argument("plan", nargs="?", type=Path, default=None)
    doctor.add_argument("--json", action="store_true", help="one JSON object: every check and whether all passed")
    doctor.add_argument(
        "--gate", action="store_true", help="also run the gate once on the base branch, as a session would"
    )
    add("attach", "the screen on a session a headless supervisor runs; q detaches, the supervisor keeps running")
    serve = add("serve", "serve the attached screen to a browser, behind a URL with a fresh access token")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: this machine only)")
    serve.add_argument("--port", type=int, default=0, help="the port (default 0: a free one; the URL says which)")
    reset = add("reset", "end the session and start over: archive .bosun/, integration branch back to the base")
    reset.add_argument("--yes", action="store_true", help="do not ask first")
    add("reload", "apply the edited plan to the session: new units and agents join, units not started change")
    plan = add("plan", "ask a model to split GOAL into units; writes bosun.toml only if it validates")
    plan.add_argument("goal")
    plan.add_argument("--agent", default=None, metavar="NAME", help="a model agent of bosun.toml to plan with")
    plan.add_argument("--base-url", default=None, help="an OpenAI-compatible endpoint (instead of --agent)")
    plan.add_argument("--model", default=None)
    plan.add_argument("--api-key-env", default=None, metavar="VAR", help="the variable holding the key")
    plan.add_argument("--force", action="store_true", help="replace the units bosun.toml already has")
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(command_named(words))
    try:
        args = parser.parse_args(words)
        if args.command is None:
            parser.print_help()
            raise BosunError("bosun: no command given (see bosun --help)")
        if getattr(args, "max_agents", None) is not None and args.max_agents < 1:
            raise BosunError(f"bosun {args.command}: --max-agents must be at least 1")
        if getattr(args, "speed", 1.0) <= 0:
            raise BosunError("bosun demo: --speed must be above 0")
        module = importlib.import_module(f"bosun.app.cli.{COMMAND_MODULES[args.command]}")
        return getattr(module, f"cmd_{args.command}")(args)
    except (LostClaim, StaleToken) as exc:
        print(f"bosun: {exc}", file=sys.stderr)
        return 1
    except PlanError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    except BosunError as exc:
        print(f"bosun: {exc}" if not str(exc).startswith(("bosun:", "bosun ")) else str(exc), file=sys.stderr)
        return 2
    except GitError as exc:
        print(f"bosun: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        session = command_named(words) in ("run", "resume")  # what runs a session; the others just stop
        print("bosun: interrupted" + ("; `bosun resume` continues the session" if session else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left early (`bosun status | head -5`): it has what it wanted. Point stdout at
        # /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        # sqlite3 is imported by the commands that open the store, not here (`--help` needs none)
        sqlite3 = sys.modules.get("sqlite3")
        if sqlite3 is None or not isinstance(exc, sqlite3.DatabaseError):
            raise
        print(f"bosun: the session store .bosun/state.db failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
