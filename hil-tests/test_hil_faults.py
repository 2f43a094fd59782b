"""Faults: power cut during a push, resume standing by after a reset."""

from __future__ import annotations

import hil_show
import pytest
from cuenode.hil.rig import Rig
from cuenode.node import ops

pytestmark = [pytest.mark.destructive, pytest.mark.timeout(300)]


def test_after_a_power_cut_the_node_stands_by_at_the_next_cue(rig: Rig) -> None:
    with rig.connect() as session:
        ops.goto(session, hil_show.SNAP)
    rig.wait(1500)  # the node saves its position at most once a second
    rig.power_cycle()  # type: ignore[attr-defined]
    with rig.connect() as session:
        st = ops.status(session)
    assert st["mode"] == "standby" and st["next"] == hil_show.PAN_FADE, st
    assert all(not on for _, on, _ in st["relays"]), f"a relay is on after the reset: {st}"


def test_a_power_cut_during_a_push_keeps_a_whole_show(rig: Rig) -> None:
    if not hasattr(rig, "node"):
        pytest.skip("cutting power at the k-th flash write needs an emulated node")
    node = rig.node  # type: ignore[attr-defined]
    with rig.connect() as session:
        before = ops.status(session)["show_hash"]
    boots = node.boots
    node.power_cut_at_write(2)
    try:
        rig.load_show(lambda nid, board: hil_show.show_yaml(nid, board).replace("HIL", "HIL2", 1))
    except Exception:  # noqa: BLE001 - the power went in the middle: that is the point
        pass
    node.wait_boot(boots + 1)
    rig.wait(200)
    with rig.connect() as session:
        st = ops.status(session)
    assert st["show_hash"] and st["load_error"] == "", st
    assert st["show"] in ("HIL", "HIL2") and (st["show"] == "HIL") == (st["show_hash"] == before)
    rig.load_show(hil_show.show_yaml)  # back to the suite's show for what follows


def test_a_follow_chain_runs_on_while_the_host_is_unplugged(rig: Rig) -> None:
    """The node runs its show with no computer: a follow chain started just before the USB
    cable is pulled reaches its last cue, and the node answers again once replugged."""
    if not hasattr(rig, "node"):
        pytest.skip("hardware: pulling the host's USB needs a USB switch the jig does not have")
    with rig.connect() as session:
        ops.goto(session, hil_show.CHAIN_A)
    rig.node.unplug()  # type: ignore[attr-defined]
    rig.wait(3 * hil_show.FOLLOW_MS + 200)
    rig.node.replug()  # type: ignore[attr-defined]
    with rig.connect() as session:
        st = ops.status(session)
    assert st["cue"] == hil_show.LAST, st


@pytest.mark.emulated_only
def test_a_watchdog_reset_leaves_the_relays_off(rig: Rig) -> None:
    """A relay is on when the main loop hangs (injected: nothing feeds the watchdog): the
    watchdog resets the node and it comes back with every relay off, standing by."""
    node = rig.node  # type: ignore[attr-defined]
    gpio = str(node.gpio("R2"))
    with rig.connect() as session:
        ops.goto(session, hil_show.FX_ON)
    rig.wait(50)
    assert node.io.state()["pins"][gpio] == rig.relay_active("R2"), "the relay did not switch on"
    boots = node.boots
    rig.inject(wdt_starve=1)  # type: ignore[attr-defined]
    reply = node.io.request("advance", ms=2500)
    assert reply.get("interrupted") == "WatchdogReset", reply
    node.wait_boot(boots + 1)
    rig.wait(100)
    assert node.exits[-1] == 4, node.exits  # the watchdog, not a power cut
    assert node.io.state()["pins"][gpio] != rig.relay_active("R2"), "relay on after the reset"
    with rig.connect() as session:
        st = ops.status(session)
    assert st["mode"] == "standby" and not any(on for _, on, _ in st["relays"]), st
