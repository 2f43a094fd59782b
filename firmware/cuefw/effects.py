# Effects: looping waveforms and step chases on top of the cue look (docs/show-format.md,
# "Effects"). Pure: no machine, no clock (time is an argument), integer math only.
#
# Composition (relative effects): every frame, each member parameter of a running effect is
#     value = cue value + offset + size * wave(position) / 1024, clamped to the parameter's range
# where "cue value" is what the cue engine holds for that parameter this frame (its fade level
# while fading, its target when idle: read from the engine's lane arrays, never from the frame,
# so an effect never feeds on its own output), and wave() is 0..1024:
#     sine   (1 - cos) / 2 from a 256-entry table: 0 at position 0, 1024 half way
#     ramp   rising saw tooth, 0 .. 1023
#     square 1024 while the position is below `width`, else 0 (a chase is a square of width
#            1/steps whose members' phases put step k at k/steps of the cycle)
# position = (time since start + phase) as 65536ths of a cycle. Two running effects on one
# parameter: the one later in the node's effect table wins (it writes last).
#
# Start/stop: a cue carries the full set of effects running after it (a 32-bit mask), so GO,
# BACK and GOTO all just "make this the set": an effect already running keeps its phase, a new
# one starts at the GO tick, one no longer in the set stops and its parameters return to their
# cue values at once. STOP stops every effect (then the engine fades the cue look to black).
#
# Per frame (frame()) allocates nothing: preallocated arrays, small ints (every product is
# below 2**30), the start tick is moved forward by whole periods so elapsed time stays below
# one period whatever the run time.
from array import array

from cuefw.compat import const, ticks_add, ticks_diff
from cuefw.showfile import FX_RAMP, FX_SINE, FX_SQUARE, MAX_EFFECTS, ShowError

WAVE_FULL = const(1024)
MIN_PERIOD_MS = const(2)  # the position scale (2**30 // period) must stay a small int

