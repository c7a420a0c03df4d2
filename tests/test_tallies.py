"""The gate's test counts, read from what the runners really print: pytest, unittest and
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
