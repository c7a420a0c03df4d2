"""The plan file: every problem is reported at once, each naming its place, and
good plans become typed objects. Also the scope rules validation relies on.

Bad plans are written out in full. A trailing comment `#A`, `#B`, ... marks the line a
problem must name; `None` means the problem names the file but no line.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import pytest
from conftest import bosun

from bosun.orchestration.agents.presets import PRESETS
from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan import AgentSpec, ProjectSpec, UnitSpec, load_plan, parse_duration
from bosun.orchestration.scope import entries_overlap, in_scope, matches, scope_problem, scopes_overlap

# One valid agent and two independent units; most bad plans below are this with one change.
AGENT = '[agents.ada]\nkind = "external"\n'


def units(*bodies: str) -> str:
    return "".join(f"[[units]]\n{textwrap.dedent(body).strip()}\n" for body in bodies)


def write(tmp_path: Path, text: str, files: dict[str, str] | None = None) -> Path:
    for name, content in (files or {}).items():
        (tmp_path / name).write_text(content)
    path = tmp_path / "bosun.toml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    return caught.value.problems


def marker_line(text: str, marker: str) -> int:
    found = [n for n, line in enumerate(text.splitlines(), 1) if re.search(rf"#{marker}\s*$", line)]
    assert len(found) == 1, f"marker #{marker} must mark exactly one line of the test plan"
    return found[0]


def assert_problems(text: str, problems: list[str], expected: list[tuple[str | None, str, str]]) -> None:
    """Each expected (marker, where, what) matches one problem, in order, and nothing else is reported."""
    wanted = []
    for marker, where, what in expected:
        place = "bosun.toml" if marker is None else f"bosun.toml:{marker_line(text, marker)}"
        wanted.append((f"{place}: {where}: ", what))
    assert len(problems) == len(wanted), "\n".join(problems)
    for problem, (prefix, what) in zip(problems, wanted):
        assert problem.startswith(prefix), f"{problem!r} should start with {prefix!r}"
        assert what in problem[len(prefix) :], f"{problem!r} should say {what!r}"


BAD_PLANS = [
    # -- unknown keys, each found in its own table ----------------------------------------------
    (
        "unknown top-level key",
        "stray = 1 #A\n" + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "top level", "unknown key 'stray'")],
    ),
    (
        "unknown top-level table",
        AGENT + units('id = "a"\nprompt = "x"') + "[extras] #A\nx = 1\n",
        [("A", "top level", "unknown key 'extras'")],
    ),
    (
        "unknown project key",
        '[project]\ngate = "true"\ngaet_timeout = "1m" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project", "unknown key 'gaet_timeout'")],
    ),
    (
        "unknown agent key, named where it is and not where another table uses it",
        '[project]\ngate = "true"\n[agents.ada]\nkind = "external"\ngate = "x" #A\n[agents.bob]\nkind = "external"\n'
        'gate = "y" #B\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada'", "unknown key 'gate'"), ("B", "agent 'bob'", "unknown key 'gate'")],
    ),
    (
        "unknown unit key in two units",
        AGENT + units('id = "a"\nprompt = "x"\ncolour = "red" #A', 'id = "b"\nprompt = "x"\ncolour = "blue" #B'),
        [("A", "unit 'a'", "unknown key 'colour'"), ("B", "unit 'b'", "unknown key 'colour'")],
    ),
    (
        "a derived field is never a key: differential comes from checks",
        '[project]\ngate = "true"\ndifferential = ["go vet ./..."] #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project", "unknown key 'differential'")],
    ),
    (
        "an agent's name is its table's, never a key",
        '[agents.ada]\nkind = "external"\nname = "bob" #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada'", "unknown key 'name'")],
    ),
    (
        "an unknown key inside a checks entry names the entry",
        '[project]\nchecks = ["ruff check .", { run = "tsc", differntial = true }] #A\n'
        + AGENT
        + units('id = "a"\nprompt = "x"'),
        [("A", "project.checks[1].differntial", "unknown key 'differntial' (known: differential, run)")],
    ),
    (
        "an unknown kind of semantic finding",
        '[project]\nsemantic = { removed_nam = "warn" } #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.semantic.removed_nam", "unknown kind of finding 'removed_nam'")],
    ),
    (
        "a whole number written as a string",
        '[project]\nmax_attempts = "3" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.max_attempts", "must be a whole number from 1 to 1000, not '3'")],
    ),
    (
        "true is not a number of agents",
        "[project]\nmax_agents = true #A\n" + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.max_agents", "not True")],
    ),
    (
        "autocommit must be true or false",
        '[agents.ada]\nkind = "command"\npreset = "aider"\nautocommit = "yes" #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', autocommit", "must be true or false, not 'yes'")],
    ),
    # -- ids and dependencies ---------------------------------------------------------------------
    (
        "missing id",
        AGENT + units('id = "a"\nprompt = "x"') + '[[units]] #A\nprompt = "y"\n',
        [("A", "units[1], id", "missing id")],
    ),
    ("id with a space", AGENT + units('id = "a b" #A\nprompt = "x"'), [("A", "unit 'a b', id", "ids use letters")]),
    (
        "ids git would refuse in a branch name",
        AGENT + units('id = "v1..next" #A\nprompt = "x"') + units('id = "x.lock" #B\nprompt = "x"'),
        [("A", "unit 'v1..next', id", "with no '..'"), ("B", "unit 'x.lock', id", "or '.lock'")],
    ),
    (
        "duplicate id names the second occurrence",
        AGENT + units('id = "a"\nprompt = "x"', 'id = "b"\nprompt = "x"', 'id = "a" #A\nprompt = "y"'),
        [("A", "unit 'a', id", "duplicate id 'a'")],
    ),
    (
        "dependency on an unknown unit",
        AGENT + units('id = "a"\nprompt = "x"', 'id = "b"\nprompt = "x"\ndepends_on = ["a", "ghost"] #A'),
        [("A", "unit 'b', depends_on", "unknown unit 'ghost'")],
    ),
    (
        "unit depends on itself",
        AGENT + units('id = "a"\nprompt = "x"\ndepends_on = ["a"] #A'),
        [("A", "unit 'a', depends_on", "cannot depend on itself")],
    ),
    (
        "two-unit cycle",
        AGENT + units('id = "a"\nprompt = "x"\ndepends_on = ["b"]', 'id = "b"\nprompt = "x"\ndepends_on = ["a"] #A'),
        [("A", "unit 'b', depends_on", "dependency cycle: a -> b -> a")],
    ),
    (
        "three-unit cycle, printed without the unit hanging off it",
        AGENT
        + units(
            'id = "a"\nprompt = "x"\ndepends_on = ["c"]',
            'id = "b"\nprompt = "x"\ndepends_on = ["a"] #A',
            'id = "c"\nprompt = "x"\ndepends_on = ["b"]',
            'id = "d"\nprompt = "x"\ndepends_on = ["a"]',
        ),
        [("A", "unit 'b', depends_on", "dependency cycle: a -> b -> c -> a")],
    ),
    (
        "depends_on not a list",
        AGENT + units('id = "a"\nprompt = "x"\ndepends_on = "b" #A'),
        [("A", "unit 'a', depends_on", "must be a list of unit ids")],
    ),
    (
        "missing prompt",
        AGENT + units('id = "a" #A\ntitle = "no prompt"'),
        [("A", "unit 'a', prompt", "missing prompt")],
    ),
    ("no units at all", AGENT, [(None, "units", "the plan has no units")]),
    ("units not an array", 'units = "a"\n' + AGENT, [(None, "units", "must be an array of [[units]] tables")]),
    # -- agents ------------------------------------------------------------------------------------
    (
        "unit names an unknown agent",
        AGENT + units('id = "a"\nprompt = "x"\nagent = "zed" #A'),
        [("A", "unit 'a', agent", "unknown agent 'zed' (agents: ada)")],
    ),
    (
        "agent without a kind",
        "[agents.ada] #A\nenv = []\n" + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', kind", "must be one of scripted, command, model, external, not None")],
    ),
    (
        "agent with an unknown kind",
        '[agents.ada]\nkind = "robot" #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', kind", "not 'robot'")],
    ),
    (
        "command agent with both preset and command",
        '[agents.ada]\nkind = "command"\npreset = "aider"\ncommand = ["my-agent"] #A\n'
        + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada'", "exactly one of preset or command")],
    ),
    (
        "command agent with neither preset nor command",
        '[agents.ada] #A\nkind = "command"\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada'", "exactly one of preset or command")],
    ),
    (
        "unknown preset",
        '[agents.ada]\nkind = "command"\npreset = "cursor" #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', preset", "unknown preset 'cursor' (known: claude-code")],
    ),
    (
        "unknown placeholder in command",
        '[agents.ada]\nkind = "command"\ncommand = ["run", "--task={task}"] #A\n' + units('id = "a"\nprompt = "x"'),
        [
            (
                "A",
                "agent 'ada', command",
                "unknown placeholder {task} (known: {task_file}, {prompt}, {unit}, {worktree}, {gate})",
            )
        ],
    ),
    (
        "empty command",
        '[agents.ada]\nkind = "command"\ncommand = [] #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', command", "must be a non-empty list of strings")],
    ),
    (
        "scripted agent whose script is missing",
        '[agents.ada]\nkind = "scripted"\nscript = "nope.toml" #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', script", "no such file: nope.toml")],
    ),
    (
        "scripted agent without a script",
        '[agents.ada] #A\nkind = "scripted"\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', script", "a scripted agent needs script")],
    ),
    (
        "model agent without base_url or model",
        '[agents.ada] #A\nkind = "model"\napi_key_env = "1KEY" #B\n' + units('id = "a"\nprompt = "x"'),
        [
            ("A", "agent 'ada', base_url", "a model agent needs it"),
            ("A", "agent 'ada', model", "a model agent needs it"),
            ("B", "agent 'ada', api_key_env", "must name an environment variable"),
        ],
    ),
    (
        "env with a bad variable name",
        '[agents.ada]\nkind = "external"\nenv = ["OK", "NOT-OK"] #A\n' + units('id = "a"\nprompt = "x"'),
        [("A", "agent 'ada', env", "must be a list of environment variable names")],
    ),
    # -- scopes ------------------------------------------------------------------------------------
    (
        "scope with ..",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["src/../../etc/passwd"] #A'),
        [("A", "unit 'a', scope", "'src/../../etc/passwd' escapes the repository")],
    ),
    (
        "scope that is only ..",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["src/x.py", ".."] #A'),
        [("A", "unit 'a', scope", "'..' escapes the repository")],
    ),
    (
        "absolute scope",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["/etc/passwd"] #A'),
        [("A", "unit 'a', scope", "'/etc/passwd' is not relative to the repository")],
    ),
    (
        "home-relative scope",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["~/notes.txt"] #A'),
        [("A", "unit 'a', scope", "'~/notes.txt' is not relative to the repository")],
    ),
    (
        "a prompt that is not text",
        AGENT + units('id = "a"\nprompt = 5 #A'),
        [("A", "unit 'a', prompt", "must be text saying what the agent should do, not 5")],
    ),
    (
        "copy and setup_key files outside the repository",
        '[project]\ncopy = ["/home/me/.env", "../other/.env"] #A\nsetup_key = ["./.git/config"] #B\n'
        + AGENT
        + units('id = "a"\nprompt = "x"'),
        [
            ("B", "project.setup_key", "'./.git/config' points into .git/"),
            ("A", "project.copy", "'/home/me/.env' is not relative to the repository"),
            ("A", "project.copy", "'../other/.env' escapes the repository"),
        ],
    ),
    (
        "scope into .git",
        AGENT + units('id = "a"\nprompt = "x"\nscope = [".git/hooks/pre-commit"] #A'),
        [("A", "unit 'a', scope", "'.git/hooks/pre-commit' points into .git/")],
    ),
    (
        "scope into .git through ./",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["./.git/config"] #A'),
        [("A", "unit 'a', scope", "'./.git/config' points into .git/")],
    ),
    (
        "scope into .bosun",
        AGENT + units('id = "a"\nprompt = "x"\nscope = [".bosun/state.db"] #A'),
        [("A", "unit 'a', scope", "'.bosun/state.db' points into .bosun/")],
    ),
    (
        "scope naming no path",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["./"] #A'),
        [("A", "unit 'a', scope", "names no path")],
    ),
    (
        "empty scope list",
        AGENT + units('id = "a"\nprompt = "x"\nscope = [] #A'),
        [("A", "unit 'a', scope", "must be a non-empty list")],
    ),
    (
        "scopes overlap with no dependency ordering them",
        AGENT
        + units(
            'id = "parser"\nprompt = "x"\nscope = ["src/calc/*.py"]',
            'id = "lexer"\nprompt = "x"\nscope = ["docs/lexer.md", "src/calc/lexer.py"]',
        ),
        [(None, "units 'parser' and 'lexer', scope", "'src/calc/*.py' and 'src/calc/lexer.py' overlap")],
    ),
    (
        "a folder overlaps a glob over the whole tree",
        AGENT + units('id = "a"\nprompt = "x"\nscope = ["src"]', 'id = "b"\nprompt = "x"\nscope = ["*.py"]'),
        [(None, "units 'a' and 'b', scope", "'src' and '*.py' overlap")],
    ),
    (
        "a file overlaps the folder holding it",
        AGENT
        + units('id = "a"\nprompt = "x"\nscope = ["src/calc/"]', 'id = "b"\nprompt = "x"\nscope = ["src/calc/x.py"]'),
        [(None, "units 'a' and 'b', scope", "'src/calc' and 'src/calc/x.py' overlap")],
    ),
    # -- durations ---------------------------------------------------------------------------------
    (
        "duration with an unknown unit",
        AGENT + units('id = "a"\nprompt = "x"\ntimeout = "10x" #A'),
        [("A", "unit 'a', timeout", "bad duration '10x'")],
    ),
    (
        "negative duration",
        AGENT + units('id = "a"\nprompt = "x"\ntimeout = -1 #A'),
        [("A", "unit 'a', timeout", "bad duration -1")],
    ),
    (
        "zero duration",
        AGENT + units('id = "a"\nprompt = "x"\ntimeout = "0s" #A'),
        [("A", "unit 'a', timeout", "bad duration '0s'")],
    ),
    (
        "empty duration",
        AGENT + units('id = "a"\nprompt = "x"\ntimeout = "" #A'),
        [("A", "unit 'a', timeout", "bad duration ''")],
    ),
    (
        "boolean duration",
        AGENT + units('id = "a"\nprompt = "x"\ntimeout = true #A'),
        [("A", "unit 'a', timeout", "bad duration True")],
    ),
    (
        "nan duration",
        AGENT + units('id = "a"\nprompt = "x"\ntimeout = nan #A'),
        [("A", "unit 'a', timeout", "bad duration nan")],
    ),
    (
        "infinite duration",
        "[project]\ngate_timeout = inf #A\n" + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.gate_timeout", "bad duration inf")],
    ),
    (
        "bad gate_timeout",
        '[project]\ngate = "true"\ngate_timeout = "soon" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.gate_timeout", "bad duration 'soon'")],
    ),
    # -- [project] values --------------------------------------------------------------------------
    (
        "bad merge",
        '[project]\nmerge = "sometimes" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.merge", "must be one of manual, auto, not 'sometimes'")],
    ),
    (
        "bad mode",
        '[project]\nmode = "grab" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.mode", "must be one of assign, claim, not 'grab'")],
    ),
    (
        "bad handback",
        '[project]\nhandback = "never" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.handback", "must be one of auto, manual, not 'never'")],
    ),
    (
        "enum of the wrong type",
        "[project]\nmerge = true #A\n" + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.merge", "not True")],
    ),
    (
        "max_agents zero",
        "[project]\nmax_agents = 0 #A\n" + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.max_agents", "from 1 to 1000, not 0")],
    ),
    (
        "bad branch name",
        '[project]\nbase = "main..x" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.base", "'main..x' is not a valid branch name")],
    ),
    (
        "integration equal to base",
        '[project]\nbase = "dev"\nintegration = "dev" #A\n' + AGENT + units('id = "a"\nprompt = "x"'),
        [("A", "project.integration", "must differ from the base branch")],
    ),
    # -- not TOML at all ---------------------------------------------------------------------------
    ("invalid TOML", "[project]\nbase = #A\n", [("A", "invalid TOML", "Invalid value")]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in BAD_PLANS], ids=[c[0] for c in BAD_PLANS])
def test_bad_plan_names_each_problem_and_its_place(tmp_path: Path, text: str, expected: list) -> None:
    assert_problems(text, problems_of(write(tmp_path, text)), expected)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        '[project]\nmerge = "sometimes" #A\ncolour = 1 #B\n'
        '[agents.ada]\nkind = "command"\npreset = "cursor" #C\n'
        + units(
            'id = "a"\nprompt = "x"\ntimeout = "10x" #D\nscope = ["/abs"] #E',
            'id = "b"\nprompt = "x"\nagent = "zed" #F\ndepends_on = ["ghost"] #G',
            'id = "a" #H\nprompt = "again"',
        )
    )
    problems = problems_of(write(tmp_path, text))
    assert_problems(
        text,
        problems,
        [
            ("B", "project", "unknown key 'colour'"),
            ("A", "project.merge", "must be one of manual, auto"),
            ("C", "agent 'ada', preset", "unknown preset 'cursor'"),
            ("E", "unit 'a', scope", "'/abs' is not relative"),
            ("D", "unit 'a', timeout", "bad duration '10x'"),
            ("F", "unit 'b', agent", "unknown agent 'zed'"),
            ("H", "unit 'a', id", "duplicate id 'a'"),
            ("G", "unit 'b', depends_on", "unknown unit 'ghost'"),
        ],
    )


def test_bosun_validate_prints_the_same_problems_and_exits_2(tmp_path: Path) -> None:
    text = AGENT + units('id = "a"\nprompt = "x"\nagent = "zed"', 'id = "b"\nprompt = "x"\ntimeout = "soon"')
    path = write(tmp_path, text)
    result = bosun("validate", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == problems_of(path)
    assert len(result.stderr.splitlines()) == 2


def test_validate_reads_a_missing_plan_as_one_problem(tmp_path: Path) -> None:
    assert problems_of(tmp_path / "nope.toml") == [
        f"{tmp_path / 'nope.toml'}: no such plan file (bosun init writes an example)"
    ]


def test_a_folder_is_not_a_plan(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{tmp_path}: cannot read the plan")


# -- valid plans ------------------------------------------------------------------------------


VALID_SCOPES = [
    ("scopes ordered by a dependency", [("a", ["src/calc/*.py"], []), ("b", ["src/calc/parser.py"], ["a"])]),
    (
        "scopes ordered through a chain of dependencies",
        [("a", ["src/*"], []), ("m", ["docs/m.md"], ["a"]), ("b", ["src/b.py"], ["m"])],
    ),
    ("globs in sibling folders", [("a", ["src/a/*.py"], []), ("b", ["src/b/*.py"], [])]),
    ("globs for different extensions", [("a", ["*.py"], []), ("b", ["*.txt"], [])]),
    ("a file and a glob for another extension", [("a", ["src/calc/parser.py"], []), ("b", ["*.md"], [])]),
    ("a folder and a glob under another folder", [("a", ["tests"], []), ("b", ["src/*"], [])]),
    ("a folder and a longer name beside it", [("a", ["src/calc"], []), ("b", ["src/calculator.py"], [])]),
    ("a unit without scope next to scoped ones", [("a", ["src/a.py"], []), ("b", None, [])]),
]


@pytest.mark.parametrize("spec", [c[1] for c in VALID_SCOPES], ids=[c[0] for c in VALID_SCOPES])
def test_scopes_that_cannot_collide_are_valid(tmp_path: Path, spec: list) -> None:
    bodies = []
    for unit_id, scope, deps in spec:
        body = f'id = "{unit_id}"\nprompt = "x"\ndepends_on = {deps!r}'.replace("'", '"')
        if scope is not None:
            body += "\nscope = " + repr(scope).replace("'", '"')
        bodies.append(body)
    plan = load_plan(write(tmp_path, AGENT + units(*bodies)))
    assert [u.id for u in plan.units.values()] == [s[0] for s in spec]
    assert [u.scope for u in plan.units.values()] == [tuple(s[1]) if s[1] else None for s in spec]


def test_good_plan_becomes_typed_objects(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        [project]
        base = "trunk"
        integration = "team/green"
        gate = "make test"
        gate_timeout = "1h30m"
        gate_env = ["CI"]
        max_agents = 5
        merge = "auto"
        mode = "claim"
        handback = "manual"
        max_attempts = 2

        [agents.ada]
        kind = "command"
        preset = "claude-code"
        env = ["ANTHROPIC_API_KEY"]

        [agents.own]
        kind = "command"
        command = ["my-agent", "--task-file", "{task_file}", "--in", "{worktree}"]

        [agents.bob]
        kind = "model"
        base_url = "http://127.0.0.1:11434/v1"
        model = "qwen2.5-coder"
        api_key_env = "OPENAI_API_KEY"

        [agents.sam]
        kind = "scripted"
        script = "team.toml"

        [agents.ext]
        kind = "external"

        [[units]]
        id = "parser"
        title = "Tokenizer and parser"
        prompt = "Implement the parser"
        scope = ["./src/calc/parser.py", "tests/"]
        agent = "ada"
        timeout = "20m"

        [[units]]
        id = "evaluator"
        prompt = "Evaluate"
        depends_on = ["parser"]
        timeout = 90
        """)
    plan = load_plan(write(tmp_path, text, {"team.toml": ""}))
    assert plan.path == tmp_path / "bosun.toml" and plan.root == tmp_path
    assert plan.project == ProjectSpec(
        base="trunk",
        integration="team/green",
        gate="make test",
        gate_timeout=5400.0,
        gate_env=("CI",),
        max_agents=5,
        merge="auto",
        mode="claim",
        handback="manual",
        max_attempts=2,
    )
    assert list(plan.agents) == ["ada", "own", "bob", "sam", "ext"]
    assert plan.agents["ada"] == AgentSpec(
        name="ada",
        kind="command",
        command=PRESETS["claude-code"].command,
        preset="claude-code",
        env=("ANTHROPIC_API_KEY",),
        autocommit=True,
    )
    assert plan.agents["own"] == AgentSpec(
        name="own", kind="command", command=("my-agent", "--task-file", "{task_file}", "--in", "{worktree}")
    )
    assert plan.agents["bob"] == AgentSpec(
        name="bob",
        kind="model",
        base_url="http://127.0.0.1:11434/v1",
        model="qwen2.5-coder",
        api_key_env="OPENAI_API_KEY",
    )
    assert plan.agents["sam"] == AgentSpec(name="sam", kind="scripted", script="team.toml")
    assert plan.agents["ext"] == AgentSpec(name="ext", kind="external")
    assert list(plan.units) == ["parser", "evaluator"]
    assert plan.units["parser"] == UnitSpec(
        id="parser",
        prompt="Implement the parser",
        title="Tokenizer and parser",
        scope=("src/calc/parser.py", "tests"),
        agent="ada",
        timeout=1200.0,
    )
    assert plan.units["evaluator"] == UnitSpec(
        id="evaluator", prompt="Evaluate", title="evaluator", depends_on=("parser",), timeout=90.0
    )


