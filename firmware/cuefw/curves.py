# Fade progress in integer fixed point, small-int safe on MicroPython (every intermediate
# value stays below 2**30, so nothing is promoted to a heap-allocated long int).
from cuefw.compat import const

SHIFT = const(14)
FULL = const(16384)  # progress 1.0 == 2**14
HALF = const(8192)
# Longest fade (and delay) the engine represents: ms * 2**7 must stay below 2**30.
MAX_FADE_MS = const(8388607)  # 2**23 - 1 ms = 2 h 19 min


def progress(elapsed, duration):
    """floor(elapsed * 2**14 / duration) clamped to 0..FULL, by two-step long division.

    elapsed * 2**14 would overflow a small int for fades over 65 s, so divide in two 7-bit
    steps: q1 = floor(e * 2**7 / d), then the remainder carries into the next 7 bits."""
    if elapsed >= duration:  # first: a 0 ms fade is complete at its start tick
        return FULL
    if elapsed <= 0:
        return 0
    t = elapsed << 7  # elapsed < duration <= MAX_FADE_MS, so t < 2**30
    q1 = t // duration
    r = (t - q1 * duration) << 7
    return (q1 << 7) | (r // duration)


def scurve(p):
    """Smoothstep p^2 (3 - 2p) on 0..FULL, rounded to nearest (error <= 0.5 unit), monotonic.

    p*p (<= 2**28) is split into its high and low 14 bits so that neither product with
    (3*FULL - 2p) (<= 49152) reaches 2**30."""
    a = p * p
    b = 3 * FULL - 2 * p
    return ((a >> SHIFT) * b + (((a & 16383) * b) >> SHIFT) + HALF) >> SHIFT


def level(start, target, p):
    """Interpolated raw value (8- or 16-bit) at progress p, rounded to nearest.

    |target - start| <= 65535 and p <= 2**14, so the product is below 2**30."""
    return start + (((target - start) * p + HALF) >> SHIFT)
