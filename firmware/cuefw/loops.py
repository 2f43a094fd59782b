# The engine's hot loops, in one place: the two per-frame loops (write8, write16) and the GO
# path's loops (retarget_changes: GO; retarget_look: GOTO/BACK/first GO; all_to_black: STOP;
# apply_changes: the reader's replay of a cue's changes into a tracked look).
#
# Each loop has two variants with one signature: the plain one here (the reference; CPython,
# the MicroPython WebAssembly build) and a native one in loops_native.py (@micropython.viper,
# machine code where MicroPython has a native emitter: RP2040, ESP32, the unix port). choose()
# picks, once per process, for each group of loops (frame, GO, replay) the native variant if
# it imports and reproduces the plain one exactly on a test pattern, else the plain one.
# The engine and the reader call whatever choose() returned; they never test which it is.
#
# Arithmetic (see curves.level): level = src + ((delta * prog + 2**13) >> 14), |delta| < 2**16,
# prog <= 2**14, so every intermediate value stays below 2**30 (MicroPython small ints).
from cuefw.compat import const

IDLE = const(255)  # a lane's group byte when it is not fading (its value is dst)
PLAIN = "plain"
NATIVE = "native"


# --- per frame ---------------------------------------------------------------------------


def write8(n, grp, src, delta, prog, coarse, frame):
    """The fading 8-bit lanes 0..n-1 into the frame."""
    for q in range(n):
        g = grp[q]
        if g != 255:
            frame[coarse[q]] = src[q] + ((delta[q] * prog[g] + 8192) >> 14)


def write16(first, n, grp, src, delta, prog, coarse, fine, frame):
    """The fading 16-bit lanes first..n-1 into the frame (coarse byte, fine byte)."""
    for q in range(first, n):
        g = grp[q]
        if g != 255:
            v = src[q] + ((delta[q] * prog[g] + 8192) >> 14)
            frame[coarse[q]] = v >> 8
            frame[fine[q]] = v & 255


# --- the GO path -------------------------------------------------------------------------
# `lanes` is the engine (or any object with its lane arrays: lane_of, grp, src, dst, delta,
# fine, prog, g_n and n_params). Lanes and groups come from those arrays, whose invariants the
# engine keeps; a parameter index from the show file is checked against n_params.
# Inlined on purpose: GO latency is these loops (bench/go_cost.py measures them alone).


def retarget_changes(lanes, changes, n, g):
    """Move the n changed parameters of a cue (changes: interleaved param, value) into group
    g, each from its level now to its new value; an idle parameter at its value stays put.
    The group counts of g are added once at the end (they may dip below 0 meanwhile)."""
    lane_of, grp, src, dst = lanes.lane_of, lanes.grp, lanes.src, lanes.dst
    delta, fine, prog, g_n = lanes.delta, lanes.fine, lanes.prog, lanes.g_n
    n_params = lanes.n_params
    up_k = 2 * g
    n_up = 0
    n_down = 0
    for k in range(0, 2 * n, 2):
        p = changes[k]
        if p >= n_params:
            continue
        q = lane_of[p]
        value = changes[k + 1]
        if value > 255 and not fine[q]:
            value = 255
        kk = grp[q]
        cur = dst[q]
        if kk == 255:
            if value == cur:
                continue
        else:
            cur = src[q] + ((delta[q] * prog[kk] + 8192) >> 14)
            g_n[kk] -= 1
        src[q] = cur
        dst[q] = value
        delta[q] = value - cur
        if value < cur:
            grp[q] = up_k + 1
            n_down += 1
        else:
            grp[q] = up_k
            n_up += 1
    g_n[up_k] += n_up
    g_n[up_k + 1] += n_down


