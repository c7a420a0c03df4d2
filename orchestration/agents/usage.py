"""Tokens and cost from what coding-agent CLIs print, where they print them.

Each preset asks its CLI for its structured stream, and each stream says it differently:
- Claude Code (`-p --output-format stream-json --verbose`, or `json`) ends with a `result` event
  carrying the session's `usage` and its own `total_cost_usd`; before it, each `assistant`
  event carries its API message's usage (one message may span several events). Qwen Code's
  stream-json has the same shape, without a cost.
- Gemini CLI (`--output-format stream-json`) ends with a `result` event whose `stats` hold
  `input_tokens` / `output_tokens`; its `json` format has `stats.models.*.tokens`.
- Codex (`exec --json`) prints a `turn.completed` event with `usage` per turn.
- opencode (`run --format json`) prints a `step_finish` event per model step, with `tokens` and
  its own `cost`.
- Aider prints `Tokens: 2.1k sent, 310 received. Cost: $0.01 message, $0.03 session.`
The built-in model agent reports its usage in the report file.
"""

from __future__ import annotations

import json
import re

_AIDER = re.compile(
    r"Tokens: ([\d.]+)(k?) sent, ([\d.]+)(k?) received\.(?: Cost: \$([\d.]+) message, \$([\d.]+) session)?"
)
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


def _events(text: str) -> list[dict]:
    """Every JSON object printed on a line of its own (a line cut by the log's tail is skipped)."""
    events = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                events.append(event)
    return events


def _tokens(usage: dict, in_key: str, out_key: str) -> dict | None:
    prompt, completion = _number(usage.get(in_key)), _number(usage.get(out_key))
    if prompt is None and completion is None:
        return None
    return {"prompt_tokens": int(prompt or 0), "completion_tokens": int(completion or 0)}


def _from_result(events: list[dict]) -> dict | None:
    """The final `result` event of Claude Code, Qwen Code or Gemini CLI: the whole session's totals."""
    for event in reversed(events):
        if event.get("type") != "result":
            continue
        if isinstance(event.get("usage"), dict):  # Claude Code, Qwen Code
            found = _tokens(event["usage"], "input_tokens", "output_tokens")
            if found is not None:
                cost = _number(event.get("total_cost_usd"))
                if cost is not None:
                    found["cost_usd"] = cost
                return found
        if isinstance(event.get("stats"), dict):  # Gemini CLI's stream-json
            found = _tokens(event["stats"], "input_tokens", "output_tokens")
            if found is not None:
                return found
    return None


def _summed(events: list[dict]) -> dict | None:
    """Codex's `turn.completed` and opencode's `step_finish` events, each one turn or step: summed."""
    total: dict | None = None
    cost = 0.0
    for event in events:
        found = None
        if event.get("type") == "turn.completed" and isinstance(event.get("usage"), dict):  # Codex
            found = _tokens(event["usage"], "input_tokens", "output_tokens")
        elif event.get("type") == "step_finish" and isinstance(event.get("part"), dict):  # opencode
            part = event["part"]
            if isinstance(part.get("tokens"), dict):
                found = _tokens(part["tokens"], "input", "output")
                cost += _number(part.get("cost")) or 0.0
        if found is not None:
            total = {k: (total or {}).get(k, 0) + v for k, v in found.items()}
    if total is not None and cost > 0:
        total["cost_usd"] = round(cost, 6)
    return total


def _from_messages(events: list[dict]) -> dict | None:
    """While Claude Code or Qwen Code still works: each API message's usage, counted once per message."""
    per_message: dict[str, dict] = {}
    for index, event in enumerate(events):
        message = event.get("message") if event.get("type") == "assistant" else None
        if isinstance(message, dict) and isinstance(message.get("usage"), dict):
            found = _tokens(message["usage"], "input_tokens", "output_tokens")
            if found is not None:
                per_message[str(message.get("id") or index)] = found
    if not per_message:
        return None
    return {k: sum(u[k] for u in per_message.values()) for k in ("prompt_tokens", "completion_tokens")}


def usage_from_output(text: str) -> dict | None:
    """The usage a CLI printed in `text` (the end of its log), or None if it printed none."""
    matches = list(_AIDER.finditer(text))
    if matches:
        sent, k_sent, received, k_received, _, session = matches[-1].groups()
        usage = {
            "prompt_tokens": int(float(sent) * (1000 if k_sent else 1)),
            "completion_tokens": int(float(received) * (1000 if k_received else 1)),
        }
        if session is not None:
            usage["cost_usd"] = float(session)
        return usage
    events = _events(text)
    for read in (_from_result, _summed, _from_messages):
        found = read(events)
        if found is not None:
            return found
    # One JSON document (Gemini CLI's `--output-format json`, pretty-printed), or any last JSON line.
    candidates = [text.strip()] + [line for line in reversed(text.splitlines()) if line.lstrip().startswith("{")]
    start = text.rfind("\n{\n")
    if start >= 0:
        candidates.insert(1, text[start:].strip())
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


def add_usage(total: dict | None, more: dict | None, agent: str | None = None) -> dict | None:
    """Usage over several attempts; with `agent`, also what each agent spent (`by_agent`): a unit
    reassigned or taken over was paid for by more than one, and each pays for its own."""
    if not more:
        return total
    result = dict(total or {})
    for key in ("prompt_tokens", "completion_tokens"):
        result[key] = result.get(key, 0) + int(more.get(key) or 0)
    if more.get("cost_usd") is not None:
        result["cost_usd"] = round((result.get("cost_usd") or 0.0) + float(more["cost_usd"]), 6)
    own = {k: v for k, v in more.items() if k != "by_agent"}
    if agent is not None and own:
        by_agent = dict(result.get("by_agent") or {})
        by_agent[agent] = add_usage(by_agent.get(agent), own)
        result["by_agent"] = by_agent
    return result


def spent_by_agent(units) -> dict[str, dict]:
    """What each agent spent, over `(usage, agent)` pairs, one per unit: its `by_agent`, and what
    no agent is named for (a session from before `by_agent`) to the unit's agent."""
    spent: dict[str, dict] = {}
    keys = ("prompt_tokens", "completion_tokens", "cost_usd")
    for usage, agent in units:
        if not usage:
            continue
        by_agent = usage.get("by_agent")
        named = (
            {w: part for w, part in by_agent.items() if isinstance(part, dict)} if isinstance(by_agent, dict) else {}
        )
        for who, part in named.items():
            spent[who] = add_usage(spent.get(who), part)
        rest = {k: (usage.get(k) or 0) - sum(part.get(k) or 0 for part in named.values()) for k in keys}
        if abs(rest["cost_usd"]) < 1e-9:  # none left, or never known: not a cost of $0
            del rest["cost_usd"]
        if agent and any(value > 1e-9 for value in rest.values()):
            spent[agent] = add_usage(spent.get(agent), rest)
    return spent
