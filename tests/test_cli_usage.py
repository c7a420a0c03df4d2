"""Tokens and cost read from each coding-agent CLI's structured stream, as the presets ask for it
(samples shaped like what the pinned CLIs printed in tests/test_cli_*.py), without the CLIs."""

from __future__ import annotations

import json

import pytest

from bosun.orchestration.agents.usage import usage_from_output


def lines(*events: dict) -> str:
    return "\n".join(json.dumps(e, separators=(",", ":")) for e in events) + "\n"


CLAUDE_STREAM = lines(
    {"type": "system", "subtype": "init", "tools": ["Write"]},
    {
        "type": "assistant",
        "message": {
            "id": "msg_1",
            "content": [{"type": "tool_use", "name": "Write"}],
            "usage": {"input_tokens": 1234, "output_tokens": 1},
        },
    },
    {"type": "user", "message": {"content": [{"type": "tool_result"}]}},
    {
        "type": "assistant",
        "message": {
            "id": "msg_2",
            "content": [{"type": "text", "text": "Done."}],
            "usage": {"input_tokens": 1234, "output_tokens": 1},
        },
    },
    {
        "type": "result",
        "subtype": "success",
        "total_cost_usd": 0.012112,
        "num_turns": 2,
        "usage": {
            "input_tokens": 2468,
            "output_tokens": 112,
            "cache_read_input_tokens": 0,
            "output_tokens_details": {"thinking_tokens": 0},
        },
        "modelUsage": {"claude-x": {"inputTokens": 2468, "outputTokens": 112, "costUSD": 0.012112}},
    },
)
QWEN_STREAM = lines(
    {"type": "system", "subtype": "init", "cwd": "/w"},
    {"type": "assistant", "message": {"id": "a1", "usage": {"input_tokens": 1800, "output_tokens": 90}}},
    {
        "type": "result",
        "subtype": "success",
        "usage": {"input_tokens": 3600, "output_tokens": 180, "total_tokens": 3780},
    },
)
GEMINI_STREAM = lines(
    {"type": "init", "model": "auto"},
    {"type": "tool_use", "tool_name": "write_file"},
    {
        "type": "result",
        "status": "success",
        "stats": {
            "total_tokens": 3433,
            "input_tokens": 3010,
            "output_tokens": 423,
            "cached": 0,
            "input": 3010,
            "models": {"gemini-x": {"total_tokens": 3433, "input_tokens": 3010, "output_tokens": 423, "input": 3010}},
        },
    },
)
CODEX_STREAM = lines(
    {"type": "thread.started"},
    {"type": "turn.started"},
    {"type": "item.completed", "item": {"type": "file_change", "status": "completed"}},
    {"type": "turn.completed", "usage": {"input_tokens": 4200, "cached_input_tokens": 600, "output_tokens": 140}},
    {"type": "turn.started"},
    {"type": "turn.completed", "usage": {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 10}},
)
OPENCODE_STREAM = lines(
    {"type": "step_start", "part": {"type": "step-start"}},
    {"type": "tool_use", "part": {"type": "tool", "tool": "write"}},
    {
        "type": "step_finish",
        "part": {
            "type": "step-finish",
            "cost": 0.00675,
            "tokens": {"total": 1890, "input": 1800, "output": 90, "cache": {"read": 0}},
        },
    },
    {
        "type": "step_finish",
        "part": {
            "type": "step-finish",
            "cost": 0.00675,
            "tokens": {"total": 1890, "input": 1800, "output": 90, "cache": {"read": 0}},
        },
    },
)


@pytest.mark.parametrize(
    "output, expected",
    [
        (CLAUDE_STREAM, {"prompt_tokens": 2468, "completion_tokens": 112, "cost_usd": 0.012112}),
        (QWEN_STREAM, {"prompt_tokens": 3600, "completion_tokens": 180}),
        (GEMINI_STREAM, {"prompt_tokens": 3010, "completion_tokens": 423}),
        (CODEX_STREAM, {"prompt_tokens": 4300, "completion_tokens": 150}),
        (OPENCODE_STREAM, {"prompt_tokens": 3600, "completion_tokens": 180, "cost_usd": 0.0135}),
        # While Claude Code still works: each API message once (a message spans several events).
        (
            CLAUDE_STREAM.rsplit("\n", 2)[0] + "\n" + CLAUDE_STREAM.splitlines()[1],
            {"prompt_tokens": 2468, "completion_tokens": 2},
        ),
        # The log's tail may start in the middle of a line: that line is skipped.
        (CODEX_STREAM[15:], {"prompt_tokens": 4300, "completion_tokens": 150}),
        (
            "stderr noise\n"
            + json.dumps(
                {"response": "done", "stats": {"models": {"g": {"tokens": {"prompt": 10, "candidates": 5}}}}}, indent=2
            ),
            {"prompt_tokens": 10, "completion_tokens": 5},
        ),
    ],
)
def test_usage_is_read_from_each_clis_stream(output: str, expected: dict) -> None:
    assert usage_from_output(output) == expected
