# One DMX512 universe: a preallocated frame the DMX driver transmits continuously in the
# background. Writers change bytes in place; nothing here allocates or blocks.
from cuefw.compat import const

SLOTS = const(512)
FRAME_LEN = const(513)  # start code + 512 slots


class Universe:
    def __init__(self):
        # frame[0] is the start code (0x00 for dimmer data); frame[1..512] are the slots.
        self.frame = bytearray(FRAME_LEN)
        self.start_code = 0

    def set(self, slot, value):
        """Set slot 1..512 to 0..255."""
        if not 1 <= slot <= SLOTS:
            raise IndexError("DMX slot %d out of 1..512" % slot)
        self.frame[slot] = value

    def get(self, slot):
        if not 1 <= slot <= SLOTS:
            raise IndexError("DMX slot %d out of 1..512" % slot)
        return self.frame[slot]

    def set16(self, coarse, fine, value):
        """A 16-bit parameter: coarse slot gets the high byte, fine slot the low byte."""
        self.set(coarse, value >> 8)
        self.set(fine, value & 0xFF)

    def blackout(self):
        """Every slot to 0 at once (the start code stays)."""
        frame = self.frame
        for i in range(1, FRAME_LEN):
            frame[i] = 0

    def slots(self):
        """The 512 slots as a memoryview (no copy): frame[1:]."""
        return memoryview(self.frame)[1:]
