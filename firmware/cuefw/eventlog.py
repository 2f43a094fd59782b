# Event log: a preallocated ring of (tick, code, a, b) records, newest overwriting oldest.
# Adding an event never allocates, so the engine, governor and debouncer may log from any path.
from array import array

from cuefw.compat import const

# Event codes. a/b meaning is given per code; the link and emulator print them with NAMES.
EV_BOOT = const(1)  # a: reset cause (board-specific)
EV_SHOW_LOADED = const(2)  # a: cue count, b: parameter count
EV_GO = const(3)  # a: cue index, b: cue number (thousandths)
EV_GO_REFUSED = const(4)  # a: cue index asked for (-1 none), b: G_* reason
EV_BACK = const(5)  # a: cue index, b: cue number
EV_GOTO = const(6)  # a: cue index, b: cue number
EV_STOP = const(7)  # a: cue index current at the stop, b: stop fade ms
EV_RESUME = const(8)  # a: cue index standing by, b: cue number
EV_AUTO_GO = const(9)  # a: cue index, b: cue number (follow/hang continuation)
EV_RELAY_ON = const(10)  # a: relay, b: pulse ms (0: latched on)
EV_RELAY_OFF = const(11)  # a: relay, b: R_* reason the relay went off
EV_RELAY_REFUSED = const(12)  # a: relay, b: R_* reason the request was refused
EV_ARM = const(13)
EV_DISARM = const(14)  # a: number of relays switched off
EV_PANIC = const(15)  # a: number of relays switched off
EV_BUTTON_STUCK = const(16)  # a: button, b: ms held when declared stuck
EV_BUTTON_RELEASED = const(17)  # a: button (a stuck or held-at-boot button came free)
EV_BUTTON_DROPPED = const(18)  # a: button (event queue full: event lost)
EV_BUTTON_HELD_AT_START = const(19)  # a: button pressed at the first sample: ignored
EV_BACK_REFUSED = const(20)  # a: cue index asked for, b: G_* reason
EV_GOTO_REFUSED = const(21)  # a: cue index asked for, b: G_* reason
EV_SHOW_FAILED = const(22)  # a show on flash did not load (status load_error says why)
EV_BUTTON_PRESS = const(23)  # a: button (a debounced press, stamped with its first edge)
EV_CUE_DONE = const(24)  # a: cue index, b: cue number (its fade has arrived)

NAMES = {
    EV_BOOT: "boot",
    EV_SHOW_LOADED: "show-loaded",
    EV_GO: "go",
    EV_GO_REFUSED: "go-refused",
    EV_BACK: "back",
    EV_GOTO: "goto",
    EV_STOP: "stop",
    EV_RESUME: "resume",
    EV_AUTO_GO: "auto-go",
    EV_RELAY_ON: "relay-on",
    EV_RELAY_OFF: "relay-off",
    EV_RELAY_REFUSED: "relay-refused",
    EV_ARM: "arm",
    EV_DISARM: "disarm",
    EV_PANIC: "panic",
    EV_BUTTON_STUCK: "button-stuck",
    EV_BUTTON_RELEASED: "button-released",
    EV_BUTTON_DROPPED: "button-dropped",
    EV_BUTTON_HELD_AT_START: "button-held-at-start",
    EV_BACK_REFUSED: "back-refused",
    EV_GOTO_REFUSED: "goto-refused",
    EV_SHOW_FAILED: "show-not-loaded",
    EV_BUTTON_PRESS: "button",
    EV_CUE_DONE: "cue-done",
}

# Reasons a relay went off or a request was refused (b of EV_RELAY_OFF / EV_RELAY_REFUSED).
R_REQUEST = const(1)  # asked to switch off
R_NOT_ARMED = const(2)  # requires ARM and the node is disarmed
R_MIN_OFF = const(3)  # off for less than min_off_ms
R_DUTY = const(4)  # duty-cycle budget of the window used up
R_NO_RELAY = const(5)  # index out of range or relay not configured by the show
R_MAX_ON = const(6)  # cut at max_on_ms (or at the end of the duty budget)
R_PULSE_END = const(7)  # a pulse ran its time
R_PANIC = const(8)
R_DISARM = const(9)
R_RESET = const(10)  # governor reconfigured (show loaded): every relay off

REASONS = {
    R_REQUEST: "request",
    R_NOT_ARMED: "not-armed",
    R_MIN_OFF: "min-off",
    R_DUTY: "duty-cycle",
    R_NO_RELAY: "no-relay",
    R_MAX_ON: "max-on",
    R_PULSE_END: "pulse-end",
    R_PANIC: "panic",
    R_DISARM: "disarm",
    R_RESET: "reset",
}

# Reasons a GO/BACK/GOTO was refused (b of EV_*_REFUSED).
G_PROTECT = const(1)  # within GO protection of the previous GO
G_END = const(2)  # no next (or previous) cue
G_NO_SHOW = const(3)  # no show loaded
G_NO_CUE = const(4)  # no such cue index / number

