// One virtual node under the MicroPython WebAssembly build (the --runtime micropython node).
//
//   node mpnode.mjs --id ID --flash DIR --serial-fd N --world SOCK [--virtual] --mp MODULE
//
// The same firmware files as a board (boot.py, main.py, cuefw/, board_emu.py, from the flash
// directory) run on real MicroPython 1.27 with a 192 KB heap. The interpreter's file system is
// in memory: the flash directory is copied in at boot and written back after every REPL
// command. machine/emu_hw are small Python shims over `emu_js` (this file): pins, watchdog, DMX
// line, probe. The world socket speaks the same protocol as cuenode/emulator/world.py for
// hello, state, subscribe, last_frame, advance (virtual time), drive. The serial is the
// interpreter's own REPL (replProcessChar) once the firmware is stopped with Ctrl-C.
// Not here (see docs/emulator.md): the serial link task, flash-write faults, bounce.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--virtual") args.virtual = true;
  else args[a.replace(/^--/, "").replace(/-/g, "_")] = process.argv[++i];
}
const { loadMicroPython } = await import(args.mp);

// ---- clock: real, or virtual (Date.now and setTimeout replaced) ---------------------------
const realNow = Date.now.bind(Date);
const t0 = realNow();
let vnow = 0;
const timers = [];
let timerSeq = 0;
if (args.virtual) {
  Date.now = () => t0 + vnow;
  globalThis.setTimeout = (fn, ms, ...rest) => {
    const t = { at: vnow + Math.max(0, ms | 0), seq: ++timerSeq, fn: () => fn(...rest) };
    timers.push(t);
    return t.seq;
  };
  globalThis.clearTimeout = (id) => {
    const k = timers.findIndex((t) => t.seq === id);
    if (k >= 0) timers.splice(k, 1);
  };
}
const nowUs = () => (args.virtual ? vnow * 1000 : (realNow() - t0) * 1000);

async function advance(ms) {
  const target = vnow + ms;
  for (;;) {
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    if (!timers.length || timers[0].at > target) break;
    const t = timers.shift();
    vnow = Math.max(vnow, t.at);
    t.fn();
    await new Promise((r) => setImmediate(r)); // let the interpreter's promise chains run
  }
  vnow = target;
}

// ---- hardware -----------------------------------------------------------------------------
const pins = new Map(); // gpio -> {mode, pull, out, drive, irq}
const pin = (g) => {
  if (!pins.has(g)) pins.set(g, { mode: "in", pull: null, out: 0, drive: null, irq: null });
  return pins.get(g);
};
const level = (p) => (p.mode === "out" ? p.out : p.drive !== null ? p.drive : p.pull === "up" ? 1 : 0);
let frames = 0;
let lastFrame = null;
let busyUntil = 0;
let probe = {};
let wdt = { timeout: 0, fed: 0 };
const clients = new Set();

function emitPin(g, before) {
  const p = pin(g);
  const now = level(p);
  if (now === before) return;
  for (const c of clients) if (c.pins) send(c, json({ ev: "pin", gpio: g, level: now, t_us: nowUs() }));
  if (p.irq && p.mode !== "out") {
    const rising = now === 1 && p.trigger & 8;
    const falling = now === 0 && p.trigger & 4;
    if (rising || falling) queueMicrotask(() => p.irq());
  }
}

const emu_js = {
  pin_out(g, v) { const p = pin(g); const b = level(p); p.out = v; emitPin(g, b); },
  pin_mode(g, mode, pull) {
    const p = pin(g); const b = level(p);
    if (mode !== -1) p.mode = mode === 1 ? "out" : "in";
    if (pull !== -1) p.pull = pull === 1 ? "up" : pull === 2 ? "down" : null;
    emitPin(g, b);
  },
  pin_level(g) { return level(pin(g)); },
  pin_irq(g, handler, trigger) { const p = pin(g); p.irq = handler; p.trigger = trigger; },
  wdt_start(ms) { wdt = { timeout: ms, fed: nowUs() }; },
  wdt_feed() { wdt.fed = nowUs(); },
  reset() { process.exit(3); },
  dmx_busy() { return nowUs() < busyUntil - 8 * 44; },
  dmx_send(hex, brk, mab) {
    const data = Buffer.from(hex, "hex");
    const start = Math.max(nowUs(), busyUntil);
    frames += 1;
    lastFrame = { seq: frames, t: Math.round(start), brk, mab, data };
    busyUntil = start + brk + mab + data.length * 44;
    const msg = frameMsg(lastFrame);
    for (const c of clients) if (c.dmx) send(c, msg);
  },
  publish(text) { Object.assign(probe, JSON.parse(text)); },
};

