"""The plan's JSON Schema, generated from its declaration (keys.py), for editors that complete and
check TOML against one (taplo, Even Better TOML). The package ships it as `bosun.schema.json`;
regenerate that file with `bosun schema > orchestration/plan/bosun.schema.json`
(tests/test_plan_schema.py fails while the two differ).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bosun.orchestration.plan.keys import PlanFile

SCHEMA_FILE = Path(__file__).with_name("bosun.schema.json")
"""The shipped schema: what `bosun init`'s `#:schema` line points editors at."""


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of a plan file as written (durations as "10m", mounts as "~/x:ro", ...)."""
    schema = _tidy(PlanFile.model_json_schema(mode="validation"))
    schema["title"] = "bosun.toml"
    schema["description"] = (
        "A Bosun plan: the work as units with dependencies, the agents that do it, and the session's "
        "policies. `bosun validate` checks what a schema cannot (dependencies, cycles, overlapping scopes)."
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(plan_schema(), indent=2, ensure_ascii=False) + "\n"


def _tidy(node: Any) -> Any:
    """TOML has no null: an optional key is simply left out, so `null` alternatives and defaults
    go; pydantic's generated titles ("Base Url") say less than the keys and go too."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for name, value in node.items():
        if name == "title" and isinstance(value, str):
            continue
        if name == "default" and value is None:
            continue
        if name in ("examples", "default", "enum", "const"):
            out[name] = value
            continue
        if name == "properties":
            out[name] = {key: _tidy(schema) for key, schema in value.items()}
            continue
        out[name] = _tidy(value)
    variants = [v for v in out.get("anyOf", []) if v != {"type": "null"}]
    if "anyOf" in out and len(variants) == 1:
        del out["anyOf"]
        out = {**variants[0], **out}
    elif "anyOf" in out:
        out["anyOf"] = variants
    return out


if __name__ == "__main__":
    print(schema_text(), end="")
