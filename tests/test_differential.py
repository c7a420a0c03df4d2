"""Differential checking with real analysers: the corpus cases of tests/semantic_corpus/python,
typescript and go, each merged with real git and judged by the gate's whole semantic verdict
(the `ast` checks, the Python syntax check and pyrefly / tsc / go vet run on the base, both sides
and the merge); then the parts on their own: diagnostic formats, matching across trees, the
syntax check, a plan's differential command, a missing tool, and the plan's validation.

A case whose tool is not installed skips and says which tool (CI installs them all: .ci/run)."""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from conftest import tool_missing

from bosun.orchestration.errors import PlanError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.checks import semantic_verdict
from bosun.orchestration.plan import parse_plan
from bosun.orchestration.semantic.diagnostics import Diagnostic, new_in_merge, parse
from bosun.orchestration.semantic.differential import CACHE, Analyser, Cache, differential
from bosun.orchestration.semantic.differential import materialise as tree_materialise
from bosun.orchestration.semantic.findings import ALL_SEVERITY, SemanticSettings
from bosun.orchestration.semantic.pytypes import find_program
from bosun.orchestration.semantic.syntax import syntax_findings
from bosun.orchestration.semantic.tscheck import batch_command, split
from tests.semantic_corpus.corpus import LANGUAGES, git, load_cases, materialise, merge_tree

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "node_modules" / ".bin"  # where .ci/run installs TypeScript


@pytest.fixture(autouse=True)
def tools_on_path(monkeypatch):
    if TOOLS.is_dir():
        monkeypatch.setenv("PATH", f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}")


def tool_for(language: str) -> str | None:
    """Why a language's cases cannot run here, or None."""
    path = f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"
    program = {"python": "pyrefly", "typescript": "tsc", "go": "go"}[language]
    found = find_program(program) if language == "python" else shutil.which(program, path=path)
    return None if found else f"{program} is not installed (CI installs it: .ci/run)"


def verdict_for(repo: Path, merged: str, severity: dict | None = None, analysers=None) -> dict:
    return semantic_verdict(
        GitRepo(repo), "ours", "theirs", merged, severity or SemanticSettings(ALL_SEVERITY), analysers=analysers
    )


CASES = [(language, case) for language in LANGUAGES for case in load_cases(language)]


def test_the_corpus_has_enough_cases_of_each_language() -> None:
    for language in LANGUAGES:
        cases = load_cases(language)
        broken = [c for c in cases if c.broken]
        assert len(broken) >= 9 and len(cases) - len(broken) >= 4, language
    assert len(load_cases("typescript")) >= 10 and len(load_cases("go")) >= 10
    python = load_cases("python")
    assert sum(c.name.startswith("type_") for c in python) >= 8
    assert sum(c.name.startswith("string_") for c in python) >= 4


@pytest.mark.parametrize("language,case", [pytest.param(lang, c, id=f"{lang}/{c.name}") for lang, c in CASES])
def test_corpus_case_on_real_tools(language: str, case, tmp_path: Path) -> None:
    missing = tool_for(language)
    if missing:
        tool_missing(missing)
    repo = tmp_path / "repo"
    materialise(case, repo)
    code, merged = merge_tree(repo)
    assert code == 0, f"{case.name}: the branches conflict textually"
    verdict = verdict_for(repo, merged)
    kinds = {f["kind"] for f in verdict["findings"]}
    reports = verdict.get("analysers", [])
    assert not any(r.get("skipped") or r.get("failed") for r in reports), reports
    if case.broken:
        assert kinds & case.expect, f"missed: {case.why}; found {verdict['findings']}"
        assert verdict["blocking"]
        for finding in verdict["findings"]:
            assert finding["path"] and finding["line"] >= 1 and finding["symbol"] in finding["message"]
            if finding["kind"] in ("type_error", "new_diagnostic"):
                assert "new in the merge" in finding["message"] and finding["ours"] and finding["theirs"]
    else:
        assert not verdict["findings"], [f["message"] for f in verdict["findings"]]
        assert verdict["passed"] and not verdict["blocking"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in load_cases() if not c.broken])
def test_the_ast_corpus_benign_cases_stay_quiet_with_the_type_checker(case, tmp_path: Path) -> None:
    """The benign cases written for the `ast` checks, judged with pyrefly beside them."""
    missing = tool_for("python")
    if missing:
        tool_missing(missing)
    repo = tmp_path / "repo"
    materialise(case, repo)
    code, merged = merge_tree(repo)
    verdict = verdict_for(repo, merged)
    assert [r["analyser"] for r in verdict["analysers"]] == ["pyrefly"]
    assert not verdict["findings"], [f["message"] for f in verdict["findings"]]


