// One virtual node under the MicroPython WebAssembly build (the --runtime micropython node).
//
//   node mpnode.mjs --id ID --flash DIR --serial-fd N --world SOCK [--virtual] --mp MODULE
//
// The same firmware files as a board (boot.py, main.py, cuefw/, board_emu.py, from the flash
// directory) run on real MicroPython 1.27 with a 192 KB heap. The interpreter's file system is
// in memory (the build has no NODEFS): the flash directory is copied in at power-on and
// mirrored back after every REPL command, every firmware reply on the serial, at a reset and
// at a power cut. machine/emu_hw/emu_sys/emu_select are small Python shims over `emu_js` (this file):
// pins, watchdog, DMX line, probe, the USB serial's receive queue. emu_sys/emu_select model
// the ports' sys.stdin (text, binary .buffer) over that queue; the serial is the firmware's
// link (sys.stdin.buffer, as on a board) until Ctrl-C or the
// link's `repl` request; then this file speaks MicroPython's friendly, raw and raw-paste REPL
// (as repl.py does for the CPython runtime) and runs the code in the interpreter. The world
// socket speaks the protocol of cuenode/emulator/world.py: hello, state, subscribe,
// last_frame, advance and stall (virtual time), drive, bounce, power_cut_at_write, flash_writes.
// Not here (see docs/emulator.md): Ctrl-C into code that never yields.
import { execFileSync } from "node:child_process";
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
const realSetTimeout = globalThis.setTimeout;
const t0 = realNow();
let vnow = 0;
const timers = [];
let timerSeq = 0;
if (args.virtual) {
  Date.now = () => t0 + vnow;
  globalThis.setTimeout = (fn, ms, ...rest) => {
    const t = { at: vnow + Math.max(0, ms | 0), seq: ++timerSeq, fn: () => fn(...rest) };
    timers.push(t);
    if (t.at <= vnow) kickDue(); // due now (a woken task): run it without waiting for advance
    return t.seq;
  };
  globalThis.clearTimeout = (id) => {
    const k = timers.findIndex((t) => t.seq === id);
    if (k >= 0) timers.splice(k, 1);
  };
}
let kicked = false;
function kickDue() {
  // Work that is due at the current virtual time (serial bytes arrived, a task was woken)
  // runs at once, like the CPython runtime: time stands still, the node does not.
  if (kicked) return;
  kicked = true;
  setImmediate(() => {
    kicked = false;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    if (timers.length && timers[0].at <= vnow) {
      timers.shift().fn();
      kickDue();
    }
  });
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
    if (wdtBitten()) return "WatchdogReset";
  }
  vnow = target;
  return wdtBitten() ? "WatchdogReset" : null;
}

// Work scheduled by the emulator itself (button bounce) at a node time in microseconds.
function atUs(us, fn) {
  if (args.virtual) timers.push({ at: us / 1000, seq: ++timerSeq, fn });
  else realSetTimeout(fn, Math.max(0, (us - nowUs()) / 1000));
}
const wdtBitten = () => wdt.timeout > 0 && nowUs() - wdt.fed > wdt.timeout * 1000;
function watchdogReset() {
  syncOut("", args.flash);
  process.exit(4);
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
const mpTimers = new Set();
let mpTimerSeq = 0;
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
  // machine.Timer: a soft timer on node time; its callback runs between bytecodes, like a
  // MicroPython soft IRQ. A soft reset stops every timer (see boot()).
  timer_start(ms, handler, periodic) {
    const id = ++mpTimerSeq;
    const fire = () => {
      if (!mpTimers.has(id)) return;
      if (periodic) atUs(nowUs() + ms * 1000, fire);
      else mpTimers.delete(id);
      handler();
    };
    mpTimers.add(id);
    atUs(nowUs() + ms * 1000, fire);
    return id;
  },
  timer_stop(id) { mpTimers.delete(id); },
  wdt_feed() { wdt.fed = nowUs(); },
  reset() { syncOut("", args.flash); process.exit(3); },
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
  virtual() { return !!args.virtual; },
  jump_us(us) { vnow += Math.max(0, us) / 1000; },
  publish(text) { Object.assign(probe, JSON.parse(text)); },
};

// ---- the interpreter ----------------------------------------------------------------------
let serialOut = (b) => {};
const mp = await loadMicroPython({
  heapsize: 192 * 1024, linebuffer: false,
  stdout: (b) => serialOut(Buffer.from(b)),
  stderr: (b) => serialOut(Buffer.from(b)),
});
mp.registerJsModule("emu_js", emu_js);

