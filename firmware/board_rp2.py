# ruff: noqa: F821 - the PIO assembler DSL names (pull, set, jmp, ...) exist inside @asm_pio
# RP2040 board driver: DMX512 out of a PIO state machine, fed by rp2.DMA, so a frame goes out
# in the background (the CPU only starts it). Takes its pins from main.py (boards/pico.py data).
#
# The state machine runs at 1 MHz (1 cycle = 1 us) on one pin (set and out both map to TX):
#   pull the slot count, break 176 us low, mark-after-break 12 us high, then per byte:
#   start bit 4 us low, 8 data bits LSB first 4 us each, 2 stop bits 8 us high.
# Between packets the line idles high while `pull` waits for the next count (mark before break).
import rp2
from cuefw.compat import const

_PIO0_BASE = const(0x50200000)
_TXF0 = const(0x010)
_DREQ_PIO0_TX0 = const(0)
_SM_HZ = const(1_000_000)


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
    """send(frame) starts a 513-byte packet in the background; busy() until it has left."""

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

    def busy(self):
        # DMA still feeding, or the FIFO not yet drained into the shifter
        return self.dma.active() or self.sm.tx_fifo() > 0

    def send(self, frame):
        self.sm.put(len(frame) - 1)  # the count word first, then the bytes by DMA
        self.dma.config(read=frame, write=self.txf, count=len(frame), ctrl=self.ctrl, trigger=True)

    def probe(self, app, now):
        pass  # the live view's debug probe exists only on the emulated board