def test_minimal_plan_gets_the_documented_defaults(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, units('id = "only"\nprompt = "do it"')))
    assert plan.project == ProjectSpec()
    assert (
        plan.project.base,
        plan.project.integration,
        plan.project.merge,
        plan.project.mode,
        plan.project.handback,
        plan.project.max_attempts,
    ) == ("main", "bosun/integration", "manual", "assign", "auto", 3)
    assert plan.agents == {}
    assert plan.units == {"only": UnitSpec(id="only", prompt="do it", title="only", timeout=1800.0)}


def test_checks_keep_their_order_and_differential_ones_are_set_apart(tmp_path: Path) -> None:
    text = '[project]\nchecks = ["ruff check .", { run = "tsc --noEmit", differential = true }, { run = "mypy" }]\n'
    project = load_plan(write(tmp_path, text + units('id = "a"\nprompt = "x"'))).project
    assert (project.checks, project.differential) == (("ruff check .", "mypy"), ("tsc --noEmit",))
    assert project.semantic.differential == ("tsc --noEmit",) and project.semantic.gate_timeout == 600.0
    assert ProjectSpec(checks=["x"]).checks == ("x",) and ProjectSpec().differential == ()


def test_a_unit_with_problems_still_takes_part_in_the_checks_across_units(tmp_path: Path) -> None:
    text = AGENT + units('id = "a"\nprompt = "x"\ntimeout = "soon"\ndepends_on = ["ghost"]', 'id = "b"\nprompt = ""')
    problems = problems_of(write(tmp_path, text))
    assert [p.split(": ", 2)[1:] for p in problems] == [
        ["unit 'a', timeout", 'bad duration \'soon\' (use e.g. 90, "30s", "10m", "1h30m")'],
        ["unit 'b', prompt", "missing prompt (what the agent should do)"],
        ["unit 'a', depends_on", "unknown unit 'ghost'"],
    ]


