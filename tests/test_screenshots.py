"""The screenshot script plays the whole demo on screen, as the human at the keyboard, to the end."""

from __future__ import annotations

from pathlib import Path

import pytest
from make_screenshots import play_demo


@pytest.mark.slow
async def test_the_demo_played_from_the_keyboard_ends_with_every_unit_merged(tmp_path: Path):
    saved = await play_demo(tmp_path, speed=20)
    assert {p.name for p in saved} == {
        "main.svg",
        "approve.svg",
        "conflict.svg",
        "gate.svg",
        "reassign.svg",
        "finished.svg",
        "timeline.svg",
    }
    finished = (tmp_path / "finished.svg").read_text()
    assert "9/9" in finished and "merged" in finished
    assert "gate" in (tmp_path / "timeline.svg").read_text()
    assert "conflicts" in (tmp_path / "conflict.svg").read_text()
