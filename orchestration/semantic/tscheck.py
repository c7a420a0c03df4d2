"""TypeScript's type check of several trees in one node process, as `tsc --noEmit` would print it.

Measured (benchmarks/verify.py): a tsc run costs about 1.2 CPU-seconds even on a four-line
project, nearly all of it node's start and parsing and binding the standard library's
declarations; `--incremental` saves nothing there (the program is parsed again). One process
that checks the trees one after the other and hands the next program the parsed and bound files
it already has (the library, the project's node_modules, every file a tree shares with another
under the same path and options) checks four trees for about the price of one and a half. And
that process stays (five idle minutes, on a socket only this user can open) to serve the next
merges, which then pay for neither node's start nor the library: a merge's few trees cost what
checking their own files costs. BOSUN_TSCHECK_SERVER=0 checks in the calling process only.

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
const path = require("path"), net = require("net"), fs = require("fs"), os = require("os");
const crypto = require("crypto"), child = require("child_process");
const [library, ...rest] = process.argv.slice(2);

function checker() {
  const ts = require(library);
  const affecting = (ts.sourceFileAffectingCompilerOptions || []).map(o => o.name);
  let files = new Map();  // a parsed, bound file depends only on its name, text and these options
  return trees => {  // [[name, folder]...] -> the report, each tree's ending with its mark line
    const used = new Map();
    let out = "";
    for (const [name, folder] of trees) {
      const root = path.resolve(folder);
      const diagnostics = [];
      const configHost = { ...ts.sys, getCurrentDirectory: () => root,
                           onUnRecoverableConfigFileDiagnostic: d => diagnostics.push(d) };
      const parsed = ts.getParsedCommandLineOfConfigFile(path.join(root, "tsconfig.json"),
                                                         { noEmit: true, skipLibCheck: true }, configHost);
      if (parsed) {
        const host = ts.createCompilerHost(parsed.options);
        host.getCurrentDirectory = () => root;
        const options = JSON.stringify(affecting.map(option => parsed.options[option]));
        host.getSourceFile = (fileName, language) => {
          const text = host.readFile(fileName);
          if (text === undefined) return undefined;
          const key = [fileName, options, JSON.stringify(language), text].join("\0");
          const file = files.get(key) || ts.createSourceFile(fileName, text, language, false);
          used.set(key, file);
          return file;
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
        for (const [key, file] of used) files.set(key, file);
      }
      const sorted = ts.sortAndDeduplicateDiagnostics(diagnostics);
      const failed = !parsed || sorted.some(d => d.category === ts.DiagnosticCategory.Error);
      out += ts.formatDiagnostics(sorted, { getCanonicalFileName: f => f, getCurrentDirectory: () => root,
                                            getNewLine: () => "\n" });
      out += `\n@@bosun-tree ${name} ${failed ? 2 : 0}\n`;
    }
    files = used;  // only what this request read stays (the library, node_modules: what recurs)
    return out;
  };
}

function serve(socket) {  // one checker kept warm for later merges; gone after 5 idle minutes
  const check = checker();
  let timer;
  const idle = () => { clearTimeout(timer); timer = setTimeout(() => process.exit(0), 300000); };
  const server = net.createServer(conn => {
    let buffer = "";
    conn.on("error", () => {});
    conn.on("data", chunk => {
      buffer += chunk;
      if (!buffer.endsWith("\n")) return;
      let out;
      try { out = check(JSON.parse(buffer)); } catch (error) { out = String(error && error.stack || error) + "\n"; }
      conn.end(out);
      idle();
    });
  });
  server.on("error", () => process.exit(0));  // another one already serves this socket
  try { fs.unlinkSync(socket); } catch (error) {}
  server.listen(socket, idle);
}

function ask(socket, trees) {
  return new Promise(resolve => {
    let out = "";
    const conn = net.connect(socket, () => conn.write(JSON.stringify(trees) + "\n"));
    conn.on("data", chunk => { out += chunk; });
    conn.on("end", () => resolve(out));
    conn.on("error", () => resolve(null));
  });
}

async function main() {
  if (rest[0] === "--serve") return serve(rest[1]);
  const trees = rest.map(name => [name, path.resolve(name)]);
  let out = null;
  if (process.env.BOSUN_TSCHECK_SERVER !== "0") {
    const folder = path.join(os.tmpdir(), `bosun-tscheck-${process.getuid ? process.getuid() : 0}`);
    fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    const owner = fs.statSync(folder);
    if ((owner.mode & 0o077) === 0 && (!process.getuid || owner.uid === process.getuid())) {  // nobody else's
      const id = crypto.createHash("sha256").update(`${__filename}\0${library}\0${fs.statSync(library).mtimeMs}`)
        .digest("hex").slice(0, 16);
      const socket = path.join(folder, `${id}.sock`);
      out = await ask(socket, trees);
      if (out === null) {
        const server = child.spawn(process.execPath, [__filename, library, "--serve", socket],
                                   { detached: true, stdio: "ignore", cwd: "/" });
        let gone = false;
        server.on("exit", () => { gone = true; });
        server.unref();
        for (let i = 0; i < 100 && out === null && !gone; i++) {
          await new Promise(resolve => setTimeout(resolve, 100));
          out = await ask(socket, trees);
        }
      }
    }
  }
  if (out === null) out = checker()(trees);  // no server: check here
  process.stdout.write(out);
  process.exitCode = /^@@bosun-tree \S+ [1-9]/m.test(out) || !out.includes("@@bosun-tree") ? 2 : 0;
}
main();
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
