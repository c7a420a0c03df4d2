"""The docs and the code agree: the README is a short door whose commands are the ones CI runs,
the site's references are generated from the code, and every command, option, plan key and event
kind the code has is explained on a written page (and nothing written names one it lacks)."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import tool_missing

from bosun.app.cli.main import build_parser
from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan import parse_plan

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "generate"))

import commands as commands_ref  # noqa: E402
import coverage  # noqa: E402
import environment  # noqa: E402
import events as events_ref  # noqa: E402
import plan_keys  # noqa: E402

README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO = "python3 -m venv .venv && .venv/bin/pip install -q . && .venv/bin/bosun demo"
TESTS = "python3 -m venv .venv && .venv/bin/pip install -q '.[test]' && .venv/bin/python -m pytest -q"


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


# -- the README -----------------------------------------------------------------------------


def test_the_readme_fits_on_a_screen_and_starts_with_the_two_commands():
    assert len(README.splitlines()) <= 150
    first = _code_blocks(README, "sh")[0].splitlines()
    assert first == [DEMO, TESTS]
    assert README.index(DEMO) < README.index("##"), "the two commands come before any section"
    assert "screenshots/main.svg" in README


def test_ci_runs_the_readmes_test_command_after_building_the_site():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pytest_line = TESTS.split(" && ")[-1]
    assert pytest_line in ci
    assert "mkdocs build --strict" in ci
    assert ci.index("mkdocs build --strict") < ci.index(pytest_line)


def test_the_readmes_plan_is_five_lines_that_validate(tmp_path):
    plan = _code_blocks(README, "toml")[0]
    assert len(plan.strip().splitlines()) == 5
    parsed = parse_plan(plan, tmp_path / "bosun.toml")
    assert list(parsed.units) == ["greet"] and list(parsed.agents) == ["ada"]


def test_nothing_cites_documents_readers_cannot_open():
    pages = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"SPEC(\.md| §)|\.\./shared|/work/", text), page


# -- the written pages against the code ------------------------------------------------------


def test_the_written_pages_and_the_code_agree():
    assert coverage.problems(DOCS, ROOT) == []


def test_removing_an_option_from_the_code_fails():
    found = commands_ref.commands()
    run = next(c for c in found if c.name == "run")
    run.options[:] = [o for o in run.options if o.name != "--wait"]
    problems = coverage.problems(DOCS, ROOT, found=found)
    assert any("reference/commands.md#bosun-run-wait, which the code no longer has" in p for p in problems)


def test_a_command_or_option_nobody_explains_fails():
    parser = build_parser()
    sub = commands_ref._subcommands(parser)
    sub.choices["land"].add_argument("--dry-run", action="store_true", help="say what would move")
    sub.add_parser("frobnicate", help="a command nobody wrote about")
    problems = coverage.problems(DOCS, ROOT, found=commands_ref.commands(parser))
    assert any(p.startswith("bosun land --dry-run is explained on no page") for p in problems)
    assert any(p.startswith("bosun frobnicate is explained on no page") for p in problems)


def test_removing_or_adding_a_plan_key_fails():
    schema = plan_keys.plan_schema()
    changed = copy.deepcopy(schema)
    project = plan_keys._table_of(changed, "project", changed["properties"]["project"])[1]
    del project["properties"]["gate_parallel"]
    project["properties"]["gate_colour"] = {"type": "string", "description": "new and unexplained"}
    problems = coverage.problems(DOCS, ROOT, schema=changed)
    assert any("reference/plan.md#project.gate_parallel, which the code no longer has" in p for p in problems)
    assert any(p.startswith("project.gate_colour is explained on no page") for p in problems)


def test_an_event_kind_without_a_description_or_a_description_without_a_kind_fails():
    kinds = events_ref.event_kinds(ROOT)
    problems = coverage.problems(DOCS, ROOT, kinds=(kinds - {"merged"}) | {"exploded"})
    assert "event kind 'exploded' has no description in reference/event-kinds.toml" in problems
    assert "reference/event-kinds.toml describes 'merged', which the code no longer writes" in problems


def test_an_environment_variable_without_a_description_or_a_description_without_a_variable_fails():
    found = environment.variables(ROOT)
    assert {"BOSUN_PYTHON_TYPES", "BOSUN_TASK_FILE", "BOSUN_PROCESS_LIMIT"} <= found
    problems = coverage.problems(DOCS, ROOT, variables=(found - {"BOSUN_BWRAP"}) | {"BOSUN_TURBO"})
    assert "environment variable BOSUN_TURBO has no description in reference/environment.toml" in problems
    assert "reference/environment.toml describes BOSUN_BWRAP, which the code no longer names" in problems


def test_every_plan_written_on_a_page_validates(tmp_path):
    checked = 0
    for page in sorted(DOCS.rglob("*.md")):
        for block in _code_blocks(page.read_text(encoding="utf-8"), "toml"):
            try:
                tables = set(tomllib.loads(block))
            except tomllib.TOMLDecodeError:
                continue  # an outline with `...` in it
            if not tables or not tables <= {"project", "agents", "units"}:
                continue  # another program's configuration, a scripted agent's script, a few keys
            text = block if "units" in tables else block + '\n[[units]]\nid = "u"\nprompt = "p"\n'
            try:
                parse_plan(text, tmp_path / "bosun.toml")
            except PlanError as exc:
                pytest.fail(f"{page.relative_to(ROOT)}: {exc.problems}")
            checked += 1
    assert checked >= 4


# -- the generators ----------------------------------------------------------------------------


def test_the_command_reference_has_every_command_and_option_of_the_parser():
    parser = build_parser()
    page = commands_ref.markdown(commands_ref.commands(parser))
    for name, command in commands_ref._subcommands(parser).choices.items():
        assert f"## bosun {name} {{#bosun-{name}}}" in page
        for action in command._actions:
            if action.dest != "help":
                option = max(action.option_strings, key=len) if action.option_strings else action.dest
                assert f'<a id="{commands_ref.command_anchor(name, option)}"></a>' in page, (name, option)


def _known_keys(table_text: str, where: str) -> set[str]:
    """The keys the plan's validator accepts in one table, as its unknown-key error lists them."""
    with pytest.raises(PlanError) as raised:
        parse_plan(table_text, Path("bosun.toml"))
    line = next(p for p in raised.value.problems if where in p and "unknown key 'zzz'" in p)
    return set(re.search(r"known: ([^)]*)\)", line).group(1).split(", "))


