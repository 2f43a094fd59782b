# Event frames (docs/protocol.md, "Events"): only after the host subscribes in HELLO, one per
# event log entry with the node's tick, in order; a GOTO with the sync flag leaves a node that
# already runs the cue alone. Runs under CPython and MicroPython (firmware test convention).
import json
import struct

from cuefw import link
from cuefw.eventlog import (
    EV_BUTTON_PRESS,
    EV_CUE_DONE,
    EV_GO,
    EV_GOTO,
    EV_PANIC,
    EV_STOP,
)
from test_link_engine import Host, blob, make

_RX = link.Deframer()


def _events(nl):
    out = []
    for f in _RX.feed(nl.events()):
        assert f.ftype == link.T_EVENT
        out.append(link.unpack_event(f.payload))
    return out


def test_an_old_host_gets_no_event_frames():
    node, nl, uni = make()
    host = Host(nl)
    host.ask(link.T_HELLO, bytes([link.PROTOCOL_VERSION]))
    host.push(blob("fade.cnshow"))
    host.ask(link.T_GO, b"", 100)
    assert not nl.events_waiting() and nl.events() == b""


def test_a_subscribed_host_gets_each_event_once_with_its_tick():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    st, r = host.ask(link.T_HELLO, bytes([link.PROTOCOL_VERSION, link.HELLO_EVENTS]))
    assert json.loads(r[1:])["caps"] & link.CAP_EVENTS
    assert _events(nl) == []  # only what happens from now on
    host.ask(link.T_GO, b"", 100)
    evs = _events(nl)
    assert [(e[2], e[1], e[4]) for e in evs] == [(EV_GO, 100, 1000)]
    assert _events(nl) == []  # sent once
    node.poll(1200)  # no engine tick yet: still fading, nothing done
    node.engine.tick(2200)
    node.poll(2200)
    evs = _events(nl)
    assert [(e[2], e[3], e[4]) for e in evs] == [(EV_CUE_DONE, 0, 1000)]
    node.log_.add(2300, EV_BUTTON_PRESS, 0, 0)
    node.stop(2300)
    later = _events(nl)
    assert [e[2] for e in later] == [EV_BUTTON_PRESS, EV_PANIC, EV_STOP]
    numbers = [e[0] for e in evs + later]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # no gap, in order


def test_a_new_hello_without_the_flag_unsubscribes():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    host.ask(link.T_HELLO, bytes([link.PROTOCOL_VERSION, link.HELLO_EVENTS]))
    host.ask(link.T_HELLO, bytes([link.PROTOCOL_VERSION]))
    host.ask(link.T_GO, b"", 100)
    assert nl.events() == b""


def test_the_node_ignores_event_frames_on_its_input():
    node, nl, uni = make()
    out = nl.feed(link.encode(link.T_EVENT, 1, struct.pack(link.EVENT_FORMAT, 1, 2, 3, 4, 5)), 0)
    assert out == b""


def test_sync_goto_leaves_a_node_already_at_the_cue_alone():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    host.ask(link.T_HELLO, bytes([link.PROTOCOL_VERSION, link.HELLO_EVENTS]))
    sync = struct.pack("<iB", 2000, link.F_GOTO_SYNC)
    st, r = host.ask(link.T_GOTO, sync, 0)
    assert st == link.OK and json.loads(r) == {"cue": "2", "next": "3"}
    st, r = host.ask(link.T_GOTO, sync, 10)
    assert st == link.OK and json.loads(r)["already"] is True
    assert [e[2] for e in _events(nl)] == [EV_GOTO]  # the second one did nothing
    node.stop(20)
    st, r = host.ask(link.T_GOTO, sync, 30)  # stopped: dark, so the cue runs again
    assert "already" not in json.loads(r)
