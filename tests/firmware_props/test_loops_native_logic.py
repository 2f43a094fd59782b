"""The viper loops (`cuefw/loops_native.py`), run under CPython as plain Python.

`micropython.viper` is the identity and `ptr8/ptr16/ptr32` are views of the buffers, so the
module's Python-level logic (indices, branches, bounds checks, group counts) runs and is
compared with the plain loops on every fixture. The ptr32 view can model a machine word:
zero-extended loads as on a 64-bit host (the unix port) or signed 32-bit words as on the
chips; the loops must agree with the plain ones on both. The real machine code runs in the
firmware tests on the MicroPython unix port (tests/test_micropython_unix.py).
"""

from __future__ import annotations

import builtins
import importlib
import io
import random
import sys
import types
from pathlib import Path

import pytest
from cuefw import loopcheck, loops
from cuefw import showfile as sf
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.universe import Universe

DATA = Path(__file__).resolve().parents[1] / "firmware" / "data"
FIXTURES = ("fade", "follow", "many", "relays", "tracking", "wide", "wide16")


class Word32:
    """A ptr32 over an array("i"): loads give the stored 32 bits as a machine word does."""

    def __init__(self, buf, signed: bool) -> None:
        self.buf = buf
        self.signed = signed

    def __getitem__(self, i: int) -> int:
        v = self.buf[i] & 0xFFFFFFFF
        return v - (1 << 32) if self.signed and v >= 1 << 31 else v

    def __setitem__(self, i: int, v: int) -> None:
        self.buf[i] = ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


class Narrow:
    """A ptr8/ptr16: a store keeps the low 8/16 bits, as viper's does."""

    def __init__(self, buf, mask: int) -> None:
        self.buf = buf
        self.mask = mask

    def __getitem__(self, i: int) -> int:
        return self.buf[i]

    def __setitem__(self, i: int, v: int) -> None:
        self.buf[i] = v & self.mask


def import_as_python(monkeypatch, ptr32, machine=False):
    """loops_native as Python; machine=True: ptr8/ptr16 stores truncate as viper's do."""
    fake = types.ModuleType("micropython")
    fake.viper = lambda f: f
    fake.const = lambda x: x
    monkeypatch.setitem(sys.modules, "micropython", fake)
    for name, mask in (("ptr8", 0xFF), ("ptr16", 0xFFFF)):
        view = (lambda buf, m=mask: Narrow(buf, m)) if machine else (lambda buf: buf)
        monkeypatch.setattr(builtins, name, view, raising=False)
    monkeypatch.setattr(builtins, "ptr32", ptr32, raising=False)
    monkeypatch.delitem(sys.modules, "cuefw.loops_native", raising=False)
    module = importlib.import_module("cuefw.loops_native")
    monkeypatch.delitem(sys.modules, "cuefw.loops_native", raising=False)
    return module


@pytest.fixture
def native_as_python(monkeypatch):
    return import_as_python(monkeypatch, lambda buf: buf)


@pytest.mark.parametrize("signed", [True, False], ids=["32-bit chip", "64-bit host"])
def test_the_native_loops_are_word_size_clean(monkeypatch, signed):
    module = import_as_python(monkeypatch, lambda buf: Word32(buf, signed), machine=True)
    assert loopcheck.frame_agrees(module)
    assert loopcheck.go_agrees(module)
    assert loopcheck.replay_agrees(module)


def test_the_old_delta_read_fails_the_self_check_on_a_64_bit_host(monkeypatch):
    # Without the SIGNED mapping (the code before this check existed), a falling fade read
    # on a 64-bit host retargets from a wrong level: the self-check must catch it.
    source = (Path(loops.__file__).parent / "loops_native.py").read_text()
    old = source.replace("((d32[q] + 65536) & 131071) - 65536", "d32[q]")
    old = old.replace("((delta[q] + 65536) & 131071) - 65536", "delta[q]")
    assert old != source
    import_as_python(monkeypatch, lambda buf: Word32(buf, False), machine=True)  # the fakes
    module = types.ModuleType("old_native")
    exec(compile(old, "old_native", "exec"), module.__dict__)
    assert loopcheck.frame_agrees(module)  # the frame bytes come out right by luck (mod 2**16)
    assert not loopcheck.go_agrees(module)


def make_engine(native, max_groups=16):
    log = EventLog(8)
    uni = Universe()
    eng = Engine(uni, RelayGovernor(4, log), log, max_groups=max_groups, fast=False)
    if native is not None:
        eng.loops = loops.choose(native=native)
    return eng, uni


def state(eng):
    n = eng.n_params
    arrays = (eng.grp, eng.src, eng.dst, eng.delta)
    return [list(a[:n]) for a in arrays] + [list(eng.g_n), eng.n_busy]


def commands(rng, n_cues):
    """A random command sequence: GO mostly, some GOTO/BACK/STOP, at random ticks."""
    t = 0
    for _ in range(60):
        t += rng.choice((0, 1, 23, 500, 5000, 30_000))
        kind = rng.choice(("go", "go", "go", "goto", "back", "stop", "tick"))
        yield t, kind, rng.randrange(n_cues)


def run(eng, t, kind, index):
    if kind == "go":
        eng.go(t)
    elif kind == "goto":
        eng.goto(index, t)
    elif kind == "back":
        eng.back(t)
    elif kind == "stop":
        eng.stop(t)
    eng.tick(t)


@pytest.mark.parametrize("max_groups", [16, 2])
@pytest.mark.parametrize("name", FIXTURES)
def test_native_logic_matches_the_plain_loops(native_as_python, name, max_groups):
    native, native_uni = make_engine(native_as_python, max_groups)
    assert native.fast and native.fast_go  # passed the start-up self-check
    plain, plain_uni = make_engine(None, max_groups)
    assert not plain.fast_go
    data = (DATA / (name + ".cnshow")).read_bytes()
    for eng in (plain, native):
        eng.load(sf.ShowReader(io.BytesIO(data)), 0)
    rng = random.Random(name)
    for t, kind, index in commands(rng, plain.n_cues):
        for eng in (plain, native):
            run(eng, t, kind, index)
        assert state(plain) == state(native), (name, t, kind)
        assert plain_uni.frame == native_uni.frame, (name, t, kind)


@pytest.mark.parametrize("name", FIXTURES)
def test_native_replay_matches_the_plain_replay(native_as_python, name):
    data = (DATA / (name + ".cnshow")).read_bytes()
    plain = sf.ShowReader(io.BytesIO(data))
    native = sf.ShowReader(io.BytesIO(data))
    plain.scatter = loops.apply_changes
    native.scatter = native_as_python.apply_changes
    a = sf.array("H", bytes(2 * plain.n_params))
    b = sf.array("H", bytes(2 * plain.n_params))
    for i in range(-1, plain.n_cues):
        assert plain.read_look(i, a) == native.read_look(i, b), i


def test_native_replay_skips_parameters_past_the_look(native_as_python):
    out = sf.array("H", [1, 2])
    native_as_python.apply_changes(sf.array("H", [1, 9, 2, 7, 40000, 7]), 3, out, len(out))
    assert list(out) == [1, 9]  # viper has no bounds checks: the loop must not write out[2]
