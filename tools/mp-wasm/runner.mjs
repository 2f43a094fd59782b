// Runs cuenode firmware code under real MicroPython 1.27 (the official WebAssembly build).
//
//   node runner.mjs [--root DIR] [--heapsize BYTES] [--only MODULE::TEST ...]
//                   [--script FILE] [--copy DIR ...] [--put HOSTFILE=MPPATH ...]
//
// Default mode: import every tests/firmware/test_*.py module, run each test_* function and print
// one JSON line per test: {"kind":"test","module","name","passed","error","duration_ms",
// "allocated","heap_total_before","heap_total_after","heap_grew","output"}, framed by a
// "runtime" line (version, initial heap) and a "done" line, and a {"kind":"module"} line per
// module ("passed": false with the error when it does not import). --script FILE runs one Python file as __main__ instead and passes its
// output through, followed by a {"kind":"script"} line. Exit status: 0 all passed, 1 a failure,
// 2 a usage or set-up error.
//
// The repository's firmware/ and tests/firmware/ trees (plus any --copy DIR) are copied into the
// interpreter's in-memory file system under /repo, keeping their relative layout, so tests find
// their data files next to them exactly as under CPython. --put copies one host file (e.g. a
// show compiled by the host for this run) to an absolute path inside the interpreter.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MP_ROOT = "/repo";
const MAX_COPY_BYTES = 4 * 1024 * 1024;
const MAX_OUTPUT_CHARS = 4000;

