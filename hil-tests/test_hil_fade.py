"""Packet content during a fade: the line carries the look, and never a torn 16-bit value."""

from __future__ import annotations

import hil_show
import pytest
from cuenode.hil.rig import Rig
from cuenode.node import ops

pytestmark = [pytest.mark.needs_jig, pytest.mark.timeout(300)]

DIMMER, PAN_COARSE, PAN_FINE = 1, 2, 3  # slots of the HIL show's one head


def pan(data: bytearray) -> int:
    return data[PAN_COARSE] << 8 | data[PAN_FINE]


def test_a_16bit_pan_fade_on_the_line_is_monotonic_and_ends_at_the_look(rig: Rig, judge) -> None:  # noqa: ANN001
    with rig.connect() as session:
        ops.goto(session, hil_show.HOME)
        rig.wait(hil_show.GO_PROTECT_MS + 100)
        rec = rig.record(
            hil_show.FADE_MS + 300,
            action=lambda: ops.goto(session, hil_show.PAN_FADE),
            lead_ms=60,
        )
    packets = rec.packets()
    pans = [pan(p.data) for p in packets]
    dimmers = [p.data[DIMMER] for p in packets]
    steps = list(zip(pans, pans[1:], strict=False)) + list(zip(dimmers, dimmers[1:], strict=False))
    backwards = sum(1 for a, b in steps if b < a)  # a fade up never steps back; a tear does
    final = packets[-1].data
    wrong_end = int(pan(final) != hil_show.PAN_TO or final[DIMMER] != 128)
    wrong_start = int(pans[0] != hil_show.PAN_FROM)
    judge(
        "packets off the look during a 16-bit pan fade (torn or wrong)",
        "look_mismatches",
        backwards + wrong_end + wrong_start,
        note=f"{len(packets)} packets, pan {pans[0]:#06x} -> {pans[-1]:#06x}",
    )
    assert any(hil_show.PAN_FROM < p < hil_show.PAN_TO for p in pans), "no packet mid-fade"
