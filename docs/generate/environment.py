"""The environment variables Bosun reads or sets, found in its source (every `BOSUN_...` name
inside a string: an `os.environ` lookup, an agent's environment, a docstring that documents one),
each with the description docs/reference/environment.toml gives it; a variable without one, or a
description of a variable the code no longer names, fails the build and tests/test_docs.py."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

_NAME = re.compile(r"\bBOSUN_[A-Z][A-Z_]*[A-Z]\b")


def variables(root: Path) -> set[str]:
    found: set[str] = set()
    for folder in ("orchestration", "app"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.update(_NAME.findall(node.value))
    return found


def descriptions(path: Path) -> dict[str, str]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def markdown(found: set[str], described: dict[str, str]) -> str:
    lines = ["| variable | what it does |", "|---|---|"]
    for name in sorted(found):
        lines.append(f'| <a id="{name}"></a>`{name}` | {described.get(name, "")} |')
    return "\n".join(lines) + "\n"