// ---- the interpreter ----------------------------------------------------------------------
let serialOut = (b) => {};
let mute = false;
const mp = await loadMicroPython({
  heapsize: 192 * 1024, linebuffer: false,
  stdout: (b) => { if (!mute) serialOut(Buffer.from(b)); },
  stderr: (b) => { if (!mute) serialOut(Buffer.from(b)); },
});
mp.registerJsModule("emu_js", emu_js);

function copyIn(hostDir, mpDir) {
  for (const name of fs.readdirSync(hostDir)) {
    const h = path.join(hostDir, name), m = mpDir + "/" + name;
    if (fs.lstatSync(h).isDirectory()) { try { mp.FS.mkdir(m); } catch {} copyIn(h, m); }
    else if (fs.lstatSync(h).isFile()) mp.FS.writeFile(m, fs.readFileSync(h));
  }
}
const NOT_FLASH = ["emu", "tmp", "home", "dev", "proc"];
function syncOut(mpDir, hostDir) {
  const seen = new Set();
  for (const name of mp.FS.readdir(mpDir || "/")) {
    if (name === "." || name === ".." || (mpDir === "" && NOT_FLASH.includes(name))) continue;
    const m = mpDir + "/" + name, h = path.join(hostDir, name);
    seen.add(name);
    if (mp.FS.isDir(mp.FS.stat(m).mode)) { fs.mkdirSync(h, { recursive: true }); syncOut(m, h); continue; }
    const data = Buffer.from(mp.FS.readFile(m));
    if (!fs.existsSync(h) || !data.equals(fs.readFileSync(h))) fs.writeFileSync(h, data);
  }
  for (const name of fs.readdirSync(hostDir)) {
    if (!seen.has(name) && !(mpDir === "" && NOT_FLASH.includes(name))) fs.rmSync(path.join(hostDir, name), { recursive: true, force: true });
  }
}

mp.FS.mkdir("/emu");
for (const f of ["machine.py", "emu_hw.py"]) {
  mp.FS.writeFile("/emu/" + f, fs.readFileSync(path.join(HERE, "mp_shims", f)));
}
copyIn(args.flash, "");
mp.runPython("import sys\nsys.path.append('/emu')\nimport os\nos.chdir('/')");

// ---- serial: firmware, then the interpreter's REPL after Ctrl-C ----------------------------
const serial = new net.Socket({ fd: parseInt(args.serial_fd, 10), readable: true, writable: true });
serialOut = (b) => serial.write(b);
let inRepl = false;
serial.on("data", (data) => {
  try {
    onSerial(data);
  } catch (e) {
    console.error("mpnode:", e && e.message ? e.message : e);
  }
});
function onSerial(data) {
  for (const c of data) {
    if (!inRepl) {
      if (c === 3) stopFirmware();
      continue; // the link task is not available under this runtime
    }
    const r = mp.replProcessChar(c);
    if (c === 4) syncOut("", args.flash);
    if (r) softReboot();
  }
}
serial.on("end", () => process.exit(0));
serial.on("error", () => process.exit(0));

function stopFirmware() {
  try { mp.runPython("import asyncio\nfor _t in _fw_tasks: _t.cancel()\n_fw_tasks.clear()"); } catch {}
  serialOut(Buffer.from("Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n"));
  inRepl = true;
  mp.replInit();
}

function softReboot() {
  // A clean interpreter would need a new instance; the MicroPython heap is reset by
  // re-running boot.py in fresh globals, and the REPL re-entered in raw mode.
  syncOut("", args.flash);
  serialOut(Buffer.from("MPY: soft reboot\r\n"));
  mute = true;
  mp.replInit();
  mute = false;
  let raw = "";
  serialOut = (b) => { raw += b.toString("latin1"); };
  mp.replProcessChar(1);
  serialOut = (b) => serial.write(b);
  serial.write(Buffer.from("raw REPL; CTRL-B to exit\r\n>"));
}