def test_preset_autocommit_can_be_turned_off(tmp_path: Path) -> None:
    text = '[agents.ada]\nkind = "command"\npreset = "aider"\nautocommit = false\n' + units('id = "a"\nprompt = "x"')
    assert load_plan(write(tmp_path, text)).agents["ada"].autocommit is False


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, seconds",
    [
        (90, 90.0),
        (1.5, 1.5),
        ("90", 90.0),
        ("30s", 30.0),
        ("10m", 600.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("250ms", 0.25),
        ("1m30s", 90.0),
        (" 2m ", 120.0),
        ("1.5h", 5400.0),
    ],
)
def test_parse_duration_accepts(value, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value",
    ["10x", -1, 0, "", "  ", True, False, "0s", "-5m", "m", "10 m", "1.5", "10m junk", None, [10], math.nan, math.inf],
)
def test_parse_duration_rejects(value) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


# -- scope rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, entry, expected",
    [
        ("src/a.py", "src/a.py", True),
        ("src/a.py", "src", True),  # a folder covers what is below it
        ("src/a.py", "src/", True),
        ("src/a.py", "./src", True),
        ("src/calc/deep/a.py", "src", True),
        ("src/ab.py", "src/a", False),  # a prefix of a name is not its folder
        ("srcx/a.py", "src", False),
        ("src/x/y.py", "src/*", True),  # `*` matches across folders
        ("src/x.py", "src/*.py", True),
        ("src/x/y.py", "src/*.py", True),
        ("src/x.txt", "src/*.py", False),
        ("lib/src/x.py", "src/*", False),
        ("src/a1.py", "src/a?.py", True),
        ("src/a12.py", "src/a?.py", False),
        ("src/b.py", "src/[ab].py", True),
        ("src/c.py", "src/[ab].py", False),
        ("src/a.py", "src/[ab]", False),  # a glob never covers a folder's contents by itself
    ],
)
def test_matches(path: str, entry: str, expected: bool) -> None:
    assert matches(path, entry) is expected


