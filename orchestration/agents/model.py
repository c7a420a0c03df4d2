"""The built-in model agent: asks any OpenAI-compatible chat-completions endpoint for edits in
a strict JSON format, applies those inside the unit's scope only, commits, and reports tokens
and cost. Bosun starts it as a subprocess like any agent; its key comes only from the
variable the plan names.

The answer must be one JSON object:
    {"summary": "...", "files": [{"path": "src/x.py", "content": "whole new file"},
                                 {"path": "src/y.py", "diff": "unified diff of that file"},
                                 {"path": "old.py", "delete": true}]}
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bosun.orchestration.scope import in_scope, scope_problem

SYSTEM = """You are a coding agent working in a git repository. You change files only by answering
with one JSON object and nothing else:
{"summary": "<one line>", "files": [{"path": "<relative path>", "content": "<the whole new file>"}]}
Instead of "content" you may give "diff" (a unified diff of that one file) or "delete": true.
Change only files inside the scope you are given. Do not wrap the JSON in prose."""

MAX_CONTEXT_BYTES = 200_000
RETRY_STATUSES = {429, 500, 502, 503, 504}


class AgentFailure(Exception):
    """A failure to report in one line: the unit fails with this reason."""


@dataclass
class Usage:
    """Tokens and cost over every request of this attempt."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    cost_usd: float | None = None
    prices: tuple[float, float] | None = field(default=None, repr=False)

    def add(self, usage: dict | None) -> None:
        self.requests += 1
        if not usage:
            return
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        if self.prices is not None:
            self.cost_usd = round(
                (self.prompt_tokens * self.prices[0] + self.completion_tokens * self.prices[1]) / 1_000_000, 6
            )

    def to_json(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "requests": self.requests,
            "cost_usd": self.cost_usd,
        }


def progress(text: str) -> None:
    print(f"model-agent: {text}", file=sys.stderr, flush=True)


def _git(*args: str, input_text: str | None = None) -> subprocess.CompletedProcess:
    """git with hooks off: this process holds the API key, and another agent could plant a hook."""
    return subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", *args],
        input=input_text,
        capture_output=True,
        text=True,
    )


def gather_context(task: dict, worktree: Path) -> str:
    """The files the model needs: every tracked file in scope (or named by a hand-back), up to a budget."""
    tracked = [p for p in _git("ls-files", "-z").stdout.split("\0") if p]
    scope = tuple(task["scope"]) or None
    wanted = [p for p in tracked if scope and in_scope(p, scope)]
    handback = task.get("handback") or {}
    wanted += [p for p in handback.get("files", []) if p not in wanted and (worktree / p).is_file()]
    parts, budget = [], MAX_CONTEXT_BYTES
    for path in wanted:
        text = (worktree / path).read_text(encoding="utf-8", errors="replace")
        if len(text) > budget:
            parts.append(f"--- {path} (too large to include)")
            continue
        budget -= len(text)
        parts.append(f"--- {path}\n{text}")
    listing = "\n".join(tracked[:500])
    return f"Tracked files:\n{listing}\n\nFiles in scope:\n" + ("\n".join(parts) or "(none yet)")


def build_messages(task: dict, worktree: Path) -> list[dict]:
    lines = [f"Unit {task['unit']}: {task['title']} (attempt {task['attempt']})", "", task["prompt"], ""]
    if task["scope"]:
        lines.append("Scope (the only paths you may change): " + ", ".join(task["scope"]))
    handback = task.get("handback")
    if handback:
        lines.append(f"This unit was handed back: {handback['reason']}. {handback.get('note') or ''}")
        if handback.get("output_tail"):
            lines += ["Test output on the merged tree:", handback["output_tail"]]
        if handback["reason"] == "conflict":
            lines.append("The listed files contain conflict markers: answer with their resolved whole content.")
    lines += ["", gather_context(task, worktree)]
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n".join(lines)}]


