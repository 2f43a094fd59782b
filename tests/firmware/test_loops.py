# The hot loops (cuefw/loops.py) and their chooser. loops.choose() takes a native variant only
# if it reproduces the plain one on the self-check patterns (cuefw/loopcheck.py): checked here
# with stand-ins (faithful ones are taken, wrong ones refused) on every runtime, and with the
# real viper code (cuefw/loops_native.py) wherever it compiles: the MicroPython unix port in
# the tests (tests/test_micropython_unix.py), the chips. Runs under CPython and MicroPython.
import io

import fwtest
from cuefw import loopcheck, loops
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
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

    retarget_changes = staticmethod(loops.retarget_changes)
    retarget_look = staticmethod(loops.retarget_look)
    all_to_black = staticmethod(loops.all_to_black)
    apply_changes = staticmethod(loops.apply_changes)


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


class ZeroExtended:
    """An array("i") read as a 64-bit host's ptr32 load reads it: zero-extended."""

    def __init__(self, a):
        self.a = a

    def __getitem__(self, i):
        return self.a[i] & 0xFFFFFFFF

    def __setitem__(self, i, v):
        self.a[i] = ((v + 0x80000000) & 0xFFFFFFFF) - 0x80000000  # the low 32 bits


class LanesView:
    def __init__(self, lanes):
        for name in ("lane_of", "grp", "src", "dst", "fine", "prog", "g_n", "n_params"):
            setattr(self, name, getattr(lanes, name))
        self.delta = ZeroExtended(lanes.delta)


class ReadsDeltaUnsigned(Faithful):
    """The old viper GO loops on a 64-bit host: negative deltas read as 2**32 + delta."""

    def retarget_changes(self, lanes, changes, n, g):
        loops.retarget_changes(LanesView(lanes), changes, n, g)


class MovesParametersAlreadyThere(Faithful):
    def retarget_look(self, lanes, look, g):
        for p in range(lanes.n_params):
            q = lanes.lane_of[p]
            if lanes.grp[q] == 255 and look[p] == lanes.dst[q]:
                lanes.dst[q] = look[p] ^ 1  # forces a move the plain loop would not make
        loops.retarget_look(lanes, look, g)


class IgnoresOutOfRangeCheck(Faithful):
    def retarget_changes(self, lanes, changes, n, g):
        for k in range(0, 2 * n, 2):
            lanes.lane_of[changes[k]]  # IndexError for the pattern's parameter 600


class BlacksOutIdleLanesToo(Faithful):
    def all_to_black(self, lanes, g):
        for q in range(lanes.n_params):
            if lanes.grp[q] == 255 and not lanes.dst[q]:
                lanes.dst[q] = 1  # so the plain loop moves it: the real one leaves it alone
        loops.all_to_black(lanes, g)


class ReplaysPastTheLook(Faithful):
    def apply_changes(self, words, n, out, limit):
        for k in range(0, 2 * n, 2):
            out[words[k]] = words[k + 1]  # IndexError where the real one must skip


class Raises(Faithful):
    def retarget_look(self, lanes, look, g):
        raise ValueError("native code failed")


def test_faithful_native_loops_are_taken_for_every_group():
    chosen = loops.choose(native=Faithful())
    assert (chosen.frame, chosen.go, chosen.replay) == ("native", "native", "native")


def test_each_wrong_group_is_refused_alone():
    def groups(stand_in):
        chosen = loops.choose(native=stand_in)
        return chosen.frame, chosen.go, chosen.replay

    assert groups(TruncatesInsteadOfRounding()) == ("plain", "native", "native")
    assert groups(ForgetsTheFineSlot()) == ("plain", "native", "native")
    for wrong_go in (
        ReadsDeltaUnsigned(),
        MovesParametersAlreadyThere(),
        IgnoresOutOfRangeCheck(),
        BlacksOutIdleLanesToo(),
        Raises(),
    ):
        assert groups(wrong_go) == ("native", "plain", "native"), type(wrong_go).__name__
    assert groups(ReplaysPastTheLook()) == ("native", "native", "plain")


def test_the_self_check_runs_once_per_native_module():
    stand_in = Faithful()
    assert loops.choose(native=stand_in) is loops.choose(native=stand_in)


def test_fast_false_and_no_native_module_mean_plain():
    assert loops.choose(fast=False, native=Faithful()) is loops.PLAIN_LOOPS
    assert loops.choose(native=None) is loops.PLAIN_LOOPS
    log = EventLog(8)
    eng = Engine(Universe(), RelayGovernor(1, log), log, fast=False)
    assert not eng.fast and not eng.fast_go


def test_the_real_native_loops_run_wherever_viper_compiles():
    native = loops.native_module()
    chosen = loops.choose()
    if native is None:  # CPython, the WebAssembly build: no native emitter
        assert chosen is loops.PLAIN_LOOPS
        return
    assert loopcheck.frame_agrees(native)
    assert loopcheck.go_agrees(native)  # the word-size bug of issue 8 failed exactly this
    assert loopcheck.replay_agrees(native)
    assert (chosen.frame, chosen.go, chosen.replay) == ("native", "native", "native")


def _engines():
    log = EventLog(8)
    plain_uni, chosen_uni, stand_in_uni = Universe(), Universe(), Universe()
    plain = Engine(plain_uni, RelayGovernor(4, log), log, fast=False)
    chosen = Engine(chosen_uni, RelayGovernor(4, log), log)  # real native where it exists
    stand_in = Engine(stand_in_uni, RelayGovernor(4, log), log)
    stand_in.loops = loops.choose(native=Faithful())
    return (plain, chosen, stand_in), (plain_uni, chosen_uni, stand_in_uni)


def _command(eng, t, step):
    if step % 7 == 3:
        eng.go(t)
    elif step % 11 == 5:
        eng.goto(step % eng.n_cues, t)
    elif step % 13 == 8:
        eng.back(t)
    elif step == 40:
        eng.stop(t)
    eng.tick(t)


def test_engines_on_either_loops_run_a_show_identically():
    # Same show, same commands, in lockstep: the plain engine, one on loops.choose() (the real
    # native loops on the unix port and the chips) and one on stand-ins give the same frames
    # and lane arrays (8- and 16-bit lanes, retargets mid-fade, GOTO, BACK, STOP).
    engines, universes = _engines()
    for name in ("fade.cnshow", "wide16.cnshow", "tracking.cnshow", "many.cnshow"):
        data = fwtest.read_bytes(fwtest.data_path(name))
        for eng in engines:
            eng.load(ShowReader(io.BytesIO(data)), 0)
            eng.go(0)
        t = 0
        for step in range(60):
            t += (0, 1, 23, 97, 500, 2300)[step % 6]
            for eng in engines:
                _command(eng, t, step)
            for other in universes[1:]:
                assert universes[0].frame == other.frame, (name, step)
            n = engines[0].n_params
            for eng in engines[1:]:
                assert list(eng.src[:n]) == list(engines[0].src[:n]), (name, step)
                assert list(eng.delta[:n]) == list(engines[0].delta[:n]), (name, step)
                assert list(eng.grp[:n]) == list(engines[0].grp[:n]), (name, step)