function usage(message) {
  process.stderr.write(`runner.mjs: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { root: path.resolve(HERE, "..", ".."), heapsize: 192 * 1024, only: [], copy: [],
    put: [], script: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--root") opts.root = path.resolve(value());
    else if (arg === "--heapsize") opts.heapsize = parseInt(value(), 10);
    else if (arg === "--only") opts.only.push(value());
    else if (arg === "--copy") opts.copy.push(value());
    else if (arg === "--script") opts.script = value();
    else if (arg === "--put") opts.put.push(parsePut(value()));
    else usage(`unknown argument ${arg}`);
  }
  if (!(opts.heapsize > 0)) usage("--heapsize must be a positive number of bytes");
  return opts;
}

function parsePut(spec) {
  const at = spec.lastIndexOf("=");
  if (at <= 0 || !spec.slice(at + 1).startsWith("/")) {
    usage(`--put wants HOSTFILE=/MP/PATH, got ${spec}`);
  }
  const host = path.resolve(spec.slice(0, at));
  if (!fs.existsSync(host)) usage(`--put: no such file ${host}`);
  return { host, target: spec.slice(at + 1) };
}

async function loadRuntime(heapsize, onLine) {
  let mod;
  try {
    mod = await import("@micropython/micropython-webassembly-pyscript");
  } catch (err) {
    usage("the MicroPython WebAssembly build is not installed in tools/mp-wasm " +
      "(run `python3 dev.py test`, which runs `npm ci` there)");
  }
  return mod.loadMicroPython({ heapsize, stdout: onLine, stderr: onLine, linebuffer: true });
}

function mkdirs(mp, dir) {
  let current = "";
  for (const part of dir.split("/").filter(Boolean)) {
    current += "/" + part;
    try {
      mp.FS.mkdir(current);
    } catch (err) {
      // EEXIST: already made
    }
  }
}

// Copy a file or a tree from the repository into the interpreter, under /repo/<relative path>.
function copyIn(mp, root, relative) {
  const source = path.join(root, relative);
  if (!fs.existsSync(source)) return;
  const stat = fs.statSync(source);
  if (stat.isDirectory()) {
    for (const entry of fs.readdirSync(source)) {
      if (entry === "__pycache__" || entry.startsWith(".")) continue;
      copyIn(mp, root, path.join(relative, entry));
    }
    return;
  }
  if (stat.size > MAX_COPY_BYTES) return;
  const target = MP_ROOT + "/" + relative.split(path.sep).join("/");
  mkdirs(mp, path.posix.dirname(target));
  mp.FS.writeFile(target, fs.readFileSync(source));
}

function testModules(root) {
  const dir = path.join(root, "tests", "firmware");
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => /^test_.*\.py$/.test(f)).sort()
    .map((f) => f.slice(0, -3));
}

// Output handling: "@@RESULT {json}" lines are results; lines between @@MEMINFO markers are
// micropython.mem_info() output, parsed for the heap total and hidden; the rest is what the
// code under test printed, attached to the next result (tests) or passed through (scripts).
class OutputRouter {
  constructor(passThrough) {
    this.passThrough = passThrough;
    this.inMemInfo = false;
    this.gcTotal = -1;
    this.captured = [];
    this.failed = false;
    this.last = null;
  }

  line(text) {
    if (text === "@@MEMINFO") this.inMemInfo = true;
    else if (text === "@@MEMINFO-END") this.inMemInfo = false;
    else if (this.inMemInfo) this.parseMemInfo(text);
    else if (text.startsWith("@@RESULT ")) this.result(JSON.parse(text.slice(9)));
    else if (this.passThrough) process.stdout.write(text + "\n");
    else this.captured.push(text);
  }

  parseMemInfo(text) {
    const match = /^GC: total: (\d+)/.exec(text);
    if (match) this.gcTotal = parseInt(match[1], 10);
  }

  result(record) {
    this.last = record;
    if (record.passed === false) this.failed = true;
    if (this.captured.length) {
      const output = this.captured.join("\n");
      record.output = output.length > MAX_OUTPUT_CHARS
        ? output.slice(0, MAX_OUTPUT_CHARS) + "\n...[output truncated]" : output;
      this.captured = [];
    }
    process.stdout.write(JSON.stringify(record) + "\n");
  }
}

function pythonList(items) {
  return "[" + items.map((s) => JSON.stringify(s)).join(", ") + "]";
}

// Every JavaScript object handed to Python (a promise awaited by yield_to_gc included) pins a
// small Python-heap object until a JavaScript FinalizationRegistry callback releases it, which
// happens only after a JavaScript garbage collection. Left alone that is ~30 bytes per yield,
// which would show up as Python heap growth: run the JS collector every few yields.
v8.setFlagsFromString("--expose-gc");
const collectJsGarbage = vm.runInNewContext("gc");
const JS_GC_EVERY = 32;
let yields = 0;

function yieldNow() {
  if (++yields % JS_GC_EVERY === 0) collectJsGarbage();
  return new Promise((resolve) => setImmediate(resolve));
}

// A fresh interpreter with the repository files copied in and the paths set up.
async function newInterpreter(opts, router, state) {
  const mp = await loadRuntime(opts.heapsize, (text) => router.line(text));
  mp.registerJsModule("mpharness_js", {
    gc_total: () => router.gcTotal,
    now_ms: () => performance.now(),
    yield_now: yieldNow,
    tests: (json) => { state.tests = JSON.parse(json); },
  });
  for (const relative of ["firmware", path.join("tests", "firmware"), ...opts.copy]) {
    copyIn(mp, opts.root, relative);
  }
  if (opts.script !== null) copyIn(mp, opts.root, opts.script);
  for (const { host, target } of opts.put) {
    mkdirs(mp, path.posix.dirname(target));
    mp.FS.writeFile(target, fs.readFileSync(host));
  }
  mkdirs(mp, "/lib");
  mp.FS.writeFile("/lib/mpharness.py", fs.readFileSync(path.join(HERE, "harness.py")));
  // Everything that can raise runs inside harness.py's try blocks; this prologue only sets paths.
  await mp.runPythonAsync([
    "import sys, os",
    `sys.path[:0] = ["${MP_ROOT}/firmware", "${MP_ROOT}/tests/firmware", "/lib"]`,
    `os.chdir("${MP_ROOT}")`,
    "import mpharness",
  ].join("\n"));
  return mp;
}

// One top-level call per module import and per test: the GC collects between calls (see
// harness.py) and gives back heap areas it had to add once they are empty. When something a
// test left behind (e.g. interned strings) keeps an added area alive, the heap stays grown: the
// remaining tests then run in a fresh interpreter, so each one really has 192 KB.
async function runTests(opts, router) {
  const state = { tests: [] };
  let mp = null;
  let initial = 0;
  let count = 0;
  const load = async (module) => {
    await mp.runPythonAsync(
      `mpharness.load_module(${JSON.stringify(module)}, ${pythonList(opts.only)})`);
  };
  const fresh = async () => {
    mp = await newInterpreter(opts, router, state);
    await mp.runPythonAsync("mpharness.runtime_info()");
    initial = router.gcTotal;
  };
  await fresh();
  for (const module of testModules(opts.root)) {
    await load(module);
    for (const id of [...state.tests]) {
      await mp.runPythonAsync(`mpharness.run_test(${JSON.stringify(id)}, ${initial})`);
      count++;
      await mp.runPythonAsync("mpharness.heap_total()");  // after the collection
      if (router.gcTotal > initial) {
        await fresh();
        await load(module);
      }
    }
    await mp.runPythonAsync(`mpharness.unload_module(${JSON.stringify(module)})`);
  }
  router.result({ kind: "done", tests: count });
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const router = new OutputRouter(opts.script !== null);
  if (opts.script !== null) {
    const mp = await newInterpreter(opts, router, {});
    await mp.runPythonAsync(
      `await mpharness.run_script(${JSON.stringify(MP_ROOT + "/" + opts.script)})`);
  } else {
    await runTests(opts, router);
  }
  process.exit(router.failed ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`runner.mjs: ${String(err).split("\n")[0]}\n`);
  process.exit(2);
});