function runPy(src) {
  // A Python exception escaping runPython prints the whole minified build: one line instead.
  try { return mp.runPython(src); } catch (e) { fs.writeSync(2, "mpnode: " + String(e.message || e).slice(-800) + "\n"); process.exit(1); }
}

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
    if (fs.lstatSync(path.join(hostDir, name)).isSymbolicLink()) continue; // never mirrored in
    if (!seen.has(name) && !(mpDir === "" && NOT_FLASH.includes(name))) fs.rmSync(path.join(hostDir, name), { recursive: true, force: true });
  }
}

mp.FS.mkdir("/emu");
for (const f of ["machine.py", "emu_hw.py", "emu_sys.py", "emu_select.py"]) {
  mp.FS.writeFile("/emu/" + f, fs.readFileSync(path.join(HERE, "mp_shims", f)));
}
copyIn(args.flash, "");
// The shims are imported once (they keep no state: it is all in emu_js) and their files
// removed, so the root of the file system shows only the node's flash, as on a board.
// sys and select are replaced in sys.modules (which `import` consults before the built-in
// modules): sys.stdin is then a text stream with a binary .buffer over the serial, as on the
// rp2/esp32 ports, and the firmware's link reads sys.stdin.buffer here as on a board.
runPy("import sys\nsys.path.append('/emu')\nimport machine, emu_hw, emu_sys, emu_select\nsys.path.remove('/emu')\n" +
  "sys.modules['sys'] = emu_sys\nsys.modules['select'] = emu_select\nimport asyncio\nasyncio.StreamReader = emu_sys.StreamReader");
for (const d of ["/emu", "/tmp", "/home/web_user", "/home", "/proc/self/fd", "/proc/self", "/proc", "/dev/shm/tmp", "/dev/shm"]) {
  try { for (const f of mp.FS.readdir(d)) if (f !== "." && f !== "..") mp.FS.unlink(d + "/" + f); } catch {}
  try { mp.FS.rmdir(d); } catch {}
}
copyIn(args.flash, "");
runPy("import os\nos.chdir('/')");

// ---- the runtime's Python side: boot, stop, exec (soft reset = fresh globals + modules) ---
runPy(`
import sys, gc, asyncio, emu_js
import micropython as _micropython
class _Micropython:
    # the build's micropython module, with kbd_intr() also telling this host (which routes
    # the serial bytes) which byte interrupts
    def __getattr__(self, name):
        return getattr(_micropython, name)
    def kbd_intr(self, ch):
        emu_js.kbd_intr(ch)
sys.modules['micropython'] = _Micropython()
_keep = None
_g = {}
_fw_tasks = []
_create = asyncio.create_task
def _track(coro):
    t = _create(coro)
    _fw_tasks.append(t)
    return t
asyncio.create_task = _track
async def _main_task(coro):
    # asyncio under WebAssembly runs on the JS event loop: asyncio.run() starts this task
    # and returns. When the firmware's main coroutine ends (link 'repl'), the node is at
    # the REPL, as after asyncio.run() returns on a board.
    try:
        await coro
    except asyncio.CancelledError:
        return
    except BaseException as e:
        sys.print_exception(e)
    emu_js.firmware_ended()
def _run(coro):
    _track(_main_task(coro))
asyncio.run = _run
def _emu_file(name):
    try:
        src = open(name).read()
    except OSError:
        return
    try:
        exec(compile(src, name, 'exec'), _g)
    except SystemExit:
        pass
    except BaseException as e:
        sys.print_exception(e)
def _emu_boot(with_main):
    global _g, _keep
    if _keep is None:
        _keep = set(sys.modules)
    for k in list(sys.modules):
        if k not in _keep:
            del sys.modules[k]
    _g = {'__name__': '__main__'}
    sys._reset()  # emu_sys: unread serial bytes go with the reset
    gc.collect()
    _emu_file('boot.py')
    if with_main:
        _emu_file('main.py')
def _emu_unread():
    return sys._unread()
def _emu_running():
    return len(_fw_tasks)
def _emu_stop():
    for t in _fw_tasks:
        t.cancel()
    _fw_tasks.clear()
    off = _g.get('relays_off')
    if off:
        try:
            off()
        except BaseException as e:
            sys.print_exception(e)
    # As main.py's own cleanup does on a board: the REPL has the port, a timer feeds the WDT.
    feed, app = _g.get('feed_at_repl'), _g.get('APP')
    if feed and getattr(app, 'wdt', None) is not None:
        try:
            feed(app.wdt)
        except BaseException as e:
            sys.print_exception(e)
def _emu_exec(src, mode):
    try:
        exec(compile(src, '<stdin>', mode), _g)
    except SystemExit:
        return '\\x00'
    except BaseException as e:
        import io
        s = io.StringIO()
        sys.print_exception(e, s)
        lines = s.getvalue().split('\\n')
        return '\\n'.join(l for l in lines if not l.endswith(('in _emu_exec', 'in _emu_errno')))
    return ''
# The build's file system (Emscripten) raises WASI errno numbers (ENOENT = 44) where its own
# errno module and every MicroPython program expect the POSIX ones (ENOENT = 2).
import os, builtins
_WASI = {44: 2, 20: 17, 31: 21, 54: 20, 55: 39, 28: 22, 8: 9, 63: 1, 29: 5, 51: 28}
def _emu_fix(f):
    def _emu_errno(*a):
        try:
            return f(*a)
        except OSError as e:
            if e.errno in _WASI:
                raise OSError(_WASI[e.errno]) from None
            raise
    return _emu_errno
for _n in ('stat', 'listdir', 'ilistdir', 'remove', 'rename', 'mkdir', 'rmdir', 'chdir', 'statvfs'):
    if hasattr(os, _n):
        setattr(os, _n, _emu_fix(getattr(os, _n)))
builtins.open = _emu_fix(open)
# The port's blocking sleeps spin on the JS clock, which stands still on virtual time: there
# they jump it, as on the CPython runtime (mpremote's reset does time.sleep_ms(100)).
import time
if emu_js.virtual():
    time.sleep_ms = lambda ms: emu_js.jump_us(ms * 1000)
    time.sleep_us = lambda us: emu_js.jump_us(us)
    time.sleep = lambda s: emu_js.jump_us(int(s * 1000000))
`);
const py = (name) => mp.globals.get(name);

