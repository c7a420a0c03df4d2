"""The gate's pipeline of checks on a candidate merge, each giving a verdict with a named cause:
the merge check, Bosun's semantic checks, the project's tests, and the plan's extra commands.

A verdict is plain data (stored with the gate run, shown on screen and in `bosun status
--json`): `{"check", "passed", "blocking", "cause", "duration_s"}` plus `findings` for the
semantic check and `output_tail` for commands. The semantic verdict also carries `analysers`:
each real analyser run differentially on the merge (a type checker, tsc, go vet, the plan's
`differential = true` checks) with what it found, or why it did not run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bosun.orchestration.git_objects import object_id, reader
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.gate import GateResult
from bosun.orchestration.integration.tallies import counts_of
from bosun.orchestration.process import scrubbed_env
from bosun.orchestration.semantic.affected import files_to_check
from bosun.orchestration.semantic.analysis import check_merge, read_blobs, read_python_tree
from bosun.orchestration.semantic.differential import (
    SYMLINK,
    Analyser,
    Outcome,
    Run,
    differential,
    tree_ids,
    tree_listing,
)
from bosun.orchestration.semantic.merge import changed_paths
from bosun.orchestration.semantic.pytypes import drop_guarded
from bosun.orchestration.semantic.syntax import syntax_findings
from bosun.orchestration.semantic.tools import READS, command_analyser, default_analysers


def merge_verdict(clean: bool, conflicts: tuple[str, ...] = ()) -> dict:
    cause = "no textual conflict" if clean else f"textual conflict in {', '.join(conflicts)}"
    return {"check": "merge", "passed": clean, "blocking": not clean, "cause": cause, "duration_s": 0.0}


def semantic_verdict(
    repo: GitRepo,
    head: str,
    unit_head: str,
    merged_tree: str,
    severity: dict[str, str],
    unit_base: str | None = None,
    analysers: list[Analyser] | None = None,
) -> dict:
    """Static analysis of the merged Python against what each side changed since their merge base,
    a Python syntax check of the merge, and every differential analyser (the plan's, and the
    defaults for what the project holds; `analysers` replaces both, for tests and benchmarks).

    Findings the plan turned off are dropped; the verdict blocks when any finding has severity
    "block", and passes (with warnings) when the rest only warn. An analyser that is not installed
    or cannot run is named in the cause and in `analysers`, and blocks nothing."""
    started = time.monotonic()
    findings: list[dict] = []
    reports: list[dict] = []
    notes: list[str] = []
    if any(level != "off" for level in severity.values()):
        base = repo.run("merge-base", head, unit_head, check=False).out.strip()
        theirs = unit_head
        if base == head and unit_base and unit_base != head:
            # The unit merged the head in (a hand-back): what it adds on top of the head is replayed
            # onto where it started, so a clash it did not fix is judged as the first time.
            theirs = own_work_tree(repo, unit_base, head, unit_head) or unit_head
            base = unit_base
        if base and base != head:  # when the integration branch has not moved, nothing can clash
            trees = [read_python_tree(repo.path, treeish) for treeish in (base, head, theirs, merged_tree)]
            versions = {"base": base, "ours": head, "theirs": theirs, "merged": merged_tree}
            only = python_files_to_check(repo, versions, trees)
            with ThreadPoolExecutor(max_workers=1) as pool:  # the tools run while the `ast` checks do
                launched = threading.Event()
                tools = pool.submit(run_analysers, repo, severity, analysers, versions, only, launched.set)
                # the `ast` checks hold the interpreter: they start once the tools' processes have
                # (preparing them is git, mostly, which would otherwise wait on them for its turns)
                launched.wait(timeout=10)
                try:
                    found = check_merge(*trees) + syntax_findings(*trees)
                except Exception as exc:  # a bug in the analyser must not stall the gate: say so, block nothing
                    return {
                        "check": "semantic",
                        "passed": True,
                        "blocking": False,
                        "findings": [],
                        "cause": f"semantic check could not run ({type(exc).__name__}: {exc}); "
                        "judged by the tests alone",
                        "duration_s": round(time.monotonic() - started, 3),
                    }
                outcomes, notes = tools.result()
            placed = {(f.path, f.line) for f in found if severity.get(f.kind, "block") == "block"}
            for outcome in outcomes:
                # the same break seen by the `ast` checks and a tool is told once, by the `ast` checks
                # (they name the definition and both sides); where they only warn, the tool's error stands
                found += [f for f in drop_guarded(outcome.findings, trees[3]) if (f.path, f.line) not in placed]
                reports.append(analyser_report(outcome))
            for finding in found:
                level = severity.get(finding.kind, "block")
                if level != "off":
                    findings.append({**finding.to_json(), "severity": level})
    blocking = [f for f in findings if f["severity"] == "block"]
    warnings = [f for f in findings if f["severity"] == "warn"]
    if blocking:
        cause = f"semantic conflict: {_kinds(blocking)}"
    elif warnings:
        cause = f"for a human to judge: {_kinds(warnings)}"
    else:
        cause = "no semantic conflict found"
    unrun = [f"{r['analyser']}: {r['skipped']}" for r in reports if r.get("skipped")]
    unrun += [f"{r['analyser']}: {r['failed']}" for r in reports if r.get("failed")]
    if unrun or notes:
        cause += "; not checked: " + "; ".join(unrun + notes)
    verdict = {
        "check": "semantic",
        "passed": not blocking,
        "blocking": bool(blocking),
        "cause": cause,
        "duration_s": round(time.monotonic() - started, 3),
        "findings": findings,
    }
    if reports or notes:
        verdict["analysers"] = reports
    return verdict


def plan_analysers(repo: GitRepo, severity: dict[str, str], merged: str) -> tuple[list[Analyser], list[str], bool]:
    """The plan's differential commands and the defaults for the merged tree's files."""
    given = tuple(getattr(severity, "differential", ()) or ())
    sandboxed = gate_sandboxed(severity)
    analysers = [command_analyser(c, float(getattr(severity, "gate_timeout", 300.0) or 300.0)) for c in given]
    notes: list[str] = []
    if getattr(severity, "defaults", True):
        listing = reader(repo.path).files(object_id(repo.path, merged))
        paths = [path.decode("utf-8", "replace") for _, _, path in listing]
        defaults, notes = default_analysers(paths, repo.path, severity, sandboxed, given)
        analysers += defaults
    return analysers, notes, sandboxed


SEARCH_SETTINGS = (
    "search-path",
    "search_path",
    "search-roots",
    "mypy_path",
    "mypy-path",
    "extraPaths",
    "extra-paths",
    "executionEnvironments",
    "project-includes",
    "project-excludes",
    "project_includes",
    "project_excludes",
    "import-root",
)
CHECKER_CONFIGS = ("pyrefly.toml", "mypy.ini", ".mypy.ini", "pyrightconfig.json")


def python_files_to_check(
    repo: GitRepo, versions: dict[str, str], trees: list[dict[str, str]]
) -> frozenset[str] | None:
    """The Python files where a merge can bring a new type error (semantic/affected.py), or None
    (then every file) wherever the import graph could miss how the checker finds modules: a side
    changed a stub or a checker's configuration; a configuration sets search paths or lives below
    the root (pyrefly then adds that project's `src/`); the tree holds a link or a file name
    that is not UTF-8."""
    try:
        listings = {v: tree_listing(repo.path, tree) for v, tree in tree_ids(repo.path, versions).items()}
        paths = {path for listing in listings.values() for path, _, _ in listing}
        if any(mode == SYMLINK for listing in listings.values() for _, _, mode in listing) or any(
            not p.isprintable() for p in paths
        ):  # a name that is not UTF-8 decodes to surrogates
            return None
        if any(p.endswith(CHECKER_CONFIGS) or (p.endswith("pyproject.toml") and "/" in p) for p in paths):
            return None
        blobs = {v: {path: blob for path, blob, _ in listing} for v, listing in listings.items()}
        for side in ("ours", "theirs"):
            if any(
                path.endswith(READS["python"]) and not path.endswith(".py")
                for path in changed_paths(blobs["base"], blobs[side])
            ):
                return None
        configs = [
            blob
            for listing in listings.values()
            for path, blob, _ in listing
            if path in ("pyproject.toml", "setup.cfg")
        ]
        if any(
            setting in text
            for text in read_blobs(repo.path, sorted(set(configs))).values()
            for setting in SEARCH_SETTINGS
        ):
            return None
        stubs = {
            v: {path: blob for path, blob, _ in listing if path.endswith(".pyi")} for v, listing in listings.items()
        }
        texts = read_blobs(repo.path, sorted({blob for found in stubs.values() for blob in found.values()}))
        with_stubs = [
            {**tree, **{path: texts[blob] for path, blob in stubs[v].items()}}
            for v, tree in zip(("base", "ours", "theirs", "merged"), trees)
        ]
        base, ours, theirs, merged = with_stubs
        # A file the merge made differ from both sides (git followed a rename into it) is each side's change.
        both = {
            p
            for p in merged.keys() | ours.keys() | theirs.keys()
            if merged.get(p) != ours.get(p) and merged.get(p) != theirs.get(p)
        }
        return files_to_check(with_stubs, (changed_paths(base, ours) | both, changed_paths(base, theirs) | both))
    except Exception:  # narrowing only saves time: when it cannot tell, the checker reads every file
        return None


def run_analysers(
    repo: GitRepo,
    severity: dict[str, str],
    analysers: list[Analyser] | None,
    treeishes: dict[str, str],
    only: frozenset[str] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> tuple[list[Outcome], list[str]]:
    """Every analyser on the four versions, the analysers side by side. `only`: the files that can
    hold a new diagnostic of an analyser that `narrows` (the Python type checker). `on_ready`: called
    once every analyser has started its runs (or needs none)."""
    try:
        return _run_analysers(repo, severity, analysers, treeishes, only, on_ready or (lambda: None))
    finally:
        if on_ready is not None:
            on_ready()


def _run_analysers(
    repo: GitRepo,
    severity: dict[str, str],
    analysers: list[Analyser] | None,
    treeishes: dict[str, str],
    only: frozenset[str] | None,
    on_ready: Callable[[], None],
) -> tuple[list[Outcome], list[str]]:
    notes: list[str] = []
    sandboxed = False
    if analysers is None:
        analysers, notes, sandboxed = plan_analysers(repo, severity, treeishes["merged"])
    if not analysers:
        return [], notes
    given = set(getattr(severity, "differential", ()) or ())
    waiting = [len(analysers)]
    lock = threading.Lock()

    def one_ready() -> None:
        with lock:
            waiting[0] -= 1
            if waiting[0] == 0:
                on_ready()

    def one(analyser: Analyser) -> Outcome:
        in_box = sandboxed and (analyser.command in given or analyser.name == "cargo check")
        runner = sandbox_runner(repo, severity) if in_box else plain_runner(severity)
        try:
            return differential(repo.path, analyser, treeishes, runner, only=only, on_ready=one_ready)
        except Exception as exc:  # a tool or git failure must not stall the gate: say so, block nothing
            return Outcome(analyser.name, failed=f"could not run ({type(exc).__name__}: {exc})")

    with ThreadPoolExecutor(max_workers=len(analysers)) as pool:
        return list(pool.map(one, analysers)), notes


def analyser_report(outcome: Outcome) -> dict:
    report = {
        "analyser": outcome.analyser,
        "new": len(outcome.new),
        "ran_on": outcome.ran,
        "diagnostics": outcome.counts,
        "duration_s": round(outcome.seconds, 3),
    }
    if outcome.skipped:
        report["skipped"] = outcome.skipped
    if outcome.failed:
        report["failed"] = outcome.failed
    if outcome.files is not None:
        report["files"] = outcome.files  # checked on the merge: those reaching both sides' changes
    return report


def gate_sandboxed(severity: dict[str, str]) -> bool:
    if getattr(severity, "sandbox", "off") == "off":
        return False
    from bosun.orchestration.sandbox.probe import probe

    return probe()[0]


def plain_runner(severity: dict[str, str]):
    """An analyser as a child with the gate's scrubbed environment (the defaults run no project code)."""
    allowed = tuple(getattr(severity, "gate_env", ()) or ())

    def run(analyser: Analyser, folder: Path) -> Run:
        env = scrubbed_env(allowed, {**dict(analyser.env), "BOSUN_GATE": "1"})
        return _run(["/bin/sh", "-c", analyser.command], folder, env, analyser.timeout)

    return run


def sandbox_runner(repo: GitRepo, severity: dict[str, str]):
    """An analyser in the gate's bubblewrap box (the plan's commands, and cargo's build scripts)."""
    from bosun.orchestration.sandbox import bwrap
    from bosun.orchestration.sandbox.boxes import gate_box
    from bosun.orchestration.sandbox.probe import bwrap_path

    allowed = tuple(getattr(severity, "gate_env", ()) or ())
    network = getattr(severity, "gate_network", "none") == "host"

    def run(analyser: Analyser, folder: Path) -> Run:
        env = scrubbed_env(allowed, {**dict(analyser.env), "BOSUN_GATE": "1"})
        box = gate_box(repo=Path(repo.path).resolve(), folder=folder, env=env, network=network)
        argv = bwrap.argv(bwrap_path() or "bwrap", box, ["/bin/sh", "-c", analyser.command])
        return _run(argv, folder, env, analyser.timeout)

    return run


def _run(argv: list[str], folder: Path, env: dict[str, str], timeout: float) -> Run:
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return Run(127, str(exc), 0.0)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return Run(None, f"timed out after {timeout:g}s", time.monotonic() - started)
    return Run(proc.returncode, out.decode("utf-8", "replace"), time.monotonic() - started)


def own_work_tree(repo: GitRepo, start: str, head: str, unit_head: str) -> str | None:
    """The tree of `start` plus what `unit_head` adds to `head`, built in a private index; None when
    that change does not apply to `start` (then the caller judges the branch as it is)."""
    with tempfile.TemporaryDirectory(prefix="bosun-own-") as folder:
        patch, index = Path(folder) / "own.patch", Path(folder) / "index"
        patch.write_text(repo.run("diff", "--binary", "--no-ext-diff", "--no-textconv", head, unit_head).out)
        env = {"GIT_INDEX_FILE": str(index)}
        repo.run("read-tree", start, env=env)
        if patch.stat().st_size and repo.run("apply", "--cached", str(patch), env=env, check=False).code != 0:
            return None
        return repo.run("write-tree", env=env).out.strip()


def command_verdict(name: str, result: GateResult) -> dict:
    """The tests or one of the plan's extra checks, run on the candidate tree."""
    verdict = {
        "check": name,
        "passed": result.passed,
        "blocking": not result.passed,
        "cause": result.cause,
        "duration_s": round(result.duration_s, 3),
        "output_tail": result.output_tail[-2000:],
    }
    counts = counts_of(result.log_path, result.output_tail) if name == "tests" else {}
    return {**verdict, **{f"tests_{k}": v for k, v in counts.items()}}


def findings_text(findings: list[dict]) -> str:
    """The findings as lines an agent (or a person) can act on: place, kind, what clashed."""
    return "\n".join(f"{f['path']}:{f['line']}: {f['kind']} ({f['severity']}): {f['message']}" for f in findings)


def summary(verdicts: list[dict]) -> list[dict]:
    """Each check's name, verdict and cause: what an event or the unit's gate line carries."""
    return [{k: v[k] for k in ("check", "passed", "cause")} for v in verdicts]


def warnings_of(verdicts: list[dict]) -> list[dict]:
    return [f for v in verdicts for f in v.get("findings", []) if f["severity"] == "warn"]


def _kinds(findings: list[dict]) -> str:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding["kind"]] = counts.get(finding["kind"], 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())
