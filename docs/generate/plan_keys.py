"""The plan-file reference, rendered from a JSON Schema of `bosun.toml`: every key with its type,
default, description and examples, so the page lists exactly the keys the code accepts.

`plan_schema()` is the one place that says where the schema comes from. Until the plan declares
itself (and `bosun schema` prints it), the schema is built here from the plan's dataclasses
(ProjectSpec, AgentSpec, UnitSpec in bosun.orchestration.plan) and their field docstrings.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import re
from dataclasses import dataclass
from pathlib import Path


def plan_schema() -> dict:
    """The JSON Schema of `bosun.toml` the reference is rendered from: the one the plan ships
    (`orchestration/plan/bosun.schema.json`, what `bosun schema` prints) once it does, until then
    one built from the plan's dataclasses. To point the docs at another source, change this line."""
    return shipped_schema() or dataclass_schema()


def shipped_schema() -> dict | None:
    """The plan's own JSON Schema: the repository's file (the site is built from a checkout), or
    the one the installed package carries."""
    from importlib import resources

    in_tree = Path(__file__).resolve().parents[2] / "orchestration" / "plan" / "bosun.schema.json"
    if in_tree.is_file():
        return json.loads(in_tree.read_text(encoding="utf-8"))
    try:
        shipped = resources.files("bosun.orchestration.plan").joinpath("bosun.schema.json")
        return json.loads(shipped.read_text(encoding="utf-8")) if shipped.is_file() else None
    except (ModuleNotFoundError, NotADirectoryError, FileNotFoundError, TypeError):
        return None  # bosun.orchestration.plan is still a module, not a package with files


@dataclass(frozen=True)
class Key:
    """One key of the plan: `project.gate`, `agents.kind`, `units.scope`, `project.budget.tokens`."""

    path: str
    table: str  # the table's header as written: [project], [agents.NAME], [[units]]
    type: str
    default: str
    description: str
    examples: tuple[str, ...] = ()


def _resolve(schema: dict, node: dict) -> dict:
    if "allOf" in node and len(node["allOf"]) == 1:  # pydantic's way of giving a $ref a default
        node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
    ref = node.get("$ref")
    if not ref:
        return node
    target = schema
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(schema, target)


def _table_of(schema: dict, name: str, node: dict) -> tuple[str, dict]:
    """The header a top-level key is written under, and the schema of one such table."""
    node = _resolve(schema, node)
    if node.get("type") == "array" and "items" in node:
        return f"[[{name}]]", _resolve(schema, node["items"])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and not node.get("properties"):
        return f"[{name}.NAME]", _resolve(schema, extra)
    patterns = list((node.get("patternProperties") or {}).values())
    if len(patterns) == 1 and not node.get("properties"):  # [agents.NAME]: names by pattern
        return f"[{name}.NAME]", _resolve(schema, patterns[0])
    return f"[{name}]", node


def _toml(value) -> str:
    return (
        json.dumps(value, ensure_ascii=False)
        if not isinstance(value, dict)
        else ("{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }")
    )


def type_text(schema: dict, node: dict) -> str:
    """A key's type in words: `string`, `"manual" or "auto"`, `list of string`, `table: tokens, usd`."""
    node = _resolve(schema, node)
    if "const" in node:
        return _toml(node["const"])
    if "enum" in node:
        return " or ".join(_toml(v) for v in node["enum"])
    for combo in ("anyOf", "oneOf"):
        if combo in node:
            kinds = [type_text(schema, n) for n in node[combo] if _resolve(schema, n).get("type") != "null"]
            return " or ".join(dict.fromkeys(kinds))
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(k for k in kind if k != "null")
    if kind == "array":
        return "list of " + type_text(schema, node.get("items", {})) if node.get("items") else "list"
    if kind == "object" or "properties" in node:
        if node.get("properties"):
            return "table: " + ", ".join(node["properties"])
        extra = node.get("additionalProperties")
        return "table of " + type_text(schema, extra) if isinstance(extra, dict) else "table"
    return node.get("format") or kind or "any"


def keys(schema: dict) -> list[Key]:
    """Every key the schema declares, tables' keys first-level and nested (`project.budget.tokens`)."""
    out: list[Key] = []
    for name, node in schema.get("properties", {}).items():
        header, table = _table_of(schema, name, node)
        out += _keys_of(schema, table, name, header)
    return out


def _keys_of(schema: dict, table: dict, prefix: str, header: str) -> list[Key]:
    out = []
    required = set(table.get("required", ()))
    for key, raw in table.get("properties", {}).items():
        node = _resolve(schema, raw)
        default = raw.get("default", node.get("default"))
        shown = "required" if key in required else ("" if default is None else _toml(default))
        description = raw.get("description") or node.get("description") or ""
        examples = tuple(_toml(e) for e in raw.get("examples", node.get("examples", ())))
        out.append(Key(f"{prefix}.{key}", header, type_text(schema, raw), shown, description, examples))
        nested = next((_resolve(schema, n) for n in _alternatives(node) if _resolve(schema, n).get("properties")), None)
        if nested is not None:
            out += _keys_of(schema, nested, f"{prefix}.{key}", header)
    return out


