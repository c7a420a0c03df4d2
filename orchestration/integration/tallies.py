"""How many tests passed and failed, read from the end of a gate's output: the closing lines the
common runners print (pytest, unittest, cargo test, Jest, Vitest, Mocha, RSpec, `node --test`,
node-tap). Only counts a runner printed are reported, never a guess from part of the output, so
a gate whose runner is not known here shows its verdict without counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from bosun.orchestration.ansi import strip_ansi
from bosun.orchestration.integration.excerpt import READ_BYTES
from bosun.orchestration.process import tail

Counts = dict[str, int]


def _last(pattern: str, text: str) -> re.Match | None:
    """The last match of `pattern` (a summary printed twice, as by a watch mode: the latest)."""
    matches = list(re.finditer(pattern, text, re.MULTILINE))
    return matches[-1] if matches else None


def _words(line: str) -> Counts:
    """`5 passed, 1 failed, 2 skipped` (any separators): failures and errors count as failed."""
    counts = {"passed": 0, "failed": 0}
    for number, word in re.findall(r"(\d+) (passed|failed|errors?)\b", line):
        counts["passed" if word == "passed" else "failed"] += int(number)
    return counts


def _pytest(text: str) -> Counts | None:
    """`=== 1 failed, 57 passed in 1.23s ===` (the last such line of the last 40)."""
    for line in reversed(text.splitlines()[-40:]):
        if re.search(r"\d+ (passed|failed|errors?)\b", line) and re.search(r" in [\d.]+s", line):
            return _words(line)
    return None


def _unittest(text: str) -> Counts | None:
    """`Ran 12 tests in 0.1s` and `FAILED (failures=1, errors=1)`."""
    ran = _last(r"^Ran (\d+) tests?", text)
    if ran is None:
        return None
    bad = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", text[ran.end() :]))
    return {"passed": int(ran.group(1)) - bad, "failed": bad}


def _cargo(text: str) -> Counts | None:
    """One `test result: ok. 5 passed; 0 failed; ...` per test binary: summed."""
    lines = re.findall(r"^test result: \w+\. (\d+) passed; (\d+) failed", text, re.MULTILINE)
    if not lines:
        return None
    return {"passed": sum(int(p) for p, _ in lines), "failed": sum(int(f) for _, f in lines)}


def _jest(text: str) -> Counts | None:
    """`Tests:       1 failed, 2 skipped, 57 passed, 60 total`."""
    found = _last(r"^Tests:\s+(.*\d+ total)", text)
    return _words(found.group(1)) if found else None


def _vitest(text: str) -> Counts | None:
    """`      Tests  1 failed | 57 passed (58)` (not the `Test Files` line above it)."""
    found = _last(r"^\s*Tests\s+(\d+ \w+(?: \| \d+ \w+)*) \(\d+\)", text)
    return _words(found.group(1)) if found else None


def _node_test(text: str) -> Counts | None:
    """`node --test`: `# pass 11` and `# fail 1` (TAP, when not on a terminal), or `ℹ pass 11`."""
    passed = _last(r"^[#ℹ] pass (\d+)$", text)
    failed = _last(r"^[#ℹ] fail (\d+)$", text)
    if passed is None or failed is None:
        return None
    return {"passed": int(passed.group(1)), "failed": int(failed.group(1))}


def _node_tap(text: str) -> Counts | None:
    """node-tap's root: `# failed 1 of 50 tests`, or when all passed the plan `1..50` and then
    `# time=` (counted per test file, as it reports them)."""
    failed = _last(r"^# failed (\d+) of (\d+) tests?", text)
    if failed is not None:
        return {"passed": int(failed.group(2)) - int(failed.group(1)), "failed": int(failed.group(1))}
    plan = _last(r"^1\.\.(\d+)\n# time=[\d.]+m?s$", text)
    return {"passed": int(plan.group(1)), "failed": 0} if plan else None


def _mocha(text: str) -> Counts | None:
    """`  57 passing (2s)` and, when any failed, `  1 failing`."""
    passing = _last(r"^\s*(\d+) passing \(", text)
    if passing is None:
        return None
    failing = _last(r"^\s*(\d+) failing$", text[passing.end() :])
    return {"passed": int(passing.group(1)), "failed": int(failing.group(1)) if failing else 0}


def _rspec(text: str) -> Counts | None:
    """`12 examples, 1 failure` (pending examples are neither)."""
    found = _last(r"^(\d+) examples?, (\d+) failures?(?:, (\d+) pending)?", text)
    if found is None:
        return None
    failed, pending = int(found.group(2)), int(found.group(3) or 0)
    return {"passed": int(found.group(1)) - failed - pending, "failed": failed}


RUNNERS: tuple[Callable[[str], Counts | None], ...] = (
    _cargo,
    _jest,
    _vitest,
    _node_test,
    _node_tap,
    _mocha,
    _rspec,
    _pytest,
    _unittest,
)
"""Most specific first: pytest's pattern would also read a cargo or a Jest line."""


def tally(output: str) -> Counts:
    """Passed / failed counts from the output's end, or {} when no known runner's summary is there."""
    text = strip_ansi(output).replace("\r\n", "\n")
    for runner in RUNNERS:
        counts = runner(text)
        if counts is not None:
            return counts
    return {}


def counts_of(log: Path, output_tail: str) -> Counts:
    """The counts from the end of the gate's log (as much as the excerpt reads: past a coverage
    table or a long report), else from the output's tail kept with its verdict (a gate that ran
    elsewhere)."""
    return tally(tail(log, READ_BYTES) or output_tail)
