// An emulated Pico as a cuenode emulator node process (started by supervisor.py):
//   node picorunner.mjs --id ID --flash IMAGE --serial-fd N --world SOCK
//        --uf2 FIRMWARE.uf2 --bootrom ROM.bin --rp2040js URL [--speed realtime|max] [--virtual]
// Its USB CDC is the socket on --serial-fd (the supervisor bridges it to the node's pty),
// with flow control: host bytes wait in a queue until the CDC receive FIFO has room.
// IMAGE is the LittleFS drive, written through on every flash write (kill = power cut).
// A reset (machine.reset(), watchdog) exits 3 / 4 and the supervisor starts the chip again
// from the same IMAGE. The world socket speaks world.py's protocol on the chip's GPIOs.
import net from 'node:net';
import { existsSync, unlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Chip, useRp2040js } from './chip.mjs';
import { DmxReader } from './dmxline.mjs';

const EXIT_HARD_RESET = 3, EXIT_WATCHDOG = 4; // as supervisor.py
const { values: args } = parseArgs({
  options: {
    id: { type: 'string' }, flash: { type: 'string' }, 'serial-fd': { type: 'string' },
    world: { type: 'string' }, uf2: { type: 'string' }, bootrom: { type: 'string' },
    speed: { type: 'string', default: 'realtime' }, virtual: { type: 'boolean' },
    'dmx-pin': { type: 'string', default: '0' }, rp2040js: { type: 'string' },
  },
});
const DMX_PIN = Number(args['dmx-pin']);
const STATE_NAMES = ['out-low', 'out-high', 'in', 'in-pull-up', 'in-pull-down', 'in-bus-keeper'];
// A floating input reads 1, like an idle DMX line held at mark by the transceiver's bias.
// What is on the wire: what the chip drives, else what holds the input (world, pull).
const wireLevel = (pin) => (pin.outputEnable ? +pin.outputValue : +inputLevel(pin));

// rp2040js warns on every access to a register it lacks (core 1's FIFO, read at each soft
// reset): say each one once.
const warned = new Set(), warnOnce = console.warn;
console.warn = (msg, ...rest) => warned.has(msg) || (warned.add(msg), warnOnce(msg, ...rest));
let halted = false;
await useRp2040js(args.rp2040js);
const chip = new Chip({
  uf2: args.uf2,
  bootrom: args.bootrom,
  flashImage: args.flash,
  onCut: () => process.kill(process.pid, 'SIGKILL'), // the torn write is on disk: power gone
  onReset: (kind) => halt(kind === 'reset' ? EXIT_HARD_RESET : EXIT_WATCHDOG),
});
const { mcu } = chip;

// --- USB CDC <-> serial socket ------------------------------------------------------------
const serial = new net.Socket({ fd: Number(args['serial-fd']), readable: true, writable: true });
const rx = []; // Buffers from the host not yet in the CDC FIFO
let rxHead = 0; // offset into rx[0]
serial.on('data', (data) => {
  rx.push(data);
  wake();
});
serial.on('error', () => {});
serial.on('close', () => halt(0)); // the supervisor went away: nothing to serve
chip.cdc.onSerialData = (bytes) => serial.write(Buffer.from(bytes));

let lastRxNs = 0; // simulated time the last host byte entered the CDC receive FIFO
function feedCdc() {
  while (rx.length) {
    const buf = rx[0];
    while (rxHead < buf.length) {
      if (!chip.cdc.offer(buf[rxHead])) return false;
      rxHead += 1;
      lastRxNs = chip.nanos;
    }
    rx.shift();
    rxHead = 0;
  }
  return false;
}

// --- GPIO: the physical world -------------------------------------------------------------
const driven = new Map(); // gpio -> level held from outside (a pressed button)
function inputLevel(pin) {
  if (driven.has(pin.index)) return !!driven.get(pin.index);
  if (pin.outputEnable) return pin.outputValue; // the pad reads back what it drives
  if (pin.pullupEnabled) return true;
  if (pin.pulldownEnabled) return false;
  return true; // floating
}
const clients = new Set();
const recorders = []; // { gpios: Set, t0, until, edges: {gpio: [[t_ns, level]...]}, reply }
let frames = 0, lastFrame = null;
const dmx = new DmxReader((frame) => {
  frames += 1;
  lastFrame = frame;
  const msg = packFrame(frame);
  for (const c of clients) if (c.dmx && c.sock.writableLength < 4 << 20) c.sock.write(msg);
});
for (const pin of mcu.gpio) {
  const check = pin.checkForUpdates.bind(pin);
  // Pads, SIO and PIO all end here after a change: keep the input side consistent with
  // the pulls, the output and what the world holds.
  pin.checkForUpdates = () => {
    check();
    const level = inputLevel(pin);
    if (level !== pin.rawInputValue) pin.setInputValue(level);
    onPin(pin.index, wireLevel(pin));
  };
}
const lastLevel = new Map();
function onPin(gpio, level) {
  if (lastLevel.get(gpio) === level) return;
  lastLevel.set(gpio, level);
  const t = chip.pinTime();
  for (const r of recorders) if (r.gpios.has(gpio)) r.edges[gpio].push([t, level]);
  if (gpio === DMX_PIN) return dmx.edge(t, level);
  const msg = packJson({ ev: 'pin', gpio, level, t_us: Math.floor(t / 1000) });
  for (const c of clients) if (c.pins) c.sock.write(msg);
}
function drive(gpio, level) {
  if (level === null || level === undefined) driven.delete(gpio);
  else driven.set(gpio, level ? 1 : 0);
  mcu.gpio[gpio].checkForUpdates();
  wake();
}

