"""The commented example plan `bosun init` writes; it validates as written."""

EXAMPLE_PLAN = """\
# bosun.toml: the work, as units with dependencies, and the agents that do it.
# Check it with `bosun validate`, start it with `bosun run`.

[project]
base = "main"                      # the branch the session starts from
integration = "bosun/integration"  # the branch the gate keeps green; only Bosun moves it
gate = "python -m pytest -q"       # run on every merged tree; exit 0 = pass
gate_timeout = "10m"
max_agents = 2                     # agents at work at once
merge = "manual"                   # manual: you approve each merge; auto: merge when the gate passes
handback = "auto"                  # conflicts and gate failures go back to the same agent by themselves
max_attempts = 3                   # ...up to this many attempts in all; then you decide

[agents.claude]
kind = "command"
preset = "claude-code"             # or: command = ["my-agent", "--task-file", "{task_file}"]
env = ["ANTHROPIC_API_KEY"]        # variables passed through; every other one is removed

[agents.aider]
kind = "command"
preset = "aider"
env = ["OPENAI_API_KEY"]

[[units]]
id = "parser"
title = "Tokenizer and parser"
prompt = "Write a tokenizer and a recursive-descent parser for arithmetic expressions in src/calc/parser.py, with tests."
scope = ["src/calc/parser.py", "tests/test_parser.py"]   # paths or globs the unit may change
agent = "claude"                   # optional: any free agent when left out
timeout = "20m"

[[units]]
id = "evaluator"
title = "Evaluator"
prompt = "Evaluate the parser's syntax tree in src/calc/evaluator.py, with tests."
depends_on = ["parser"]
scope = ["src/calc/evaluator.py", "tests/test_evaluator.py"]
"""
