"""`bosun report`: a session's story from its store — a text summary, the figures as JSON, or
one self-contained HTML page. Reads the store only, so it works while a supervisor runs."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from bosun.app.cli.repo_session import opened
from bosun.orchestration.errors import BosunError


def write_atomically(path: Path, text: str) -> None:
    """The whole page or nothing: written beside `path`, then renamed over it."""
    folder = path.parent
    if not folder.is_dir():
        raise BosunError(f"bosun report: {folder}: no such directory for --html")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise BosunError(f"bosun report: cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BosunError(f"bosun report: cannot write {path}: {exc.strerror}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def cmd_report(args: argparse.Namespace) -> int:
    from bosun.orchestration.report import figures, read_session

    if args.html is not None and args.html.is_dir():
        raise BosunError(f"bosun report: {args.html} is a directory; --html wants a file name")
    with opened(args) as session:
        found = figures(read_session(session))
    if args.html is not None:
        from bosun.orchestration.report.page import report_page

        write_atomically(args.html.resolve(), report_page(found))
    if args.json:
        print(json.dumps(found, indent=2))
    elif args.html is not None:
        print(f"wrote {args.html}")
    else:
        from bosun.orchestration.report.text import summary_text

        print(summary_text(found))
    return 0