def test_the_plan_reference_has_exactly_the_keys_the_validator_accepts():
    unit = '[[units]]\nid = "u"\nprompt = "p"\n'
    accepted = {
        "project": _known_keys("[project]\nzzz = 1\n" + unit, "project"),
        "agents": _known_keys('[agents.a]\nkind = "external"\nzzz = 1\n' + unit, "agent 'a'"),
        "units": _known_keys('[[units]]\nid = "u"\nprompt = "p"\nzzz = 1\n', "unit 'u'"),
    }
    # `differential` is a field the `checks` entries fill; today's validator takes it as a key too.
    accepted["project"].discard("differential")
    documented: dict[str, set[str]] = {"project": set(), "agents": set(), "units": set()}
    for key in plan_keys.keys(plan_keys.plan_schema()):
        top, _, name = key.path.partition(".")
        if "." not in name:
            documented[top].add(name)
    assert documented == accepted
    page = plan_keys.markdown(plan_keys.plan_schema())
    for top, names in documented.items():
        for name in names:
            assert f'<a id="{top}.{name}"></a>`{name}`' in page


SMALL_SCHEMA = {
    "title": "bosun.toml",
    "type": "object",
    "properties": {
        "project": {"allOf": [{"$ref": "#/$defs/Project"}], "default": {}},  # pydantic's $ref with a default
        "agents": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Agent"}},
        "units": {"type": "array", "items": {"$ref": "#/$defs/Unit"}},
    },
    "$defs": {
        "Budget": {"type": "object", "properties": {"tokens": {"type": "integer"}, "usd": {"type": "number"}}},
        "Project": {
            "type": "object",
            "description": "Branches and the gate.",
            "properties": {
                "gate": {
                    "type": "string",
                    "default": "python -m pytest -q",
                    "description": "The test command.",
                    "examples": ["pytest -x"],
                },
                "merge": {"enum": ["manual", "auto"], "default": "manual"},
                "budget": {"anyOf": [{"$ref": "#/$defs/Budget"}, {"type": "null"}], "default": None},
            },
        },
        "Agent": {
            "type": "object",
            "required": ["kind"],
            "properties": {
                "kind": {"type": "string", "description": "Who does the work."},
                "env": {"type": "array", "items": {"type": "string"}, "default": []},
            },
        },
        "Unit": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string"}, "timeout": {"type": "string", "format": "duration"}},
        },
    },
}


