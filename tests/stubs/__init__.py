"""Stub servers of each coding-agent vendor's API, on 127.0.0.1 at a free port, for tests/test_cli_*.py."""