function boot() {
  const runFile = (name, asMain) => {
    if (!fs.existsSync(path.join(args.flash, name))) return;
    try {
      mp.runPython(asMain ? `exec(open('${name}').read(), {'__name__': '__main__'})`
        : `exec(open('${name}').read())`);
    } catch (e) {
      serialOut(Buffer.from(String(e.message || e).replace(/\n/g, "\r\n") + "\r\n"));
      if (process.env.CUENODE_MPNODE_DEBUG) console.error(name, e);
    }
  };
  // asyncio under WebAssembly runs on the JS event loop: asyncio.run() starts the task and
  // returns; every task the firmware creates is remembered so Ctrl-C can stop them all.
  mp.runPython(`
import asyncio
_fw_tasks = []
_create = asyncio.create_task
def _track(coro):
    t = _create(coro)
    _fw_tasks.append(t)
    return t
asyncio.create_task = _track
def _run(coro):
    _track(coro)
asyncio.run = _run
`);
  runFile("boot.py", false);
  runFile("main.py", true);
}

// ---- world socket -------------------------------------------------------------------------
function json(obj) { const p = Buffer.from("J" + JSON.stringify(obj)); return Buffer.concat([u32(p.length), p]); }
function u32(n) { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }
function frameMsg(f) {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(f.seq, 0); head.writeBigInt64LE(BigInt(f.t), 4);
  head.writeUInt16LE(f.brk, 12); head.writeUInt16LE(f.mab, 14); head.writeUInt16LE(44, 16);
  head.writeUInt16LE(f.data.length, 18);
  const p = Buffer.concat([Buffer.from("D"), head, f.data]);
  return Buffer.concat([u32(p.length), p]);
}
function send(c, b) { c.sock.write(b); }

async function command(c, cmd) {
  const reply = { id: cmd.id, ok: true };
  const op = cmd.op;
  if (op === "hello") Object.assign(reply, { node: args.id, virtual: !!args.virtual, now_us: nowUs(), pid: process.pid, runtime: "micropython" });
  else if (op === "subscribe") { if ("dmx" in cmd) c.dmx = !!cmd.dmx; if ("pins" in cmd) c.pins = !!cmd.pins; }
  else if (op === "state") {
    const p = {}, m = {};
    for (const [g, s] of [...pins.entries()].sort((a, b) => a[0] - b[0])) { p[g] = level(s); m[g] = s.mode; }
    Object.assign(reply, { pins: p, modes: m, frames, probe, now_us: nowUs(), repl: inRepl ? "friendly" : "running", flash_writes: 0 });
  } else if (op === "last_frame") { if (lastFrame) return send(c, frameMsg(lastFrame)); reply.frame = null; }
  else if (op === "advance") {
    if (!args.virtual) Object.assign(reply, { ok: false, error: "advance needs a node started with virtual time" });
    else { await advance((cmd.ms || 0) + (cmd.us || 0) / 1000); reply.now_us = nowUs(); }
  } else if (op === "drive") { const b = level(pin(cmd.gpio)); pin(cmd.gpio).drive = cmd.level; emitPin(cmd.gpio, b); await new Promise((r) => setImmediate(r)); }
  else Object.assign(reply, { ok: false, error: `op ${op} is not available under --runtime micropython` });
  send(c, json(reply));
}

try { fs.unlinkSync(args.world); } catch {}
const server = net.createServer((sock) => {
  const c = { sock, dmx: false, pins: false, buf: Buffer.alloc(0), chain: Promise.resolve() };
  clients.add(c);
  sock.on("data", (d) => {
    c.buf = Buffer.concat([c.buf, d]);
    while (c.buf.length >= 4) {
      const n = c.buf.readUInt32LE(0);
      if (c.buf.length < 4 + n) break;
      const msg = c.buf.subarray(4, 4 + n); c.buf = c.buf.subarray(4 + n);
      if (msg[0] === 0x4a) { const cmd = JSON.parse(msg.subarray(1).toString()); c.chain = c.chain.then(() => command(c, cmd)); }
    }
  });
  sock.on("close", () => clients.delete(c));
  sock.on("error", () => clients.delete(c));
});
boot();
server.listen(args.world);