def request_completion(
    client: httpx.Client, url: str, body: dict, headers: dict, usage: Usage, max_retries: int
) -> str:
    """POST with retries on 429 and 5xx (honouring Retry-After); the answer's text. Asks for a
    stream and prints progress as it arrives; a server that answers in one piece works too."""
    body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    for attempt in range(max_retries + 1):
        try:
            with client.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code in RETRY_STATUSES and attempt < max_retries:
                    delay = _retry_after(response) or min(0.25 * 2**attempt, 8.0)
                    progress(f"HTTP {response.status_code}; retrying in {delay:.2f}s ({attempt + 1}/{max_retries})")
                    time.sleep(delay)
                    continue
                if response.status_code != 200:
                    raise AgentFailure(
                        f"{url} answered HTTP {response.status_code}: "
                        f"{response.read().decode(errors='replace')[:200].strip()}"
                    )
                if response.headers.get("content-type", "").startswith("text/event-stream"):
                    return _read_stream(response, url, usage)
                return _read_whole(response.read(), url, usage)
        except httpx.TimeoutException:
            raise AgentFailure(f"{url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise AgentFailure(f"cannot reach {url}: {exc}") from None
    raise AgentFailure(f"{url} kept failing after {max_retries} retries")


def _not_a_completion(url: str, raw: str) -> AgentFailure:
    return AgentFailure(f"{url} answered something that is not a chat completion: {raw[:120].strip()!r}")


def _read_whole(raw: bytes, url: str, usage: Usage) -> str:
    try:
        data = json.loads(raw)
        text = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise _not_a_completion(url, raw.decode(errors="replace")) from None
    usage.add(data.get("usage"))
    progress(f"answer received: {len(text or '')} characters, usage {data.get('usage')}")
    return text or ""


def _read_stream(response: httpx.Response, url: str, usage: Usage) -> str:
    """Server-sent events: content deltas, and usage in the last chunk where the server sends it."""
    pieces: list[str] = []
    received, reported, chunk_usage = 0, 0, None
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            break
        try:
            chunk = json.loads(payload)
            delta = chunk["choices"][0].get("delta", {}).get("content") or "" if chunk.get("choices") else ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _not_a_completion(url, payload) from None
        chunk_usage = chunk.get("usage") or chunk_usage
        pieces.append(delta)
        received += len(delta)
        if received - reported >= 400:
            progress(f"receiving: {received} characters")
            reported = received
    usage.add(chunk_usage)
    progress(f"answer received: {received} characters, usage {chunk_usage}")
    return "".join(pieces)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(float(response.headers.get("retry-after", "")), 30.0)
    except ValueError:
        return None


def parse_edits(text: str) -> tuple[str, list[dict]]:
    """The summary and the edits from the model's answer; AgentFailure when it is not the format."""
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    raw = fenced.group(1) if fenced else text.strip()
    try:
        data = json.loads(raw)
    except ValueError:
        raise AgentFailure(f"the model's answer is not JSON: {text[:80].strip()!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise AgentFailure('the model\'s answer has no "files" list')
    edits = []
    for edit in data["files"]:
        if not isinstance(edit, dict) or not isinstance(edit.get("path"), str):
            raise AgentFailure(f"an edit without a path: {str(edit)[:80]}")
        kinds = [k for k in ("content", "diff", "delete") if k in edit]
        if len(kinds) != 1 or (kinds[0] != "delete" and not isinstance(edit[kinds[0]], str)):
            raise AgentFailure(f"the edit of {edit['path']} needs exactly one of content, diff or delete")
        edits.append(edit)
    if not edits:
        raise AgentFailure("the model proposed no edits")
    summary = data.get("summary") if isinstance(data.get("summary"), str) else ""
    return summary.strip()[:200], edits


def check_paths(edits: list[dict], scope: tuple[str, ...] | None) -> None:
    """Refuse the whole answer if any path is unsafe or outside the unit's scope."""
    for edit in edits:
        path = edit["path"]
        if (why := scope_problem(path)) is not None:
            raise AgentFailure(f"refused the model's edits: {why}")
        if not in_scope(path, scope):
            raise AgentFailure(f"refused the model's edits: {path} is outside the scope ({', '.join(scope)})")


def apply_edits(edits: list[dict], worktree: Path) -> None:
    for edit in edits:
        target = worktree / edit["path"]
        if "delete" in edit:
            target.unlink(missing_ok=True)
        elif "content" in edit:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(edit["content"], encoding="utf-8")
        else:
            patch = edit["diff"] if edit["diff"].endswith("\n") else edit["diff"] + "\n"
            result = _git("apply", "--recount", "--whitespace=nowarn", "-", input_text=patch)
            if result.returncode != 0:
                raise AgentFailure(f"the diff for {edit['path']} does not apply: {result.stderr.strip()[:160]}")


def write_report(task: dict, status: str, summary: str, usage: Usage) -> None:
    report = {"protocol": 1, "unit": task["unit"], "status": status, "summary": summary, "usage": usage.to_json()}
    Path(os.environ["BOSUN_REPORT_FILE"]).write_text(json.dumps(report))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bosun-model-agent")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--api-key-env", default=None)
    parser.add_argument("--max-retries", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--price-in", type=float, default=None, help="USD per million prompt tokens")
    parser.add_argument("--price-out", type=float, default=None, help="USD per million completion tokens")
    args = parser.parse_args(argv)
    task = json.loads(Path(os.environ["BOSUN_TASK_FILE"]).read_text())
    prices = (args.price_in or 0.0, args.price_out or 0.0) if args.price_in is not None else None
    usage = Usage(prices=prices)
    worktree = Path.cwd()
    headers = {}
    if args.api_key_env:
        key = os.environ.get(args.api_key_env)
        if not key:
            return _fail(task, usage, f"the variable {args.api_key_env} named by api_key_env is not set")
        headers["Authorization"] = f"Bearer {key}"
    url = args.base_url.rstrip("/") + "/chat/completions"
    body = {"model": args.model, "messages": build_messages(task, worktree), "temperature": 0}
    try:
        progress(f"asking {args.model} at {args.base_url}")
        with httpx.Client(timeout=args.timeout) as client:
            text = request_completion(client, url, body, headers, usage, args.max_retries)
        summary, edits = parse_edits(text)
        check_paths(edits, tuple(task["scope"]) or None)
        apply_edits(edits, worktree)
        progress(f"applied {len(edits)} edit(s): " + ", ".join(e["path"] for e in edits))
    except AgentFailure as exc:
        return _fail(task, usage, str(exc))
    _git("add", "--all")
    message = summary or f"{task['title']} (model agent)"
    commit = _git("commit", "--quiet", "--no-verify", "-m", message)
    if commit.returncode != 0:
        return _fail(task, usage, f"nothing to commit: the edits changed no file ({commit.stdout.strip()[:80]})")
    write_report(task, "done", message, usage)
    progress(f"committed; tokens {usage.prompt_tokens} in, {usage.completion_tokens} out")
    return 0


def _fail(task: dict, usage: Usage, reason: str) -> int:
    print(f"model-agent: {reason}", file=sys.stderr, flush=True)
    write_report(task, "blocked", reason, usage)
    return 1


if __name__ == "__main__":
    sys.exit(main())
