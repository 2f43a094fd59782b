"""The emulated DMX line, captured and decoded by sigrok-cli (not by our code)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.capture import write_capture
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.paths import EXAMPLES_DIR
from sigrok_dmx import need_sigrok, sigrok_packets

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(autouse=True)
def _sigrok_installed() -> None:
    need_sigrok()


def expected_universe_after_cue(index: int) -> list[int]:
    """The host compiler's tracked look after cue `index`, laid out as a DMX packet."""
    from cuenode.build import compiler, showbin
    from cuenode.show.load import load_show

    show, problems = load_show(EXAMPLES_DIR / "demo.yaml")
    assert show is not None and not problems
    ns = compiler.node_show(show, "stage")
    look = showbin.looks(ns)[index]
    packet = [0] * 513
    for (coarse, fine), value in zip(ns.params, look, strict=True):
        if fine:
            packet[coarse], packet[fine] = value >> 8, value & 0xFF
        else:
            packet[coarse] = value
    return packet


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_capture_of_a_running_node_decodes_with_sigrok(tmp_path: Path, runtime: str) -> None:
    demo = compile_file(EXAMPLES_DIR / "demo.yaml")["stage"]
    fl = Fleet(tmp_path / "emu", runtime=runtime)
    node = fl.add(NodePlan("stage", demo), virtual=True)
    fl.start()
    try:
        io = node.io
        io.advance(ms=100)
        node.press("B1")  # GO cue 1 "Preset": 3 s fade
        io.advance(ms=50)
        node.release("B1")
        io.advance(ms=3500)
        io.subscribe(dmx=True)
        io.frames.clear()
        io.advance(ms=23 * 3)
        frames = list(io.frames)[:3]
    finally:
        fl.stop()
    assert len(frames) == 3
    paths = write_capture(frames, tmp_path / "cap" / "stage", "stage")
    packets = sigrok_packets(paths[0])
    assert len(packets) == 3
    for packet in packets:
        assert packet["break_us"] == 176  # DMX: >= 92 us transmitted
        assert packet["mab_us"] == 12  # DMX: >= 12 us transmitted
        slots = packet["bytes"]
        assert len(slots) == 513 and slots[0] == 0x00  # start code + 512 slots
        # demo.yaml cue 1: front_l/front_r (slots 1, 2) at 40%, cyc.blue (slot 33) at 60%
        assert (slots[1], slots[2], slots[33]) == (102, 102, 153)
        assert slots == expected_universe_after_cue(0)
    assert paths[1].read_text().startswith("$date")


def test_vcd_and_binary_agree(tmp_path: Path) -> None:
    from cuenode.emulator.capture import to_sigrok_binary, to_vcd
    from cuenode.emulator.world import Frame

    frame = Frame(1, 5000, 100, 16, 44, bytes([0, 0xA5, 0x3C]))
    samples = to_sigrok_binary([frame])
    level, t, edges = 1, 0, []
    for line in to_vcd([frame]).splitlines():
        if line.startswith("#"):
            t = int(line[1:])
        elif line.endswith("!"):
            level = int(line[0])
            edges.append((t, level))
    for (t0, lv), (t1, _) in zip(edges, edges[1:], strict=False):
        assert set(samples[t0:t1]) == {lv}
    packets = decode_bytes(samples, tmp_path)
    assert packets[0]["break_us"] == 100 and packets[0]["mab_us"] == 16
    assert packets[0]["bytes"] == [0, 0xA5, 0x3C]


def decode_bytes(samples: bytes, tmp_path: Path) -> list[dict]:
    path = tmp_path / "x.bin"
    path.write_bytes(samples)
    return sigrok_packets(path)


def test_capture_of_a_node_at_the_repl_says_so_and_fails(tmp_path: Path) -> None:
    """After `mpremote ... fs ls` the node sits at the REPL: no DMX. capture must not write
    an empty capture and exit 0 (issue 11)."""
    import sys

    from repl_states import take_port

    fl = Fleet(tmp_path / "emu")
    node = fl.add(NodePlan("stage", None), virtual=True)
    fl.start()
    try:
        take_port(node.tty)
        cuenode = str(Path(sys.executable).parent / "cuenode")
        done = subprocess.run(
            [cuenode, "capture", "stage", "--workdir", str(tmp_path / "emu"), "--frames", "3"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    finally:
        fl.stop()
    assert done.returncode == 1
    assert "captured 0 frames" in done.stderr and "REPL" in done.stderr
    assert "cuenode reset" in done.stderr
