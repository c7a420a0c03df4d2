"""The keys of `[project] checks` and `[project.semantic]`: a check as a command or a table, and
what each kind of semantic finding does (block, warn or off)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, GetPydanticSchema, create_model
from pydantic_core import core_schema

from bosun.orchestration.plan.table import Table, key
from bosun.orchestration.plan.values import Flag, choice, text
from bosun.orchestration.semantic.findings import ALL_KINDS, ALL_SEVERITY, SemanticSettings

SEVERITIES = ("block", "warn", "off")


class Check(Table):
    """One `checks` entry written as a table."""

    run: text('must be a command, e.g. { run = "tsc --noEmit", differential = true }') = key(
        description="The command, run with /bin/sh -c on the merged tree.", example="tsc --noEmit"
    )
    differential: Flag = key(
        False,
        "Run it on the merge base, both sides and the merge; only what is new in the merge counts (a semantic "
        "finding), instead of gating as a command.",
        True,
    )


def _check_entry(value: Any) -> Any:
    if isinstance(value, str):
        return {"run": value}
    if not isinstance(value, dict):
        raise ValueError(CHECKS_SAY)
    return value


CHECKS_SAY = (
    'must be a list of commands, e.g. ["ruff check .", "mypy src"] or { run = "tsc --noEmit", differential = true }'
)
CheckEntry = Annotated[Check, BeforeValidator(_check_entry, json_schema_input_type=text() | Check)]

KIND_HELP = {
    "duplicate_definition": "A top-level name given twice, once by each side.",
    "duplicate_key": "A dict or registry key given twice, once by each side.",
    "signature_mismatch": "A call that no longer fits its callee because one side changed the callee.",
    "removed_name": "A name, attribute or module path one side removed while the other uses it.",
    "removed_base_member": "A subclass overriding or calling a base-class member the other side removed.",
    "contract_change": "A constant, default, return shape or raised exception changed under new code using it.",
    "syntax_error": "A merged Python file that no longer parses although both sides parse.",
    "type_error": "A new error of the Python type checker on the merged tree.",
    "new_diagnostic": "A new diagnostic of any other analyser (differential checks) on the merged tree.",
}
Severity = choice(*SEVERITIES, say=lambda value: f'must be "block", "warn" or "off", not {value!r}')
Severities = create_model(
    "Severities",
    __base__=Table,
    **{kind: (Severity, key(ALL_SEVERITY[kind], KIND_HELP[kind], "warn")) for kind in ALL_KINDS},
)
Severities.unknown_key = "kind of finding"


def _severities(value: Any) -> Any:
    if value in SEVERITIES:
        return dict.fromkeys(ALL_KINDS, value)
    if not isinstance(value, dict):
        raise ValueError(f'must be "block", "warn", "off" or a table of those by kind ({", ".join(ALL_KINDS)})')
    return value


Semantic = Annotated[
    SemanticSettings,
    GetPydanticSchema(
        lambda _type, handler: core_schema.no_info_after_validator_function(
            lambda table: table if isinstance(table, SemanticSettings) else SemanticSettings(table.model_dump()),
            handler.generate_schema(Severities),
        )
    ),
    BeforeValidator(_severities, json_schema_input_type=choice(*SEVERITIES) | Severities),
]
