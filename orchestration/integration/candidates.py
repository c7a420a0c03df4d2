"""Stacking a submitted unit onto the chain: the merge check against the candidate ahead of it,
the scope check, the candidate merge commit, and the semantic checks that run beside its gate.
All of it runs in worker threads (git and the analysers)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.checks import findings_text, merge_verdict, semantic_verdict, summary
from bosun.orchestration.integration.gate import candidate_commit, merge_check
from bosun.orchestration.scope import in_scope, normalize
from bosun.orchestration.states import CONFLICTED, OUT_OF_SCOPE
from bosun.orchestration.submodules import submodules_of


@dataclass(frozen=True)
class Stacked:
    """A unit's candidate merge commit on `top`, ready for its gate and its semantic checks."""

    candidate: str
    tree: str
    files: list[str]


@dataclass(frozen=True)
class Refused:
    """The unit cannot stack: `state` is where it goes (conflicted, out of scope), or None when it
    only clashes with a unit ahead of it and waits for the head to move (`detail["why"]`)."""

    state: str | None
    detail: dict


def stack(repo: GitRepo, row, spec, top: str, head: str, copied: tuple[str, ...] = ()) -> Stacked | Refused:
    """What stacking `row` onto `top` (the last candidate in the chain, or the head) gives.
    `copied`: the plan's `copy` files, which no commit of a unit may add (`git add -f .env`)."""
    check = merge_check(repo, top, row.head_commit)
    if not check.clean:
        if top != head and merge_check(repo, head, row.head_commit).clean:
            return Refused(None, {"why": "clashes with a unit ahead of it in the queue"})
        verdict = merge_verdict(False, check.conflicts)
        return Refused(CONFLICTED, {"reason": "conflict", "files": list(check.conflicts), "checks": [verdict]})
    committed = committed_copies(repo, top, row.head_commit, copied)
    if committed:  # named, never shown: no diff of it goes anywhere, and no candidate is made
        why = (
            f"a commit of this unit adds {', '.join(committed)}, which Bosun copies into the worktree (`copy`) "
            "and which must never be committed: rewrite the unit's history without it "
            f"(git reset --soft {row.base_commit or top}, then commit again without it)"
        )
        detail = {"reason": "copied_file", "files": committed, "scope": list(spec.scope or ()), "output_tail": why}
        return Refused(OUT_OF_SCOPE, detail)
    links: list[str] = []
    changed = repo.changed_files(top, check.tree, links)
    if links and (nested := undeclared(repo.path, top, links)):
        why = (
            f"this unit adds {', '.join(nested)} as a git repository inside the project (its commit, not "
            "its files: a `git clone` or `git init` there, then `git add`): take it out of the index "
            "(git rm --cached PATH) and commit again; a submodule is declared in .gitmodules on the base first"
        )
        detail = {"reason": "nested_repository", "files": nested, "scope": list(spec.scope or ()), "output_tail": why}
        return Refused(OUT_OF_SCOPE, detail)
    outside = [path for path in changed if not in_scope(path, spec.scope)]
    if outside:
        return Refused(OUT_OF_SCOPE, {"reason": "out_of_scope", "files": outside, "scope": list(spec.scope or ())})
    message = f"bosun: merge unit {row.id} ({spec.title})\n\nBosun-Unit: {row.id}\nBosun-Attempt: {row.attempts}"
    return Stacked(candidate_commit(repo, check.tree, (top, row.head_commit), message), check.tree, changed)


def undeclared(repo: Path, top: str, links: list[str]) -> list[str]:
    """The gitlinks among `links` that `.gitmodules` does not declare as it is where the unit
    lands (not as the unit wrote it): a repository an agent nested in its worktree and added,
    which no one could ever check out."""
    declared = {s.path for s in submodules_of(repo, top)}
    return sorted(path for path in links if path not in declared)


def committed_copies(repo: GitRepo, top: str, unit_head: str, copied: tuple[str, ...]) -> list[str]:
    """The `copy` files (not tracked at `top`) that any of the unit's own commits touches: merging
    would make that commit, and the secret in it, reachable from the integration branch."""
    names = [name for name in (normalize(c) for c in copied) if name]
    if not names:
        return []
    tracked = set(repo.run("ls-tree", "-r", "--name-only", "-z", top, "--", *names).out.split("\0"))
    specs = [f":(literal){name}" for name in names if name not in tracked]
    if not specs:
        return []
    out = repo.run("log", "-m", "--format=", "--name-only", "--no-renames", "-z", f"{top}..{unit_head}", "--", *specs)
    return sorted({path for path in out.out.split("\0") if path.strip()})


def semantic_of(repo: GitRepo, row, top: str, tree: str, severity: dict[str, str]) -> dict:
    """The semantic checks' verdict on a candidate (merge of `row` onto `top`, giving `tree`)."""
    return semantic_verdict(repo, top, row.head_commit, tree, severity, row.base_commit)


def semantic_conflict(unit: str, attempt: int, candidate: str, parent: str, verdicts: list[dict]) -> tuple[dict, dict]:
    """The gate run and the unit's detail for a merge that is clean and may pass every test, yet
    whose two sides do not hold together (the last verdict is the semantic one)."""
    semantic = verdicts[-1]
    findings = semantic["findings"]
    text = findings_text(findings)
    gate_run = {
        "unit": unit,
        "attempt": attempt,
        "commit_id": candidate,
        "parent": parent,
        "passed": False,
        "exit_code": None,
        "duration_s": semantic["duration_s"],
        "cause": semantic["cause"],
        "output_tail": text,
        "checks": verdicts,
    }
    gate = {
        "passed": False,
        "cause": semantic["cause"],
        "duration_s": semantic["duration_s"],
        "commit": candidate,
        "checks": summary(verdicts),
    }
    detail = {
        "reason": "semantic_conflict",
        "gate": gate,
        "findings": findings,
        "files": sorted({f["path"] for f in findings}),
        "output_tail": text,
        "checks": verdicts,
    }
    return gate_run, detail