def _alternatives(node: dict) -> list[dict]:
    return [node, *node.get("anyOf", ()), *node.get("oneOf", ())]


def key_anchor(path: str) -> str:
    """`project.gate` is linked as `plan.md#project.gate`."""
    return path


def markdown(schema: dict, explained_in: dict[str, list[tuple[str, str]]] | None = None) -> str:
    """One section per table, one row per key; `explained_in` maps a key's anchor to the guide
    pages (title, link) that explain it."""
    explained_in = explained_in or {}
    lines: list[str] = []
    header = None
    for key in keys(schema):
        if key.table != header:
            header = key.table
            top = key.path.split(".")[0]
            table = _table_of(schema, top, schema["properties"][top])[1]
            lines += ["", f"## `{header}` {{#{top}}}", ""]
            if table.get("description"):
                lines += [table["description"].strip(), ""]
            lines += ["| key | type | default | what it is |", "|---|---|---|---|"]
        name = key.path.split(".", 1)[1]
        what = _cell(key.description)
        if key.examples:
            what += (" " if what else "") + "Example: " + ", ".join(f"`{e}`" for e in key.examples) + "."
        links = explained_in.get(key_anchor(key.path), [])
        if links:
            what += (" " if what else "") + "See " + ", ".join(f"[{t}]({link})" for t, link in links) + "."
        default = f"`{key.default}`" if key.default and key.default != "required" else key.default
        lines.append(f'| <a id="{key_anchor(key.path)}"></a>`{name}` | {_cell(key.type)} | {default} | {what} |')
    return "\n".join(lines).strip() + "\n"


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text).replace("|", "\\|").strip()


# -- the schema built from today's dataclasses (until the plan emits its own) -----------------

# What each dataclass field is written as in TOML where the Python type says something else.
_TOML_TYPES: dict[str, dict] = {
    "project.checks": {
        "type": "array",
        "items": {
            "anyOf": [
                {"type": "string"},
                {"type": "object", "properties": {"run": {"type": "string"}, "differential": {"type": "boolean"}}},
            ]
        },
    },
    "project.semantic": {"anyOf": [{"enum": ["block", "warn", "off"]}, {"type": "object"}]},
    "project.merge": {"enum": ["manual", "auto"]},
    "project.mode": {"enum": ["assign", "claim"]},
    "project.handback": {"enum": ["auto", "manual"]},
    "project.sandbox": {"enum": ["auto", "required", "off"]},
    "project.gate_network": {"enum": ["none", "host"]},
    "project.backend": {"enum": ["local", "ray"]},
    "agents.kind": {"enum": ["scripted", "command", "model", "external"]},
    "agents.sandbox": {"enum": ["auto", "required", "off"]},
    "agents.network": {"enum": ["none", "host"]},
    "agents.mounts": {"type": "array", "items": {"type": "string"}},
    "agents.resources": {"type": "object", "additionalProperties": {"type": "number"}},
}
# What a key is, for the fields whose docstring is missing or speaks Python rather than TOML.
_DESCRIPTIONS = {
    "project.base": "The branch work starts from and `bosun land` fast-forwards.",
    "project.integration": "The branch Bosun merges into; it only ever moves to commits that passed the gate.",
    "project.gate": "The test command, run with `/bin/sh -c` on the merged tree.",
    "project.gate_timeout": "How long one gate run may take; past it the gate is killed whole and fails.",
    "project.lease": "How long a claim lives without a heartbeat.",
    "project.gate_env": "Variable names passed to the gate besides PATH, HOME, LANG, TERM.",
    "project.notify_env": "Variable names passed to the `notify` command.",
    "project.max_agents": "Agents at work at once.",
    "project.merge": '"manual": every merge waits for a human; "auto": a passed gate merges.',
    "project.mode": '"assign": Bosun hands units out; "claim": agents claim ready units themselves.',
    "project.handback": "Whether a conflict, a gate failure or an out-of-scope change goes back to the agent "
    "by itself.",
    "project.max_attempts": "Attempts per unit, hand-backs included.",
    "project.checks": "More commands run on the merged tree after the tests, each a verdict of its own; "
    "an entry `{ run = ..., differential = true }` is judged by what is new in the merge.",
    "project.backend": 'Where agents and gates run: "local" processes or a "ray" cluster.',
    "agents.kind": '"scripted" (a TOML script), "command" (any CLI), "model" (an OpenAI-compatible endpoint) '
    'or "external" (never started: joins by claiming).',
    "agents.command": "The command to start, with `{task_file}`, `{prompt}`, `{unit}`, `{worktree}` and `{gate}` (the "
    "project's gate command) filled in.",
    "agents.preset": "A known coding-agent CLI's command (see the presets).",
    "agents.script": "A scripted agent's script, relative to the plan.",
    "agents.env": "Variable names passed through to the agent; every other variable is removed.",
    "agents.autocommit": "Commit what the agent left uncommitted when it exits (presets set it).",
    "agents.base_url": "A model agent's OpenAI-compatible endpoint.",
    "agents.model": "A model agent's model name.",
    "agents.api_key_env": "The variable holding a model agent's key (passed to it and no other agent).",
    "agents.price_in": "USD per million prompt tokens, for the cost of a model agent.",
    "agents.price_out": "USD per million completion tokens, for the cost of a model agent.",
    "agents.sandbox": "Overrides the project's `sandbox` for this agent.",
    "agents.network": '"none" or "host"; default "host" for model agents and presets (they talk to an endpoint), '
    'else "none".',
    "agents.mounts": 'Paths made visible in the sandbox: `"~/.codex"` (writable), `"~/.gemini:ro"`, '
    '`"/opt/models:ro"`.',
    "agents.resources": "With the Ray backend: what the agent's node must have, e.g. `{ GPU = 1 }` or a resource "
    "a node was started with; CPU defaults to 1.",
    "units.id": "Letters, digits, `.`, `_`, `-` (at most 64).",
    "units.prompt": "What the agent is asked to do.",
    "units.title": "A short title for the screen.",
    "units.depends_on": "Units that must be merged before this one is handed out.",
    "units.scope": "Paths or globs the unit may change; `*` matches across folders, a folder covers what is below it.",
    "units.agent": "The agent this unit is pinned to.",
    "units.timeout": "How long one attempt may run.",
}
_DURATIONS = {"project.gate_timeout", "project.lease", "units.timeout"}
# Dataclass fields that are not keys: an agent's name is its table's NAME; `differential` is
# filled from the `checks` entries marked `differential = true`.
_NOT_KEYS = {"agents.name", "project.differential"}
_REQUIRED = {"agents": ["kind"], "units": ["id", "prompt"]}


