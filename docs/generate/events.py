"""The event kinds Bosun writes, found in its source: the events log has no registry of kinds,
so they are read from the calls that write an event (`store.append_event("kind", ...)`,
`store.transition(unit, STATE, ..., kind=...)`, which defaults to the new state, `release(...)`,
and the SQL trigger that logs a claim). The reference lists these, each with the description
docs/reference/event-kinds.toml gives it; a kind without one, or a description of a kind the
code no longer writes, fails the build and tests/test_docs.py."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

# Calls that write an event, and which positional argument names its kind (None: only `kind=`).
WRITERS = {"append_event": 0, "_append": 1, "transition": 1, "move": 2, "_move": 1, "release": None, "hand_back": 3}
# A verdict that names the state its unit moves to (the move's event is that state).
WRITERS["Refused"] = 0
DEFAULT_KINDS = {"release": "released"}
_TRIGGER = re.compile(r"INSERT INTO events \(time, kind, unit, data\) VALUES \([^,]+, '([a-z_]+)'")


def _strings(node: ast.AST, constants: dict[str, str]) -> list[str]:
    """The kinds an argument can be: a string, a state constant, either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.IfExp):
        return _strings(node.body, constants) + _strings(node.orelse, constants)
    if isinstance(node, ast.BoolOp):
        return [s for value in node.values for s in _strings(value, constants)]
    return []


def kinds_in_source(text: str, constants: dict[str, str]) -> set[str]:
    """The event kinds one module writes."""
    found = set(_TRIGGER.findall(text))
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        keywords = {k.arg: k.value for k in node.keywords}
        if "event" in keywords and isinstance(keywords["event"], ast.Tuple) and keywords["event"].elts:
            found.update(_strings(keywords["event"].elts[0], constants))  # record_gate_run(event=(kind, ...))
        if name not in WRITERS:
            continue
        if "kind" in keywords:
            found.update(_strings(keywords["kind"], constants))
        elif WRITERS[name] is not None and len(node.args) > WRITERS[name]:
            found.update(_strings(node.args[WRITERS[name]], constants))
        elif name in DEFAULT_KINDS:
            found.add(DEFAULT_KINDS[name])
    return found


def event_kinds(root: Path) -> set[str]:
    """Every event kind the engine and the commands write (orchestration/ and app/ under `root`)."""
    from bosun.orchestration import states

    constants = {name: value for name, value in vars(states).items() if name.isupper() and isinstance(value, str)}
    found: set[str] = set()
    for folder in ("orchestration", "app"):
        for path in sorted((root / folder).rglob("*.py")):
            found |= kinds_in_source(path.read_text(encoding="utf-8"), constants)
    return found


def descriptions(path: Path) -> dict[str, str]:
    """The hand-written description of each kind (docs/reference/event-kinds.toml)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


def markdown(kinds: set[str], described: dict[str, str]) -> str:
    lines = ["| kind | when |", "|---|---|"]
    for kind in sorted(kinds):
        lines.append(f'| <a id="event-{kind}"></a>`{kind}` | {described.get(kind, "")} |')
    return "\n".join(lines) + "\n"
