"""The gate's pipeline of checks, end to end: a clean merge that breaks meaning stops at
semantic_conflict with the symbols named, is handed back with exactly what clashed, and merges
once fixed; a warning holds even an automatic merge; the plan's extra checks gate too."""

from __future__ import annotations

import json

from conftest import AWAIT_GO, bosun, first_parent_merges, git, run_after, write_unit

from bosun.orchestration.agents.attempt import task_paths
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session

OPS = "def add(a, b):\n    return a + b\n"
CONF = "LIMIT = 10\n"


def _units(second: str = "use") -> list[dict]:
    return [{"id": "widen", "scope": ["src/calc/ops.py"]}, {"id": second, "scope": [f"src/calc/{second}.py"]}]


def _session(repo):
    return open_session(GitRepo(repo))


def test_a_clean_merge_that_breaks_a_call_is_a_semantic_conflict_until_fixed(project):
    script = {
        "widen": [write_unit("src/calc/ops.py", "def add(a, b, c):\n    return a + b + c\n")],
        "use": [
            [AWAIT_GO] + write_unit("src/calc/use.py", "from calc.ops import add\n\nTOTAL = add(1, 2)\n"),
            write_unit("src/calc/use.py", "from calc.ops import add\n\nTOTAL = add(1, 2, 3)\n"),
        ],
    }
    files = {"src/calc/__init__.py": "", "src/calc/ops.py": OPS}
    repo = project(_units(), script, extra_files=files, handback="manual")
    code, events = run_after(repo, ("merged", "widen"), "use")
    assert code == 1
    clash = next(e for e in events if e["kind"] == "semantic_conflict")
    assert clash["unit"] == "use" and clash["findings"] == 1
    assert first_parent_merges(repo) == ["widen"], "the broken merge never reached the integration branch"

    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    use = next(u for u in status["units"] if u["id"] == "use")
    assert use["state"] == "semantic_conflict"
    checks = {c["check"]: c for c in use["gate"]["checks"]}
    assert checks["merge"]["passed"] and not checks["semantic"]["passed"] and "tests" not in checks
    finding = checks["semantic"]["findings"][0]
    assert finding["kind"] == "signature_mismatch" and "add" in finding["symbol"]
    assert finding["path"] == "src/calc/use.py" and finding["line"] == 3

    assert bosun("handback", "use", cwd=repo).returncode == 0  # queued; the resumed session applies it
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert first_parent_merges(repo) == ["widen", "use"]
    session = _session(repo)
    task = json.loads(task_paths(session.tasks_dir, "use")[0].read_text())
    session.close()
    handback = task["handback"]
    assert handback["reason"] == "semantic_conflict", "the agent was told what clashed"
    assert handback["findings"][0]["symbol"] == finding["symbol"] and "src/calc/use.py:3" in handback["output_tail"]


def test_a_contract_warning_holds_an_automatic_merge_for_a_human(project):
    script = {
        "widen": [write_unit("src/calc/conf.py", "LIMIT = 20\n")],
        "page": [
            [AWAIT_GO]
            + write_unit("src/calc/page.py", "from calc.conf import LIMIT\n\n\ndef pages(n):\n    return n // LIMIT\n")
        ],
    }
    units = [{"id": "widen", "scope": ["src/calc/conf.py"]}, {"id": "page", "scope": ["src/calc/page.py"]}]
    files = {"src/calc/__init__.py": "", "src/calc/conf.py": CONF}
    repo = project(units, script, extra_files=files, merge="auto")
    code, events = run_after(repo, ("merged", "widen"), "page")
    assert code == 1
    waiting = [e for e in events if e["kind"] == "awaiting_approval"]
    assert waiting and waiting[-1]["unit"] == "page" and waiting[-1]["warnings"] == 1
    assert first_parent_merges(repo) == ["widen"]
    assert bosun("approve", "page", cwd=repo).returncode == 0
    assert bosun("resume", "--headless", cwd=repo).returncode == 0
    assert first_parent_merges(repo) == ["widen", "page"]


def test_semantic_checks_can_be_turned_off_and_extra_checks_gate(project):
    script = {
        "widen": [write_unit("src/calc/ops.py", "def add(a, b, c):\n    return a + b + c\n")],
        "use": [[AWAIT_GO] + write_unit("src/calc/use.py", "from calc.ops import add\n\nTOTAL = add(1, 2)  # TODO\n")],
    }
    files = {
        "src/calc/__init__.py": "",
        "src/calc/ops.py": OPS,
        "no_todo.py": "import pathlib, sys\nbad = [p for p in pathlib.Path('src').rglob('*.py') "
        "if 'TODO' in p.read_text()]\nprint('TODO in', bad)\nsys.exit(1 if bad else 0)\n",
    }
    repo = project(_units(), script, extra_files=files, handback="manual", semantic="off", checks=["python no_todo.py"])
    code, events = run_after(repo, ("merged", "widen"), "use")
    assert code == 1
    failed = next(e for e in events if e["kind"] == "gate_failed")
    assert failed["unit"] == "use" and "check `python no_todo.py` failed" in failed["gate"]["cause"]
    names = [c["check"] for c in failed["gate"]["checks"]]
    assert names == ["merge", "semantic", "tests", "python no_todo.py"]
    session = _session(repo)
    run = session.store.gate_runs("use")[-1]
    session.close()
    assert "TODO in" in run.output_tail and run.checks[1]["passed"] and not run.checks[1]["findings"]


