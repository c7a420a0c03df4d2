"""The command reference, read from the parser `bosun` itself uses (app/cli/main.py's build_parser):
a command or option exists on this page exactly when it exists in the code."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Option:
    """One argument of a command: `--headless`, or a positional such as `unit`."""

    name: str
    metavar: str
    help: str
    default: object = None
    required: bool = False
    choices: tuple[str, ...] = ()
    flag: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: list[Option] = field(default_factory=list)


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def commands(parser: argparse.ArgumentParser | None = None) -> list[Command]:
    """Every command of `bosun` with its options, in the parser's order."""
    if parser is None:
        from bosun.app.cli.main import build_parser

        parser = build_parser()
    sub = _subcommands(parser)
    helps = {a.dest: a.help or "" for a in sub._choices_actions}
    out = []
    for name, command in sub.choices.items():
        options = []
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            flag = action.nargs == 0
            if action.option_strings:
                long = max(action.option_strings, key=len)
                metavar = "" if flag else (action.metavar or action.dest.upper())
            else:
                long, metavar = action.dest, action.metavar or action.dest.upper()
            options.append(
                Option(
                    name=long,
                    metavar=metavar,
                    help=action.help or "",
                    default=None if flag else action.default,
                    required=bool(action.required) if action.option_strings else action.nargs not in ("?", "*"),
                    choices=tuple(action.choices or ()),
                    flag=flag,
                )
            )
        # positionals first, then options, and `--repo` (every command has it) last
        options.sort(key=lambda o: (o.name == "--repo", o.name.startswith("-")))
        out.append(Command(name, helps.get(name, ""), options))
    return out


def command_anchor(command: str, option: str | None = None) -> str:
    """`bosun-run`, `bosun-run-headless`, `bosun-approve-unit`: the ids guide pages link to."""
    return f"bosun-{command}" if option is None else f"bosun-{command}-{option.lstrip('-')}"


def anchors(found: list[Command]) -> dict[str, str]:
    """Every anchor of the command reference, each with what it names (`bosun run --headless`)."""
    out = {}
    for command in found:
        out[command_anchor(command.name)] = f"bosun {command.name}"
        for option in command.options:
            out[command_anchor(command.name, option.name)] = f"bosun {command.name} {option.name}"
    return out


def _usage(command: Command) -> str:
    parts = [f"bosun {command.name}"]
    for option in command.options:
        if option.name == "--repo":
            continue
        text = option.name if option.name.startswith("-") else option.metavar
        if option.name.startswith("-") and not option.flag:
            text += " " + ("{" + ",".join(option.choices) + "}" if option.choices else option.metavar)
        parts.append(text if option.required else f"[{text}]")
    return " ".join(parts) + " [--repo DIR]"


# Arguments the parser gives no help text, said once here (the parser's own help wins where it has one).
UNDESCRIBED = {
    "unit": "the unit's id",
    "plan": "the plan file (default: `bosun.toml` at the repository's root)",
    "--json": "print JSON instead of text",
}


def _default(option: Option) -> str:
    if option.flag or option.default is None:
        return ""
    return f" (default: `{option.default}`)"


def markdown(found: list[Command], explained_in: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """The reference: per command its usage line, what it does, and a table of its arguments.
    `explained_in` maps an anchor to the guide pages (title, link) that explain it."""
    explained_in = explained_in or {}
    lines = []
    for command in found:
        anchor = command_anchor(command.name)
        lines += [f"## bosun {command.name} {{#{anchor}}}", "", command.help[:1].upper() + command.help[1:] + ".", ""]
        lines += ["```", _usage(command), "```", ""]
        if explained := explained_in.get(anchor):
            lines += ["Explained in " + ", ".join(f"[{t}]({link})" for t, link in explained) + ".", ""]
        lines += ["| argument | what it does |", "|---|---|"]
        for option in command.options:
            name = option.name if option.name.startswith("-") else option.metavar
            shown = f"`{name}{' ' + option.metavar if option.name.startswith('-') and not option.flag else ''}`"
            what = option.help or UNDESCRIBED.get(option.name, "")
            if option.choices:
                what += (" " if what else "") + "one of " + ", ".join(f"`{c}`" for c in option.choices)
            what += _default(option)
            if option.required and option.name.startswith("-"):
                what += " (required)"
            if not option.required and not option.name.startswith("-"):
                what += " (optional)"
            links = explained_in.get(command_anchor(command.name, option.name), [])
            if links:
                what += " — " + ", ".join(f"[{t}]({link})" for t, link in links)
            lines.append(f'| <a id="{command_anchor(command.name, option.name)}"></a>{shown} | {what.strip()} |')
        lines.append("")
    return "\n".join(lines)
