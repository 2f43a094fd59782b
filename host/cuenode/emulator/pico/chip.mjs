// One emulated RP2040 (rp2040js) running the vendored MicroPython RPI_PICO image, with the
// corrections this firmware needs from stock rp2040js (USB CDC, flash writes, PIO timing).
// The chip knows nothing about sockets: picorunner.mjs wires it to the pty bridge and world.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

// rp2040js comes from the project's npm folder (tools/rp2040js), not from beside this file:
// the runner imports it by URL before making a Chip.
let rp = null;
export async function useRp2040js(url) {
  rp = await import(url);
}

export const NS_PER_CYCLE = 8; // rp2040js clocks the core at a fixed 125 MHz
export const FS_OFFSET = 0xa0000; // RPI_PICO: the LittleFS drive starts 640 KiB into flash
export const FS_SIZE = 352 * 4096; // ... and is 1408 KiB long
const XIP_BASE = 0x10000000;
const UF2_MAGIC = 0x0a324655;
const BKPT_ERASE = 0xe0; // BKPT immediates planted in the boot ROM (see FlashFile)
const BKPT_PROGRAM = 0xe1;
const MAX_BATCH_NS = 5e6; // simulated time between two looks at the outside world

function loadUF2(flash, path) {
  const uf2 = readFileSync(path);
  for (let off = 0; off + 512 <= uf2.length; off += 512) {
    if (uf2.readUInt32LE(off) !== UF2_MAGIC) throw new Error(`${path}: not a UF2 image`);
    const target = uf2.readUInt32LE(off + 12) - XIP_BASE;
    const size = uf2.readUInt32LE(off + 16);
    flash.set(uf2.subarray(off + 32, off + 32 + size), target);
  }
}

// The LittleFS drive lives in a file: every erase/program the firmware does is written
// through to it at once (pwrite), so killing the process leaves exactly what a power cut
// leaves on a real chip. `cutAt` = n: the n-th write lands half its bytes, then `onCut()`.
class FlashFile {
  constructor(mcu, path, hooks) {
    this.mcu = mcu;
    this.fd = openSync(path, 'r+');
    this.writes = 0;
    this.cutAt = 0;
    this.hooks = hooks;
    mcu.flash.set(readFileSync(path).subarray(0, FS_SIZE), FS_OFFSET);
  }

  // rp2040js has no flash chip behind the SSI, so the boot ROM's erase/program routines do
  // nothing. Replace their first instruction with a BKPT and do the work in onBreak instead.
  plantBreakpoints() {
    const rom = new Uint16Array(this.mcu.bootrom.buffer);
    const find = (tag) => {
      // the ROM's function table: a 16-bit pointer at 0x14 to (tag, address) pairs
      for (let i = rom[0x14 >> 1] >> 1; rom[i] !== 0; i += 2) if (rom[i] === tag) return rom[i + 1] & ~1;
      throw new Error(`boot ROM has no function ${tag.toString(16)}`);
    };
    rom[find(0x4552) >> 1] = 0xbe00 | BKPT_ERASE; // 'RE': flash_range_erase(offs, count, ...)
    rom[find(0x5052) >> 1] = 0xbe00 | BKPT_PROGRAM; // 'RP': flash_range_program(offs, data, n)
    this.mcu.onBreak = (code) => this.onBreak(code);
  }

  onBreak(code) {
    const { core, flash } = this.mcu;
    const [offset, a1, a2] = core.registers;
    if (code === BKPT_ERASE) this.erase(offset, a1);
    else if (code === BKPT_PROGRAM) this.program(offset, a1, a2);
    else return this.hooks.onUnknownBreak?.(code);
    core.PC = core.LR & ~1; // as if the ROM routine returned
  }

  erase(offset, count) {
    const torn = this.countWrite();
    this.mcu.flash.fill(0xff, offset, offset + (torn ? count >> 1 : count));
    this.persist(offset, count);
    if (torn) this.hooks.onCut();
  }

  program(offset, src, count) {
    const torn = this.countWrite();
    const n = torn ? count >> 1 : count;
    const { flash } = this.mcu;
    for (let i = 0; i < n; i++) flash[offset + i] &= this.mcu.readUint8(src + i); // NOR: 1 -> 0 only
    this.persist(offset, count);
    if (torn) this.hooks.onCut();
  }

  countWrite() {
    this.writes += 1;
    return this.cutAt > 0 && this.writes >= this.cutAt;
  }

  persist(offset, count) {
    const start = Math.max(offset, FS_OFFSET), end = Math.min(offset + count, FS_OFFSET + FS_SIZE);
    if (end > start) writeSync(this.fd, this.mcu.flash, start, end - start, start - FS_OFFSET);
  }

  close() {
    closeSync(this.fd);
  }
}

// USB as the firmware needs it from the emulated host (all three missing in stock rp2040js):
// - the host opens the port (DTR) ~4 ms after USB is enabled, before main.py prints;
// - a start-of-frame every 1 ms (MicroPython waits for SOFs before flushing output);
// - OUT polls are held until the host has bytes (stock answers each with an empty packet at
//   once: an interrupt storm that keeps the core busy even in time.sleep()).
function attachUsbHost(mcu) {
  const usb = mcu.usbCtrl;
  const cdc = new rp.USBCDC(usb);
  usb.onUSBEnabled = () => usb.resetAlarm.schedule(100_000);
  startOfFrames(mcu);
  const answer = usb.onEndpointRead;
  let held = null;
  usb.onEndpointRead = (endpoint, size) => {
    if (endpoint === cdc.outEndpoint && cdc.txFIFO.empty) held = [endpoint, size];
    else answer(endpoint, size);
  };
  // Host -> device: true if the byte went into the CDC FIFO (false: full, try again later).
  cdc.offer = (byte) => {
    if (cdc.txFIFO.full) return false;
    cdc.txFIFO.push(byte);
    if (held) {
      const [endpoint, size] = held;
      held = null;
      answer(endpoint, size);
    }
    return true;
  };
  return cdc;
}

