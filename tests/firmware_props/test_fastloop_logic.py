"""The viper loops' logic (indices, bounds, argument order, arithmetic), run under CPython.

`cuefw/fastloop.py` only runs on the chips. Here it is imported with `micropython.viper` as
the identity and `ptr8/ptr16/ptr32` as plain views of the same buffers, so its Python-level
logic runs and is compared with the engine's plain loops. What this cannot check is viper's
machine semantics (32-bit signed ints, arithmetic shift): the values stay below 2**30 and the
engine's start-up self-check compares the real native code with the plain loops on the chip.
"""

from __future__ import annotations

import builtins
import importlib
import io
import sys
import types
from pathlib import Path

import pytest
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe

DATA = Path(__file__).resolve().parents[1] / "firmware" / "data"


@pytest.fixture
def fastloop_as_python(monkeypatch):
    fake = types.ModuleType("micropython")
    fake.viper = lambda f: f
    fake.const = lambda x: x
    monkeypatch.setitem(sys.modules, "micropython", fake)
    for name in ("ptr8", "ptr16", "ptr32"):
        monkeypatch.setattr(builtins, name, lambda buf: buf, raising=False)
    monkeypatch.delitem(sys.modules, "cuefw.fastloop", raising=False)
    module = importlib.import_module("cuefw.fastloop")
    yield module
    monkeypatch.delitem(sys.modules, "cuefw.fastloop", raising=False)


def make_engine(native):
    import cuefw.engine as engine_module

    saved = engine_module.fastloop
    engine_module.fastloop = native
    try:
        log = EventLog(8)
        uni = Universe()
        return Engine(uni, RelayGovernor(1, log), log), uni
    finally:
        engine_module.fastloop = saved


def test_fastloop_logic_matches_the_plain_loops(fastloop_as_python):
    native, native_uni = make_engine(fastloop_as_python)
    assert native.fast  # passed the start-up self-check
    plain, plain_uni = make_engine(None)
    assert not plain.fast
    for name in ("fade.cnshow", "wide.cnshow", "wide16.cnshow", "many.cnshow"):
        data = (DATA / name).read_bytes()
        for eng in (plain, native):
            eng.load(ShowReader(io.BytesIO(data)), 0)
            eng.go(0)
        for t in range(0, 70_000, 317):
            for eng in (plain, native):
                if t in (951, 5072):
                    eng.go(t)
                if t == 30_115:
                    eng.stop(t)
                eng.tick(t)
            assert plain_uni.frame == native_uni.frame, (name, t)
