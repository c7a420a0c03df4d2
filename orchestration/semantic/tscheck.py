"""TypeScript's type check of several trees in one node process, as `tsc --noEmit` would print it.

Measured (benchmarks/verify.py): a tsc run costs about 1.2 CPU-seconds even on a four-line
project, nearly all of it node's start and parsing and binding the standard library's
declarations; `--incremental` saves nothing there (the program is parsed again). One process
that checks the trees one after the other and hands the next program the parsed and bound files
it already has (the library, the project's node_modules, every file a tree shares with another
under the same path and options) checks four trees for about the price of one and a half.

The script is written next to the system's temporary files (a wheel carries only Python) and run
as `node SCRIPT TYPESCRIPT_JS FOLDER...`; after each tree it prints `@@bosun-tree FOLDER EXIT`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

MARK = "@@bosun-tree"

SCRIPT = r"""
const path = require("path");
const ts = require(process.argv[2]);
const affecting = (ts.sourceFileAffectingCompilerOptions || []).map(o => o.name);
const files = new Map();  // what a file parses and binds to depends only on its text, name and these options
for (const folder of process.argv.slice(3)) {
  const root = path.resolve(folder);
  const diagnostics = [];
  const configHost = { ...ts.sys, getCurrentDirectory: () => root,
                       onUnRecoverableConfigFileDiagnostic: d => diagnostics.push(d) };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"),
                                                     { noEmit: true, skipLibCheck: true }, configHost);
  if (parsed) {
    const host = ts.createCompilerHost(parsed.options);
    host.getCurrentDirectory = () => root;
    const options = JSON.stringify(affecting.map(name => parsed.options[name]));
    host.getSourceFile = (fileName, language) => {
      const text = host.readFile(fileName);
      if (text === undefined) return undefined;
      const key = [fileName, options, JSON.stringify(language), text].join("\0");
      if (!files.has(key)) files.set(key, ts.createSourceFile(fileName, text, language, false));
      return files.get(key);
    };
    const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host,
      projectReferences: parsed.projectReferences,
      configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(parsed) });
    // the order and short cuts of tsc's own report (executeCommandLine's emitFilesAndReportErrors)
    const found = program.getConfigFileParsingDiagnostics().slice();
    const before = found.length;
    found.push(...program.getSyntacticDiagnostics());
    if (found.length === before) {
      found.push(...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics());
      if (found.length === before) found.push(...program.getSemanticDiagnostics());
    }
    diagnostics.push(...found);
  }
  const sorted = ts.sortAndDeduplicateDiagnostics(diagnostics);
  const failed = !parsed || sorted.some(d => d.category === ts.DiagnosticCategory.Error);
  process.stdout.write(ts.formatDiagnostics(sorted, { getCanonicalFileName: f => f, getCurrentDirectory: () => root,
                                                      getNewLine: () => "\n" }));
  process.stdout.write(`\n@@bosun-tree ${folder} ${failed ? 2 : 0}\n`);
}
"""


def script_path() -> Path:
    """The script on disk, written once per content (its hash in the name)."""
    digest = hashlib.sha256(SCRIPT.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"bosun-tscheck-{digest}.js"
    if not path.is_file():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(SCRIPT)
        partial.replace(path)
    return path


def typescript_module(tsc: str) -> Path | None:
    """The compiler library behind a `tsc` program (…/typescript/bin/tsc -> …/typescript/lib/typescript.js)."""
    found = tsc if "/" in tsc else shutil.which(tsc)
    if not found:
        return None
    library = Path(found).resolve().parent.parent / "lib" / "typescript.js"
    return library if library.is_file() else None


def batch_command(tsc: str) -> str | None:
    """`node SCRIPT TYPESCRIPT_JS` for the trees to be appended, or None (no node, or a tsc that is
    not the npm package): then the caller runs tsc itself on each tree."""
    node = shutil.which("node")
    library = typescript_module(tsc)
    if not node or library is None:
        return None
    return f"{node} {script_path()} {library}"


def split(output: str, folders: list[str], exit_code: int | None) -> dict[str, tuple[int | None, str]]:
    """Each folder's (exit code, output) from a batch run's output; a folder the run never reached
    (it crashed or timed out) gets the run's exit code and whatever came after the last tree."""
    results: dict[str, tuple[int | None, str]] = {}
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith(MARK + " "):
            folder, _, code = line[len(MARK) + 1:].rpartition(" ")
            results[folder] = (int(code) if code.isdigit() else 1, "\n".join(lines))
            lines = []
        else:
            lines.append(line)
    rest = "\n".join(lines)
    return {folder: results.get(folder, (exit_code if exit_code != 0 else 1, rest)) for folder in folders}