def test_one_node_process_reports_each_tree_as_tsc_does(tmp_path: Path) -> None:
    """The default TypeScript check runs every tree in one process (tscheck.py), kept to serve later
    merges: for the merged trees of the broken cases and a tree tsc cannot even configure, it
    prints what tsc prints, through the kept process or without it."""
    missing = tool_for("typescript")
    if missing:
        tool_missing(missing)
    tsc = shutil.which("tsc", path=f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}")
    batch = batch_command(tsc)
    assert batch, "tsc's own compiler library and node are found"
    folders = []
    for case in [c for c in load_cases("typescript") if c.broken][:4]:
        repo = tmp_path / case.name
        materialise(case, repo)
        code, merged = merge_tree(repo)
        tree_materialise(repo, merged, tmp_path / "trees" / case.name)
        folders.append(case.name)
    (tmp_path / "trees" / "bad-config").mkdir()
    (tmp_path / "trees" / "bad-config" / "tsconfig.json").write_text('{"compilerOptions": {"strict": "very"}}')
    folders.append("bad-config")
    run = subprocess.run(
        f"{batch} {' '.join(folders)}", shell=True, cwd=tmp_path / "trees", capture_output=True, text=True, check=False
    )
    parts = split(run.stdout, folders, run.returncode)
    alone_process = subprocess.run(
        f"{batch} {' '.join(folders)}",
        shell=True,
        cwd=tmp_path / "trees",
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BOSUN_TSCHECK_SERVER": "0"},
    )
    assert split(alone_process.stdout, folders, alone_process.returncode) == parts, "served or not, the same"
    for name in folders:
        folder = tmp_path / "trees" / name
        alone = subprocess.run(
            [tsc, "--noEmit", "--pretty", "false", "--skipLibCheck", "-p", "."],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        assert parts[name][0] != 0 and alone.returncode != 0, name
        assert parse(parts[name][1], str(folder)) == parse(alone.stdout, str(folder)), name
        assert "error TS" in parts[name][1], name


# --- diagnostics and matching ------------------------------------------------------------------


def test_the_common_formats_are_parsed() -> None:
    root = "/tmp/x/merged"
    out = textwrap.dedent("""\
        src/a.ts(3,7): error TS2345: Argument of type 'string' is not assignable to parameter of type 'number'.
        # example.com/app/pay
        vet: pay/pay.go:3:11: c.Total undefined (type *cart.Cart has no field or method Total)
        ./hello/hello.go:9:9: fmt.Sprintf format %s has arg who.Name() of wrong type int
        /tmp/x/merged/pkg/b.py:4:3: error: Argument 1 to "f" has incompatible type "str"; expected "int"  [arg-type]
        pkg/b.py:4:3: note: see the docs
        pkg/b.py:1:25: error[missing-module-member] Module `pkg.a` has no member `h`
        ERROR pkg/b.py:6:1-10: Object of class `dict` has no attribute `missing` [missing-attribute]
          /tmp/x/merged/pkg/c.py:5:22 - error: "upper" is not a known attribute of "None" (reportOptionalMemberAccess)
        src/main.rs:3:5: error[E0425]: cannot find value `x` in this scope
        Found 2 errors in 1 file
        """)
    found = parse(out, root)
    assert [(d.path, d.line, d.rule) for d in found] == [
        ("src/a.ts", 3, "TS2345"),
        ("pay/pay.go", 3, ""),
        ("hello/hello.go", 9, ""),
        ("pkg/b.py", 4, "arg-type"),
        ("pkg/b.py", 1, "missing-module-member"),
        ("pkg/b.py", 6, "missing-attribute"),
        ("pkg/c.py", 5, "reportOptionalMemberAccess"),
        ("src/main.rs", 3, "E0425"),
    ]
    assert found[3].message == 'Argument 1 to "f" has incompatible type "str"; expected "int"'


def d(path: str, line: int, message: str, rule: str = "E1") -> Diagnostic:
    return Diagnostic(path, line, 1, rule, message)


def test_matching_survives_moved_lines_and_counts_copies() -> None:
    old = [d("a.py", 10, "x is undefined"), d("b.py", 3, "see a.py:10:2 for x")]
    moved = [d("a.py", 14, "x is undefined"), d("b.py", 5, "see a.py:14:2 for x")]
    assert new_in_merge(old, old, old, moved) == []
    twice = moved + [d("a.py", 30, "x is undefined")]
    assert [x.line for x in new_in_merge(old, moved, old, twice)] == [30]
    assert new_in_merge([], twice, [], twice) == [], "what one side already has is not the merge's doing"
    assert [x.rule for x in new_in_merge(old, old, old, old + [d("a.py", 10, "x is undefined", "E2")])] == ["E2"]


def test_a_merge_that_no_longer_parses_is_a_finding() -> None:
    base = {"a.py": "def f(x):\n    return x\n"}
    ours = {"a.py": "def f(x):\n    if x:\n        return x\n    return 0\n"}
    merged = {"a.py": "def f(x):\n    if x:\n    return 0\n"}
    [finding] = syntax_findings(base, ours, base, merged)
    assert (finding.kind, finding.path, finding.line) == ("syntax_error", "a.py", 3)
    assert syntax_findings(base, merged, base, merged) == [], "a side that already does not parse is not the merge"


# --- the verdict, end to end on inline repositories ----------------------------------------------


def repo_with(tmp_path: Path, base: dict, ours: dict, theirs: dict) -> tuple[Path, str]:
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "base")

    def commit(files: dict, message: str) -> None:
        for path, text in files.items():
            target = repo / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "--allow-empty", "-m", message)

    commit(base, "base")
    for side, files in (("ours", ours), ("theirs", theirs)):
        git(repo, "checkout", "-q", "-b", side, "base")
        commit(files, side)
    code, merged = merge_tree(repo)
    assert code == 0
    return repo, merged


