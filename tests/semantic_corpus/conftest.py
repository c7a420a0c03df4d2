"""The corpus holds small projects with their own tests, meant to run inside a temporary git
checkout of one branch (see tests/test_semantic.py), never collected from here."""

collect_ignore_glob = ["*/base", "*/ours", "*/theirs", "*/*/base", "*/*/ours", "*/*/theirs"]
