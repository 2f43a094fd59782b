# Which bytes on the serial line hand the port to the MicroPython REPL while a show runs.
#
# While the firmware owns the port the keyboard interrupt is off (micropython.kbd_intr(-1)):
# a stray 0x03 on a noisy line is link noise, never Ctrl-C. Only a deliberate interrupt
# stops the show, and this detector says when one has arrived. Fed every received byte with
# the tick it was read at; pure (no clock, no machine), so it is tested on both runtimes.
#
# A deliberate interrupt is either of:
#  * mpremote taking the port: it sends "\r\x03" and then "\r\x01" at once. After at least
#    QUIET_MS of silence, the bytes CR, Ctrl-C, CR (the last within SEQ_MS) hand over. The
#    caller stops reading right there, so the Ctrl-A that follows is left for the REPL, which
#    enters raw REPL mode exactly as mpremote expects.
#  * a person at a terminal: Ctrl-C pressed twice, between PAIR_MIN_MS and PAIR_MAX_MS apart,
#    nothing else in between, the first after QUIET_MS of silence.
# Link frames never contain 0x01-0x04 (cuefw.link stuffs them), so link traffic cannot hand
# over. Random bytes can only by chance: the mpremote sequence must start a burst (after
# quiet), the pair needs two lone 0x03 tens of milliseconds apart (not a burst at line rate).
from cuefw.compat import const, ticks_add, ticks_diff

CR = const(0x0D)
CTRL_C = const(0x03)
QUIET_MS = const(50)  # silence before the first byte of a deliberate interrupt
SEQ_MS = const(500)  # mpremote's CR Ctrl-C CR arrive within this
PAIR_MIN_MS = const(50)  # two Ctrl-C closer than this are a burst, not two key presses
PAIR_MAX_MS = const(1000)

_IDLE = const(0)
_CR = const(1)  # CR after quiet
_CR_CC = const(2)  # CR, Ctrl-C
_CC = const(3)  # a lone Ctrl-C after quiet (a person's first press)


class Handover:
    """Feed it received bytes; feed() returns True at the byte that hands the port over."""

    def __init__(self, now):
        self.last = ticks_add(now, -QUIET_MS)  # tick of the last byte read (none yet: quiet)
        self.state = _IDLE
        self.since = now  # tick of the first byte of the sequence being matched
        self.requests = 0  # deliberate interrupts seen (for status/tests)

    def careful(self, now):
        """True if the next byte may start or continue a sequence: the caller should read one
        byte at a time now, so it can stop right after the last byte of the sequence."""
        return self.state != _IDLE or ticks_diff(now, self.last) >= QUIET_MS

    def feed(self, b, now):
        quiet = ticks_diff(now, self.last) >= QUIET_MS
        self.last = now
        state = self.state
        self.state = _IDLE
        if state == _CR:
            if b == CTRL_C and ticks_diff(now, self.since) <= SEQ_MS:
                self.state = _CR_CC
                return False
        elif state == _CR_CC:
            if b == CR and ticks_diff(now, self.since) <= SEQ_MS:
                return self._hand_over()
        elif state == _CC:
            gap = ticks_diff(now, self.since)
            if b == CTRL_C and PAIR_MIN_MS <= gap <= PAIR_MAX_MS:
                return self._hand_over()
        if quiet:  # only a byte after silence starts a sequence (a late second press too)
            self._start(b, now)
        return False

    def _start(self, b, now):
        if b == CR:
            self.state = _CR
            self.since = now
        elif b == CTRL_C:
            self.state = _CC
            self.since = now

    def feed_chunk(self, buf, n, now):
        """Feed buf[:n]; the index of the byte that hands over, or -1. Outside a sequence and
        without quiet before it, a chunk cannot start one: O(1)."""
        if self.state == _IDLE and ticks_diff(now, self.last) < QUIET_MS:
            self.last = now
            return -1
        for i in range(n):
            if self.feed(buf[i], now):
                return i
        return -1

    def _hand_over(self):
        self.state = _IDLE
        self.requests += 1
        return True
