"""The DMX line, measured off the pin: break, MAB, slot time, packet length, rate, jitter."""

from __future__ import annotations

import statistics

import hil_show
import pytest
from cuenode.hil.dmxline import Packet
from cuenode.hil.rig import Recording, Rig
from cuenode.node import ops

pytestmark = [pytest.mark.needs_jig, pytest.mark.timeout(300)]

RECORD_MS = 2000


@pytest.fixture(scope="module")
def standing(rig: Rig) -> tuple[Recording, list[Packet]]:
    """Two seconds of the line while the node stands at the home cue."""
    with rig.connect() as session:
        ops.goto(session, hil_show.HOME)
    rig.wait(100)
    rec = rig.record(RECORD_MS)
    packets = rec.packets()
    assert len(packets) >= 2, f"{len(packets)} DMX packets decoded in {RECORD_MS} ms"
    return rec, packets


def test_break_length(standing, judge) -> None:  # noqa: ANN001
    breaks = [p.break_us for p in standing[1]]
    judge("DMX break (shortest)", "break_us_min", min(breaks), samples=breaks, plot="hist")


def test_mark_after_break(standing, judge) -> None:  # noqa: ANN001
    mabs = [p.mab_us for p in standing[1]]
    judge("mark after break (shortest)", "mab_us_min", min(mabs), samples=mabs, plot="hist")


def test_slot_time(standing, judge) -> None:  # noqa: ANN001
    slots = [s for p in standing[1] for s in p.slot_times_us()]
    judge("slot time (shortest)", "slot_us_min", min(slots))
    judge("slot time (longest)", "slot_us_max", max(slots))


def test_packet_length_and_start_code(standing, judge) -> None:  # noqa: ANN001
    packets = standing[1]
    assert all(p.data[0] == 0 for p in packets), "a packet with a start code other than 0"
    assert sum(p.framing_errors for p in packets) == 0, "framing errors on the line"
    judge("slots per packet (fewest)", "packet_slots", min(len(p.data) for p in packets))


def test_frame_rate(standing, judge) -> None:  # noqa: ANN001
    packets = standing[1]
    span_s = (packets[-1].t_us - packets[0].t_us) / 1e6
    judge("DMX packets per second", "frame_rate_hz_min", (len(packets) - 1) / span_s)


def test_break_to_break_and_jitter(standing, judge) -> None:  # noqa: ANN001
    packets = standing[1]
    intervals = [b.t_us - a.t_us for a, b in zip(packets, packets[1:], strict=False)]
    judge("break to break (shortest)", "break_to_break_us_min", min(intervals))
    judge("break to break (longest)", "break_to_break_us_max", max(intervals))
    median = statistics.median(intervals)
    jitter = sorted(abs(i - median) for i in intervals)
    p99 = jitter[max(0, int(len(jitter) * 0.99 + 0.5) - 1)]
    judge(
        "frame interval jitter p99 (|interval - median|)",
        "frame_jitter_p99_us",
        p99,
        samples=[i / 1000 for i in intervals],
        plot="hist",
        note=f"intervals in ms: median {median / 1000:.2f}, max {max(intervals) / 1000:.2f}",
    )
