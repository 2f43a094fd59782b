"""Garbage on the serial line never stops a show (issue 11): random bytes and a corrupted
push leave the DMX rate, the cue and the link as they were; only a deliberate interrupt
(cuefw.handover) hands the port to the REPL. Emulated nodes running the real main.py, on
virtual time: the bytes are delivered at line rate in node time, whatever the host's load."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import serial
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.node import ops

REPO = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def demo() -> bytes:
    return compile_file(REPO / "examples" / "demo.yaml")["stage"]


@pytest.fixture(params=["cpython", "micropython"])
def fleet(request, tmp_path):
    with Fleet(tmp_path / "emu", runtime=request.param) as f:
        yield f


def wait_rx(node, total: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while node.io.state()["serial_rx"] < total:
        assert time.monotonic() < deadline, "the bytes never reached the node"
        time.sleep(0.002)


def frames_per_second(node) -> int:
    before = node.io.state()["frames"]
    node.advance(ms=1000)
    return node.io.state()["frames"] - before


def spray(node, port: serial.Serial, data: bytes, rng: random.Random) -> None:
    """Write `data` in chunks of 1-64 bytes, node time moving as at 115200 baud (about 11
    bytes a millisecond): each chunk lands before the clock moves on."""
    sent = 0
    rx = node.io.state()["serial_rx"]
    while sent < len(data):
        n = min(len(data) - sent, rng.randint(1, 64))
        port.write(data[sent : sent + n])
        sent += n
        wait_rx(node, rx + sent)
        node.advance(ms=max(1, n // 11))


def test_ten_thousand_random_bytes_leave_rate_cue_and_link_unchanged(fleet, demo):
    node = fleet.add(NodePlan("stage", demo), virtual=True)
    fleet.start()
    node.advance(ms=100)
    with ops.connect(node.tty) as s:
        ops.go(s)
    node.advance(ms=6000)  # cue 1's fade has completed
    cue, rate = node.probe()["cue"], frames_per_second(node)
    assert rate >= 40
    rng = random.Random(2024)
    for _ in range(3):  # three runs of 10,000 bytes (each contains CR Ctrl-C about 1 in 7)
        noise = bytes(rng.randrange(256) for _ in range(10_000))
        with serial.Serial(node.tty, timeout=2) as port:
            spray(node, port, noise, rng)
        node.advance(ms=100)
        state = node.io.state()
        assert state["repl"] == "running", "random bytes stopped the show"
        assert node.probe()["cue"] == cue and node.probe()["mode"] != "stopped"
        assert abs(frames_per_second(node) - rate) <= 1
        with ops.connect(node.tty) as s:  # the node still answers
            assert ops.status(s)["node"] == "stage"


def test_a_push_at_one_percent_corruption_never_drops_the_node_to_the_repl(fleet, demo):
    """Every byte in both directions may get a flipped bit (flips into Ctrl-A..Ctrl-D too):
    the push still completes and the node keeps running its firmware."""
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    node.corrupt(0.01, seed=5)
    for _ in range(2):
        with ops.connect(node.tty) as s:
            assert ops.push(s, demo, "stage", force_switch=True, force_identity=True).switched
        assert node.io.state()["repl"] == "running"
    assert node.corrupted > 100
    node.corrupt(0.0)
    assert (node.flash_dir / "show.bin").read_bytes() == demo


def test_mpremote_sequence_hands_over_and_the_repl_gets_its_ctrl_a(fleet, demo):
    """What mpremote sends (CR Ctrl-C, then CR Ctrl-A) after quiet: the show stops (relays
    off) and the REPL answers in raw mode, as mpremote expects."""
    node = fleet.add(NodePlan("stage", demo), virtual=True)
    fleet.start()
    node.advance(ms=100)
    with serial.Serial(node.tty, timeout=10) as port:
        port.write(b"\r\x03\r\x01")
        out = port.read_until(b"raw REPL; CTRL-B to exit\r\n>")
    assert out.endswith(b"raw REPL; CTRL-B to exit\r\n>"), out
    assert b"the REPL has the port" in out
    assert node.io.state()["repl"] == "raw"