LINT = textwrap.dedent("""\
    import pathlib, sys
    for p in sorted(pathlib.Path('.').rglob('*.txt')):
        for n, line in enumerate(p.read_text().splitlines(), 1):
            if 'TODO' in line:
                print(f"{p}:{n}:1: error: TODO left [todo]")
    """)


def test_a_plan_differential_command_blames_only_what_the_merge_adds(tmp_path: Path) -> None:
    base = {"lint.py": LINT, "old.txt": "TODO from long ago\n", "a.txt": "one\n"}
    repo, merged = repo_with(tmp_path, base, {"a.txt": "one\nTODO ours\n"}, {"b.txt": "TODO theirs\n"})
    analyser = Analyser(name="lint", command=f"{sys.executable} lint.py")
    verdict = verdict_for(repo, merged, analysers=[analyser])
    assert verdict["passed"], "each side's TODO is its own, and old.txt's was there before"
    assert verdict["analysers"][0]["diagnostics"] == {"ours": 2, "theirs": 2, "merged": 3}, (
        "nothing new against the sides: the base was not needed"
    )

    repo2, merged2 = repo_with(tmp_path / "two", base, {"a.txt": "one\nTO\n"}, {"a.txt": "one\n", "c.txt": "x\n"})
    assert verdict_for(repo2, merged2, analysers=[analyser])["passed"]


def test_a_new_diagnostic_names_file_line_rule_and_both_sides(tmp_path: Path) -> None:
    script = (
        "import pathlib\nnames = {p.read_text().strip() for p in pathlib.Path('.').glob('*.name')}\n"
        "if {'alpha', 'beta'} <= names:\n    print('z.name:2:1: error: alpha and beta together [pair]')\n"
    )
    repo, merged = repo_with(
        tmp_path, {"chk.py": script, "z.name": "zed\n"}, {"a.name": "alpha\n"}, {"b.name": "beta\n"}
    )
    verdict = verdict_for(repo, merged, analysers=[Analyser(name="pairs", command=f"{sys.executable} chk.py")])
    assert verdict["blocking"] and verdict["cause"] == "semantic conflict: 1 new_diagnostic"
    [finding] = verdict["findings"]
    assert (finding["path"], finding["line"], finding["symbol"]) == ("z.name", 2, "pair")
    assert "a.name" in finding["ours"] and "b.name" in finding["theirs"]
    assert "pairs: pair: alpha and beta together" in finding["message"]


def test_a_missing_tool_is_a_visible_verdict_that_blocks_nothing(tmp_path: Path) -> None:
    repo, merged = repo_with(
        tmp_path,
        {"tsconfig.json": "{}\n", "a.ts": "export const a = 1;\n"},
        {"b.ts": "export const b = 1;\n"},
        {"c.ts": "export const c = 1;\n"},
    )
    gone = Analyser(name="tsc --noEmit", command="no-such-tsc-here --noEmit")
    verdict = verdict_for(repo, merged, analysers=[gone])
    assert verdict["passed"] and not verdict["blocking"] and not verdict["findings"]
    assert "not checked: tsc --noEmit: no-such-tsc-here is not installed" in verdict["cause"]
    assert verdict["analysers"][0]["skipped"]


