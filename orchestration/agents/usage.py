"""Tokens and cost from what coding-agent CLIs print, where they print them.

Claude Code (`--output-format json`) ends with a result object carrying `usage` and
`total_cost_usd`; Codex (`exec --json`) prints JSON lines with `usage` counts; Gemini CLI's JSON
carries `stats.models.*.tokens`; Aider prints `Tokens: 2.1k sent, 310 received. Cost: $0.01
message, $0.03 session.` The built-in model agent reports its usage in the report file.
"""

from __future__ import annotations

import json
import re

_AIDER = re.compile(r"Tokens: ([\d.]+)(k?) sent, ([\d.]+)(k?) received\.(?: Cost: \$([\d.]+) message, \$([\d.]+) session)?")
_IN_KEYS = ("input_tokens", "prompt_tokens", "prompt")
_OUT_KEYS = ("output_tokens", "completion_tokens", "candidates")
_COST_KEYS = ("total_cost_usd", "cost_usd")


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _walk(node, found: dict) -> None:
    """Sum token counts found at any depth of one JSON object; keep the largest cost."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _IN_KEYS and _number(value) is not None:
                found["prompt_tokens"] = found.get("prompt_tokens", 0) + int(value)
            elif key in _OUT_KEYS and _number(value) is not None:
                found["completion_tokens"] = found.get("completion_tokens", 0) + int(value)
            elif key in _COST_KEYS and _number(value) is not None:
                found["cost_usd"] = max(found.get("cost_usd", 0.0), float(value))
            else:
                _walk(value, found)
    elif isinstance(node, list):
        for item in node:
            _walk(item, found)


def usage_from_output(text: str) -> dict | None:
    """The last usage a CLI printed in `text` (the end of its log), or None if it printed none."""
    matches = list(_AIDER.finditer(text))
    if matches:
        sent, k_sent, received, k_received, _, session = matches[-1].groups()
        usage = {"prompt_tokens": int(float(sent) * (1000 if k_sent else 1)),
                 "completion_tokens": int(float(received) * (1000 if k_received else 1))}
        if session is not None:
            usage["cost_usd"] = float(session)
        return usage
    candidates = [text.strip()] + [line for line in reversed(text.splitlines()) if line.lstrip().startswith("{")]
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except ValueError:
            continue
        found: dict = {}
        _walk(data, found)
        if found:
            return found
    return None


def add_usage(total: dict | None, more: dict | None) -> dict | None:
    """Usage over several attempts."""
    if not more:
        return total
    result = dict(total or {})
    for key in ("prompt_tokens", "completion_tokens"):
        result[key] = result.get(key, 0) + int(more.get(key) or 0)
    if more.get("cost_usd") is not None:
        result["cost_usd"] = round((result.get("cost_usd") or 0.0) + float(more["cost_usd"]), 6)
    return result
