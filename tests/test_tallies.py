"""What a gate's verdict reads from its output: the test counts, and the excerpt a failure is
shown with. Counts from what the runners really print: pytest, unittest and
`node --test` run here on a suite with two passing tests and one failing; the closing lines of
runners this machine does not have (Jest, Vitest, Mocha, node-tap, cargo, RSpec) as they print
them, colours included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_tool

from bosun.orchestration.integration.excerpt import excerpt
from bosun.orchestration.integration.tallies import counts_of, tally

TWO_PASS_ONE_FAIL = {"passed": 2, "failed": 1}


def _output(argv: list[str], cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode != 0, done.stdout + done.stderr  # one test fails
    return done.stdout + done.stderr


def test_pytest(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("def test_one(): pass\ndef test_two(): pass\ndef test_bad(): assert 0\n")
    output = _output([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "test_a.py"], tmp_path)
    assert tally(output) == TWO_PASS_ONE_FAIL


def test_unittest(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(
        "import unittest\nclass T(unittest.TestCase):\n"
        "    def test_one(self): pass\n    def test_two(self): pass\n    def test_bad(self): self.fail()\n"
    )
    assert tally(_output([sys.executable, "-m", "unittest", "test_a"], tmp_path)) == TWO_PASS_ONE_FAIL


@needs_tool(None if shutil.which("node") else "node is not installed")
def test_node_test(tmp_path: Path) -> None:
    (tmp_path / "a.test.js").write_text(
        'const test = require("node:test");\nconst assert = require("node:assert");\n'
        'test("one", () => {});\ntest("two", () => {});\ntest("bad", () => assert.strictEqual(1, 2));\n'
    )
    assert tally(_output(["node", "--test"], tmp_path)) == TWO_PASS_ONE_FAIL


JEST = """\
 FAIL  src/sum.test.js
  ● sum › adds

Test Suites: 1 failed, 1 passed, 2 total
Tests:       1 failed, 1 skipped, 2 passed, 4 total
Snapshots:   0 total
Time:        0.512 s
"""
RED, GREEN, DIM, GREY, OFF = "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[90m", "\x1b[0m"
VITEST = (
    f" {RED}❯{OFF} src/sum.test.ts  (3 tests | 1 failed) 4ms\n\n"
    f"{DIM} Test Files {OFF} {RED}1 failed{OFF}{DIM} | {OFF}{GREEN}1 passed{OFF}{GREY} (2){OFF}\n"
    f"{DIM}      Tests {OFF} {RED}1 failed{OFF}{DIM} | {OFF}{GREEN}2 passed{OFF}{GREY} (3){OFF}\n"
    f"{DIM}   Start at {OFF} 10:02:11\n"
)
MOCHA = """\
  sum
    ✔ adds
    ✔ adds negatives
    1) subtracts


  2 passing (9ms)
  1 failing

  1) sum
"""
NODE_TAP_FAILED = "ok 1 - test/a.js # time=9ms\nnot ok 2 - test/b.js\n\n1..3\n# failed 1 of 3 tests\n# time=879.054ms\n"
NODE_TAP_PASSED = "ok 1 - test/a.js # time=9ms\n\n1..2\n# time=63461.094ms\n" + "  a.js | 100 | 100 |\n" * 80
CARGO = """\
test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s
"""
RSPEC = "Finished in 0.01 seconds (files took 0.1 seconds to load)\n4 examples, 1 failure, 1 pending\n"


@pytest.mark.parametrize(
    ("output", "counts"),
    [
        (JEST, TWO_PASS_ONE_FAIL),
        (VITEST, TWO_PASS_ONE_FAIL),
        (MOCHA, TWO_PASS_ONE_FAIL),
        (NODE_TAP_FAILED, TWO_PASS_ONE_FAIL),
        (NODE_TAP_PASSED, {"passed": 2, "failed": 0}),
        (CARGO, TWO_PASS_ONE_FAIL),
        (RSPEC, TWO_PASS_ONE_FAIL),
    ],
    ids=["jest", "vitest", "mocha", "node-tap failed", "node-tap passed", "cargo", "rspec"],
)
def test_runners_closing_lines(output: str, counts: dict) -> None:
    assert tally(output) == counts


def test_no_known_summary_gives_no_counts() -> None:
    assert tally("make: *** [check] Error 1\n") == {}
    assert tally("Tests: see below\n1..\n") == {}  # words a runner uses, without its numbers


def test_counts_are_read_past_a_long_report(tmp_path: Path) -> None:
    """node-tap prints its coverage table after the counts: the log's end is read, not only the
    few KB kept as the output's tail."""
    log = tmp_path / "gate.log"
    log.write_text(NODE_TAP_PASSED + "x" * 6000 + "\n")
    assert counts_of(log, output_tail="x" * 4000) == {"passed": 2, "failed": 0}
    assert counts_of(tmp_path / "gone.log", output_tail=JEST) == TWO_PASS_ONE_FAIL  # ran elsewhere: the tail


@needs_tool(None if shutil.which("node") else "node is not installed")
def test_a_failed_run_keeps_what_failed_not_its_coverage_table(tmp_path: Path) -> None:
    """`node --test` with coverage ends with its coverage report: the excerpt a failure is shown
    (and handed back) with leads with the `not ok` lines and ends before the table."""
    (tmp_path / "lib.js").write_text("exports.add = (a, b) => a + b;\nexports.unused = () => 1;\n")
    (tmp_path / "a.test.js").write_text(
        'const test = require("node:test");\nconst assert = require("node:assert");\n'
        'const { add } = require("./lib.js");\ntest("one", () => assert.strictEqual(add(1, 1), 2));\n'
        'test("bad", () => assert.strictEqual(add(1, 2), 4));\n'
    )
    log = tmp_path / "gate.log"
    log.write_text(_output(["node", "--test", "--experimental-test-coverage"], tmp_path))
    assert "all files |" in log.read_text(), "node printed no coverage table"
    shown = excerpt(log)
    assert shown.startswith("not ok 2 - bad"), shown[:200]
    assert "# fail 1" in shown and "all files |" not in shown and "coverage report of" in shown
    assert counts_of(log, "") == {"passed": 1, "failed": 1}


def test_a_tap_failure_far_above_the_end_leads_the_excerpt(tmp_path: Path) -> None:
    lines = ["TAP version 13", "# Subtest: test/a.js", "    not ok 1 - times out", "not ok 1 - test/a.js"]
    lines += [f"ok {n} - test/f{n}.js # time=9ms" for n in range(2, 400)]
    lines += ["", "1..399", "# failed 1 of 399 tests", "# time=61000ms", "-" * 20 + "|" + "-" * 9 + "|"]
    lines += [f" f{n}.js | 100 | 100 | 100 |" for n in range(60)]
    log = tmp_path / "gate.log"
    log.write_text("\n".join(lines) + "\n")
    shown = excerpt(log)
    assert shown.startswith("    not ok 1 - times out\nnot ok 1 - test/a.js\n"), shown[:200]
    assert "# failed 1 of 399 tests" in shown and "f59.js | 100" not in shown and len(shown) <= 4100


def test_output_without_a_table_is_kept_as_it_ends(tmp_path: Path) -> None:
    log = tmp_path / "gate.log"
    log.write_text("".join(f"line {n}\n" for n in range(2000)) + "| a | b |\n=== 1 failed, 3 passed in 0.1s ===\n")
    shown = excerpt(log)
    assert shown.endswith("| a | b |\n=== 1 failed, 3 passed in 0.1s ===\n") and len(shown) <= 4000
    assert shown.startswith("line ") and "coverage" not in shown