def dataclass_schema() -> dict:
    """A JSON Schema of the plan built from the dataclasses bosun.orchestration.plan exposes."""
    from bosun.orchestration import plan

    budget = {
        "type": "object",
        "description": "What may be spent: tokens, US dollars, or both.",
        "properties": {"tokens": {"type": "integer"}, "usd": {"type": "number"}},
    }
    defs = {"Budget": budget}
    for top, cls in (("project", plan.ProjectSpec), ("agents", plan.AgentSpec), ("units", plan.UnitSpec)):
        defs[cls.__name__] = _class_schema(top, cls)
    return {
        "title": "bosun.toml",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "project": {"$ref": "#/$defs/ProjectSpec"},
            "agents": {"type": "object", "additionalProperties": {"$ref": "#/$defs/AgentSpec"}},
            "units": {"type": "array", "items": {"$ref": "#/$defs/UnitSpec"}},
        },
        "$defs": defs,
    }


def _class_schema(top: str, cls: type) -> dict:
    docs = field_docstrings(cls)
    properties = {}
    for f in dataclasses.fields(cls):
        path = f"{top}.{f.name}"
        if path in _NOT_KEYS:
            continue
        node = dict(_TOML_TYPES.get(path) or _annotation_schema(str(f.type)))
        if path in _DURATIONS:
            node = {"type": "string", "format": "duration"}
        default = _default_of(f, path)
        if default is not None:
            node["default"] = default
        if _DESCRIPTIONS.get(path) or docs.get(f.name):
            node["description"] = _DESCRIPTIONS.get(path) or docs[f.name]
        properties[f.name] = node
    schema = {"type": "object", "description": (cls.__doc__ or "").strip(), "properties": properties}
    if _REQUIRED.get(top):
        schema["required"] = _REQUIRED[top]
    return schema


def _annotation_schema(annotation: str) -> dict:
    parts = [p.strip() for p in annotation.split("|")]
    if len(parts) > 1:
        return {"anyOf": [_annotation_schema(p) for p in parts]}
    if annotation == "None":
        return {"type": "null"}
    if annotation == "Budget":
        return {"$ref": "#/$defs/Budget"}
    if annotation.startswith("tuple[") or annotation.startswith("list["):
        inner = annotation[annotation.index("[") + 1 : -1].split(",")[0].strip()
        return {"type": "array", "items": _annotation_schema(inner)}
    if annotation.startswith("dict["):
        return {"type": "object"}
    return {"type": {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(annotation, "string")}


def _default_of(f: dataclasses.Field, path: str):
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return None
    if path in _DURATIONS and isinstance(value, (int, float)):
        return _duration(value)
    if isinstance(value, tuple):
        return (dict(value) or None) if _TOML_TYPES.get(path, {}).get("type") == "object" else list(value)
    if isinstance(value, dict):
        return dict(value) or None
    return value


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def field_docstrings(cls: type) -> dict[str, str]:
    """The string literal written under each field of a dataclass (how its fields are documented)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    out = {}
    for node, after in zip(body, body[1:]):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            out[node.target.id] = inspect.cleandoc(after.value.value)
    return out
