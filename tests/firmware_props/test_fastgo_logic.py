"""The GO path's viper loops (`cuefw/fastgo.py`), run under CPython as plain Python.

As in test_fastloop_logic.py: `micropython.viper` is the identity and `ptr8/ptr16/ptr32` are
the buffers themselves, so the module's Python-level logic (indices, branches, bounds checks,
group counts) runs and is compared with the engine's and the reader's plain loops on every
fixture. Viper's machine semantics (32-bit ints, arithmetic shift) are not checked here: on the
chip, Engine._go_path_agrees and showfile._scatter_agrees compare the real native code with
the plain loops before either is used.
"""

from __future__ import annotations

import builtins
import importlib
import io
import random
import sys
import types
from array import array
from pathlib import Path

import pytest
from cuefw import showfile as sf
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.universe import Universe

DATA = Path(__file__).resolve().parents[1] / "firmware" / "data"
FIXTURES = ("fade", "follow", "many", "relays", "tracking", "wide", "wide16")


@pytest.fixture
def fastgo_as_python(monkeypatch):
    fake = types.ModuleType("micropython")
    fake.viper = lambda f: f
    fake.const = lambda x: x
    monkeypatch.setitem(sys.modules, "micropython", fake)
    for name in ("ptr8", "ptr16", "ptr32"):
        monkeypatch.setattr(builtins, name, lambda buf: buf, raising=False)
    monkeypatch.delitem(sys.modules, "cuefw.fastgo", raising=False)
    module = importlib.import_module("cuefw.fastgo")
    yield module
    monkeypatch.delitem(sys.modules, "cuefw.fastgo", raising=False)


def make_engine(go_native, max_groups=16):
    import cuefw.engine as engine_module

    saved = engine_module.fastgo
    engine_module.fastgo = go_native
    try:
        log = EventLog(8)
        uni = Universe()
        return Engine(uni, RelayGovernor(4, log), log, max_groups=max_groups), uni
    finally:
        engine_module.fastgo = saved


def state(eng):
    n = eng.n_params
    return (
        list(eng.grp[:n]),
        list(eng.src[:n]),
        list(eng.dst[:n]),
        list(eng.delta[:n]),
        list(eng.g_n),
        eng.n_busy,
    )


def commands(rng, n_cues):
    """A random command sequence: GO mostly, some GOTO/BACK/STOP, at random ticks."""
    t = 0
    for _ in range(60):
        t += rng.choice((0, 1, 23, 500, 5000, 30_000))
        kind = rng.choice(("go", "go", "go", "goto", "back", "stop", "tick"))
        yield t, kind, rng.randrange(n_cues)


@pytest.mark.parametrize("max_groups", [16, 2])
@pytest.mark.parametrize("name", FIXTURES)
def test_fastgo_logic_matches_the_plain_loops(fastgo_as_python, name, max_groups):
    native, native_uni = make_engine(fastgo_as_python, max_groups)
    assert native.fast_go  # passed the start-up self-check
    plain, plain_uni = make_engine(None, max_groups)
    assert not plain.fast_go
    data = (DATA / (name + ".cnshow")).read_bytes()
    for eng in (plain, native):
        eng.load(sf.ShowReader(io.BytesIO(data)), 0)
    rng = random.Random(name)
    for t, kind, index in commands(rng, plain.n_cues):
        for eng in (plain, native):
            if kind == "go":
                eng.go(t)
            elif kind == "goto":
                eng.goto(index, t)
            elif kind == "back":
                eng.back(t)
            elif kind == "stop":
                eng.stop(t)
            eng.tick(t)
        assert state(plain) == state(native), (name, t, kind)
        assert plain_uni.frame == native_uni.frame, (name, t, kind)


def test_a_wrong_native_retarget_is_refused(fastgo_as_python):
    class ForgetsTheClamp:
        retarget_look = fastgo_as_python.retarget_look
        all_to_black = fastgo_as_python.all_to_black

        @staticmethod
        def retarget_changes(eng, changes, n, g):
            clamped = array("H", changes)
            for k in range(1, 2 * n, 2):
                clamped[k] = clamped[k] % 256 if clamped[k] > 255 else clamped[k]
            fastgo_as_python.retarget_changes(eng, clamped, n, g)

    class LeavesGroupCountsAlone:
        retarget_changes = fastgo_as_python.retarget_changes
        all_to_black = fastgo_as_python.all_to_black

        @staticmethod
        def retarget_look(eng, look, g):
            saved = array("i", eng.g_n)
            fastgo_as_python.retarget_look(eng, look, g)
            eng.g_n[:] = saved

    assert not make_engine(ForgetsTheClamp())[0].fast_go
    assert not make_engine(LeavesGroupCountsAlone())[0].fast_go


@pytest.mark.parametrize("name", FIXTURES)
def test_native_replay_matches_the_plain_replay(fastgo_as_python, name):
    assert sf._scatter_agrees(fastgo_as_python)
    data = (DATA / (name + ".cnshow")).read_bytes()
    plain = sf.ShowReader(io.BytesIO(data))
    native = sf.ShowReader(io.BytesIO(data))
    plain.scatter = None
    native.scatter = fastgo_as_python.apply_changes
    a = array("H", bytes(2 * plain.n_params))
    b = array("H", bytes(2 * plain.n_params))
    for i in range(-1, plain.n_cues):
        assert plain.read_look(i, a) == native.read_look(i, b), i


def test_native_replay_skips_parameters_past_the_look(fastgo_as_python):
    out = array("H", [1, 2])
    fastgo_as_python.apply_changes(array("H", [1, 9, 2, 7, 40000, 7]), 3, out, len(out))
    assert list(out) == [1, 9]  # viper has no bounds checks: the loop must not write out[2]
    assert not sf._scatter_agrees(types.SimpleNamespace(apply_changes=None))