def test_the_plan_says_what_is_wrong_with_checks_and_semantic(tmp_path):
    plan = tmp_path / "bosun.toml"
    plan.write_text(
        '[project]\nchecks = "ruff"\nsemantic = { signature_mismatch = "loud", nope = "off" }\n'
        '[agents.a]\nkind = "external"\n[[units]]\nid = "x"\nprompt = "p"\n'
    )
    result = bosun("validate", str(plan), cwd=tmp_path)
    assert result.returncode == 2
    assert "project.checks: must be a list of commands" in result.stderr
    assert 'project.semantic.signature_mismatch: must be "block", "warn" or "off", not \'loud\'' in result.stderr
    assert "project.semantic.nope: unknown kind of finding" in result.stderr


def test_a_clash_handed_back_and_not_fixed_is_still_a_clash(project):
    call = "from calc.ops import add\n\nTOTAL = add(1, 2)\n"
    script = {
        "widen": [write_unit("src/calc/ops.py", "def add(a, b, c):\n    return a + b + c\n")],
        "use": [
            [AWAIT_GO] + write_unit("src/calc/use.py", call),
            write_unit("src/calc/use.py", call + "# looked at it\n"),
        ],
    }
    files = {"src/calc/__init__.py": "", "src/calc/ops.py": OPS}
    repo = project(_units(), script, extra_files=files, handback="auto", max_attempts=2)
    code, events = run_after(repo, ("merged", "widen"), "use")
    assert code == 1
    clashes = [e for e in events if e["kind"] == "semantic_conflict"]
    assert len(clashes) == 2, "the second attempt merged the head in, changed nothing that matters, and still clashes"
    assert first_parent_merges(repo) == ["widen"]


SLOW_GATE = """\
import os, pathlib, sys, time
if pathlib.Path("src/calc/use.py").exists():  # only the candidate that clashes
    pathlib.Path(sys.argv[1], "gate-started").write_text(str(os.getpid()))
    time.sleep(600)
    pathlib.Path(sys.argv[1], "gate-finished").write_text("")
sys.exit(0)
"""


def test_the_tests_run_beside_the_semantic_checks_and_stop_when_those_block(project, tmp_path):
    script = {
        "widen": [write_unit("src/calc/ops.py", "def add(a, b, c):\n    return a + b + c\n")],
        "use": [[AWAIT_GO] + write_unit("src/calc/use.py", "from calc.ops import add\n\nTOTAL = add(1, 2)\n")],
    }
    marks = tmp_path / "marks"
    marks.mkdir()
    files = {"src/calc/__init__.py": "", "src/calc/ops.py": OPS, "slow_gate.py": SLOW_GATE}
    # The semantic checks include a differential check that waits until the gate's tests have
    # started: the semantic verdict cannot come before them, however loaded the machine.
    started = marks / "gate-started"
    wait = f"sh -c 'while [ ! -e {started} ]; do sleep 0.05; done'"
    repo = project(
        _units(),
        script,
        extra_files=files,
        handback="manual",
        gate=f"python slow_gate.py {marks}",
        gate_timeout="900s",
        sandbox="off",
    )
    plan = (repo / "bosun.toml").read_text()
    check = f"checks = [{{ run = {json.dumps(wait)}, differential = true }}]\n"
    (repo / "bosun.toml").write_text(plan.replace("[project]\n", "[project]\n" + check, 1))
    git(repo, "commit", "-qam", "a differential check that waits for the tests")
    code, events = run_after(repo, ("merged", "widen"), "use")  # finish() waits 60 s, not the gate's 600
    assert code == 1 and any(e["kind"] == "semantic_conflict" and e["unit"] == "use" for e in events)
    assert started.exists(), "the tests of the clashing candidate had started with the checks"
    assert not (marks / "gate-finished").exists(), "and were stopped when the semantic checks blocked"
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    checks = {c["check"] for c in next(u for u in status["units"] if u["id"] == "use")["gate"]["checks"]}
    assert checks == {"merge", "semantic"}, "the stopped tests are no verdict"
