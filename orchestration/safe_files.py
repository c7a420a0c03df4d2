"""Writing files in places an agent can also write: never through a link the agent planted."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path


def replace_text(path: Path, text: str) -> None:
    """Write `text` to a new file beside `path` and rename it over `path`: a symlink an agent put
    there is replaced, not followed, and a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def place_in(root: Path, relative: str, checked: set[Path] | None = None) -> Path | None:
    """Where `relative` goes under `root`, its folders made as needed; None when a folder on the
    way is a link or not a folder (a tree can make `gen` a link to anywhere: writing `gen/out`
    through it would write there). Only for folders nobody is writing meanwhile. `checked`: the
    folders found sound already by earlier calls (each is looked at once for thousands of files)."""
    if os.path.isabs(relative) or ".." in Path(relative).parts:
        return None
    folder = root
    for part in Path(relative).parts[:-1]:
        folder = folder / part
        if checked is not None and folder in checked:
            continue
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            return None
        if not folder.exists():
            folder.mkdir()
        if checked is not None:
            checked.add(folder)
    return root / relative


def read_small(path: Path, limit: int) -> str | None:
    """The text of a regular file of at most `limit` bytes that an agent could have written; None
    for anything else (missing, a link, a FIFO that would block, or too big to read whole)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = handle.read(limit + 1)
    return None if len(data) > limit else data.decode("utf-8", errors="replace")


def remove_tree(folder: Path) -> None:
    """Delete `folder` and all in it, also what its makers left read-only (Go's module cache, a
    test's `chmod -R a-w`: root deletes it anyway, any other user could not, and the folder would
    then be in the way of the next one). Links are removed, never followed; what cannot go stays."""
    if os.path.islink(folder):  # (os.walk would follow one given as the top)
        os.unlink(folder)
        return
    try:
        shutil.rmtree(folder)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    _writable(str(folder))
    for here, folders, _ in os.walk(folder):  # top-down: each folder is made writable before it is read
        for name in folders:
            _writable(os.path.join(here, name))
    shutil.rmtree(folder, ignore_errors=True)


def _writable(folder: str) -> None:
    try:
        if not os.path.islink(folder):
            os.chmod(folder, 0o700)
    except OSError:
        pass


def identity(path: Path) -> tuple[int, int, int] | None:
    """(device, inode, change time in ns) of `path` itself, or None when nothing is there: the
    same name, another folder (an inode number alone comes back soon for a new folder)."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return (found.st_dev, found.st_ino, found.st_ctime_ns)
