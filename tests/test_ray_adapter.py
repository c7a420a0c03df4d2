"""Pins the one piece of Ray's private API Bosun relies on (orchestration/backends/ray_adapter.py):
the driver prints cluster errors through the module-level `print_to_stdstream(data, ignore_prefix)`,
looked up by name when it prints, so replacing that name sends them to Bosun's log."""

from __future__ import annotations

import inspect

from conftest import import_tool

ray = import_tool("ray", "the Ray backend's tests need Ray: pip install 'bosun[ray]'")


def test_ray_prints_cluster_errors_through_the_name_bosun_replaces(tmp_path):
    from ray._private import worker

    from bosun.orchestration.backends.ray_adapter import quiet_driver

    assert list(inspect.signature(worker.print_to_stdstream).parameters) == ["data", "ignore_prefix"]
    assert "print_to_stdstream" in worker.listen_error_messages.__code__.co_names
    original = worker.print_to_stdstream
    log = tmp_path / "logs" / "ray.log"
    try:
        quiet_driver(log)
        worker.print_to_stdstream({"lines": ["raylet died"], "pid": "raylet", "is_err": False}, ignore_prefix=False)
    finally:
        worker.print_to_stdstream = original
    assert log.read_text() == "raylet: raylet died\n"


def test_ray_turns_faulthandler_on_only_when_it_is_off():
    """What `fault_log` relies on: the driver's start leaves an enabled `faulthandler` alone (under
    the screen Bosun turns it on first, on a real file; Ray's own call would fail on Textual's
    `sys.stderr`, issue 32)."""
    from ray._private import worker

    source = inspect.getsource(worker.connect)
    assert "if not faulthandler.is_enabled():" in source and "faulthandler.enable(" in source