function startOfFrames(mcu) {
  const usb = mcu.usbCtrl, readReg = usb.readUint32.bind(usb);
  const INTR_DEV_SOF = 1 << 17, SOF_RD = 0x48;
  usb.readUint32 = (offset) => {
    if (offset === SOF_RD) {
      usb.intRaw &= ~INTR_DEV_SOF; // reading SOF_RD acknowledges the interrupt, as on the chip
      usb.checkInterrupts();
    }
    return readReg(offset);
  };
  const tick = mcu.clock.createAlarm(() => {
    usb.sofFrameNumber = (usb.sofFrameNumber + 1) & 0x7ff;
    usb.intRaw |= INTR_DEV_SOF;
    usb.checkInterrupts();
    tick.schedule(1e6);
  });
  tick.schedule(1e6);
}

// Stock rp2040js runs enabled PIO state machines 1000 instructions per JS event-loop turn,
// whatever CLKDIV and [delay] say. Here each one runs at its CLKDIV rate on the simulated
// clock: `due` is when the next PIO instruction is due; `now` during a step is that exact
// time (pin listeners read chip.pinTime(), not the CPU's instruction boundary).
class PioClock {
  constructor(mcu, clock) {
    this.mcu = mcu;
    this.clock = clock;
    this.next = new Map();
    this.due = Infinity;
    this.now = -1; // >= 0 only while PIO is stepping
    for (const pio of mcu.pio) pio.run = () => (this.due = Math.min(this.due, clock.nanos));
  }

  step(until) {
    this.due = Infinity;
    for (const pio of this.mcu.pio) {
      for (const sm of pio.machines) {
        if (!sm.enabled) {
          this.next.delete(sm);
          continue;
        }
        const nsPerCycle = ((sm.clockDivInt || 65536) + sm.clockDivFrac / 256) * NS_PER_CYCLE;
        let t = this.next.get(sm) ?? until;
        while (t <= until) {
          this.now = t;
          const before = sm.cycles;
          sm.step();
          pio.checkChangedPins();
          t += Math.max(1, sm.cycles - before) * nsPerCycle;
        }
        this.now = -1;
        this.next.set(sm, t);
        this.due = Math.min(this.due, t);
      }
    }
  }
}

export class Chip {
  // opts: { uf2, bootrom, flashImage, onCut(), onReset(kind: 'reset' | 'watchdog') }
  constructor(opts) {
    this.sim = new rp.Simulator();
    this.mcu = this.sim.rp2040;
    this.clock = this.sim.clock;
    this.mcu.logger = new rp.ConsoleLogger(rp.LogLevel.Error);
    const rom = readFileSync(opts.bootrom);
    this.mcu.loadBootrom(new Uint32Array(rom.buffer, rom.byteOffset, rom.length / 4));
    this.flash = new FlashFile(this.mcu, opts.flashImage, { onCut: opts.onCut });
    this.flash.plantBreakpoints();
    loadUF2(this.mcu.flash, opts.uf2);
    this.cdc = attachUsbHost(this.mcu);
    this.pio = new PioClock(this.mcu, this.clock);
    this.watchResets(opts.onReset);
    this.idle = false;
    this.mcu.core.PC = XIP_BASE; // boot2 at the start of flash, as the boot ROM would jump
  }

  // rp2040js only reports a watchdog expiry. machine.reset() on rp2 is pico-sdk's
  // watchdog_reboot(0, ..., 0): a forced trigger (REASON.FORCE) or a ~0 ms load; a bite of
  // the firmware's WDT has its own long timeout. Tell the runner which one it was: it
  // restarts the chip with the flash as it is (a reset).
  watchResets(onReset) {
    const wd = this.mcu.peripherals[0x40058]; // WATCHDOG_BASE
    const write = wd.writeUint32.bind(wd);
    let loaded = 0;
    wd.writeUint32 = (offset, value) => {
      if (offset === 0x04) loaded = value & 0xffffff; // LOAD, in 2 MHz ticks (RP2040-E1)
      write(offset, value);
    };
    const FORCE = 2; // WATCHDOG REASON bits: 1 timer, 2 force
    wd.onWatchdogTrigger = () => onReset(wd.reason === FORCE || loaded <= 2000 ? 'reset' : 'watchdog');
  }

  get nanos() {
    return this.clock.nanos;
  }

  // When a pin changed: PIO's exact instruction time while PIO steps, else the CPU's.
  pinTime() {
    return this.pio.now >= 0 ? this.pio.now : this.clock.nanos;
  }

  // Run until simulated `untilNs` or until `stop()` says so (checked every few thousand
  // instructions). Returns without yielding; the caller yields to the event loop.
  runSlice(untilNs, between = () => false) {
    const { core } = this.mcu;
    const { clock, pio } = this;
    const end = Math.min(untilNs, clock.nanos + MAX_BATCH_NS);
    let n = 0;
    while (clock.nanos < end) {
      if (core.waiting) {
        const now = clock.nanos;
        const dt = Math.min(clock.nanosToNextAlarm, pio.due - now, end - now);
        clock.tick(Number.isFinite(dt) && dt > NS_PER_CYCLE ? dt : NS_PER_CYCLE);
      } else {
        clock.tick(core.executeInstruction() * NS_PER_CYCLE);
      }
      if (pio.due <= clock.nanos) pio.step(clock.nanos);
      if ((++n & 2047) === 0 && between()) return;
    }
  }

  close() {
    this.flash.close();
  }
}
