"""The console's rules (cuenode.console.rules), pure: events and operator commands in, node
commands out (docs/console.md, "Rules")."""

from cuefw import eventlog as ev
from cuenode.console.rules import BACK, STOP, SYNC, Rig


def rig_at(cue: int, nxt: int, names=("a", "b", "c")) -> Rig:
    rig = Rig()
    for n in names:
        rig.connected(n, cue, nxt, False)
    rig.adopt()
    return rig


def ops(commands):
    return sorted((c.node, c.op, c.cue) for c in commands)


def test_a_button_go_on_one_node_syncs_the_others_and_its_echoes_spread_nothing():
    rig = rig_at(4000, 5000)
    assert ops(rig.node_event("b", ev.EV_GO, 5000)) == [("a", SYNC, 5000), ("c", SYNC, 5000)]
    assert rig.node_event("a", ev.EV_GOTO, 5000) == []
    assert rig.node_event("c", ev.EV_GOTO, 5000) == []


def test_two_buttons_together_run_one_cue():
    rig = rig_at(4000, 5000)
    first = rig.node_event("a", ev.EV_GO, 5000)
    second = rig.node_event("b", ev.EV_GO, 5000)  # b pressed too: same cue, nothing more
    assert {c.cue for c in first} == {5000} and second == []


def test_console_go_twice_sends_the_same_cue_twice_never_the_one_after():
    rig = rig_at(4000, 5000)
    assert {c.cue for c in rig.go()} == {5000}
    assert {c.cue for c in rig.go()} == {5000}  # nodes answer "already": no skip


def test_stop_spreads_once_and_a_returning_node_is_caught_up():
    rig = rig_at(4000, 5000)
    assert ops(rig.node_event("a", ev.EV_STOP, 0)) == [("b", STOP, -1), ("c", STOP, -1)]
    assert rig.node_event("b", ev.EV_STOP, 0) == []
    rig.disconnected("c")
    assert ops(rig.connected("c", 4000, 5000, False)) == [("c", STOP, -1)]
    rig.node_event("a", ev.EV_GO, 6000)
    rig.disconnected("c")
    assert ops(rig.connected("c", -1, 5000, False)) == [("c", SYNC, 6000)]
    assert rig.connected("c", 6000, 7000, False) == []


def test_back_goes_to_the_nodes_in_step_only():
    rig = rig_at(4000, 5000)
    rig.node_status("c", 2000, 3000, False)
    assert ops(rig.back()) == [("a", BACK, -1), ("b", BACK, -1)]
