"""Small widget rules a user relies on: when a lease counts as expiring, how times read."""

from __future__ import annotations

from bosun.widgets.agents_table import duration, lease_cell

COLOURS = {"warning": "yellow", "error": "red"}


def test_a_lease_with_under_a_third_left_is_flagged_expiring():
    assert lease_cell(40, 60, COLOURS).plain == "20s old · 40s left"
    expiring = lease_cell(15, 60, COLOURS)
    assert expiring.plain == "⚠ 45s old · 15s left" and "yellow" in str(expiring.style)
    assert lease_cell(-2, 60, COLOURS).plain == "✖ expired"
    assert lease_cell(None, 60, COLOURS).plain == ""


def test_durations_read_like_a_clock():
    assert [duration(s) for s in (None, 0, 59.9, 61, 3599, 3661)] == ["", "0s", "59s", "1m01s", "59m59s", "1h01m"]


def test_tokens_are_read_as_usage_stores_them():
    from bosun.widgets.agents_table import cost, tokens
    assert tokens({"prompt_tokens": 1500, "completion_tokens": 700, "cost_usd": 0.0123}) == "2.2k"
    assert tokens({"prompt_tokens": 12}) == "12" and tokens(None) == ""
    assert cost({"cost_usd": 0.0123}) == "$0.012"
