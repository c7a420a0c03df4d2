"""The integration lane: merge check, scope check, gate, and the crash-safe move of the
integration branch. One unit at a time, so every candidate is judged against the real head.

The branch moves only by compare-and-swap `update-ref` after an intent is recorded in the
store; `recover_intents` settles an intent left by a crash exactly once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bosun.orchestration.errors import BosunError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.integration.checks import (
    command_verdict,
    findings_text,
    merge_verdict,
    semantic_verdict,
    summary,
    warnings_of,
)
from bosun.orchestration.integration.gate import (
    GateFolder,
    GateResult,
    GateSandbox,
    candidate_commit,
    merge_check,
    run_gate,
)
from bosun.orchestration.sandbox import active as sandboxed
from bosun.orchestration.sandbox import gate_network_of
from bosun.orchestration.scope import in_scope
from bosun.orchestration.session import Session
from bosun.orchestration.states import (
    AWAITING_APPROVAL,
    CHECKING,
    CONFLICTED,
    GATE_FAILED,
    GATING,
    MERGED,
    OUT_OF_SCOPE,
    SEMANTIC_CONFLICT,
    SUBMITTED,
)
from bosun.orchestration.store import StaleState


class IntegrationTampered(BosunError):
    """The integration branch is not where Bosun left it: someone else moved it."""


@dataclass(frozen=True)
class Verdict:
    """How integrating one unit ended."""

    state: str
    detail: dict


class Integrator:
    """Judges submitted units one at a time and moves the integration branch."""

    def __init__(self, session: Session, *, merge_when_green: bool) -> None:
        self.session = session
        self.store = session.store
        self.repo = session.repo
        self.merge_when_green = merge_when_green
        self.gate_folder = GateFolder(session.repo, session.dir / "gate")
        self.gate_child = None
        self.stopping = False
        self.checks_cancelled = False

    def _gate_started(self, child) -> None:
        self.gate_child = child
        if self.checks_cancelled:
            child.kill()

    async def _cancel_checks(self, checks: asyncio.Future) -> None:
        """Stop the candidate's tests and checks (started beside the semantic checks) and wait for them."""
        self.checks_cancelled = True
        child = self.gate_child
        if child is not None:
            await asyncio.to_thread(child.kill)  # it may wait on the process group: not on the event loop
        await asyncio.gather(checks, return_exceptions=True)

    def stop_gate(self) -> None:
        """Kill a running gate or check (the session is stopping; `bosun resume` judges the unit again)."""
        self.stopping = True
        child, self.gate_child = self.gate_child, None
        if child is not None:
            child.kill()

    def verified_head(self, expected: str) -> str:
        """`expected`, the head Bosun recorded, after checking nobody but Bosun moved the branch
        (runs in a worker thread, so it is handed what the store says rather than reading it)."""
        actual = self.repo.rev_parse(self.session.integration_ref)
        if actual != expected:
            raise IntegrationTampered(
                f"branch '{self.session.plan.project.integration}' is at {actual or 'nothing'}, but Bosun left it at "
                f"{expected}: only Bosun moves it (restore it with git update-ref {self.session.integration_ref} {expected})"  # noqa: E501
            )
        return expected

    async def integrate(self, unit_id: str) -> Verdict:
        """Check, gate and (when allowed) merge one unit that is submitted or approved."""
        row = self.store.unit(unit_id)
        spec = self.session.plan.units[unit_id]
        self.store.transition(unit_id, CHECKING, (SUBMITTED, AWAITING_APPROVAL), fsync=False)
        head = self.session.integration_head()  # as Bosun left it: the merge's compare-and-swap checks the ref
        check = await asyncio.to_thread(merge_check, self.repo, head, row.head_commit)
        if not check.clean:
            detail = {
                "reason": "conflict",
                "files": list(check.conflicts),
                "checks": [merge_verdict(False, check.conflicts)],
            }
            self.store.transition(unit_id, CONFLICTED, (CHECKING,), data=detail, detail=detail)
            return Verdict(CONFLICTED, detail)
        changed = await asyncio.to_thread(self.repo.changed_files, head, check.tree)
        outside = [path for path in changed if not in_scope(path, spec.scope)]
        if outside:
            detail = {"reason": "out_of_scope", "files": outside, "scope": list(spec.scope or ())}
            self.store.transition(unit_id, OUT_OF_SCOPE, (CHECKING,), data=detail, detail=detail)
            return Verdict(OUT_OF_SCOPE, detail)
        message = f"bosun: merge unit {unit_id} ({spec.title})\n\nBosun-Unit: {unit_id}\nBosun-Attempt: {row.attempts}"
        candidate = await asyncio.to_thread(candidate_commit, self.repo, check.tree, (head, row.head_commit), message)
        self.store.transition(
            unit_id,
            GATING,
            (CHECKING,),
            data={"candidate": candidate, "files": len(changed)},
            candidate=candidate,
            candidate_parent=head,
            fsync=False,
        )
        project = self.session.plan.project
        verdicts = [merge_verdict(True)]
        # The tests start with the semantic checks, not after them: both judge the same candidate,
        # and a project whose tests take longer than the checks then waits for the checks not at
        # all. A blocking semantic finding kills the tests (their verdict would change nothing).
        self.checks_cancelled = False
        checks = asyncio.ensure_future(asyncio.to_thread(self._run_checks, unit_id, row.attempts, candidate))
        try:
            semantic = await asyncio.to_thread(
                semantic_verdict, self.repo, head, row.head_commit, check.tree, project.semantic, row.base_commit
            )
        except BaseException:
            await self._cancel_checks(checks)
            raise
        verdicts.append(semantic)
        if semantic["blocking"]:
            await self._cancel_checks(checks)
            return self._semantic_conflict(row, candidate, head, verdicts)
        results = await checks
        verdicts += [command_verdict(name, result) for name, result in results]
        failed = next(((name, result) for name, result in results if not result.passed), None)
        tests = results[0][1]
        tests_verdict = next(v for v in verdicts if v["check"] == "tests")
        counts = {k: v for k, v in tests_verdict.items() if k.startswith("tests_")}  # parsed by command_verdict
        warnings = warnings_of(verdicts)
        if failed is None:
            cause = tests.cause + (f", {len(results) - 1} more check(s) passed" if len(results) > 1 else "")
            cause += f"; {len(warnings)} warning(s) for a human" if warnings else ""
        else:
            cause = tests.cause if failed[0] == "tests" else f"check `{failed[0]}` failed: {failed[1].cause}"
        shown = failed[1] if failed else tests
        duration = max(sum(result.duration_s for _, result in results), semantic["duration_s"])  # side by side
        gate_run = {
            "unit": unit_id,
            "attempt": row.attempts,
            "commit_id": candidate,
            "parent": head,
            "passed": failed is None,
            "exit_code": shown.exit_code,
            "duration_s": duration,
            "cause": cause,
            "output_tail": shown.output_tail,
            "checks": verdicts,
        }
        gate = {
            "passed": failed is None,
            "cause": cause,
            "duration_s": round(duration, 3),
            "commit": candidate,
            **counts,
            "checks": summary(verdicts),
        }
        if failed is not None:
            detail = {
                "reason": "gate_failed",
                "gate": gate,
                "output_tail": shown.output_tail[-3000:],
                "checks": verdicts,
            }
            self.store.transition(
                unit_id, GATE_FAILED, (GATING,), data={"gate": gate}, detail=detail, gate_run=gate_run
            )
            return Verdict(GATE_FAILED, detail)
        seen = (row.detail or {}).get("warnings") or []
        detail = {**(row.detail or {}), "gate": gate, "files": changed, "checks": verdicts, "warnings": warnings}
        # A warning holds even an automatic merge: under `merge = "auto"` nobody else would read it;
        # an approval covers the warnings the human saw, not new ones found against a newer head.
        approved = row.approved and (not warnings or warnings == seen)
        if (self.merge_when_green and not warnings) or approved:
            self.store.transition(
                unit_id, GATING, (GATING,), kind="gate_passed", data={"gate": gate}, detail=detail, gate_run=gate_run
            )
            return await self.merge(unit_id)
        self.store.transition(
            unit_id,
            AWAITING_APPROVAL,
            (GATING,),
            data={"gate": gate, "warnings": len(warnings)},
            detail=detail,
            gate_run=gate_run,
            approved=0,
        )
        return Verdict(AWAITING_APPROVAL, detail)

    def _semantic_conflict(self, row, candidate: str, head: str, verdicts: list[dict]) -> Verdict:
        """The merge is clean and may pass every test, yet the two sides do not hold together."""
        semantic = verdicts[-1]
        findings = semantic["findings"]
        text = findings_text(findings)
        gate_run = {
            "unit": row.id,
            "attempt": row.attempts,
            "commit_id": candidate,
            "parent": head,
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
        self.store.transition(
            row.id,
            SEMANTIC_CONFLICT,
            (GATING,),
            data={"gate": gate, "findings": len(findings)},
            detail=detail,
            gate_run=gate_run,
        )
        return Verdict(SEMANTIC_CONFLICT, detail)

    def _run_checks(self, unit_id: str, attempt: int, candidate: str) -> list[tuple[str, GateResult]]:
        """The tests, then each of the plan's extra checks while everything passes, all on the
        candidate's tree in the gate folder."""
        project = self.session.plan.project
        self.gate_folder.checkout(candidate)
        box = GateSandbox(
            sandboxed(self.session.plan),
            gate_network_of(project),
            self.repo.path,
            self.session.dir,
            memory=project.gate_memory,
        )
        results = []
        for index, (name, command) in enumerate([("tests", project.gate), *((c, c) for c in project.checks)]):
            if self.checks_cancelled:
                break
            log = (
                self.session.dir
                / "logs"
                / (f"gate.{unit_id}.{attempt}.log" if index == 0 else f"check.{unit_id}.{attempt}.{index}.log")
            )
            log.unlink(missing_ok=True)
            try:
                result = run_gate(
                    command,
                    self.gate_folder.path,
                    project.gate_timeout,
                    project.gate_env,
                    log,
                    ceiling=self.session.dir,
                    started=self._gate_started,
                    sandbox=box,
                )
            finally:
                self.gate_child = None  # ended: never killed later (its process id may be another's by then)
            results.append((name, result))
            if not result.passed or self.stopping or self.checks_cancelled:
                break
        return results

    async def merge(self, unit_id: str) -> Verdict:
        """Move the integration branch to the unit's gated candidate, or re-judge a stale one.

        The move is a compare-and-swap from the head Bosun recorded: if anything else moved the
        branch, it fails, and Bosun stops and says so."""
        row = self.store.unit(unit_id)
        head = self.session.integration_head()
        if row.candidate_parent != head:
            return await self.integrate(unit_id)
        if row.state == AWAITING_APPROVAL:  # out of reach of reject / cancel / reassign while the ref moves
            self.store.transition(unit_id, GATING, (AWAITING_APPROVAL,), kind="merging", fsync=False)
        intent = self.store.add_intent(unit_id, self.session.integration_ref, head, row.candidate)
        fault_point("merge.intent")
        moved = await asyncio.to_thread(
            self.repo.update_ref, self.session.integration_ref, row.candidate, head, f"bosun: merge unit {unit_id}"
        )
        fault_point("merge.moved")
        if not moved:
            self.store.close_intent(intent, "failed")
            await asyncio.to_thread(self.verified_head, head)
            raise IntegrationTampered(f"the integration branch moved during the merge of '{unit_id}'")
        self.store.finish_merge(intent, unit_id, row.candidate)
        return Verdict(MERGED, {"commit": row.candidate})

    def recover_intents(self) -> list[str]:
        """Settle merges a crash interrupted: finished if the ref moved, redone if it did not."""
        settled = []
        for intent_id, unit_id, ref, old, new in self.store.open_intents():
            batch, gate_run = self.store.intent_batch(intent_id)  # the merge queue lands several at once
            actual = self.repo.rev_parse(ref)
            if actual == old and self.repo.update_ref(ref, new, old, f"bosun: merge unit {unit_id} (recovered)"):
                actual = new
            if actual == new:
                try:
                    if batch:
                        self.store.finish_batch(intent_id, batch, gate_run)
                    else:
                        self.store.finish_merge(intent_id, unit_id, new)
                except StaleState:
                    pass
                settled += [u for u, _ in batch] if batch else [unit_id]
            else:
                self.store.close_intent(intent_id, "abandoned")
        return settled
