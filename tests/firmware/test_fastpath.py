# The engine takes the native (viper) loops only if they match the plain loops byte for byte.
# The native loops cannot run here (no native emitter in CPython or MicroPython WebAssembly),
# so this checks the gate itself with stand-ins: a faithful one is taken, a wrong one refused.
# Runs under CPython (pytest) and MicroPython.
import cuefw.engine as engine_module
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.universe import Universe


class Faithful:
    """The plain loops' arithmetic, written independently, in the native loops' signature."""

    def write8(self, n, grp, src, delta, prog, coarse, frame):
        for q in range(n):
            if grp[q] != 255:
                frame[coarse[q]] = (src[q] + ((delta[q] * prog[grp[q]] + 8192) >> 14)) & 255

    def write16(self, first, n, grp, src, delta, prog, coarse, fine, frame):
        for q in range(first, n):
            if grp[q] != 255:
                v = src[q] + ((delta[q] * prog[grp[q]] + 8192) >> 14)
                frame[coarse[q]] = v >> 8
                frame[fine[q]] = v & 255


class TruncatesInsteadOfRounding(Faithful):
    def write8(self, n, grp, src, delta, prog, coarse, frame):
        for q in range(n):
            if grp[q] != 255:
                frame[coarse[q]] = (src[q] + ((delta[q] * prog[grp[q]]) >> 14)) & 255


class ForgetsTheFineSlot(Faithful):
    def write16(self, first, n, grp, src, delta, prog, coarse, fine, frame):
        for q in range(first, n):
            if grp[q] != 255:
                frame[coarse[q]] = (src[q] + ((delta[q] * prog[grp[q]] + 8192) >> 14)) >> 8


def engine_with(stand_in, fast=True):
    saved = engine_module.fastloop
    engine_module.fastloop = stand_in
    try:
        log = EventLog(8)
        return Engine(Universe(), RelayGovernor(1, log), log, fast=fast)
    finally:
        engine_module.fastloop = saved


def test_faithful_native_loops_are_taken():
    assert engine_with(Faithful()).fast


def test_wrong_native_loops_are_refused():
    assert not engine_with(TruncatesInsteadOfRounding()).fast
    assert not engine_with(ForgetsTheFineSlot()).fast


def test_fast_path_can_be_switched_off_and_is_absent_here():
    assert not engine_with(Faithful(), fast=False).fast
    log = EventLog(8)
    assert not Engine(Universe(), RelayGovernor(1, log), log).fast  # no native emitter here


def _data(name):
    try:
        here = __file__
    except NameError:
        here = "tests/firmware/x.py"
    base = here.rsplit("/", 1)[0] if "/" in here else "."
    return base + "/data/" + name


def test_engine_passes_the_right_lanes_to_the_native_loops():
    # Same show, same commands, in lockstep: an engine on the stand-in native loops and a
    # plain one produce the same frames (8-bit lanes, 16-bit lanes, retargeting mid-fade).
    import io

    from cuefw.showfile import ShowReader

    log = EventLog(8)
    plain_uni = Universe()
    plain = Engine(plain_uni, RelayGovernor(1, log), log)
    native = engine_with(Faithful())
    assert native.fast and not plain.fast
    for name in ("fade.cnshow", "wide16.cnshow"):
        with open(_data(name), "rb") as f:
            data = f.read()
        for eng in (plain, native):
            eng.load(ShowReader(io.BytesIO(data)), 0)
            eng.go(0)
        for t in range(0, 3000, 97):
            for eng in (plain, native):
                if t == 970:
                    eng.go(t)
                eng.tick(t)
            assert plain_uni.frame == native.frame, (name, t)