// ---- serial: the firmware's sys.stdin (emu_sys), or the REPL ---------------------------
const serial = new net.Socket({ fd: parseInt(args.serial_fd, 10), readable: true, writable: true });
serialOut = (b) => serial.write(b);
const write = (s) => serial.write(typeof s === "string" ? Buffer.from(s, "latin1") : s);
let rx = []; // bytes for the firmware's link task
let rxIrq = null;
let intrChar = 3; // micropython.kbd_intr(): -1 while the firmware owns the port
let syncPending = false;
function syncSoon() {
  // After the firmware wrote a reply (a push may have written flash): mirror to disk.
  if (syncPending) return;
  syncPending = true;
  setImmediate(() => { syncPending = false; syncOut("", args.flash); });
}
Object.assign(emu_js, {
  serial_any() { return rx.length; },
  serial_read(n) { return Buffer.from(rx.splice(0, n)).toString("hex"); },
  serial_write(hex) { write(Buffer.from(hex, "hex")); syncSoon(); },
  serial_irq(handler) { rxIrq = handler; },
  kbd_intr(ch) { intrChar = ch; },
  firmware_ended() { setImmediate(() => { py("_emu_stop")(); syncOut("", args.flash); toRepl(); }); },
});

const BANNER = "MicroPython v1.27.0 on 2026-01-01; cuenode emulator (MicroPython WebAssembly runtime) with virtual RP2040";
const RAW_BANNER = "raw REPL; CTRL-B to exit\r\n";
const WINDOW = 128;
const repl = {
  mode: "running", // running | friendly | raw | paste | friendly_paste (repl.py's states)
  line: [],
  pending: [],
  left: WINDOW,
  enterFriendly(banner) {
    this.mode = "friendly"; this.line = []; this.pending = [];
    if (banner) write(BANNER + '\r\nType "help()" for more information.\r\n');
    write(">>> ");
  },
  enterRaw() { this.mode = "raw"; this.line = []; write(RAW_BANNER + ">"); },
  byte(b) {
    if (this.mode === "raw") return this.raw(b);
    if (this.mode === "paste") return this.paste(b);
    if (this.mode === "friendly_paste") return this.friendlyPaste(b);
    return this.friendly(b);
  },
  raw(b) {
    if (b === 0x01) {
      if (this.line.length === 2 && this.line[0] === 0x05) {
        const ok = this.line[1] === 0x41;
        this.line = [];
        if (!ok) return write("R\x00");
        this.mode = "paste"; this.left = WINDOW;
        const w = Buffer.alloc(2); w.writeUInt16LE(WINDOW);
        return write(Buffer.concat([Buffer.from("R\x01"), w]));
      }
      this.enterRaw();
    } else if (b === 0x02) { write("\r\n"); this.enterFriendly(true); }
    else if (b === 0x03) this.line = [];
    else if (b === 0x04) {
      write("OK");
      if (!this.line.length) { write("\r\n"); return softReset(false); }
      const code = Buffer.from(this.line); this.line = [];
      this.runRaw(code);
    } else this.line.push(b);
  },
  paste(b) {
    if (b === 0x03) { this.line = []; this.mode = "raw"; return write("\x04\x04KeyboardInterrupt: \r\n\x04>"); }
    if (b === 0x04) {
      write("\x04");
      const code = Buffer.from(this.line); this.line = []; this.mode = "raw";
      return this.runRaw(code);
    }
    this.line.push(b);
    if (--this.left === 0) { this.left = WINDOW; write("\x01"); }
  },
  runRaw(code) {
    const err = runCode(code, "exec");
    if (err === "\x00") { write("\x04\x04"); return softReset(false); }
    write("\x04" + err.replace(/\n/g, "\r\n").replace(/\r\r/g, "\r") + "\x04");
    if (this.mode === "raw") write(">");
  },
  friendly(b) {
    if (b === 0x01) { write("\r\n"); this.enterRaw(); }
    else if (b === 0x02) { write("\r\n"); this.enterFriendly(true); }
    else if (b === 0x03) { this.line = []; this.pending = []; write("\r\nKeyboardInterrupt\r\n>>> "); }
    else if (b === 0x04) { if (!this.line.length && !this.pending.length) { write("\r\n"); softReset(true); } }
    else if (b === 0x05) { this.mode = "friendly_paste"; this.line = []; write("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "); }
    else if (b === 0x08 || b === 0x7f) { if (this.line.length) { this.line.pop(); write("\x08 \x08"); } }
    else if (b === 0x0d) this.enter();
    else if (b >= 0x20 || b === 0x09) { this.line.push(b); write(Buffer.from([b])); }
  },
  enter() {
    write("\r\n");
    const line = Buffer.from(this.line); this.line = [];
    const text = line.toString("latin1");
    if (this.pending.length) {
      if (text.trim()) { this.pending.push(...line, 0x0a); return write("... "); }
      const code = Buffer.from(this.pending); this.pending = [];
      return this.runFriendly(code, "exec");
    }
    if (text.trimEnd().endsWith(":")) { this.pending.push(...line, 0x0a); return write("... "); }
    if (!text.trim()) return write(">>> ");
    this.runFriendly(line, "single");
  },
  friendlyPaste(b) {
    if (b === 0x03) { this.mode = "friendly"; this.line = []; write("\r\n>>> "); }
    else if (b === 0x04) { this.mode = "friendly"; const code = Buffer.from(this.line); this.line = []; write("\r\n"); this.runFriendly(code, "exec"); }
    else if (b === 0x0d) { this.line.push(0x0a); write("\r\n=== "); }
    else { this.line.push(b); write(Buffer.from([b])); }
  },
  runFriendly(code, mode) {
    const err = runCode(code, mode);
    if (err === "\x00") return softReset(true);
    if (err) write(err.replace(/\n/g, "\r\n").replace(/\r\r/g, "\r"));
    if (this.mode === "friendly") write(">>> ");
  },
};

