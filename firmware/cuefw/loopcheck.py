# The self-check loops.choose() runs once before it uses a native loop: the native and the
# plain variant run on the same test pattern and must leave every array byte for byte equal.
# The patterns cover what differs between machines: rising and falling fades (negative deltas:
# a 64-bit host zero-extends a ptr32 load), 8- and 16-bit lanes, idle lanes, every progress
# step kind, a value to clamp, a parameter index past the end (viper has no bounds checks).
from array import array

from cuefw import loops

N = 12  # lanes in the patterns: 6 8-bit, 6 16-bit
N8 = 6
GROUPS = 2
PROGRESS_STEPS = (0, 1, 5461, 8191, 8192, 16383, 16384)


class Lanes:
    """The engine's lane and group arrays (see engine.Engine._alloc_params), alone."""

    def __init__(self, n, groups):
        self.n_params = n
        self.lane_of = array("H", bytes(2 * n))
        self.coarse = array("H", bytes(2 * n))
        self.fine = array("H", bytes(2 * n))
        self.src = array("H", bytes(2 * n))
        self.dst = array("H", bytes(2 * n))
        self.delta = array("i", bytes(4 * n))
        self.grp = bytearray(n)
        self.prog = array("i", bytes(8 * groups))
        self.g_n = array("i", bytes(8 * groups))

    def arrays(self):
        return [list(a) for a in (self.grp, self.src, self.dst, self.delta, self.g_n)]


def _frame_pattern():
    lanes = Lanes(N, GROUPS)
    for q in range(N):
        lanes.coarse[q] = 1 + 2 * q
        lanes.fine[q] = 2 + 2 * q if q >= N8 else 0
        top = 65535 if q >= N8 else 255
        lanes.src[q] = (q * 37) % (top + 1) if q % 2 else top
        lanes.dst[q] = top if q % 3 == 0 else 1
        lanes.delta[q] = lanes.dst[q] - lanes.src[q]
        lanes.grp[q] = loops.IDLE if q == 4 else q % 4
    return lanes


def _write_frames(variant, lanes):
    frames = []
    for k in PROGRESS_STEPS:
        for g in range(2 * GROUPS):
            lanes.prog[g] = k if g % 2 else 16384 - k
        frame = bytearray(513)
        variant.write8(N8, lanes.grp, lanes.src, lanes.delta, lanes.prog, lanes.coarse, frame)
        variant.write16(
            N8, N, lanes.grp, lanes.src, lanes.delta, lanes.prog, lanes.coarse, lanes.fine, frame
        )
        frames.append(frame)
    return frames


def frame_agrees(native):
    """The native per-frame loops write the frames the plain ones write."""
    try:
        return _write_frames(native, _frame_pattern()) == _write_frames(loops, _frame_pattern())
    except Exception:
        return False


def _go_pattern():
    lanes = Lanes(N, GROUPS)
    for k in range(2 * GROUPS):
        lanes.prog[k] = (5461 * (k + 1)) & 16383
    for p in range(N):
        q = (p * 5) % N  # lanes in another order than parameters
        lanes.lane_of[p] = q
        lanes.fine[q] = 1 if q >= N8 else 0
        top = 65535 if q >= N8 else 255
        lanes.src[q] = (q * 37) % (top + 1)
        lanes.dst[q] = top if q % 3 else 0
        lanes.delta[q] = lanes.dst[q] - lanes.src[q]
        k = loops.IDLE if q % 2 else q % (2 * GROUPS)
        lanes.grp[q] = k
        if k != loops.IDLE:
            lanes.g_n[k] += 1
    return lanes


# (param, value) pairs: param 6 is lane 6, a falling 16-bit fade (a negative delta)
CHANGES = (0, 9, 3, 300, 5, 0, 6, 100, 7, 65535, 8, 1000, 11, 0, 12, 5, 600, 1)
LOOK = (0, 40, 2, 65535, 4, 255, 700, 65535, 8, 9, 10, 0)


def _go(variant):
    """A cue's changes, a full look, then STOP's fade to black: every array after each."""
    lanes = _go_pattern()
    g = GROUPS - 1
    variant.retarget_changes(lanes, array("H", CHANGES), len(CHANGES) // 2, g)
    after = [lanes.arrays()]
    variant.retarget_look(lanes, array("H", LOOK), g)
    after.append(lanes.arrays())
    lanes.grp[0] = loops.IDLE  # an idle lane at 0 that STOP leaves alone
    lanes.dst[0] = 0
    variant.all_to_black(lanes, 0)
    after.append(lanes.arrays())
    return after


def go_agrees(native):
    """The native GO-path loops leave the lane arrays as the plain ones do."""
    try:
        return _go(native) == _go(loops)
    except Exception:
        return False


def replay_agrees(native):
    """The native replay gives what the plain one gives, and skips a parameter index past the
    end of the look."""
    words = array("H", [3, 7, 0, 65535, 9, 1, 3, 8, 1, 300])
    results = []
    for variant in (loops, native):
        got = array("H", [0, 1, 2, 3])
        try:
            variant.apply_changes(words, 5, got, len(got))
        except Exception:
            return False
        results.append(list(got))
    return results[0] == results[1] == [65535, 300, 2, 8]
