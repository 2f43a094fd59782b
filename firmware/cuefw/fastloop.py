# Native (viper) versions of the engine's two per-frame loops, for the real chips.
#
# Importing this module fails where there is no native code emitter (CPython, the MicroPython
# WebAssembly build used in tests); the engine then keeps its plain-Python loops, which are
# the reference. Where it imports (RP2040, ESP32), the engine runs both versions on a small
# test pattern first and uses these only if every output byte matches (Engine.__init__).
# Same arithmetic as Engine._write8/_write16: level = src + (delta * prog + 2**13) >> 14.
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
            out[c16[q]] = s16[q] + ((d32[q] * p32[g] + 8192) >> 14)
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
            v = s16[q] + ((d32[q] * p32[g] + 8192) >> 14)
            out[c16[q]] = v >> 8
            out[f16[q]] = v & 255
        q += 1
