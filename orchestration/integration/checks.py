"""The gate's pipeline of checks on a candidate merge, each giving a verdict with a named cause:
the merge check, Bosun's semantic checks, the project's tests, and the plan's extra commands.

A verdict is plain data (stored with the gate run, shown on screen and in `bosun status
--json`): `{"check", "passed", "blocking", "cause", "duration_s"}` plus `findings` for the
semantic check and `output_tail` for commands.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bosun.orchestration.integration.gate import GateResult, summarize
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.semantic.analysis import check_merge, read_python_tree


def merge_verdict(clean: bool, conflicts: tuple[str, ...] = ()) -> dict:
    cause = "no textual conflict" if clean else f"textual conflict in {', '.join(conflicts)}"
    return {"check": "merge", "passed": clean, "blocking": not clean, "cause": cause, "duration_s": 0.0}


def semantic_verdict(repo: GitRepo, head: str, unit_head: str, merged_tree: str, severity: dict[str, str],
                     unit_base: str | None = None) -> dict:
    """Static analysis of the merged Python against what each side changed since their merge base.

    Findings the plan turned off are dropped; the verdict blocks when any finding has severity
    "block", and passes (with warnings) when the rest only warn."""
    started = time.monotonic()
    findings: list[dict] = []
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
            try:
                found = check_merge(*trees)
            except Exception as exc:  # a bug in the analyser must not stall the gate: say so, block nothing
                return {"check": "semantic", "passed": True, "blocking": False, "findings": [],
                        "cause": f"semantic check could not run ({type(exc).__name__}: {exc}); judged by the tests alone",
                        "duration_s": round(time.monotonic() - started, 3)}
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
    return {"check": "semantic", "passed": not blocking, "blocking": bool(blocking), "cause": cause,
            "duration_s": round(time.monotonic() - started, 3), "findings": findings}


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
    verdict = {"check": name, "passed": result.passed, "blocking": not result.passed, "cause": result.cause,
               "duration_s": round(result.duration_s, 3), "output_tail": result.output_tail[-2000:]}
    counts = summarize(result.output_tail) if name == "tests" else {}
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


