# The link driving the real cue engine (cuefw.nodeapi.EngineNode): push a compiled show over
# frames into a real Store, GO, and read the universe; deferred switch between cues.
# Runs under CPython and MicroPython (firmware test convention).
import hashlib
import json
import os
import struct

from cuefw import link
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.nodeapi import EngineNode, cue_text
from cuefw.nodelink import NodeLink
from cuefw.showfile import ShowError
from cuefw.store import Store
from cuefw.universe import Universe
from fwtest import fresh_dir

_RX = link.Deframer()  # one response reader for all tests: a Deframer holds 8 KB


def _data(name):
    try:
        here = __file__
    except NameError:
        here = "tests/firmware/x.py"
    base = here.rsplit("/", 1)[0] if "/" in here else "."
    return base + "/data/" + name


def blob(name):
    with open(_data(name), "rb") as f:
        return f.read()


class BoardNode(EngineNode):
    """An EngineNode on a board without the pin labels in `missing` (like main.App)."""

    missing = ()

    def check_board(self, reader):
        for i in range(reader.n_buttons):
            if reader.button(i)[0] in self.missing:
                raise ShowError(f"button {reader.button(i)[0]} is not on this board")


def make(node_id="fade", root=None, relays=4, cls=EngineNode):
    log = EventLog(64)
    uni = Universe()
    gov = RelayGovernor(relays, log)
    eng = Engine(uni, gov, log)
    store = Store(root or fresh_dir("linkeng"), hashlib.sha256, max_size=65536)
    node = cls(eng, gov, log, store, node_id, "emulator", "0.1.0", 0)
    return node, NodeLink(node, store, 512, 4), uni


class Host:
    def __init__(self, nl):
        self.nl = nl
        self.seq = 0

    def ask(self, ftype, payload=b"", now=0):
        self.seq += 1
        out = self.nl.feed(link.encode(ftype, self.seq, payload), now)
        f = _RX.feed(out)[0]
        return f.payload[0], bytes(f.payload[1:])

    def push_refused(self, data, now=0):
        """Push a show the node must refuse at commit; the refusal's (status, text)."""
        st, r = self.ask(link.T_PUSH_BEGIN, link.pack_begin(len(data), data[-32:], "fade", 0), now)
        for off in range(0, len(data), 512):
            self.ask(link.T_PUSH_CHUNK, struct.pack("<I", off) + data[off : off + 512], now)
        st, r = self.ask(link.T_PUSH_COMMIT, bytes([0]), now)
        assert st != link.OK, r
        return st, r.decode()

    def push(self, data, now=0, flags=0):
        st, r = self.ask(link.T_PUSH_BEGIN, link.pack_begin(len(data), data[-32:], "fade", 0), now)
        assert st == link.OK, r
        for off in range(0, len(data), 512):
            st, r = self.ask(link.T_PUSH_CHUNK, struct.pack("<I", off) + data[off : off + 512], now)
            assert st == link.OK
        st, r = self.ask(link.T_PUSH_COMMIT, bytes([flags]), now)
        assert st == link.OK, r
        return json.loads(r)


def test_cue_text():
    assert cue_text(12250) == "12.25" and cue_text(3000) == "3" and cue_text(1005) == "1.005"
    assert cue_text(-1) == ""


def test_push_then_go_moves_the_light():
    node, nl, uni = make()
    host = Host(nl)
    first = {"switched": True, "position": {"next": "1", "kept": "top"}}  # no show before
    assert host.push(blob("fade.cnshow")) == first
    st, r = host.ask(link.T_GO, b"", 100)
    assert st == link.OK and json.loads(r) == {"cue": "1", "next": "2"}
    node.engine.tick(1100)  # cue 1: slot 1 up to 255 in 1 s
    assert uni.frame[1] == 255
    st, r = host.ask(link.T_STATUS, b"", 1100)
    status = json.loads(r)
    assert status["cue"] == "1" and status["show"] == "fade timing" and status["mode"] == "running"
    assert status["show_hash"] == blob("fade.cnshow")[-32:].hex()


def test_refused_go_names_the_reason():
    node, nl, uni = make()
    host = Host(nl)
    st, r = host.ask(link.T_GO)
    assert st == link.E_ENGINE and r == b"GO refused: no-show"
    host.push(blob("fade.cnshow"))
    host.ask(link.T_GO, b"", 0)
    st, r = host.ask(link.T_GO, b"", 100)  # within the show's 500 ms GO protection
    assert st == link.E_ENGINE and r == b"GO refused: go-protect"


def test_goto_by_number_and_unknown_cue():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    st, r = host.ask(link.T_GOTO, struct.pack("<i", 4000), 0)
    assert st == link.OK and json.loads(r)["cue"] == "4"
    st, r = host.ask(link.T_GOTO, struct.pack("<i", 4500), 0)
    assert st == link.E_ENGINE and b"no-such-cue" in r


def test_new_show_waits_for_the_fade_then_switches():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    host.ask(link.T_GO, b"", 0)  # a 1 s fade (slot 1) and a 2 s one
    node.engine.tick(500)
    assert host.push(blob("fade.cnshow"), now=500) == {"switched": False}
    assert json.loads(host.ask(link.T_STATUS, b"", 500)[1])["pending_show"] is True
    node.poll(600)
    assert node.pending and node.engine.current_number == 1000
    node.engine.tick(5000)  # fades done
    node.poll(5000)
    assert not node.pending and node.engine.standby  # the new show stands by for GO
    assert uni.frame[1] == 255  # levels on stage untouched by the switch


