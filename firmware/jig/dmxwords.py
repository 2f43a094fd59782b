# HIL jig: DMX packets from the words of the jig's PIO receiver (jigdmx.dmx_rx). Pure: no
# machine, no clock; runs on MicroPython and CPython (the host driver imports this file).
#
# Every word is one slot; time comes from counting the program's cycles (8 MHz, 125 ns):
#   k = marks counted before a slot (word bits 0..22, X counted down from all ones)
#   the fall of a slot's start bit is seen by `jmp pin` at c = next + 2k and happened at c - 1
#   a good slot (stop bit high):      the next count starts at c + 307
#   a low stop bit: the next word is m (X counted down while the line stayed low); the line
#   rose at c + 306 + 2m and the next count starts at c + 312 + 2m.
# The machine starts counting at cycle 1. A low stop bit with all data bits 0 and a low run
# longer than a whole slot (44 us) is a break (E1.11); anything else low is a framing error.
# A mark longer than 2^24 cycles (2.1 s) wraps the 23-bit count: the jig records less.
try:
    from micropython import const
except ImportError:

    def const(x):
        return x


CYCLES_PER_US = const(8)
GOOD_NEXT = const(307)
LOW_RISE = const(306)
LOW_NEXT = const(312)
FIRST_NEXT = const(1)
BREAK_MIN = const(352)  # cycles: 44 us, one whole slot
_MASK23 = const(0x7FFFFF)
_MASK32 = const(0xFFFFFFFF)


class Packet:
    """One packet, in cycles since the machine started: the break's fall `t`, its length
    `brk`, the mark after it `mab`, the slots (start code first), each slot's start fall."""

    def __init__(self, t, brk):
        self.t = t
        self.brk = brk
        self.mab = -1
        self.data = bytearray()
        self.starts = []
        self.errors = 0


class Decoder:
    """feed(bytes) any number of times (little-endian words, split anywhere); `packets` holds
    every packet followed by a break; `current` the one still open."""

    def __init__(self):
        self.next = FIRST_NEXT
        self.pending = -1  # c of a slot whose stop bit was low, waiting for its low count
        self.pending_value = 0
        self.packets = []
        self.current = None
        self.stray = 0  # slots before the first break (recording started mid-packet)
        self.words = 0
        self._part = bytearray()

    def feed(self, data):
        part = self._part
        i = 0
        n = len(data)
        if part:
            need = 4 - len(part)
            part.extend(data[:need])
            i = need
            if len(part) < 4:
                return
            self.word(part[0] | part[1] << 8 | part[2] << 16 | part[3] << 24)
            self._part = part = bytearray()
        while i + 4 <= n:
            self.word(data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24)
            i += 4
        if i < n:
            part.extend(data[i:])

    def word(self, w):
        self.words += 1
        if self.pending >= 0:
            self._low(w)
            return
        c = self.next + 2 * (_MASK23 - (w & _MASK23))
        value = (w >> 23) & 0xFF
        if w >> 31:
            self._slot(c - 1, value, True)
            self.next = c + GOOD_NEXT
        else:
            self.pending = c
            self.pending_value = value

    def _low(self, w):
        c = self.pending
        value = self.pending_value
        self.pending = -1
        m = _MASK32 - (w & _MASK32)
        fall = c - 1
        rise = c + LOW_RISE + 2 * m
        self.next = c + LOW_NEXT + 2 * m
        if value == 0 and rise - fall > BREAK_MIN:
            self._break(fall, rise)
        else:
            self._slot(fall, value, False)

    def _break(self, fall, rise):
        done = self.current
        if done is not None and len(done.data):
            self.packets.append(done)
        self.current = Packet(fall, rise - fall)

    def _slot(self, fall, value, ok):
        p = self.current
        if p is None:
            self.stray += 1
            return
        if p.mab < 0:
            p.mab = fall - (p.t + p.brk)
        p.data.append(value)
        p.starts.append(fall)
        if not ok:
            p.errors += 1
