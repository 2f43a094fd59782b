# The engine takes the native (viper) GO-path loops only if they leave the engine's arrays
# exactly as the plain loops do. The native code cannot run here (no native emitter in CPython
# or MicroPython WebAssembly), so this checks the start-up gate with stand-ins: one that does
# the plain loops' work is taken, wrong ones are refused. Runs under CPython and MicroPython.
import cuefw.engine as engine_module
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.universe import Universe


class Plain:
    """The engine's own plain loops, called the way the native ones are."""

    def retarget_changes(self, eng, changes, n, g):
        eng.fast_go = False
        eng._retarget_changes(changes, n, g)
        eng.fast_go = True

    def retarget_look(self, eng, look, g):
        eng.fast_go = False
        eng._retarget_look(look, g)
        eng.fast_go = True

    def all_to_black(self, eng, g):
        eng.fast_go = False
        eng._all_to_black(g)
        eng.fast_go = True


class MovesParametersAlreadyThere(Plain):
    def retarget_look(self, eng, look, g):
        for p in range(eng.n_params):
            q = eng.lane_of[p]
            if eng.grp[q] == 255 and look[p] == eng.dst[q]:
                eng.dst[q] = look[p] ^ 1  # forces a move the plain loop would not make
        Plain.retarget_look(self, eng, look, g)


class IgnoresOutOfRangeCheck(Plain):
    def retarget_changes(self, eng, changes, n, g):
        for k in range(0, 2 * n, 2):
            eng.lane_of[changes[k]]  # IndexError for the pattern's parameter 600


class BlacksOutIdleLanesToo(Plain):
    def all_to_black(self, eng, g):
        for q in range(eng.n_params):
            if eng.grp[q] == 255 and not eng.dst[q]:
                eng.dst[q] = 1  # so the plain loop moves it: the real one leaves it alone
        Plain.all_to_black(self, eng, g)


class Raises(Plain):
    def retarget_look(self, eng, look, g):
        raise ValueError("native code failed")


def engine_with(stand_in, fast=True, max_groups=16):
    saved = engine_module.fastgo
    engine_module.fastgo = stand_in
    try:
        log = EventLog(8)
        return Engine(Universe(), RelayGovernor(1, log), log, max_groups=max_groups, fast=fast)
    finally:
        engine_module.fastgo = saved


def test_faithful_native_go_loops_are_taken():
    assert engine_with(Plain()).fast_go
    assert engine_with(Plain(), max_groups=1).fast_go


def test_wrong_native_go_loops_are_refused():
    assert not engine_with(MovesParametersAlreadyThere()).fast_go
    assert not engine_with(IgnoresOutOfRangeCheck()).fast_go
    assert not engine_with(BlacksOutIdleLanesToo()).fast_go
    assert not engine_with(Raises()).fast_go


def test_fast_false_keeps_the_plain_go_loops():
    eng = engine_with(Plain(), fast=False)
    assert not eng.fast_go and eng.n_params == 0
