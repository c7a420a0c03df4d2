"""The plan's JSON Schema (`bosun schema`, shipped as orchestration/plan/bosun.schema.json) comes
from the same declaration that validates plans: the shipped file is the generated one, editors
validating with it accept the plans Bosun accepts and refuse a typo'd or internal key."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT, bosun

from bosun.app.cli.example_plan import EXAMPLE_PLAN, RepoFacts, example_plan
from bosun.orchestration.plan import parse_plan
from bosun.orchestration.plan.schema import SCHEMA_FILE, plan_schema, schema_text


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def readme_plans() -> list[str]:
    """Every ```toml block of README.md that is a whole plan (it has units)."""
    blocks = re.findall(r"^```toml\n(.*?)^```", (ROOT / "README.md").read_text(), re.MULTILINE | re.DOTALL)
    return [b for b in blocks if "[[units]]" in b]


def test_the_shipped_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "regenerate it: bosun schema > orchestration/plan/bosun.schema.json"
    )
    assert json.loads(SCHEMA_FILE.read_text()) == plan_schema()


def test_bosun_schema_prints_it(tmp_path: Path) -> None:
    result = bosun("schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SCHEMA_FILE.read_text()


def test_every_key_is_described_with_an_example() -> None:
    schema = plan_schema()
    for table in ("ProjectSpec", "AgentSpec", "UnitSpec"):
        for key, spec in schema["$defs"][table]["properties"].items():
            assert spec.get("description"), f"{table}.{key} has no description"
            if key != "semantic":
                assert spec.get("examples"), f"{table}.{key} has no example"
    assert "name" not in schema["$defs"]["AgentSpec"]["properties"], "an agent's name is its table's, never a key"
    assert "differential" not in schema["$defs"]["ProjectSpec"]["properties"], "derived from checks, never a key"


@pytest.mark.parametrize(
    "text",
    [EXAMPLE_PLAN, example_plan(RepoFacts(base="master")), *readme_plans()],
    ids=["init, agents found", "init, no agent", *[f"README plan {n}" for n in range(len(readme_plans()))]],
)
def test_the_schema_accepts_the_plans_bosun_writes_and_documents(tmp_path: Path, text: str) -> None:
    (tmp_path / "team.toml").write_text("")
    parse_plan(text, tmp_path / "bosun.toml")  # Bosun accepts it...
    errors = [e.message for e in validator().iter_errors(tomllib.loads(text))]
    assert errors == []  # ...and so does an editor


@pytest.mark.parametrize(
    "change, refused",
    [
        (("gate_timeout", "gaet_timeout"), "gaet_timeout"),
        (('preset = "aider"', 'preset = "aidr"'), "aidr"),
        (("max_agents = 2", "max_agents = 0"), "0"),
        (('timeout = "20m"', 'timeout = "20 minutes"'), "20 minutes"),
        (("[project]\n", '[project]\ndifferential = ["go vet ./..."]\n'), "differential"),
        (("[agents.aider]\n", '[agents.aider]\nname = "bob"\n'), "name"),
    ],
    ids=["typo'd key", "unknown preset", "out of range", "bad duration", "internal key", "agent name as a key"],
)
def test_the_schema_refuses_what_bosun_refuses(tmp_path: Path, change: tuple[str, str], refused: str) -> None:
    text = EXAMPLE_PLAN.replace(*change)
    assert text != EXAMPLE_PLAN
    with pytest.raises(Exception, match=re.escape(refused)):
        parse_plan(text, tmp_path / "bosun.toml")
    errors = [e.message for e in validator().iter_errors(tomllib.loads(text))]
    assert len(errors) == 1 and refused in errors[0], errors