def test_forced_switch_mid_fade():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    host.ask(link.T_GO, b"", 0)
    node.engine.tick(500)
    # the same show again: it keeps its place, standing by at cue 2 (issue 12)
    kept = {"next": "2", "was_next": "2", "kept": "same"}
    assert host.push(blob("fade.cnshow"), 500, link.F_FORCE_SWITCH) == {
        "switched": True,
        "position": kept,
    }
    assert node.engine.standby and node.engine.next_number == 2000


def test_boot_loads_the_stored_show():
    node, nl, uni = make()
    Host(nl).push(blob("relays.cnshow"))
    again, nl2, uni2 = make(root=node.store.root)
    assert again.boot(0) is not None
    assert again.show_info()[0] == node.show_info()[0]
    st = again.status(0)
    assert [r[0] for r in st["relays"]] == ["fog", "strobe", "house"]


def test_log_pages_with_node_timestamps():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"), now=7)
    host.ask(link.T_GO, b"", 1234)
    st, r = host.ask(link.T_LOG, struct.pack("<IH", 0, 10))
    got = json.loads(r)
    assert got["events"][-1] == [1234, "go: cue 1"]
    assert got["events"][0][0] == 7 and got["next"] == len(got["events"])
    st, r = host.ask(link.T_LOG, struct.pack("<IH", got["next"], 10))
    assert json.loads(r)["events"] == []


def _files(node):
    return sorted(os.listdir(node.store.root))


def test_a_show_with_too_many_relays_is_refused_before_the_commit():
    node, nl, uni = make(relays=2)  # relays.cnshow uses 3
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    live = node.store.content_hash("show.bin")
    st, text = host.push_refused(blob("relays.cnshow"))
    assert st == link.E_BAD_REQUEST
    assert "cannot run on this node" in text and "3 relays" in text, text
    assert node.store.content_hash("show.bin") == live, "the refused show replaced the live one"
    assert node.show_info()[0] == "fade timing"
    assert "show.new" not in _files(node) and "show.tmp" not in _files(node)


def test_a_show_with_a_button_this_board_lacks_is_refused_before_the_commit():
    node, nl, uni = make(cls=BoardNode)
    node.missing = ("B4",)  # relays.cnshow has buttons B1..B4
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    st, text = host.push_refused(blob("relays.cnshow"))
    assert st == link.E_BAD_REQUEST and "button B4" in text, text
    assert node.show_info()[0] == "fade timing"
    assert host.ask(link.T_GO, b"", 10)[0] == link.OK  # the old show still runs


def test_boot_falls_back_to_the_previous_show_when_the_live_one_does_not_load():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    host.push(blob("relays.cnshow"))  # show.bin: relays, show.prev: fade
    again, nl2, uni2 = make(root=node.store.root, relays=2)  # a node with 2 relays
    assert again.boot(0) == node.store.path("show.prev")
    assert again.show_info()[0] == "fade timing"
    st = again.status(0)
    assert "show.bin" in st["load_error"] and "running show.prev" in st["load_error"], st
    assert "show-not-loaded" in [text for _, text in again.log(0, 100)[0]]


def test_boot_with_no_loadable_show_runs_without_one():
    node, nl, uni = make()
    Host(nl).push(blob("relays.cnshow"))
    again, nl2, uni2 = make(root=node.store.root, relays=2)
    assert again.boot(0) is None  # does not raise
    assert again.show_info() is None and "3 relays" in again.status(0)["load_error"]


def test_a_pending_switch_that_fails_keeps_the_running_show():
    node, nl, uni = make(cls=BoardNode)
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    host.ask(link.T_GO, b"", 0)
    node.engine.tick(500)
    assert host.push(blob("relays.cnshow"), now=500) == {"switched": False}
    node.missing = ("B1",)  # the load now fails (as a board fault would)
    node.engine.tick(5000)
    node.poll(5000)  # must not raise: it runs inside the DMX task
    assert not node.pending and node.show_info()[0] == "fade timing"
    assert "button B1" in node.status(5000)["load_error"]


def test_cue_state_resumes_the_same_show_only():
    node, nl, uni = make()
    host = Host(nl)
    host.push(blob("fade.cnshow"))
    assert node.cue_state().endswith(" 0 -1")  # standing by at the first cue
    host.ask(link.T_GO, b"", 0)
    state = node.cue_state()
    again, nl2, uni2 = make(root=node.store.root)
    again.boot(0)
    assert again.resume_from(state, 10)
    st = again.status(10)
    assert st["resumed_after"] == "1" and st["next"] == "2" and st["mode"] == "standby", st
    assert again.cue_state() == state  # a second reset before any GO resumes the same way
    assert again.engine.go(20) and again.engine.current_number == 2000
    assert again.status(30)["resumed_after"] == ""
    other, nl3, uni3 = make(root=node.store.root)
    other.boot(0)
    assert not other.resume_from("00" * 32 + " 1 1000", 0)  # another show's state
    assert not other.resume_from("garbage", 0) and not other.resume_from("", 0)


def test_status_reports_which_loops_run():
    node = make()[0]
    paths = node.status(0)["loops"]
    assert paths == node.engine.paths()
    from cuefw import loops

    # native wherever viper compiles (the unix port, the chips), plain elsewhere
    expected = "plain" if loops.native_module() is None else "native"
    assert paths == {"frame": expected, "go": expected}
    plain = make()[0]
    plain.engine.loops = loops.Loops()  # every group plain
    assert plain.status(0)["loops"] == {"frame": "plain", "go": "plain"}
