# ruff: noqa: F821 - the PIO assembler DSL names (pull, set, jmp, ...) exist inside @asm_pio
# HIL jig: the DMX line recorded by one PIO state machine, drained by DMA into a RAM ring.
#
# The state machine is a UART receiver that also accounts for every one of its cycles, so the
# host can rebuild when each slot started without a timestamp per word (dmxwords.py decodes):
# it runs at 8 MHz (32 cycles a 4 us bit) and pushes ONE word per slot:
#   bits 0..22  the low 23 bits of X, which counted down (2 cycles a count) the mark before
#               the slot's start bit, from a fixed point after the previous slot (or start)
#   bits 23..30 the 8 data bits, each sampled in its middle (48 + 32 n cycles after the fall)
#   bit 31      the first stop bit (sampled 304 cycles after the fall)
# A slot whose stop bit is low (a break, or a framing error) is followed by a second word:
# X after counting down (2 cycles a count) how long the line then stayed low.
# Each path takes a fixed number of cycles (listed in dmxwords.py), so break, mark after break
# and every slot's start are known to +-1 cycle (125 ns) from the moment the machine started.
# One word per 44 us slot is ~23,000 words (92 KB) a second: too much to keep for a 2 s
# window in RAM, so the jig streams the ring to the host while it records (jigapp.py).
from time import ticks_add, ticks_diff, ticks_us

import rp2
import uctypes
from machine import mem32
from micropython import const

SM_HZ = const(8_000_000)
_PIO1_BASE = const(0x50300000)
_RXF0 = const(0x020)
_FDEBUG = const(0x008)
_DREQ_PIO1_RX0 = const(12)
RING_BITS = const(13)  # an 8 KiB ring: 2048 words, 89 ms of a full universe
RING_BYTES = const(1 << RING_BITS)


@rp2.asm_pio(in_shiftdir=rp2.PIO.SHIFT_RIGHT, fifo_join=rp2.PIO.JOIN_RX)
def dmx_rx():
    wrap_target()
    label("idle")
    mov(x, invert(null))  # idle: count the mark (line high) until it falls
    label("high")
    jmp(pin, "stay")
    jmp("start")
    label("stay")
    jmp(x_dec, "high")
    label("start")
    in_(x, 23)[31]  # the fall was 1 +-1 cycle ago; keep how long the mark was
    set(y, 7)[12]
    label("bits")
    in_(pins, 1)[30]  # bit n sampled 48 + 32 n cycles after the fall
    jmp(y_dec, "bits")
    jmp(pin, "good")  # first stop bit, 304 cycles after the fall
    in_(null, 1)  # low: a break or a framing error
    push(block)
    mov(x, invert(null))
    label("low")
    jmp(pin, "rose")
    jmp(x_dec, "low")
    label("rose")
    mov(isr, x)  # how long it stayed low
    push(block)
    jmp("idle")
    label("good")
    in_(y, 1)  # Y is all ones after the bit loop: a 1 for the stop bit
    push(block)
    wrap()


class DmxCapture:
    """start() begins recording `pin` into the ring; take(sink) hands new bytes to sink(mv)."""

    def __init__(self, pin, sm_id=4):
        self.sm_id = sm_id
        self.sm = rp2.StateMachine(sm_id, dmx_rx, freq=SM_HZ, in_base=pin, jmp_pin=pin)
        self._raw = bytearray(2 * RING_BYTES)  # the DMA ring must be aligned to its size
        base = uctypes.addressof(self._raw)
        self.addr = (base + RING_BYTES - 1) & ~(RING_BYTES - 1)
        self.ring = memoryview(self._raw)[self.addr - base : self.addr - base + RING_BYTES]
        self.dma = rp2.DMA()
        idx = sm_id & 3
        self.rxf = _PIO1_BASE + _RXF0 + 4 * idx
        self.ctrl = self.dma.pack_ctrl(
            size=2,
            inc_read=False,
            inc_write=True,
            ring_sel=True,
            ring_size=RING_BITS,
            treq_sel=_DREQ_PIO1_RX0 + idx,
        )
        self.taken = 0  # bytes handed on since start
        self.total = 0x7FFFFFFF

    def start(self):
        """Restart the machine from `idle`; returns ticks_us as it starts (cycle 0): the mean
        of stamps before and after enabling it (on the emulated chip the machine started
        6 us after the first stamp: the call's own time)."""
        self.sm.active(0)
        self.sm.restart()
        while self.sm.rx_fifo():
            self.sm.get()
        self._clear_stall()
        self.taken = 0
        self.dma.config(
            read=self.rxf, write=self.addr, count=self.total, ctrl=self.ctrl, trigger=True
        )
        t0 = ticks_us()
        self.sm.active(1)
        return ticks_add(t0, ticks_diff(ticks_us(), t0) // 2)

    def stop(self):
        self.sm.active(0)

    def written(self):
        return 4 * (self.total - self.dma.count)  # type: ignore[attr-defined]  # not in stubs

    def take(self, sink):
        """Pass the bytes written since the last take to sink (one or two memoryviews).
        Returns False if the DMA lapped the ring (data lost)."""
        end = self.written()
        n = end - self.taken
        if n > RING_BYTES:
            return False
        while n > 0:
            at = self.taken & (RING_BYTES - 1)
            part = min(n, RING_BYTES - at)
            sink(self.ring[at : at + part])
            self.taken += part
            n -= part
        return True

    def stalled(self):
        """True if the machine ever waited on a full FIFO (its cycle count is then off)."""
        return bool(mem32[_PIO1_BASE + _FDEBUG] & (1 << (self.sm_id & 3)))

    def _clear_stall(self):
        mem32[_PIO1_BASE + _FDEBUG] = 1 << (self.sm_id & 3)  # write 1 to clear RXSTALL
