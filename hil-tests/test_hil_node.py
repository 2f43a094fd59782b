"""HIL checks with pass/fail thresholds from DESIGN.md (DMX512 timing, GO latency)."""

from __future__ import annotations

import pytest
from cuenode.node import ops

pytestmark = pytest.mark.timeout(120)

FRAME_MS_MAX = 1000  # break-to-break <= 1 s
BREAK_US_MIN = 92
MAB_US_MIN = 12
BREAK_TO_BREAK_US_MIN = 1204


def test_node_answers_on_its_serial_link(rig) -> None:  # noqa: ANN001
    with ops.connect(rig.port) as session:
        assert session.info.node_id
        status = ops.status(session)
    assert status["mode"] in ("no-show", "standby", "running", "stopped")


def test_dmx_line_timing(rig) -> None:  # noqa: ANN001
    frames = rig.frames(1000)
    assert len(frames) >= 40, f"{len(frames)} frames in 1 s"
    for f in frames:
        assert f.break_us >= BREAK_US_MIN and f.mab_us >= MAB_US_MIN
        assert f.data[0] == 0 and len(f.data) == 513
    gaps = [b.t_us - a.t_us for a, b in zip(frames, frames[1:], strict=False)]
    assert min(gaps) >= max(BREAK_TO_BREAK_US_MIN, frames[0].duration_us())
    assert max(gaps) <= FRAME_MS_MAX * 1000


def test_go_button_latency_within_one_frame(rig) -> None:  # noqa: ANN001
    """From the first contact of GO to the first packet showing the cue: debounce + 1 frame.

    GO runs demo.yaml's cue 3 (2 s up): its first frame already moves the spot's dimmer by
    ~3 steps and its 16-bit pan fine channel, so the first changed packet is the one that
    carries the GO. (A slow fade of a few steps would show its first step frames later,
    which says nothing about latency.)"""
    rig.need_jig("pressing GO and watching DMX")
    with ops.connect(rig.port) as session:
        ops.goto(session, "2")
    rig.wait(6000)  # cue 2's 5 s fade done, and past GO protection
    io = rig.node.io
    before = rig.frames(50)[-1].slots
    io.subscribe(dmx=True)
    io.frames.clear()
    pressed_at = io.state()["now_us"]
    rig.node.press("B1")
    rig.wait(60)
    rig.node.release("B1")
    rig.wait(200)
    io.subscribe(dmx=False)
    changed = [f for f in io.frames if f.slots != before]
    assert changed, "GO did not change the DMX output"
    latency_us = changed[0].t_us - pressed_at
    assert latency_us <= 10_000 + 23_000 + 1_000, f"GO latency {latency_us} us"


def test_fog_relay_pulse_on_the_pin(rig) -> None:  # noqa: ANN001
    """demo.yaml cue 3.5 pulses the fog relay (R1) for 4 s once armed: watch the pin."""
    rig.need_jig("sensing relay R1")
    io = rig.node.io
    gpio = rig.node.gpio("R1")
    io.subscribe(pins=True)
    io.events.clear()
    with ops.connect(rig.port) as session:
        ops.arm(session)
        ops.goto(session, "3.5")
    rig.wait(5000)
    io.subscribe(pins=False)
    edges = [
        (e["t_us"], e["level"]) for e in io.events if e.get("ev") == "pin" and e["gpio"] == gpio
    ]
    assert [level for _, level in edges] == [1, 0], edges  # emulator relays: active high
    on_ms = (edges[1][0] - edges[0][0]) / 1000
    assert 4000 - 25 <= on_ms <= 4000 + 25, f"fog relay on for {on_ms} ms"
