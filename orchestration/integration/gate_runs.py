"""One gate run of the queue: the project's tests, then each extra check while all pass, on the
run's tree in its slot's own folder (two gates never share a folder), and the verdict it gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bosun.orchestration.integration.chain import Run
from bosun.orchestration.integration.checks import command_verdict
from bosun.orchestration.integration.gate import GateFolder, GateResult, GateSandbox, run_gate
from bosun.orchestration.sandbox import active as sandboxed
from bosun.orchestration.sandbox import gate_network_of
from bosun.orchestration.session import Session


def run_in_slot(session: Session, run: Run, attempt: int, started: Callable) -> list[tuple[str, GateResult]]:
    """In a worker thread: the run's pipeline of commands; `started` is handed each process (a
    stopping queue kills it), and a run cancelled meanwhile starts nothing more."""
    named = f"{run.units[-1]}.{attempt}.{run.label}"
    return _pipeline(session, run.top, str(run.slot), named, started, lambda: run.cancelled, run.slot)


def run_on_base(session: Session, commit: str, started: Callable) -> list[tuple[str, GateResult]]:
    """In a worker thread: the same pipeline on the integration head itself (base_gate.py), in a
    folder of its own beside the slots'."""
    return _pipeline(session, commit, "base", f"base.{commit[:10]}", started, lambda: False, None)


def _pipeline(
    session: Session, commit: str, folder_name: str, named: str, started: Callable, cancelled: Callable, slot
) -> list[tuple[str, GateResult]]:
    """The project's tests, then each extra check while all pass, on `commit`'s tree."""
    project = session.plan.project
    folder = GateFolder(session.repo, session.dir / "gates" / folder_name)
    folder.checkout(commit)
    box = GateSandbox(
        sandboxed(session.plan), gate_network_of(project), session.repo.path, session.dir, memory=project.gate_memory
    )
    results = []
    for index, (name, command) in enumerate([("tests", project.gate), *((c, c) for c in project.checks)]):
        if cancelled():
            break
        log = session.dir / "logs" / (f"gate.{named}.log" if index == 0 else f"check.{named}.{index}.log")
        log.unlink(missing_ok=True)
        result = run_gate(
            command,
            folder.path,
            project.gate_timeout,
            project.gate_env,
            log,
            ceiling=session.dir,
            started=started,
            sandbox=box,
            slot=slot,
        )
        results.append((name, result))
        if not result.passed:
            break
    return results


@dataclass(frozen=True)
class RunVerdict:
    """What a finished run says: every command's verdict, the first that failed (or None), the
    one line of cause, the result whose output is shown, and the run's length."""

    verdicts: list[dict]
    failed: tuple[str, GateResult] | None
    cause: str
    shown: GateResult
    duration_s: float
    lost: bool = False
    """The gate never gave a verdict: it raised (a lost node, a folder that could not be filled)."""

    @property
    def passed(self) -> bool:
        return self.failed is None

    @property
    def not_the_code(self) -> bool:
        """The run failed for a reason that is not the code: it timed out, or it could not run."""
        return self.failed is not None and (self.failed[1].exit_code is None or self.failed[1].unstartable)

    @property
    def unstartable(self) -> bool:
        """The gate's own program never ran (gate.could_not_start): nothing was judged."""
        return self.failed is not None and self.failed[1].unstartable

    def counts(self) -> dict:
        return {k: v for k, v in self.verdicts[0].items() if k.startswith("tests_")}


def run_verdict(session: Session, results, error: BaseException | None) -> RunVerdict:
    """The verdict of a run's results; a run that raised, or ran nothing, failed with that cause."""
    lost = error is not None or not results
    if lost:
        cause = f"the gate could not run: {error}" if error else "the gate did not run"
        results = [("tests", GateResult(False, None, 0.0, cause, cause, session.dir / "logs"))]
    verdicts = [command_verdict(name, result) for name, result in results]
    failed = next(((n, r) for n, r in results if not r.passed), None)
    tests = results[0][1]
    cause = tests.cause if failed is None or failed[0] == "tests" else f"check `{failed[0]}` failed: {failed[1].cause}"
    shown = failed[1] if failed else tests
    return RunVerdict(verdicts, failed, cause, shown, sum(r.duration_s for _, r in results), lost)
