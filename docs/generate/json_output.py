"""The fields of `bosun status --json`, read from the code that builds the object
(orchestration/status.py), so the reference lists what the command prints today."""

from __future__ import annotations

import ast
from pathlib import Path


def _keys(node: ast.AST) -> list[str]:
    return [k.value for k in node.keys if isinstance(k, ast.Constant)] if isinstance(node, ast.Dict) else []


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def status_fields(root: Path) -> dict[str, list[str]]:
    """Each object of the status JSON (`""` the top, `units[]`, `units[].gate`, ...) and its fields."""
    tree = ast.parse((root / "orchestration" / "status.py").read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    status = _function(tree, "status_json")
    for node in ast.walk(status):
        if isinstance(node, ast.Dict) and "units" in _keys(node):
            out[""] = _keys(node)
            for key, value in zip(node.keys, node.values):
                if isinstance(value, ast.Dict):
                    out[key.value] = _keys(value)
                elif isinstance(value, ast.ListComp):
                    out[f"{key.value}[]"] = _keys(value.elt)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            name = getattr(node.targets[0].value, "id", "")
            where = {"runs": "units[].gate", "by_id": "units[].gate_run"}.get(name)
            if where:
                out[where] = _keys(node.value)
    agents: list[str] = []
    for node in ast.walk(_function(tree, "agent_rows")):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "row":
            agents += _keys(node.value)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            if getattr(node.targets[0].value, "id", None) == "row" and isinstance(node.targets[0].slice, ast.Constant):
                agents.append(node.targets[0].slice.value)
    out["agents[]"] = list(dict.fromkeys(agents))
    return dict(sorted(out.items()))


def markdown(fields: dict[str, list[str]]) -> str:
    lines = ["| object | fields |", "|---|---|"]
    for where, keys in fields.items():
        lines.append(f"| {'`' + where + '`' if where else 'the top'} | {', '.join(f'`{k}`' for k in keys)} |")
    return "\n".join(lines) + "\n"


def task_fields(root: Path) -> list[str]:
    """The fields of the task JSON an agent gets (the dict build_task returns)."""
    tree = ast.parse((root / "orchestration" / "agents" / "launch.py").read_text(encoding="utf-8"))
    for node in ast.walk(_function(tree, "build_task")):
        if isinstance(node, ast.Return):
            return _keys(node.value)
    return []
