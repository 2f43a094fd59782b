# ruff: noqa: F821 - the PIO assembler DSL names (pull, set, jmp, ...) exist inside @asm_pio
# RP2040 board driver: DMX512 out of a PIO state machine, fed by rp2.DMA, so a frame goes out
# in the background (the CPU only starts it). Takes its pins from main.py (boards/pico.py data).
#
# The state machine runs at 1 MHz (1 cycle = 1 us) on one pin (set and out both map to TX):
#   pull the slot count, break 176 us low, mark-after-break 12 us high, then per byte:
#   start bit 4 us low, 8 data bits LSB first 4 us each, 2 stop bits 8 us high.
# Between packets the line idles high while `pull` waits for the next count (mark before break).
#
# Double buffer (issue 8, D1): the DMA streams the driver's own copy of the frame, taken at
# send() when the previous packet has left, never the universe the engine writes. Streaming the
# live universe let a 16-bit value change between the DMA's reads of its coarse and fine bytes
# (0x75FF -> 0x7600 went out as 0x7500). The copy is one memcpy of 513 bytes (no allocation:
# `buf[:] = frame` on MicroPython >= 1.23, checked on the chip), made between engine ticks, so
# the packet always carries one whole tick's levels.
import rp2
from cuefw.compat import const

_PIO0_BASE = const(0x50200000)
_TXF0 = const(0x010)
_DREQ_PIO0_TX0 = const(0)
_SM_HZ = const(1_000_000)
_SPIN_SLOTS = const(11)  # 11 x 44 us: the most busy() waits out instead of sleeping


@rp2.asm_pio(
    set_init=rp2.PIO.OUT_HIGH,
    out_init=rp2.PIO.OUT_HIGH,
    out_shiftdir=rp2.PIO.SHIFT_RIGHT,
    fifo_join=rp2.PIO.JOIN_TX,
)
def _dmx_program():
    wrap_target()
    pull(block)  # slot count - 1 (start code included); the line idles high meanwhile
    mov(y, osr)
    set(pins, 0)  # break: 1 + 7 + 21 x 8 = 176 cycles
    set(x, 20)[6]
    label("brk")
    jmp(x_dec, "brk")[7]
    set(pins, 1)[10]  # mark after break: 11 + the next pull = 12 cycles
    label("byte")
    pull(block)
    set(pins, 0)[2]  # start bit: 3 + 1 = 4 cycles
    set(x, 7)
    label("bit")
    out(pins, 1)[2]  # one data bit: 3 + 1 = 4 cycles
    jmp(x_dec, "bit")
    set(pins, 1)[5]  # 2 stop bits: 6 + jmp + pull = 8 cycles
    jmp(y_dec, "byte")
    wrap()


class DmxOut:
    """send(frame) copies the frame and queues the packet in the background; busy() while
    the DMA still reads the copy. The caller sends only when busy() is False."""

    def __init__(self, tx_pin, de_pin, sm_id=0):
        self.de = de_pin
        self.sm = rp2.StateMachine(
            sm_id, _dmx_program, freq=_SM_HZ, set_base=tx_pin, out_base=tx_pin
        )
        self.sm.active(1)
        self.dma = rp2.DMA()
        self.ctrl = self.dma.pack_ctrl(
            size=0, inc_read=True, inc_write=False, treq_sel=_DREQ_PIO0_TX0 + sm_id
        )
        self.txf = _PIO0_BASE + _TXF0 + 4 * sm_id
        self.sm_id = sm_id
        self.buf = bytearray(513)  # what the DMA reads: start code + 512 slots

    def busy(self):
        """True while the DMA still reads the copy for more than _SPIN_SLOTS slots. Only the
        DMA reads `buf`: once it has put the last byte into the TX FIFO the copy is free,
        though the FIFO (8 words, joined) still holds the packet's last slots, ~0.35 ms of
        line. send() may come then: its count waits at most one slot for room and the PIO
        starts the next break right after the last stop bit (back to back, 43.9 packets/s
        at most). The last few slots are waited out here (<= 0.5 ms, within the loop's 1 ms
        budget) rather than by a 1 ms sleep that would leave the line idle. Waiting for an
        empty FIFO as before cost every frame that woke a little late its slack (42.5-42.9
        packets/s on the chip). The emulator models the same (emulator/hardware.py)."""
        dma = self.dma
        if not dma.active():
            return False
        if dma.count > _SPIN_SLOTS:  # type: ignore[attr-defined]  # DMA.count: not in the stubs
            return True
        while dma.active():
            pass
        return False

    def send(self, frame):
        buf = self.buf
        buf[:] = frame  # the engine may write `frame` from now on: the DMA reads `buf`
        self.sm.put(len(buf) - 1)  # the count first (waits <= 1 slot for FIFO room), then DMA
        self.dma.config(read=buf, write=self.txf, count=len(buf), ctrl=self.ctrl, trigger=True)

    def probe(self, app, now):
        pass  # the live view's debug probe exists only on the emulated board
