"""The serial link: the node answers, status round trip, push throughput."""

from __future__ import annotations

import time

import pytest
from cuenode.hil.results import percentile
from cuenode.hil.rig import Rig
from cuenode.node import ops

pytestmark = pytest.mark.timeout(300)

ROUND_TRIPS = 50


def test_node_answers_on_its_serial_link(rig: Rig) -> None:
    with rig.connect() as session:
        assert session.info.node_id == rig.show_node
        status = ops.status(session)
    assert status["mode"] in ("standby", "running", "stopped"), status


def test_status_round_trip(rig: Rig, judge) -> None:  # noqa: ANN001
    """Wall-clock by nature: judged on a real node's native USB, recorded elsewhere."""
    times_ms = []
    with rig.connect() as session:
        for _ in range(ROUND_TRIPS):
            t0 = time.perf_counter()
            ops.status(session)
            times_ms.append((time.perf_counter() - t0) * 1000)
    note = "" if rig.native_usb else "not native USB: recorded, not judged"
    judge(
        f"status round trip p99 over {ROUND_TRIPS}",
        "status_rtt_p99_ms",
        percentile(times_ms, 99),
        samples=times_ms,
        plot="hist",
        note=note,
    )


def test_push_throughput_against_mpremote(rig: Rig, judge, tmp_path) -> None:  # noqa: ANN001
    if not rig.native_usb:
        pytest.skip(
            "push vs mpremote cp is a wall-clock ratio: judged on a real node's native USB; "
            "bench/bench_link.py measures it on the emulator"
        )
    from cuenode.hil.linkspeed import push_vs_mpremote

    ratio, detail = push_vs_mpremote(rig.port, rig.show_node, tmp_path)
    judge("push speed / mpremote cp speed", "push_speedup_min", ratio, note=detail)
