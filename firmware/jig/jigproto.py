# HIL jig: the line protocol on the jig's USB serial. Pure (no machine): the jig and the
# host driver (cuenode.hil.jig) both import it.
#
# host -> jig: one command a line (ASCII, "\n"); the jig answers each with one line,
#   "ok ..." or "err <what>". Times are the jig's ticks_us (30-bit, wrapping).
#     hello                      ok hello version=1 sm_hz=8000000 t=<us> wiring=<json>
#     wire <json>                ok wired   (the board's HIL_JIG: dmx, buttons, relays, leds, power)
#     drive <label> <1|0>        ok t=<us>  (1: pressed, pin driven low; 0: released, hi-Z)
#     sense <label>              ok level=<0|1>
#     power <1|0>                ok t=<us>  (1: node powered, relay coil off; 0: cut)
#     now                        ok t=<us>
#     rec <ms> [<label> ...]     ok t0=<us>, then while it records:
#                                  e <label> <t_us> <level>     an edge of a sensed pin
#                                  d <n>                        followed by n raw bytes: PIO
#                                                               words (jigdmx.py, dmxwords.py)
#                                end t1=<us> words=<n> lost=<n> stall=<0|1>
#     stop                       ok (ends a recording early: its "end" line follows)
# Labels: buttons and relays by the node's names (B1, R1), LEDs as LED_<name> (LED_STATUS).
VERSION = 1


def command(line):
    """A command line as (name, args); name '' for a blank line."""
    parts = line.strip().split()
    if not parts:
        return "", []
    return parts[0], parts[1:]


def fields(text):
    """'ok t=5 lost=0' -> {'t': '5', 'lost': '0'} (words without '=' are skipped)."""
    out = {}
    for word in text.split():
        key, eq, value = word.partition("=")
        if eq:
            out[key] = value
    return out


class Stream:
    """The jig's output, split into lines and DMX blocks: feed(bytes) returns a list of
    ('line', str) and ('dmx', bytes) in order (a block may arrive over several feeds)."""

    def __init__(self):
        self.buf = bytearray()
        self.need = 0  # bytes of a DMX block still to come

    def feed(self, data):
        self.buf.extend(data)
        out = []  # type: list[tuple[str, object]]
        while True:
            if self.need:
                if len(self.buf) < self.need:
                    return out
                out.append(("dmx", bytes(self.buf[: self.need])))
                self.buf = self.buf[self.need :]
                self.need = 0
            nl = self.buf.find(b"\n")
            if nl < 0:
                return out
            line = bytes(self.buf[:nl]).decode().strip()
            self.buf = self.buf[nl + 1 :]
            if line.startswith("d ") and line[2:].isdigit():
                self.need = int(line[2:])
            elif line:
                out.append(("line", line))
