"""Which Python files a merge could give a new type error: those whose imports reach, directly or
through other modules of the project, files that both sides changed.

A type checker's verdict on a file depends only on that file and on the modules it imports,
transitively. Where everything a file reaches is as one side left it, the merged tree holds it
exactly as that side did, and a differential check can find nothing new there. So the checker
need only look at files reaching changes of both sides, on every tree; on a merge of independent
work that is a handful of files, or none.

The import graph is over-approximated: the imports of every version of the merge; for
`from pkg import name` both `pkg` and a submodule `pkg/name` with everything under it, for
`import a.b` everything under `a/` (pyrefly resolves submodules as attributes); each enclosing
package's `__init__.py`; a name looked up from the project root, from `src/` and from each folder
above the importing file (where a test runner puts them on the path); every line that looks like
an import. Where even that could be wrong (search paths set in a configuration, links), the
caller checks every file instead (integration/checks.py).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping

Imports = tuple[tuple[int, str, tuple[str, ...]], ...]  # (level, module, names) per import statement;
# the name "*" stands for every module under the module's folder, at any depth (pyrefly resolves
# `pkg.sub.deep` as attributes once `pkg` is bound, whether or not anything imported them)

# An import statement (in text whose continued lines were joined), at the start of a line or
# after `;` or `:` (`else: import x`), wherever it sits (in a function, under `if TYPE_CHECKING:`,
# in a docstring: a line that only looks like one costs a few files checked, never a file missed).
# Read from the text, not a syntax tree: it is ten times cheaper, the type checker waits for it,
# and a file that does not parse is read too.
_STATEMENT = re.compile(
    r"(?:^|[;:])[ \t\f]*(?:from(?=[ \t\f.])[ \t\f]*(?P<dots>[. \t\f]*)(?P<module>[\w. \t\f]*?)[ \t\f]+import"
    r"[ \t\f]*(?P<names>\((?:[^)#]|#[^\n]*)*\)|[^\n;]*)|import[ \t\f]+(?P<modules>[^\n;]*))",
    re.M,
)
_COMMENT = re.compile(r"#[^\n]*")
_SPACE = re.compile(r"[ \t\f]+")

_CACHE: dict[bytes, Imports] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8192


def imports_of(text: str) -> Imports:
    """Every import statement of a file, cached by content: the trees of a merge, and the merges
    of one session, share most files."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    found = _read_imports(text)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.clear()
        _CACHE[key] = found
    return found


def _words(listing: str) -> tuple[str, ...]:
    """`a.b as c, d` (or `(a,\n b)`) -> ("a.b", "d")."""
    listing = _COMMENT.sub("", listing).strip().strip("()")
    return tuple(part.split()[0] for part in listing.split(",") if part.split())


def _read_imports(text: str) -> Imports:
    found = []
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\\\n", " ")  # lines continued by \\ joined
    for match in _STATEMENT.finditer(text):
        if match["modules"] is not None:  # `import a.b` binds `a`: all of it is reachable ("*")
            found += [(0, module.split(".")[0], ("*",)) for module in _words(match["modules"])]
        else:  # `from pkg import name`: pkg's name, or the submodule pkg.name and all under it
            dots, module = _SPACE.sub("", match["dots"]), _SPACE.sub("", match["module"])
            found.append((len(dots), module, _words(match["names"])))
    return tuple(found)


def folders_above(path: str) -> list[str]:
    """`a/b/` and `a/` for `a/b/c.py`, nearest first."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]


def module_files(folder: str, dotted: str) -> list[str]:
    """The files that can hold module `dotted` under `folder` and the packages around it."""
    parts = [p for p in dotted.split(".") if p]
    files = []
    for i in range(1, len(parts) + 1):
        stem = folder + "/".join(parts[:i])
        files += [stem + ".py", stem + ".pyi", stem + "/__init__.py", stem + "/__init__.pyi"]
    return files


def candidates(path: str, imports: Imports, packages: set[str], inside: Mapping[str, set[str]]) -> set[str]:
    """Every project file one of `imports`, made in the file at `path`, may load. `packages`: the
    folders holding an `__init__.py` (a name is not looked up inside a package, as a test runner
    puts only folders outside packages on the path); `inside`: the modules under each folder."""
    found: set[str] = set()
    above = folders_above(path)
    for level, module, names in imports:
        if level > 0:
            if level - 1 >= len(above) + 1:
                continue  # beyond the top: an error the checker reports on the file itself
            folder = ([*above, ""])[level - 1]
            if not module:  # `from . import name`: an attribute of the package's __init__, or a submodule
                found |= {folder + "__init__.py", folder + "__init__.pyi"}
            roots = [folder]
        else:
            roots = ["", "src/", *(folder for folder in above if folder not in packages)]
        for root in roots:
            found.update(module_files(root, module))
            for name in names:
                dotted = module if name == "*" else f"{module}.{name}" if module else name
                if name != "*":
                    found.update(module_files(root, dotted))
                found |= inside.get(root + dotted.replace(".", "/") + "/" if dotted else root, set())
    return found


def files_to_check(trees: Iterable[Mapping[str, str]], changed: tuple[set[str], set[str]]) -> frozenset[str]:
    """The `.py` files (of any version in `trees`: path -> text) whose imports reach, transitively,
    a file of `changed[0]` and a file of `changed[1]` (a file reaches itself)."""
    trees = list(trees)
    paths = set().union(*(tree.keys() for tree in trees)) | changed[0] | changed[1]
    packages = {path.removesuffix("__init__.py") for path in paths if path.endswith("__init__.py")}
    inside: dict[str, set[str]] = defaultdict(set)  # folder -> every file under it, at any depth
    for path in paths:
        for folder in folders_above(path):
            inside[folder].add(path)
    importers: dict[str, set[str]] = defaultdict(set)  # file -> the files that may import it
    for tree in trees:
        for path, text in tree.items():
            for target in candidates(path, imports_of(text), packages, inside) & paths:
                importers[target].add(path)

    def reaching(starts: set[str]) -> set[str]:
        seen = set(starts)
        todo = list(starts)
        while todo:
            for importer in importers.get(todo.pop(), ()):
                if importer not in seen:
                    seen.add(importer)
                    todo.append(importer)
        return seen

    both = reaching(changed[0]) & reaching(changed[1])
    present = set().union(*(tree.keys() for tree in trees))
    return frozenset(path for path in both if path in present and path.endswith(".py"))