def test_in_scope() -> None:
    assert in_scope("anything/at/all.py", None) is True
    scope = ("src/calc/parser.py", "tests/*")
    assert in_scope("src/calc/parser.py", scope) is True
    assert in_scope("tests/unit/test_parser.py", scope) is True
    assert in_scope("src/calc/evaluator.py", scope) is False
    assert in_scope("README.md", scope) is False


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("src/a.py", "src/a.py", True),
        ("src/a.py", "src/b.py", False),
        ("src", "src/a.py", True),
        ("src/a", "src/ab.py", False),
        ("src/", "./src", True),
        ("src/*", "src/a.py", True),
        ("src/*.py", "src/a/b.py", True),
        ("src/*.py", "src/a.txt", False),
        ("src/*", "src/*.py", True),
        ("src/a/*.py", "src/b/*.py", False),
        ("*.py", "*.txt", False),
        ("*.py", "src/*.py", True),
        ("src/*/a.py", "src/*/b.py", False),
        ("src/a*", "src/b*", False),
        ("tests/*", "src/*", False),
        ("src", "*.py", True),  # src/x.py is both
        ("docs", "*/tests/*.py", True),  # docs/tests/a.py is both
        ("src", "s?c/x.py", True),  # src/x.py is both
        ("tests", "src/*", False),
        ("src/calc/parser.py", "*.md", False),  # a file has nothing below it
        ("src/calc/parser.py", "*.py", True),
    ],
)
def test_entries_overlap_both_ways(a: str, b: str, expected: bool) -> None:
    assert entries_overlap(a, b) is expected
    assert entries_overlap(b, a) is expected


