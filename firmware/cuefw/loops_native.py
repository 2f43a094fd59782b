# Native (viper) variants of the hot loops in cuefw/loops.py, same names and signatures; see
# there for what each does. Importing this module fails where MicroPython has no native
# emitter (CPython, the WebAssembly build); loops.choose() then keeps the plain variants, and
# where it imports, uses a group of these only after it reproduced the plain variants on a
# test pattern (cuefw/loopcheck.py).
#
# Word size: viper ints are machine words: 32 bits on the chips (RP2040, ESP32), 64 bits on
# the unix port of a PC. A ptr32 load gives the stored 32 bits zero-extended to the word, so
# a negative delta (array "i") reads as itself on a 32-bit chip but as 2**32 + delta on a
# 64-bit host. Every delta read therefore goes through SIGNED: |delta| < 2**16, so
# ((d + 2**16) & (2**17 - 1)) - 2**16 is the signed delta on either word size. Stores need no
# care (the low 32 bits are kept); group counts (g_n) are only ever added to modulo 2**32.
# Every other load is unsigned 8/16-bit or a non-negative progress (<= 2**14).
#
# Viper pointers have no bounds checks, so every index that comes from the file is checked
# here: a parameter index against n_params (or the look's length); lanes and groups come from
# the engine's own arrays, whose invariants the engine keeps.
import micropython


@micropython.viper
def write8(n: int, grp, src, delta, prog, coarse, frame):
    g8 = ptr8(grp)  # noqa: F821 (viper built-ins)
    s16 = ptr16(src)  # noqa: F821
    d32 = ptr32(delta)  # noqa: F821
    p32 = ptr32(prog)  # noqa: F821
    c16 = ptr16(coarse)  # noqa: F821
    out = ptr8(frame)  # noqa: F821
    q = 0
    while q < n:
        g = g8[q]
        if g != 255:
            d = ((d32[q] + 65536) & 131071) - 65536  # SIGNED (see the top)
            out[c16[q]] = s16[q] + ((d * p32[g] + 8192) >> 14)
        q += 1


@micropython.viper
def write16(first: int, n: int, grp, src, delta, prog, coarse, fine, frame):
    g8 = ptr8(grp)  # noqa: F821
    s16 = ptr16(src)  # noqa: F821
    d32 = ptr32(delta)  # noqa: F821
    p32 = ptr32(prog)  # noqa: F821
    c16 = ptr16(coarse)  # noqa: F821
    f16 = ptr16(fine)  # noqa: F821
    out = ptr8(frame)  # noqa: F821
    q = first
    while q < n:
        g = g8[q]
        if g != 255:
            d = ((d32[q] + 65536) & 131071) - 65536  # SIGNED
            v = s16[q] + ((d * p32[g] + 8192) >> 14)
            out[c16[q]] = v >> 8
            out[f16[q]] = v & 255
        q += 1


@micropython.viper
def retarget_changes(lanes, changes, n: int, g: int):
    ch = ptr16(changes)  # noqa: F821 (viper built-ins)
    lane_of = ptr16(lanes.lane_of)  # noqa: F821
    grp = ptr8(lanes.grp)  # noqa: F821
    src = ptr16(lanes.src)  # noqa: F821
    dst = ptr16(lanes.dst)  # noqa: F821
    delta = ptr32(lanes.delta)  # noqa: F821
    fine = ptr16(lanes.fine)  # noqa: F821
    prog = ptr32(lanes.prog)  # noqa: F821
    g_n = ptr32(lanes.g_n)  # noqa: F821
    n_params = int(lanes.n_params)
    up_k = g + g
    down_k = up_k + 1
    n_up = 0
    n_down = 0
    k = 0
    end = n + n
    while k < end:
        p = ch[k]
        value = ch[k + 1]
        k += 2
        if p >= n_params:
            continue
        q = lane_of[p]
        if value > 255 and fine[q] == 0:
            value = 255
        kk = grp[q]
        cur = dst[q]
        if kk == 255:
            if value == cur:
                continue
        else:
            d = ((delta[q] + 65536) & 131071) - 65536  # SIGNED
            cur = src[q] + ((d * prog[kk] + 8192) >> 14)
            g_n[kk] = g_n[kk] - 1
        src[q] = cur
        dst[q] = value
        delta[q] = value - cur
        if value < cur:
            grp[q] = down_k
            n_down += 1
        else:
            grp[q] = up_k
            n_up += 1
    g_n[up_k] = g_n[up_k] + n_up
    g_n[down_k] = g_n[down_k] + n_down


@micropython.viper
def retarget_look(lanes, look, g: int):
    values = ptr16(look)  # noqa: F821
    lane_of = ptr16(lanes.lane_of)  # noqa: F821
    grp = ptr8(lanes.grp)  # noqa: F821
    src = ptr16(lanes.src)  # noqa: F821
    dst = ptr16(lanes.dst)  # noqa: F821
    delta = ptr32(lanes.delta)  # noqa: F821
    fine = ptr16(lanes.fine)  # noqa: F821
    prog = ptr32(lanes.prog)  # noqa: F821
    g_n = ptr32(lanes.g_n)  # noqa: F821
    n_params = int(lanes.n_params)
    up_k = g + g
    down_k = up_k + 1
    n_up = 0
    n_down = 0
    p = 0
    while p < n_params:
        q = lane_of[p]
        value = values[p]
        p += 1
        if value > 255 and fine[q] == 0:
            value = 255
        cur = dst[q]
        if value == cur:
            continue
        kk = grp[q]
        if kk != 255:
            d = ((delta[q] + 65536) & 131071) - 65536  # SIGNED
            cur = src[q] + ((d * prog[kk] + 8192) >> 14)
            g_n[kk] = g_n[kk] - 1
        src[q] = cur
        dst[q] = value
        delta[q] = value - cur
        if value < cur:
            grp[q] = down_k
            n_down += 1
        else:
            grp[q] = up_k
            n_up += 1
    g_n[up_k] = g_n[up_k] + n_up
    g_n[down_k] = g_n[down_k] + n_down


@micropython.viper
def all_to_black(lanes, g: int):
    grp = ptr8(lanes.grp)  # noqa: F821
    src = ptr16(lanes.src)  # noqa: F821
    dst = ptr16(lanes.dst)  # noqa: F821
    delta = ptr32(lanes.delta)  # noqa: F821
    prog = ptr32(lanes.prog)  # noqa: F821
    g_n = ptr32(lanes.g_n)  # noqa: F821
    n_params = int(lanes.n_params)
    down_k = g + g + 1
    n_down = 0
    q = 0
    while q < n_params:
        k = grp[q]
        cur = dst[q]
        if k != 255:
            d = ((delta[q] + 65536) & 131071) - 65536  # SIGNED
            cur = src[q] + ((d * prog[k] + 8192) >> 14)
            g_n[k] = g_n[k] - 1
        elif cur == 0:
            q += 1
            continue
        src[q] = cur
        dst[q] = 0
        delta[q] = 0 - cur
        grp[q] = down_k
        n_down += 1
        q += 1
    g_n[down_k] = g_n[down_k] + n_down


@micropython.viper
def apply_changes(words, n: int, out, limit: int):
    """out[param] = value for the n (param, value) pairs in words; params >= limit skipped."""
    w = ptr16(words)  # noqa: F821
    o = ptr16(out)  # noqa: F821
    k = 0
    end = n + n
    while k < end:
        p = w[k]
        if p < limit:
            o[p] = w[k + 1]
        k += 2