def retarget_look(lanes, look, g):
    """Move every parameter whose full-look value (look[p]) differs from where it rests or
    is heading into group g; one already on its way there finishes its own fade."""
    lane_of, grp, src, dst = lanes.lane_of, lanes.grp, lanes.src, lanes.dst
    delta, fine, prog, g_n = lanes.delta, lanes.fine, lanes.prog, lanes.g_n
    up_k = 2 * g
    n_up = 0
    n_down = 0
    for p in range(lanes.n_params):
        q = lane_of[p]
        value = look[p]
        if value > 255 and not fine[q]:
            value = 255
        cur = dst[q]
        if value == cur:
            continue
        kk = grp[q]
        if kk != 255:
            cur = src[q] + ((delta[q] * prog[kk] + 8192) >> 14)
            g_n[kk] -= 1
        src[q] = cur
        dst[q] = value
        delta[q] = value - cur
        if value < cur:
            grp[q] = up_k + 1
            n_down += 1
        else:
            grp[q] = up_k
            n_up += 1
    g_n[up_k] += n_up
    g_n[up_k + 1] += n_down


def all_to_black(lanes, g):
    """Every parameter that is lit or moving fades to 0 in group g (its down direction)."""
    grp, src, dst, delta = lanes.grp, lanes.src, lanes.dst, lanes.delta
    prog, g_n = lanes.prog, lanes.g_n
    down_k = 2 * g + 1
    n_down = 0
    for q in range(lanes.n_params):
        k = grp[q]
        cur = dst[q]
        if k != 255:
            cur = src[q] + ((delta[q] * prog[k] + 8192) >> 14)
            g_n[k] -= 1
        elif not cur:
            continue
        src[q] = cur
        dst[q] = 0
        delta[q] = -cur
        grp[q] = down_k
        n_down += 1
    g_n[down_k] += n_down


def apply_changes(words, n, out, limit):
    """out[param] = value for the n (param, value) pairs in words; params >= limit skipped."""
    for k in range(0, 2 * n, 2):
        p = words[k]
        if p < limit:
            out[p] = words[k + 1]


# --- the chooser -------------------------------------------------------------------------


class Loops:
    """The loops in use. `frame`, `go` and `replay` say which variant each group runs
    ("plain" or "native"): the node reports them in its status."""

    def __init__(self, frame=None, go=None, replay=None):
        self.frame = PLAIN if frame is None else NATIVE
        self.go = PLAIN if go is None else NATIVE
        self.replay = PLAIN if replay is None else NATIVE
        self.write8 = write8 if frame is None else frame.write8
        self.write16 = write16 if frame is None else frame.write16
        self.retarget_changes = retarget_changes if go is None else go.retarget_changes
        self.retarget_look = retarget_look if go is None else go.retarget_look
        self.all_to_black = all_to_black if go is None else go.all_to_black
        self.apply_changes = apply_changes if replay is None else replay.apply_changes


PLAIN_LOOPS = Loops()
_chosen = []  # (native module, Loops): the self-check runs once per native module


_native = []  # [cuefw.loops_native or None] once looked up


def native_module():
    """cuefw.loops_native, or None where it does not import (no native emitter). Looked up
    once: a failed import attempt makes garbage."""
    if not _native:
        try:
            from cuefw import loops_native

            _native.append(loops_native)
        except Exception:  # CPython, MicroPython WebAssembly: no viper
            _native.append(None)
    return _native[0]


def choose(fast=True, native=False):
    """The loops to use: each group native where `native` (default: cuefw.loops_native)
    exists and agrees with the plain loops on the self-check patterns (cuefw.loopcheck),
    else plain. fast=False: all plain. The check runs once for a given native module."""
    if not fast:
        return PLAIN_LOOPS
    if native is False:
        native = native_module()
    if native is None:
        return PLAIN_LOOPS
    for module, loops in _chosen:
        if module is native:
            return loops
    from cuefw.loopcheck import frame_agrees, go_agrees, replay_agrees

    loops = Loops(
        native if frame_agrees(native) else None,
        native if go_agrees(native) else None,
        native if replay_agrees(native) else None,
    )
    _chosen.append((native, loops))
    return loops
