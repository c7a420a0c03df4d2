"""Errors meant for the person at the terminal: one line, what is wrong and where."""


class BosunError(Exception):
    """A problem the user can fix (bad input, wrong state); the CLI prints it and exits 2."""


class PlanError(BosunError):
    """A plan that does not validate; carries every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(problems[0] if len(problems) == 1 else f"{len(problems)} problems in the plan")


class GitError(Exception):
    """Git failed in a way that is not a verdict (not a conflict, not a missing ref)."""

    def __init__(self, args: list[str], code: int, stderr: str) -> None:
        self.code = code
        self.stderr = stderr
        lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
        # git's own verdict ("fatal: Unable to create '.../main.lock': File exists.") rather than
        # the advice it ends with ("remove the file manually to continue.")
        verdicts = [line for line in lines if line.startswith(("fatal:", "error:"))]
        detail = (verdicts[0] if verdicts else lines[-1]) if lines else f"exit {code}"
        super().__init__(f"git {' '.join(args[:3])} failed: {detail}")


class StaleToken(BosunError):
    """A write by a claim holder whose lease or epoch is no longer current (fencing)."""


class LostClaim(BosunError):
    """Nothing was won: exit 1, as `bosun claim` documents."""
