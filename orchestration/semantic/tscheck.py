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

The script is written into this user's own folder among the temporary files (a wheel carries only
Python), bosun-tscheck-UID, 0700 and checked to be ours, beside the server's socket, and run as
`node SCRIPT TYPESCRIPT_JS FOLDER...`; after each tree it prints `@@bosun-tree FOLDER EXIT`. A kept
server refuses a request while it checks another, and exits when a request runs past
BOSUN_TSCHECK_BUDGET seconds (300, the runner's timeout) or its client leaves; a client whose
server is silent past that kills it and checks in its own process.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import tempfile
from pathlib import Path

MARK = "@@bosun-tree"

SCRIPT = r"""
const path = require("path"), net = require("net"), fs = require("fs");
const crypto = require("crypto"), child = require("child_process"), threads = require("worker_threads");
const budget = 1000 * (Number(process.env.BOSUN_TSCHECK_BUDGET) || 300);  // one request's most, as the runner's

function checker(library) {
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

// One checker kept warm for later merges; gone after 5 idle minutes. It checks in a worker thread so
// that this one stays free: it refuses a request while another runs (that client checks on its own
// rather than wait), and exits when a request runs past the budget or its client has left (the
// runner timed it out), so no check outlives its runner. Each connection first gets the server's pid.
function serve(library, socket) {
  const worker = new threads.Worker(__filename, { workerData: library });
  let timer, current = null, ino = null;
  const quit = () => {
    try { if (fs.statSync(socket).ino === ino) fs.unlinkSync(socket); } catch (error) {}  // only our own
    process.exit(0);
  };
  const idle = () => { clearTimeout(timer); timer = setTimeout(quit, 300000); };
  worker.on("error", quit).on("exit", quit);
  process.stdout.on("error", () => {});
  const server = net.createServer(conn => {
    let buffer = "";
    conn.on("error", () => {});
    conn.on("close", () => { if (current === conn) quit(); });
    conn.write(`@@bosun-server ${process.pid}\n`);
    conn.on("data", chunk => {
      buffer += chunk;
      if (!buffer.endsWith("\n") || conn === current) return;
      if (current) return conn.end();  // busy
      current = conn;
      clearTimeout(timer);
      timer = setTimeout(quit, budget);
      worker.once("message", out => { current = null; conn.end(out); idle(); });
      worker.postMessage(buffer);
    });
  });
  server.on("error", () => process.exit(0));  // another one took the socket first
  const listen = () => server.listen(socket, () => {
    ino = fs.statSync(socket).ino;
    process.stdout.write("listening\n");
    idle();
    setInterval(ours, 1000).unref();
  });
  // Two servers started at once: one probe can find the other bound but not yet listening, take
  // the path over, and leave it serving nobody. Each second an idle server asks the path who
  // answers there; anyone else (or no one) means it lost the path, and it leaves.
  const ours = () => {
    if (current) return;
    let said = "";
    const asked = net.connect(socket);
    asked.on("error", () => process.exit(0));
    asked.on("data", chunk => {
      said += chunk;
      if (!said.includes("\n")) return;
      asked.destroy();
      if (said !== `@@bosun-server ${process.pid}\n`) process.exit(0);
    });
  };
  const probe = net.connect(socket);  // a socket somebody answers on is never taken over
  probe.on("connect", () => process.exit(0));
  probe.on("error", error => {
    if (error.code === "ECONNREFUSED") try { fs.unlinkSync(socket); } catch (e) {}  // a dead server's
    listen();
  });
}

// The server's report; undefined: nobody listens there; null: no report (busy, failed, or past the
// deadline: a server still silent a second after its own budget is stuck, and is killed).
function ask(socket, trees) {
  return new Promise(resolve => {
    let out = "", pid = 0;
    const conn = net.connect(socket, () => conn.write(JSON.stringify(trees) + "\n"));
    const late = setTimeout(() => {
      if (pid > 1) try { process.kill(pid, "SIGKILL"); } catch (error) {}
      conn.destroy();
      resolve(null);
    }, budget + 1000);
    conn.on("data", chunk => {
      out += chunk;
      const first = /^@@bosun-server (\d+)\n/.exec(out);
      if (first) pid = Number(first[1]);
    });
    conn.on("end", () => {
      clearTimeout(late);
      const report = out.replace(/^@@bosun-server \d+\n/, "");
      resolve(report.includes("@@bosun-tree") ? report : null);
    });
    conn.on("error", error => {
      clearTimeout(late);
      resolve(error.code === "ENOENT" || error.code === "ECONNREFUSED" ? undefined : null);
    });
  });
}

async function served(library, trees) {  // the kept server's report, or null: then check here
  if (process.env.BOSUN_TSCHECK_SERVER === "0") return null;
  const folder = path.dirname(__filename), owner = fs.statSync(folder);
  if ((owner.mode & 0o077) !== 0 || (process.geteuid && owner.uid !== process.geteuid())) return null;
  const id = crypto.createHash("sha256").update(`${__filename}\0${library}\0${fs.statSync(library).mtimeMs}`)
    .digest("hex").slice(0, 16);
  const socket = path.join(folder, `${id}.sock`);
  const out = await ask(socket, trees);
  if (out !== undefined) return out;
  const server = child.spawn(process.execPath, [__filename, library, "--serve", socket],
                             { detached: true, stdio: ["ignore", "pipe", "ignore"], cwd: "/" });
  await new Promise(resolve => {  // it listens, or leaves (another one does), or never gets there
    const wait = setTimeout(resolve, 10000);
    const done = () => { clearTimeout(wait); resolve(); };
    server.stdout.once("data", done).once("close", done);
    server.once("error", done);
  });
  server.stdout.destroy();
  server.unref();
  return (await ask(socket, trees)) || null;
}

async function main() {
  const [library, ...rest] = process.argv.slice(2);
  if (rest[0] === "--serve") return serve(library, rest[1]);
  const trees = rest.map(name => [name, path.resolve(name)]);
  const out = (await served(library, trees)) || checker(library)(trees);  // no server: check here
  process.stdout.write(out);
  process.exitCode = /^@@bosun-tree \S+ [1-9]/m.test(out) || !out.includes("@@bosun-tree") ? 2 : 0;
}

if (threads.isMainThread) {
  main();
} else {  // the server's worker
  const check = checker(threads.workerData);
  threads.parentPort.on("message", request => {
    let out;
    try { out = check(JSON.parse(request)); } catch (error) { out = String(error && error.stack || error) + "\n"; }
    threads.parentPort.postMessage(out);
  });
}
"""


def user_folder() -> Path | None:
    """This user's folder for the script and the kept server's socket, or None when the name is taken
    by something that is not ours alone: whoever owns or may write to it could put their own script
    there for us to run."""
    path = Path(tempfile.gettempdir()) / f"bosun-tscheck-{os.geteuid()}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return path


def script_path() -> Path | None:
    """The script on disk in this user's folder (its hash in the name), written again unless the file
    there is ours and holds exactly SCRIPT; None without such a folder."""
    home = user_folder()
    if home is None:
        return None
    digest = hashlib.sha256(SCRIPT.encode()).hexdigest()[:12]
    path = home / f"tscheck-{digest}.js"
    try:
        info = os.lstat(path)
        good = stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and path.read_text() == SCRIPT
    except (OSError, UnicodeDecodeError):
        good = False
    if not good:
        partial = home / f".tscheck-{digest}.{os.getpid()}.tmp"
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
    script = script_path() if node and library is not None else None
    if script is None:
        return None
    return shlex.join([node, str(script), str(library)])


def split(output: str, folders: list[str], exit_code: int | None) -> dict[str, tuple[int | None, str]]:
    """Each folder's (exit code, output) from a batch run's output; a folder the run never reached
    (it crashed or timed out) gets the run's exit code and whatever came after the last tree."""
    results: dict[str, tuple[int | None, str]] = {}
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith(MARK + " "):
            folder, _, code = line[len(MARK) + 1 :].rpartition(" ")
            results[folder] = (int(code) if code.isdigit() else 1, "\n".join(lines))
            lines = []
        else:
            lines.append(line)
    rest = "\n".join(lines)
    return {folder: results.get(folder, (exit_code if exit_code != 0 else 1, rest)) for folder in folders}