def test_the_plan_reference_renders_any_json_schema_of_the_plan():
    keys = {k.path: k for k in plan_keys.keys(SMALL_SCHEMA)}
    assert list(keys) == [
        "project.gate",
        "project.merge",
        "project.budget",
        "project.budget.tokens",
        "project.budget.usd",
        "agents.kind",
        "agents.env",
        "units.id",
        "units.timeout",
    ]
    assert keys["project.gate"].default == '"python -m pytest -q"'
    assert keys["project.gate"].examples == ('"pytest -x"',)
    assert keys["project.merge"].type == '"manual" or "auto"'
    assert keys["project.budget"].type == "table: tokens, usd"
    assert keys["agents.kind"].default == "required" and keys["agents.env"].type == "list of string"
    assert keys["units.timeout"].type == "duration"
    page = plan_keys.markdown(SMALL_SCHEMA, {"project.gate": [("The plan file", "../guide/plan-file.md")]})
    assert "## `[project]` {#project}" in page and "Branches and the gate." in page
    assert "## `[agents.NAME]` {#agents}" in page and "## `[[units]]` {#units}" in page
    assert '| <a id="project.gate"></a>`gate` | string | `"python -m pytest -q"` | The test command.' in page
    assert 'Example: `"pytest -x"`. See [The plan file](../guide/plan-file.md).' in page
    assert '<a id="project.budget.usd"></a>`budget.usd` | number' in page


def test_the_event_scanner_finds_each_way_an_event_is_written():
    source = """
store.append_event("supervisor_started", None)
store._append(db, "merge_intent", unit, {})
store.transition(unit, GATING, (CHECKING,))
store.transition(unit, GATING, (CHECKING,), kind="held")
release(store, unit, epoch)
store.append_event("session_finished" if ok else "session_paused", None)
store.record_gate_run(run, event=("queue_run_finished", unit, {}))
db.execute("INSERT INTO events (time, kind, unit, data) VALUES (NEW.updated, 'claimed', NEW.id, 1)")
other(kind="type_error")
"""
    found = events_ref.kinds_in_source(source, {"GATING": "gating", "CHECKING": "checking"})
    assert found == {
        "supervisor_started",
        "merge_intent",
        "gating",
        "held",
        "released",
        "session_finished",
        "session_paused",
        "queue_run_finished",
        "claimed",
    }


# -- the site ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_site_builds_strict_with_the_references_and_pictures(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        tool_missing("mkdocs is not installed: pip install -e '.[docs]'")
    site = tmp_path / "site"
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--quiet", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": str(Path(sys.executable).parent), "NO_MKDOCS_2_WARNING": "1", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    commands_page = (site / "reference" / "commands" / "index.html").read_text(encoding="utf-8")
    for anchor in commands_ref.anchors(commands_ref.commands()):
        assert f'id="{anchor}"' in commands_page
    plan_page = (site / "reference" / "plan" / "index.html").read_text(encoding="utf-8")
    for key in plan_keys.keys(plan_keys.plan_schema()):
        assert f'id="{key.path}"' in plan_page
    json_page = (site / "reference" / "json" / "index.html").read_text(encoding="utf-8")
    for kind in events_ref.event_kinds(ROOT):
        assert f'id="event-{kind}"' in json_page
    for picture in (ROOT / "screenshots").iterdir():
        assert (site / "screenshots" / picture.name).read_bytes() == picture.read_bytes()
    assert "SPEC" not in "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
