# HIL jig: pin edges (time, pin index, level) from hard IRQ handlers into a preallocated
# ring, drained by the main loop. Pure: no machine, no clock (the handler passes the time).
# put() allocates nothing (MicroPython hard IRQs may not): counters wrap at twice the size,
# so they stay small ints.
from array import array


class EdgeRing:
    def __init__(self, size=256):
        if size & (size - 1):
            raise ValueError("size must be a power of two")
        self.times = array("i", bytes(4 * size))
        self.codes = bytearray(size)
        self.mask = size - 1
        self.wrap = 2 * size - 1
        self.head = 0
        self.tail = 0
        self.lost = 0

    def put(self, t, index, level):
        """From an IRQ: one edge of pin `index` to `level` at ticks `t` (kept if room)."""
        head = self.head
        if (head - self.tail) & self.wrap > self.mask:
            self.lost += 1
            return
        self.times[head & self.mask] = t
        self.codes[head & self.mask] = index << 1 | (level & 1)
        self.head = (head + 1) & self.wrap

    def __len__(self):
        return (self.head - self.tail) & self.wrap

    def take(self, sink):
        """sink(t, index, level) for every edge in order; returns how many."""
        n = 0
        while self.tail != self.head:
            at = self.tail & self.mask
            code = self.codes[at]
            sink(self.times[at], code >> 1, code & 1)
            self.tail = (self.tail + 1) & self.wrap
            n += 1
        return n

    def clear(self):
        self.tail = self.head
        self.lost = 0