# (1 - cos(2 pi i / 256)) / 2 scaled to 0..1024, rounded: int((1 - cos(2*pi*i/256)) * 512 + .5)
# as 256 little-endian u16 (a constant: no float work or garbage at import on the node;
# tests/firmware/test_effects.py recomputes it)
SINE = array(
    "H",
    (
        b"\x00\x00\x00\x00\x01\x00\x01\x00\x02\x00\x04\x00\x06\x00\x08\x00\x0a\x00\x0c\x00\x0f\x00\x13\x00\x16\x00\x1a\x00\x1e\x00\x22\x00"
        b"\x27\x00\x2c\x00\x31\x00\x37\x00\x3c\x00\x43\x00\x49\x00\x4f\x00\x56\x00\x5d\x00\x65\x00\x6c\x00\x74\x00\x7c\x00\x85\x00\x8d\x00"
        b"\x96\x00\x9f\x00\xa8\x00\xb2\x00\xbb\x00\xc5\x00\xcf\x00\xd9\x00\xe4\x00\xee\x00\xf9\x00\x04\x01\x0f\x01\x1a\x01\x25\x01\x31\x01"
        b"\x3c\x01\x48\x01\x54\x01\x5f\x01\x6b\x01\x77\x01\x84\x01\x90\x01\x9c\x01\xa8\x01\xb5\x01\xc1\x01\xce\x01\xda\x01\xe7\x01\xf3\x01"
        b"\x00\x02\x0d\x02\x19\x02\x26\x02\x32\x02\x3f\x02\x4b\x02\x58\x02\x64\x02\x70\x02\x7c\x02\x89\x02\x95\x02\xa1\x02\xac\x02\xb8\x02"
        b"\xc4\x02\xcf\x02\xdb\x02\xe6\x02\xf1\x02\xfc\x02\x07\x03\x12\x03\x1c\x03\x27\x03\x31\x03\x3b\x03\x45\x03\x4e\x03\x58\x03\x61\x03"
        b"\x6a\x03\x73\x03\x7b\x03\x84\x03\x8c\x03\x94\x03\x9b\x03\xa3\x03\xaa\x03\xb1\x03\xb7\x03\xbd\x03\xc4\x03\xc9\x03\xcf\x03\xd4\x03"
        b"\xd9\x03\xde\x03\xe2\x03\xe6\x03\xea\x03\xed\x03\xf1\x03\xf4\x03\xf6\x03\xf8\x03\xfa\x03\xfc\x03\xfe\x03\xff\x03\xff\x03\x00\x04"
        b"\x00\x04\x00\x04\xff\x03\xff\x03\xfe\x03\xfc\x03\xfa\x03\xf8\x03\xf6\x03\xf4\x03\xf1\x03\xed\x03\xea\x03\xe6\x03\xe2\x03\xde\x03"
        b"\xd9\x03\xd4\x03\xcf\x03\xc9\x03\xc4\x03\xbd\x03\xb7\x03\xb1\x03\xaa\x03\xa3\x03\x9b\x03\x94\x03\x8c\x03\x84\x03\x7b\x03\x73\x03"
        b"\x6a\x03\x61\x03\x58\x03\x4e\x03\x45\x03\x3b\x03\x31\x03\x27\x03\x1c\x03\x12\x03\x07\x03\xfc\x02\xf1\x02\xe6\x02\xdb\x02\xcf\x02"
        b"\xc4\x02\xb8\x02\xac\x02\xa1\x02\x95\x02\x89\x02\x7c\x02\x70\x02\x64\x02\x58\x02\x4b\x02\x3f\x02\x32\x02\x26\x02\x19\x02\x0d\x02"
        b"\x00\x02\xf3\x01\xe7\x01\xda\x01\xce\x01\xc1\x01\xb5\x01\xa8\x01\x9c\x01\x90\x01\x84\x01\x77\x01\x6b\x01\x5f\x01\x54\x01\x48\x01"
        b"\x3c\x01\x31\x01\x25\x01\x1a\x01\x0f\x01\x04\x01\xf9\x00\xee\x00\xe4\x00\xd9\x00\xcf\x00\xc5\x00\xbb\x00\xb2\x00\xa8\x00\x9f\x00"
        b"\x96\x00\x8d\x00\x85\x00\x7c\x00\x74\x00\x6c\x00\x65\x00\x5d\x00\x56\x00\x4f\x00\x49\x00\x43\x00\x3c\x00\x37\x00\x31\x00\x2c\x00"
        b"\x27\x00\x22\x00\x1e\x00\x1a\x00\x16\x00\x13\x00\x0f\x00\x0c\x00\x0a\x00\x08\x00\x06\x00\x04\x00\x02\x00\x01\x00\x01\x00\x00\x00"
    ),
)


