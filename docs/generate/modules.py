"""The development page's map of the code: every module of app/, widgets/ and orchestration/ with
the first sentence of its docstring, read from the tree at build time (a list written by hand
went stale), and the presets table from the presets themselves."""

from __future__ import annotations

import ast
import re
from pathlib import Path

FOLDERS = ("orchestration", "app", "widgets")


# The code's docstrings cite the team's issues by number; readers of the site cannot open them, so
# those citations are left out here.
_ISSUE = re.compile(r"\s*\(issues? [\d/, ]+\)")


def without_issues(text: str) -> str:
    return _ISSUE.sub("", text)


def first_sentence(text: str | None) -> str:
    text = without_issues(re.sub(r"\s+", " ", (text or "").strip()))
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


def modules(root: Path) -> list[tuple[str, str]]:
    """(path, first sentence of its docstring) for every module, in tree order."""
    out = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            out.append((path.relative_to(root).as_posix(), first_sentence(doc)))
    return out


def benchmarks(root: Path) -> list[tuple[str, str]]:
    return [
        (p.relative_to(root).as_posix(), first_sentence(ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))))
        for p in sorted((root / "benchmarks").glob("*.py"))
    ]


def markdown(rows: list[tuple[str, str]]) -> str:
    lines = ["| module | what it is for |", "|---|---|"]
    for path, doc in rows:
        cell = doc.replace("|", "\\|")
        lines.append(f"| `{path}` | {cell} |")
    return "\n".join(lines) + "\n"


def presets_markdown() -> str:
    from bosun.orchestration.agents.presets import PRESETS

    lines = ["| preset | command | commits for it | set for it |", "|---|---|---|---|"]
    for name, preset in PRESETS.items():
        env = ", ".join(f"`{k}={v}`" for k, v in preset.env) or "—"
        lines.append(f"| `{name}` | `{' '.join(preset.command)}` | {'yes' if preset.autocommit else 'no'} | {env} |")
    return "\n".join(lines) + "\n"
