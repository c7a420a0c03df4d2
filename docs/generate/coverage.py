"""Where the docs and the code disagree. The reference pages are generated, so they cannot; the
written pages can. Each command, option and plan key must be explained on some written page (a
link to its entry in the reference), and every such link must name something the code still
has; every event kind the code writes and every BOSUN_ variable it names needs a description, and
every description something in the code.
The site's build (hooks.py, under `mkdocs build --strict`) and tests/test_docs.py both fail on
any of these."""

from __future__ import annotations

import re
from pathlib import Path

import commands as commands_ref
import environment
import events as events_ref
import plan_keys

# The generated pages, and the anchors of each that written pages link to.
COMMANDS_PAGE = "reference/commands.md"
PLAN_PAGE = "reference/plan.md"
_LINK = re.compile(r"\]\((?P<path>[^)\s#]*?reference/(?P<page>commands|plan)\.md)#(?P<anchor>[^)\s]+)\)")
_TITLE = re.compile(r"^#\s+(.+)$", re.M)


def written_pages(docs_dir: Path) -> list[Path]:
    """The pages people write: every Markdown page but the generated references."""
    skip = {docs_dir / COMMANDS_PAGE, docs_dir / PLAN_PAGE}
    return [p for p in sorted(docs_dir.rglob("*.md")) if p not in skip]


def links(docs_dir: Path) -> dict[tuple[str, str], list[Path]]:
    """(page, anchor) -> the written pages that link there."""
    out: dict[tuple[str, str], list[Path]] = {}
    for page in written_pages(docs_dir):
        for match in _LINK.finditer(page.read_text(encoding="utf-8")):
            target = f"reference/{match['page']}.md"
            out.setdefault((target, match["anchor"]), [])
            if page not in out[(target, match["anchor"])]:
                out[(target, match["anchor"])].append(page)
    return out


def title_of(page: Path) -> str:
    if page.name == "index.md" and page.parent.name == "docs":
        return "Home"
    match = _TITLE.search(page.read_text(encoding="utf-8"))
    return match.group(1).strip() if match else page.stem


def explained_in(docs_dir: Path, page: str) -> dict[str, list[tuple[str, str]]]:
    """For the reference `page`: anchor -> (title, relative link) of each written page explaining it."""
    here = (docs_dir / page).parent
    out: dict[str, list[tuple[str, str]]] = {}
    for (target, anchor), pages in links(docs_dir).items():
        if target == page:
            out[anchor] = [(title_of(p), Path(_relative(p, here)).as_posix()) for p in pages]
    return out


def _relative(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path, start)


def required_command_anchors(found: list[commands_ref.Command]) -> dict[str, str]:
    """Every command and option a written page must explain (`--repo`, which every command takes,
    is explained once on the reference page itself)."""
    return {a: what for a, what in commands_ref.anchors(found).items() if not a.endswith("-repo")}


def required_plan_anchors(schema: dict) -> dict[str, str]:
    """Every key of a plan table (nested keys such as `budget.tokens` are explained with their table)."""
    return {plan_keys.key_anchor(k.path): k.path for k in plan_keys.keys(schema) if k.path.count(".") == 1}


def problems(
    docs_dir: Path,
    root: Path,
    found: list[commands_ref.Command] | None = None,
    schema: dict | None = None,
    kinds: set[str] | None = None,
    variables: set[str] | None = None,
) -> list[str]:
    """Every disagreement between the written pages and the code, one line each ([] when none)."""
    found = commands_ref.commands() if found is None else found
    schema = plan_keys.plan_schema() if schema is None else schema
    kinds = events_ref.event_kinds(root) if kinds is None else kinds
    variables = environment.variables(root) if variables is None else variables
    existing = {
        COMMANDS_PAGE: commands_ref.anchors(found),
        PLAN_PAGE: {plan_keys.key_anchor(k.path): k.path for k in plan_keys.keys(schema)}
        | {top: top for top in schema.get("properties", {})},
    }
    required = {COMMANDS_PAGE: required_command_anchors(found), PLAN_PAGE: required_plan_anchors(schema)}
    out = []
    linked = links(docs_dir)
    for (page, anchor), pages in sorted(linked.items()):
        if anchor not in existing[page]:
            names = ", ".join(p.relative_to(docs_dir).as_posix() for p in pages)
            out.append(f"{names}: links to {page}#{anchor}, which the code no longer has")
    for page, anchors in required.items():
        for anchor, what in anchors.items():
            if (page, anchor) not in linked:
                out.append(f"{what} is explained on no page: link {page}#{anchor} from the page that explains it")
    described = events_ref.descriptions(docs_dir / "reference" / "event-kinds.toml")
    for kind in sorted(kinds - set(described)):
        out.append(f"event kind '{kind}' has no description in reference/event-kinds.toml")
    for kind in sorted(set(described) - kinds):
        out.append(f"reference/event-kinds.toml describes '{kind}', which the code no longer writes")
    told = environment.descriptions(docs_dir / "reference" / "environment.toml")
    for name in sorted(variables - set(told)):
        out.append(f"environment variable {name} has no description in reference/environment.toml")
    for name in sorted(set(told) - variables):
        out.append(f"reference/environment.toml describes {name}, which the code no longer names")
    return out