class Effects:
    """The effect table of the loaded show and which effects run; driven by the engine."""

    def __init__(self):
        self.engine = None
        self.n = 0
        self.n_on = 0  # effects running now
        self._alloc(0, 0)

    def _alloc(self, n, members):
        m = max(1, n)
        self.on = bytearray(m)
        self.shape = bytearray(m)
        self.start = array("i", bytes(4 * m))
        self.period = array("i", bytes(4 * m))
        self.scale = array("i", bytes(4 * m))  # 2**30 // period: position = e * scale >> 14
        self.size = array("i", bytes(4 * m))
        self.offset = array("i", bytes(4 * m))
        self.width = array("i", bytes(4 * m))
        self.first = array("H", bytes(2 * (m + 1)))  # members of effect k: first[k]..first[k+1]
        self.lane = array("H", bytes(2 * max(1, members)))
        self.phase = array("H", bytes(2 * max(1, members)))

    # --- loading -------------------------------------------------------------------------

    @staticmethod
    def check(reader):
        """Raise ShowError if the show's effect table is unusable; touches nothing."""
        if reader.n_effects > MAX_EFFECTS:
            raise ShowError("show has %d effects, at most %d" % (reader.n_effects, MAX_EFFECTS))
        words = array("H", bytes(4 * max(1, reader.n_members)))
        total = 0
        for k in range(reader.n_effects):
            shape, period, size, offset, width, n = reader.effect(k, words)
            if shape > FX_SQUARE or period < MIN_PERIOD_MS or period >= 1 << 29:
                raise ShowError("effect %d: shape %d, period %d ms" % (k, shape, period))
            for j in range(n):
                if words[2 * j] >= reader.n_params:
                    raise ShowError("effect %d drives parameter %d" % (k, words[2 * j]))
            total += n
        if total != reader.n_members:
            raise ShowError(
                "effect table holds %d members, header says %d" % (total, reader.n_members)
            )

    def load(self, reader, engine):
        """Read the effect table (after engine.check and the engine's lanes are set up).
        Nothing runs until a cue starts it."""
        self.engine = engine
        n = reader.n_effects
        self._alloc(n, reader.n_members)
        self.n = n
        self.n_on = 0
        words = array("H", bytes(4 * max(1, reader.n_members)))
        at = 0
        for k in range(n):
            shape, period, size, offset, width, m = reader.effect(k, words)
            self.shape[k] = shape
            self.period[k] = period
            self.scale[k] = (1 << 30) // period
            self.size[k] = size
            self.offset[k] = offset
            self.width[k] = width
            self.first[k] = at
            for j in range(m):
                self.lane[at + j] = engine.lane_of[words[2 * j]]
                self.phase[at + j] = words[2 * j + 1]
            at += m
        self.first[n] = at

    # --- start and stop (GO path) --------------------------------------------------------

    def run(self, mask, t):
        """Make `mask` (bit k: effect k) the running set at tick t."""
        for k in range(self.n):
            want = (mask >> k) & 1
            if want and not self.on[k]:
                self.on[k] = 1
                self.start[k] = t
                self.n_on += 1
            elif self.on[k] and not want:
                self._off(k)

    def stop_all(self):
        for k in range(self.n):
            if self.on[k]:
                self._off(k)

    def _off(self, k):
        """Effect k stops; its parameters show their cue values again from this frame."""
        self.on[k] = 0
        self.n_on -= 1
        eng = self.engine
        frame = eng.frame
        for j in range(self.first[k], self.first[k + 1]):
            q = self.lane[j]
            self._write(eng, frame, q, self._cue_value(eng, q))

    @staticmethod
    def _cue_value(eng, q):
        g = eng.grp[q]
        if g == 255:
            return eng.dst[q]
        return eng.src[q] + ((eng.delta[q] * eng.prog[g] + 8192) >> 14)

    @staticmethod
    def _write(eng, frame, q, v):
        f = eng.fine[q]
        if f:
            frame[eng.coarse[q]] = v >> 8
            frame[f] = v & 255
        else:
            frame[eng.coarse[q]] = v

    # --- per frame -----------------------------------------------------------------------

    def frame(self, now):
        """Every running effect's members into the engine's frame (after the fades)."""
        for k in range(self.n):
            if self.on[k]:
                self._frame_one(k, self._position(k, now))

    def _position(self, k, now):
        """Cycle position of effect k at `now`, 0..65535 (0 before its start)."""
        e = ticks_diff(now, self.start[k])
        if e < 0:
            return 0
        per = self.period[k]
        if e >= per:  # keep e below one period: move the start by whole periods
            whole = e - e % per
            self.start[k] = ticks_add(self.start[k], whole)
            e -= whole
        return (e * self.scale[k]) >> 14

    def _frame_one(self, k, pos):
        eng = self.engine
        # one name each: MicroPython builds a tuple for an unpacking of more than 3 values
        grp = eng.grp
        src = eng.src
        dst = eng.dst
        delta = eng.delta
        prog = eng.prog
        coarse = eng.coarse
        fine = eng.fine
        frame = eng.frame
        lane = self.lane
        phase = self.phase
        shape = self.shape[k]
        size = self.size[k]
        off = self.offset[k]
        width = self.width[k]
        for j in range(self.first[k], self.first[k + 1]):
            p = (pos + phase[j]) & 0xFFFF
            if shape == FX_SINE:
                w = SINE[p >> 8]
            elif shape == FX_RAMP:
                w = p >> 6
            else:
                w = WAVE_FULL if p < width else 0
            q = lane[j]
            g = grp[q]
            v = dst[q] if g == 255 else src[q] + ((delta[q] * prog[g] + 8192) >> 14)
            v += off + ((size * w) >> 10)
            if v < 0:
                v = 0
            f = fine[q]
            if f:
                if v > 65535:
                    v = 65535
                frame[coarse[q]] = v >> 8
                frame[f] = v & 255
            else:
                frame[coarse[q]] = 255 if v > 255 else v


__all__ = ("Effects", "FX_RAMP", "FX_SINE", "FX_SQUARE", "SINE")