def test_scopes_overlap_names_the_first_colliding_pair() -> None:
    assert scopes_overlap(("docs/a.md", "src/a.py"), ("src/b.py", "src/*.py")) == ("src/a.py", "src/*.py")
    assert scopes_overlap(("docs/a.md",), ("src/*.py", "tests/*")) is None


@pytest.mark.parametrize(
    "entry, problem",
    [
        ("src/a.py", None),
        ("src/*.py", None),
        ("./src/a.py", None),
        ("src/.gitignore", None),
        (".github/workflows/ci.yml", None),
        ("..", "escapes the repository"),
        ("../other/x.py", "escapes the repository"),
        ("src/../../x.py", "escapes the repository"),
        ("/etc/passwd", "is not relative to the repository"),
        ("~/x", "is not relative to the repository"),
        ("C:/x", "is not relative to the repository"),
        ("src\\a.py", "is not relative to the repository"),
        (".git", "points into .git/"),
        (".git/config", "points into .git/"),
        ("./.git/hooks/pre-commit", "points into .git/"),
        (".bosun/state.db", "points into .bosun/"),
        (".", "names no path"),
        ("", "must be a non-empty string"),
        (" ", "must be a non-empty string"),
        (3, "must be a non-empty string"),
    ],
)
def test_scope_problem(entry, problem: str | None) -> None:
    found = scope_problem(entry)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