function runCode(code, mode) {
  const err = py("_emu_exec")(code.toString("utf8"), mode);
  syncOut("", args.flash);
  return err;
}

function boot(withMain) {
  rx = []; rxIrq = null; intrChar = 3;
  // A soft reset stops the timers but not the watchdog: on an RP2040/ESP32 it cannot be
  // stopped, and boot.py re-arms it with a timer feeding it.
  mpTimers.clear();
  for (const p of pins.values()) p.irq = null;
  repl.mode = "running";
  py("_emu_boot")(withMain);
  // main.py returned at once (asyncio runs on the JS loop): the firmware runs if it left
  // tasks behind; otherwise (no main.py, or it failed) the node is at the REPL.
  if (!withMain) repl.enterRaw();
  else if (!py("_emu_running")()) repl.enterFriendly(true);
}

function softReset(friendly) {
  py("_emu_stop")();
  write("MPY: soft reboot\r\n");
  boot(friendly);
}

function toRepl() {
  // The firmware handed the port over: the bytes it left unread (mpremote's Ctrl-A after
  // its CR Ctrl-C CR) are the REPL's, as in a board's stdin ring buffer.
  intrChar = 3;
  repl.enterFriendly(true);
  // emu_sys fetches the queue a burst at a time: what it fetched and the firmware did not
  // read comes first
  const fetched = Buffer.from(py("_emu_unread")(), "hex");
  const left = [...fetched, ...rx]; rx = [];
  for (const c of left) repl.byte(c);
}

