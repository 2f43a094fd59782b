# Native (viper) versions of the GO path's per-parameter loops, for the real chips:
# Engine._retarget_changes (GO), Engine._retarget_look (GOTO/BACK/first GO), Engine._all_to_black
# (STOP) and the replay of a cue's changes into a tracked look (ShowReader._apply_changes).
#
# A module of its own, apart from fastloop.py: if this one fails to compile on some port, the
# per-frame native loops are not lost with it. Importing it fails where there is no native
# emitter (CPython, the MicroPython WebAssembly build); the plain loops are the reference.
# Where it imports, the engine and the reader run both versions on a test pattern first and use
# these only if every resulting array matches (Engine._go_path_agrees, showfile._scatter_agrees).
#
# Viper pointers have no bounds checks, so every index that comes from the file is checked
# here: a parameter index against n_params (or the look's length); lanes and groups come from
# the engine's own arrays, whose invariants the engine keeps.
import micropython


@micropython.viper
def retarget_changes(eng, changes, n: int, g: int):
    ch = ptr16(changes)  # noqa: F821 (viper built-ins)
    lane_of = ptr16(eng.lane_of)  # noqa: F821
    grp = ptr8(eng.grp)  # noqa: F821
    src = ptr16(eng.src)  # noqa: F821
    dst = ptr16(eng.dst)  # noqa: F821
    delta = ptr32(eng.delta)  # noqa: F821
    fine = ptr16(eng.fine)  # noqa: F821
    prog = ptr32(eng.prog)  # noqa: F821
    g_n = ptr32(eng.g_n)  # noqa: F821
    n_params = int(eng.n_params)
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
            cur = src[q] + ((delta[q] * prog[kk] + 8192) >> 14)
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
def retarget_look(eng, look, g: int):
    values = ptr16(look)  # noqa: F821
    lane_of = ptr16(eng.lane_of)  # noqa: F821
    grp = ptr8(eng.grp)  # noqa: F821
    src = ptr16(eng.src)  # noqa: F821
    dst = ptr16(eng.dst)  # noqa: F821
    delta = ptr32(eng.delta)  # noqa: F821
    fine = ptr16(eng.fine)  # noqa: F821
    prog = ptr32(eng.prog)  # noqa: F821
    g_n = ptr32(eng.g_n)  # noqa: F821
    n_params = int(eng.n_params)
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
            cur = src[q] + ((delta[q] * prog[kk] + 8192) >> 14)
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
def all_to_black(eng, g: int):
    grp = ptr8(eng.grp)  # noqa: F821
    src = ptr16(eng.src)  # noqa: F821
    dst = ptr16(eng.dst)  # noqa: F821
    delta = ptr32(eng.delta)  # noqa: F821
    prog = ptr32(eng.prog)  # noqa: F821
    g_n = ptr32(eng.g_n)  # noqa: F821
    n_params = int(eng.n_params)
    down_k = g + g + 1
    n_down = 0
    q = 0
    while q < n_params:
        k = grp[q]
        cur = dst[q]
        if k != 255:
            cur = src[q] + ((delta[q] * prog[k] + 8192) >> 14)
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