GO_REASONS = {
    G_PROTECT: "go-protect",
    G_END: "end-of-list",
    G_NO_SHOW: "no-show",
    G_NO_CUE: "no-such-cue",
}


class EventLog:
    """Ring buffer of the last `capacity` events; `seq` counts every event ever added."""

    def __init__(self, capacity=64):
        self.capacity = capacity
        self.ticks = array("i", bytes(4 * capacity))
        self.codes = bytearray(capacity)
        self.a = array("i", bytes(4 * capacity))
        self.b = array("i", bytes(4 * capacity))
        self.seq = 0  # total events added; the link asks for "events since seq N"
        self._head = 0  # slot the next event goes into
        # Anything with a set() method (an asyncio Event): told of each new event, so the
        # link can send it to a subscribed host at once (docs/protocol.md, "Events").
        self.wake = None

    def add(self, tick, code, a=0, b=0):
        h = self._head
        self.ticks[h] = tick
        self.codes[h] = code
        self.a[h] = a
        self.b[h] = b
        h += 1
        self._head = 0 if h == self.capacity else h
        # seq is a plain counter; it stays a small int for 2**30 events (years of use).
        self.seq += 1
        if self.wake is not None:
            self.wake.set()

    def __len__(self):
        return self.seq if self.seq < self.capacity else self.capacity

    def _slot(self, k):
        """Ring slot of the k-th newest event (k = 0: newest)."""
        return (self._head - 1 - k) % self.capacity

    def get(self, k):
        """The k-th newest event as (tick, code, a, b). Allocates a tuple: not for hot paths."""
        if not 0 <= k < len(self):
            raise IndexError("event log index out of range")
        s = self._slot(k)
        return (self.ticks[s], self.codes[s], self.a[s], self.b[s])

    def __iter__(self):
        """Newest first."""
        for k in range(len(self)):
            yield self.get(k)

    def copy_into(self, ticks, codes, a, b):
        """Copy the events, newest first, into caller-owned arrays; returns the count copied."""
        n = min(len(self), len(codes))
        for k in range(n):
            s = self._slot(k)
            ticks[k] = self.ticks[s]
            codes[k] = self.codes[s]
            a[k] = self.a[s]
            b[k] = self.b[s]
        return n

    def since(self, seq):
        """Events added after event number `seq` that are still in the ring, oldest first."""
        first = max(seq, self.seq - len(self))
        for n in range(first, self.seq):
            yield self.get(self.seq - 1 - n)

    def count(self, code):
        """How many events with `code` are in the ring (tests and status)."""
        n = 0
        for k in range(len(self)):
            if self.codes[self._slot(k)] == code:
                n += 1
        return n

    def clear(self):
        self.seq = 0
        self._head = 0


def cue_text(number):
    """Cue number in thousandths -> '12.25' ('' for none)."""
    if number < 0:
        return ""
    whole, frac = number // 1000, number % 1000
    if not frac:
        return str(whole)
    return ("%d.%03d" % (whole, frac)).rstrip("0")


_CUE_EVENTS = (EV_GO, EV_BACK, EV_GOTO, EV_RESUME, EV_AUTO_GO, EV_CUE_DONE)  # b: cue number
_BUTTON_EVENTS = (
    EV_BUTTON_PRESS,
    EV_BUTTON_STUCK,
    EV_BUTTON_RELEASED,
    EV_BUTTON_DROPPED,
    EV_BUTTON_HELD_AT_START,
)


def relay_text(a, names):
    """A relay as the show names it ("fog"), or "relay 3" when its name is not known."""
    return names[a] if names is not None and 0 <= a < len(names) else "relay %d" % a


def _details(code, a, b, names=None):
    """What a crew member needs to read in an event's a/b (see the EV_* comments)."""
    if code in _CUE_EVENTS:
        return "cue %s" % cue_text(b)
    if code in (EV_RELAY_OFF, EV_RELAY_REFUSED):
        return "%s: %s" % (relay_text(a, names), REASONS.get(b, str(b)))
    if code in (EV_GO_REFUSED, EV_BACK_REFUSED, EV_GOTO_REFUSED):
        return GO_REASONS.get(b, str(b))
    if code == EV_RELAY_ON:
        return relay_text(a, names) + (" pulse %d ms" % b if b else "")
    if code == EV_SHOW_LOADED:
        return "%d cues, %d parameters" % (a, b)
    if code == EV_STOP:
        return "fade to black in %d ms" % b
    if code in (EV_DISARM, EV_PANIC):
        return "%d relays off" % a
    if code in _BUTTON_EVENTS:
        return "button %d" % a + (" held %d ms" % b if code == EV_BUTTON_STUCK else "")
    if code == EV_BOOT:
        return "reset cause %d" % a
    return ""


def describe(event, relay_names=None):
    """One human-readable line for an event tuple (host tools and the REPL); relays by the
    show's names when `relay_names` (in the governor's order) is given."""
    tick, code, a, b = event
    details = _details(code, a, b, relay_names)
    name = NAMES.get(code, "event-%d" % code)
    return "%d %s: %s" % (tick, name, details) if details else "%d %s" % (tick, name)