// --- speed: simulated seconds per wall second, over the last few wall seconds -------------
const speedSamples = [[performance.now(), 0]];
function sampleSpeed() {
  const now = performance.now();
  if (now - speedSamples.at(-1)[0] >= 250) speedSamples.push([now, chip.nanos]);
  while (speedSamples.length > 2 && now - speedSamples[0][0] > 3000) speedSamples.shift();
}
function simPerWall() {
  const [w0, s0] = speedSamples[0], [w1, s1] = speedSamples.at(-1);
  return w1 > w0 ? (s1 - s0) / 1e6 / (w1 - w0) : null;
}

// --- world socket -------------------------------------------------------------------------
function packJson(obj) {
  const body = Buffer.from(JSON.stringify(obj));
  const head = Buffer.alloc(5);
  head.writeUInt32LE(body.length + 1, 0);
  head[4] = 0x4a; // 'J'
  return Buffer.concat([head, body]);
}
function packFrame(f) {
  const head = Buffer.alloc(5 + 20); // world.FRAME_HEAD.size == 20
  head.writeUInt32LE(1 + 20 + f.data.length, 0);
  head[4] = 0x44; // 'D'; then world.FRAME_HEAD "<IqHHHH"
  head.writeUInt32LE(f.seq, 5);
  head.writeBigInt64LE(BigInt(f.t_us), 9);
  head.writeUInt16LE(Math.min(f.break_us, 65535), 17);
  head.writeUInt16LE(Math.min(f.mab_us, 65535), 19);
  head.writeUInt16LE(f.slot_us, 21);
  head.writeUInt16LE(f.data.length, 23);
  return Buffer.concat([head, f.data]);
}

const waiters = []; // { until (sim ns), done() }: advance and record replies
const timers = []; // { until (sim ns), done() }: world changes due at a simulated time
const openRecs = new Map(); // id -> recorder, between record_begin and record_end
let nextRec = 1;
function beginRecording(gpios) {
  const rec = { gpios: new Set(gpios), t0: chip.nanos,
    edges: Object.fromEntries(gpios.map((g) => [g, []])),
    start: Object.fromEntries(gpios.map((g) => [g, wireLevel(mcu.gpio[g])])) };
  recorders.push(rec);
  return rec;
}
function endRecording(rec, until) {
  recorders.splice(recorders.indexOf(rec), 1);
  const edges = {};
  for (const g of rec.gpios) edges[g] = rec.edges[g].filter(([t]) => t <= until);
  return { t0_ns: rec.t0, t1_ns: until, start: rec.start, edges };
}
// Contact bounce, as world.py's: irregular toggles 0.1-1.5 ms apart for `ms`, then `level`.
function bounce(gpio, ms, level, seed) {
  let state = (Number(seed) >>> 0) || 1, t = chip.nanos, lv = level, toggles = 0;
  const end = t + ms * 1e6;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 1401) + 100;
  while ((t += next() * 1000) < end) {
    const set = lv;
    timers.push({ until: t, done: () => drive(gpio, set) });
    lv = 1 - lv;
    toggles += 1;
  }
  timers.push({ until: end, done: () => drive(gpio, level) });
  wake();
  return { toggles, settle_us: Math.floor(end / 1000) };
}
const nowUs = () => Math.floor(chip.nanos / 1000);
const ops = {
  hello: () => ({ node: args.id, virtual: !!args.virtual, now_us: nowUs(), pid: process.pid,
    runtime: 'pico', board: 'pico', speed: args.speed }),
  subscribe: (c, cmd) => {
    if ('dmx' in cmd) c.dmx = !!cmd.dmx;
    if ('pins' in cmd) c.pins = !!cmd.pins;
  },
  state: () => {
    const pins = {}, modes = {};
    mcu.gpio.forEach((pin, i) => {
      pins[i] = wireLevel(pin);
      modes[i] = STATE_NAMES[pin.value];
    });
    return { pins, modes, frames, probe: {}, repl: 'unknown', now_us: nowUs(),
      flash_writes: chip.flash.writes, sim_per_wall: simPerWall() };
  },
  last_frame: (c) => (lastFrame ? packFrame(lastFrame) : { frame: null }),
  drive: (c, cmd) => drive(Number(cmd.gpio), cmd.level),
  power_cut_at_write: (c, cmd) => {
    chip.flash.cutAt = chip.flash.writes + Number(cmd.k);
    return { at: chip.flash.cutAt };
  },
  flash_writes: () => ({ writes: chip.flash.writes }),
  serial_rx: () => ({ last_rx_us: Math.floor(lastRxNs / 1000), now_us: nowUs() }),
  // Virtual time: run the chip `us`/`ms` further, then stop. Free-running: wait until the
  // simulated clock has moved that far. Either way the reply comes at the target time.
  advance: (c, cmd, reply) => {
    const until = chip.nanos + 1000 * (Number(cmd.us ?? 0) + 1000 * Number(cmd.ms ?? 0));
    waiters.push({ until, done: () => reply({ now_us: nowUs() }) });
    wake();
    return undefined;
  },
  // Record the level changes of `gpios` for `us` simulated microseconds from now.
  record: (c, cmd, reply) => {
    const rec = beginRecording((cmd.gpios ?? [DMX_PIN]).map(Number));
    const until = rec.t0 + 1000 * Number(cmd.us);
    waiters.push({ until, done: () => reply(endRecording(rec, until)) });
    wake();
    return undefined;
  },
  // An open recording (the HIL rig acts on the node meanwhile): begin now, and end at the
  // simulated time `at_us` (the reply comes then; at once if that is past).
  record_begin: (c, cmd) => {
    const rec = beginRecording((cmd.gpios ?? [DMX_PIN]).map(Number));
    openRecs.set(nextRec, rec);
    return { rec: nextRec++, t0_ns: rec.t0 };
  },
  record_end: (c, cmd, reply) => {
    const rec = openRecs.get(Number(cmd.rec));
    if (!rec) throw new Error(`no open recording ${cmd.rec}`);
    openRecs.delete(Number(cmd.rec));
    const until = Math.max(chip.nanos, 1000 * Number(cmd.at_us));
    waiters.push({ until, done: () => reply(endRecording(rec, until)) });
    wake();
    return undefined;
  },
  bounce: (c, cmd) => bounce(Number(cmd.gpio), Number(cmd.ms), Number(cmd.level), cmd.seed ?? 1),
};