function stopFirmware() {
  py("_emu_stop")();
  write('Traceback (most recent call last):\r\n  File "main.py", in <module>\r\nKeyboardInterrupt: \r\n');
  syncOut("", args.flash);
  repl.enterFriendly(true);
}

let serialRx = 0; // bytes received on the line (world state serial_rx)
function onSerial(data) {
  let fresh = false;
  serialRx += data.length;
  for (const c of data) {
    if (repl.mode === "running") {
      if (c === intrChar) { stopFirmware(); continue; }
      rx.push(c); fresh = true;
    } else repl.byte(c);
  }
  if (fresh && rxIrq) { const h = rxIrq; queueMicrotask(() => h()); }
}
serial.on("data", (data) => {
  try {
    onSerial(data);
  } catch (e) {
    console.error("mpnode:", e && e.message ? e.message : e);
  }
});
serial.on("end", () => process.exit(0));
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 500).unref(); // supervisor gone
serial.on("error", () => process.exit(0));

// ---- faults: contact bounce, power cut at the k-th flash write ------------------------------
function drive(g, lvl) { const b = level(pin(g)); pin(g).drive = lvl; emitPin(g, b); }
function bounce(cmd) {
  // Irregular toggles 0.1-1.5 ms apart for `ms` of node time, then settle (as world.py).
  let seed = (cmd.seed ?? 1) >>> 0;
  const rand = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 4294967296; };
  const start = nowUs(), end = start + cmd.ms * 1000;
  let t = start, lvl = cmd.level, toggles = 0;
  for (;;) {
    t += 100 + Math.floor(rand() * 1401);
    if (t >= end) break;
    const v = lvl;
    atUs(t, () => drive(cmd.gpio, v));
    lvl = 1 - lvl; toggles += 1;
  }
  atUs(end, () => drive(cmd.gpio, cmd.level));
  return { toggles, settle_us: end };
}

// Every write(), rename, remove, mkdir, rmdir on the node's file system counts; the k-th
// write lands half its bytes, the file system is mirrored to the flash directory exactly as
// it is at that moment, and the process dies (SIGKILL), as the power would.
let flashWrites = 0;
let cutAt = -1;
function countWrite() { flashWrites += 1; return flashWrites === cutAt; }
function powerCut() {
  syncOut("", args.flash);
  // From outside (kill(1)): the supervisor must see a death by SIGKILL, as for its own cuts.
  execFileSync("kill", ["-KILL", String(process.pid)]);
}
const fsWrite = mp.FS.write;
mp.FS.write = function (stream, buffer, offset, length, ...rest) {
  if (!countWrite()) return fsWrite.call(this, stream, buffer, offset, length, ...rest);
  fsWrite.call(this, stream, buffer, offset, length >> 1, ...rest);
  powerCut();
};
for (const name of ["rename", "unlink", "mkdir", "rmdir"]) {
  const orig = mp.FS[name];
  mp.FS[name] = function (...a) {
    if (countWrite()) powerCut();
    return orig.apply(this, a);
  };
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
    Object.assign(reply, { pins: p, modes: m, frames, probe, now_us: nowUs(), repl: repl.mode, flash_writes: flashWrites, serial_rx: serialRx });
  } else if (op === "last_frame") { if (lastFrame) return send(c, frameMsg(lastFrame)); reply.frame = null; }
  else if (op === "advance") {
    if (!args.virtual) Object.assign(reply, { ok: false, error: "advance needs a node started with virtual time" });
    else {
      const why = await advance((cmd.ms || 0) + (cmd.us || 0) / 1000);
      reply.now_us = nowUs();
      if (why) { // answer first so the harness is never left waiting, then go down
        reply.interrupted = why;
        return c.sock.write(json(reply), watchdogReset);
      }
    }
  } else if (op === "stall") { // the CPU held for cmd.ms: time jumps, what was due runs late
    if (!args.virtual) Object.assign(reply, { ok: false, error: "stall needs a node started with virtual time" });
    else { vnow += cmd.ms; reply.now_us = nowUs(); }
  } else if (op === "bounce") Object.assign(reply, bounce(cmd));
  else if (op === "power_cut_at_write") { cutAt = flashWrites + cmd.k; reply.at = cutAt; }
  else if (op === "flash_writes") reply.writes = flashWrites; else if (op === "drive") { const b = level(pin(cmd.gpio)); pin(cmd.gpio).drive = cmd.level; emitPin(cmd.gpio, b); await new Promise((r) => setImmediate(r)); }
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
flashWrites = 0; // the firmware files copied in at power-on are not the node's writes
if (!args.virtual) setInterval(() => { if (wdtBitten()) watchdogReset(); }, 20);
boot(true);
server.listen(args.world);
