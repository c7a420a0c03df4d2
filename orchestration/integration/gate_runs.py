"""One gate run of the queue: the project's tests, then each extra check while all pass, on the
run's tree in its slot's own folder (two gates never share a folder), and the verdict it gives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.chain import Run
from bosun.orchestration.integration.checks import command_verdict
from bosun.orchestration.integration.gate import GateFolder, GateResult, GateSandbox, run_gate
from bosun.orchestration.plan import Plan
from bosun.orchestration.sandbox import active as sandboxed
from bosun.orchestration.sandbox import gate_network_of
from bosun.orchestration.session import Session


def run_in_slot(session: Session, run: Run, attempt: int, started: Callable) -> list[tuple[str, GateResult]]:
    """In a worker thread: the run's pipeline of commands; `started` is handed each process (a
    stopping queue kills it), and a run cancelled meanwhile starts nothing more."""
    named = f"{run.units[-1]}.{attempt}.{run.label}"
    return pipeline(session.plan, session.repo, session.dir, run.top, str(run.slot), named, started, run.slot, run)


def run_on_base(session: Session, commit: str, started: Callable) -> list[tuple[str, GateResult]]:
    """In a worker thread: the same pipeline on the integration head itself (base_gate.py), in a
    folder of its own beside the slots'."""
    return pipeline(session.plan, session.repo, session.dir, commit, "base", f"base.{commit[:10]}", started)


def pipeline(
    plan: Plan,
    repo: GitRepo,
    bosun_dir: Path,
    commit: str,
    folder_name: str,
    named: str,
    started: Callable,
    slot: int | None = None,
    run: Run | None = None,
    announce: Callable[[str], None] | None = None,
) -> list[tuple[str, GateResult]]:
    """The project's tests, then each extra check while all pass, on `commit`'s tree in
    `bosun_dir`/gates/`folder_name`; nothing more starts once `run` is cancelled. `announce` is
    told each command's name as it starts (`bosun doctor --gate`)."""
    project = plan.project
    folder = GateFolder(repo, bosun_dir / "gates" / folder_name)
    folder.checkout(commit)
    box = GateSandbox(sandboxed(plan), gate_network_of(project), repo.path, bosun_dir, memory=project.gate_memory)
    results = []
    for index, (name, command) in enumerate([("tests", project.gate), *((c, c) for c in project.checks)]):
        if run is not None and run.cancelled:
            break
        if announce is not None:
            announce(name)
        log = bosun_dir / "logs" / (f"gate.{named}.log" if index == 0 else f"check.{named}.{index}.log")
        log.unlink(missing_ok=True)
        result = run_gate(
            command,
            folder.path,
            project.gate_timeout,
            project.gate_env,
            log,
            ceiling=bosun_dir,
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