function onCommand(c, cmd) {
  const reply = (extra) => {
    if (Buffer.isBuffer(extra)) return c.sock.write(extra);
    c.sock.write(packJson({ id: cmd.id, ok: true, ...(extra ?? {}) }));
  };
  const op = ops[cmd.op];
  if (!op) return c.sock.write(packJson({ id: cmd.id, ok: false, error: `unknown op '${cmd.op}'` }));
  try {
    const out = op(c, cmd, reply);
    if (!['advance', 'record', 'record_end'].includes(cmd.op)) reply(out);
  } catch (err) {
    c.sock.write(packJson({ id: cmd.id, ok: false, error: String(err) }));
  }
}

if (existsSync(args.world)) unlinkSync(args.world);
const server = net.createServer((sock) => {
  const c = { sock, dmx: false, pins: false, buf: Buffer.alloc(0) };
  clients.add(c);
  sock.on('data', (data) => {
    c.buf = Buffer.concat([c.buf, data]);
    while (c.buf.length >= 4 && c.buf.length >= 4 + c.buf.readUInt32LE(0)) {
      const n = c.buf.readUInt32LE(0);
      const msg = c.buf.subarray(4, 4 + n);
      c.buf = c.buf.subarray(4 + n);
      if (msg[0] === 0x4a) onCommand(c, JSON.parse(msg.subarray(1).toString()));
    }
  });
  sock.on('error', () => {});
  sock.on('close', () => clients.delete(c));
});
server.listen(args.world);

// --- the run loop -------------------------------------------------------------------------
let wakeUp = null;
function wake() {
  if (wakeUp) wakeUp();
}
const pause = (ms) => new Promise((r) => {
  wakeUp = r;
  setTimeout(r, ms);
});
const turn = () => new Promise((r) => setImmediate(r));

function settleWaiters() {
  for (const list of [timers, waiters]) {
    for (let i = 0; i < list.length; ) {
      if (list[i].until <= chip.nanos) list.splice(i, 1)[0].done();
      else i += 1;
    }
  }
}

function halt(code) {
  if (halted) return;
  halted = true;
  server.close();
  const bye = () => process.exit(code);
  if (serial.writableLength) serial.once('drain', bye);
  else setImmediate(bye);
  setTimeout(bye, 500);
}

// realtime: never ahead of the wall clock (and no catching up after a slow stretch);
// max: as fast as the host allows; virtual: only as far as `advance` says.
async function runLoop() {
  let wallMark = performance.now(), budget = 0;
  while (!halted) {
    feedCdc();
    settleWaiters();
    sampleSpeed();
    const due = [...waiters, ...timers];
    let until = due.length ? Math.min(...due.map((w) => w.until)) : Infinity;
    if (args.virtual && !waiters.length) {
      await pause(50);
      continue;
    }
    if (args.speed === 'realtime') {
      const now = performance.now();
      budget = Math.min(budget + (now - wallMark) * 1e6, 20e6);
      wallMark = now;
      if (budget < 1e5) {
        await pause(1);
        continue;
      }
      until = Math.min(until, chip.nanos + budget);
    }
    const before = chip.nanos;
    chip.runSlice(until, feedCdc);
    budget -= chip.nanos - before;
    dmx.idle(chip.nanos);
    await turn();
  }
}
runLoop();