def test_pyrefly_comes_with_bosun_and_without_it_the_verdict_says_so(tmp_path: Path) -> None:
    """pyrefly is a dependency (a plain `pip install bosun` checks Python types); where it is
    absent anyway (--no-deps, a platform without its wheel) each Python merge's verdict names it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.replace(" ", "").startswith("pyrefly==") for d in project["dependencies"])
    repo, merged = repo_with(tmp_path, {"a.py": "def f(x):\n    return x\n"}, {"b.py": "B = 1\n"}, {"c.py": "C = 2\n"})
    base_python = getattr(sys, "_base_executable", sys.executable)
    if (Path(base_python).parent / "pyrefly").exists() or shutil.which("pyrefly", path="/usr/bin:/bin"):
        pytest.skip("no interpreter here without pyrefly beside it")
    script = textwrap.dedent(f"""\
        import json, site
        for folder in {site.getsitepackages()!r}:
            site.addsitedir(folder)  # bosun importable, but this interpreter's folder has no pyrefly
        from bosun.orchestration.gitcmd import GitRepo
        from bosun.orchestration.integration.checks import semantic_verdict
        from bosun.orchestration.semantic.findings import ALL_SEVERITY, SemanticSettings
        print(json.dumps(semantic_verdict(GitRepo({str(repo)!r}), "ours", "theirs", {merged!r},
                                          SemanticSettings(ALL_SEVERITY))))
        """)
    run = subprocess.run(
        [base_python, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": "/usr/bin:/bin"},
    )
    assert run.returncode == 0, run.stderr
    verdict = json.loads(run.stdout)
    assert verdict["passed"] and "not checked: pyrefly: pyrefly is not installed" in verdict["cause"]
    assert verdict["analysers"] == [
        {**verdict["analysers"][0], "analyser": "pyrefly", "skipped": "pyrefly is not installed (not on PATH)"}
    ]


def test_results_are_cached_by_tree_and_a_merge_equal_to_a_side_runs_nothing(tmp_path: Path) -> None:
    counter = tmp_path / "runs"
    analyser = Analyser(name="count", command=f"echo x >> {counter}")
    repo, merged = repo_with(tmp_path, {"a": "1\n"}, {"b": "2\n"}, {"c": "3\n"})
    cache = Cache()
    versions = {"base": "base", "ours": "ours", "theirs": "theirs", "merged": merged}
    assert differential(repo, analyser, versions, cache=cache).ran == 2, (
        "the unit's branch and the base only when the merge shows something the integration branch does not"
    )
    assert differential(repo, analyser, versions, cache=cache).ran == 0
    assert counter.read_text().count("x") == 2
    assert differential(repo, analyser, {**versions, "merged": "ours"}, cache=cache).ran == 0


def test_the_plan_marks_checks_differential_and_says_what_is_wrong(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        [project]
        checks = ["pytest -q", { run = "tsc --noEmit", differential = true }, { run = "go vet ./..." }]
        semantic = { type_error = "warn", new_diagnostic = "block" }
        [agents.a]
        kind = "external"
        [[units]]
        id = "x"
        prompt = "p"
        """)
    plan = parse_plan(text, tmp_path / "bosun.toml")
    assert plan.project.checks == ("pytest -q", "go vet ./...")
    assert plan.project.differential == ("tsc --noEmit",)
    assert plan.project.semantic.differential == ("tsc --noEmit",) and plan.project.semantic["type_error"] == "warn"
    bad = text.replace('{ run = "go vet ./..." }', '{ run = "", differential = "yes" }, { command = "x" }')
    with pytest.raises(PlanError) as raised:
        parse_plan(bad, tmp_path / "bosun.toml")
    message = "\n".join(raised.value.problems)
    assert "checks[2].run: must be a command" in message and "checks[3].command: unknown key" in message


def test_a_plan_differential_command_runs_in_the_gates_sandbox(tmp_path: Path) -> None:
    from bosun.orchestration.sandbox.probe import probe

    ok, reason = probe()
    if not ok:
        tool_missing(f"no sandbox here: {reason}")
    repo, merged = repo_with(tmp_path, {"a.txt": "a\n", "secret.key": "s\n"}, {"b.txt": "b\n"}, {"c.txt": "c\n"})
    peek = f"test -e {repo}/secret.key && echo 'a.txt:1:1: error: the repository is visible [leak]'; true"
    settings = SemanticSettings(ALL_SEVERITY)
    settings.differential, settings.sandbox = (peek,), "auto"
    verdict = semantic_verdict(GitRepo(repo), "ours", "theirs", merged, settings)
    [report] = [r for r in verdict["analysers"] if r["analyser"] == peek]
    assert report["diagnostics"] == {"ours": 0, "merged": 0}, "the user's repository is hidden"
    settings.sandbox = "off"
    CACHE.clear()  # results are kept by (command, tree)
    verdict = semantic_verdict(GitRepo(repo), "ours", "theirs", merged, settings)
    [report] = [r for r in verdict["analysers"] if r["analyser"] == peek]
    assert report["diagnostics"]["ours"] == 1, "unsandboxed (sandbox = off) it sees it: the check above means something"
