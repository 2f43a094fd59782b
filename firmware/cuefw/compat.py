# Names that MicroPython provides natively and CPython (host, tests) does not.
# The pure modules import them from here so the same files run on both.
try:
    from micropython import const
except ImportError:  # CPython: const() is the identity

    def const(x):
        return x


try:
    from time import ticks_add, ticks_diff  # MicroPython: no clock read, pure arithmetic
except ImportError:  # CPython: the same modular arithmetic as MicroPython's 30-bit ticks
    TICKS_PERIOD = const(1 << 30)
    _TICKS_MASK = const((1 << 30) - 1)
    _TICKS_HALF = const(1 << 29)

    def ticks_add(ticks, delta):
        return (ticks + delta) & _TICKS_MASK

    def ticks_diff(end, start):
        return ((end - start + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF


TICKS_MAX = const((1 << 30) - 1)
