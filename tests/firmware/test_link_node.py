# The node's link handler (cuefw.nodelink) driven with wire bytes, a real Store in a scratch
# directory and a recording stand-in for the engine interface. CPython and MicroPython.
import hashlib
import json
import struct

from cuefw import link
from cuefw.nodelink import NodeLink
from cuefw.store import Store
from fwtest import fresh_dir, minimal_show

_RX = link.Deframer()  # one response reader for all tests: a Deframer holds 8 KB


class RecordingNode:
    """Stands in for the engine at the nodelink interface: records what it is asked to do."""

    def __init__(self, node_id="stage-left"):
        self.node_id = node_id
        self.board = "emulator"
        self.fw_version = "0.1.0"
        self.calls = []
        self.cue = 0
        self.shows = []
        self.fading = False
        self.want_repl = False
        self.info = None

    def show_info(self):
        return self.info

    def go(self, now):
        self.calls.append(("go", now))
        self.cue += 1
        return {"cue": self.cue}

    def back(self, now):
        self.calls.append(("back", now))

    def stop(self, now):
        self.calls.append(("stop", now))

    def goto(self, number, now):
        if number < 0:
            raise ValueError(f"no cue {number}")
        self.calls.append(("goto", number))

    def arm(self, now):
        self.calls.append(("arm", now))

    def disarm(self, now):
        self.calls.append(("disarm", now))

    def status(self, now):
        return {"cue": self.cue, "uptime_ms": now}

    def log(self, since, limit):
        events = [[i * 10, f"event {i}"] for i in range(since, 200)]
        return events[:limit], min(200, since + limit)

    def new_show(self, path, force, now, top=False):
        self.shows.append((path, force))
        if force or not self.fading:
            with open(path, "rb") as f:
                f.seek(-32, 2)
                self.info = ("demo", f.read())
            return True
        return False

    def repl(self):
        self.want_repl = True


def make_show(node_id, filler=3000):
    return minimal_show(len(node_id), filler)


_OLD = make_show("stage-left", 500)
_NEW = make_show("stage-left", 2000)
_N_CHUNKS = (len(_NEW) + 255) // 256  # 9


def setup(node_id="stage-left"):
    node = RecordingNode(node_id)
    return node, NodeLink(node, Store(fresh_dir("nodelink"), hashlib.sha256, max_size=8192), 256, 4)


def ask(nl, ftype, seq, payload=b"", now=1000):
    out = nl.feed(link.encode(ftype, seq, payload), now)
    frames = _RX.feed(out)
    assert len(frames) == 1
    f = frames[0]
    assert f.ftype == ftype | link.RESPONSE and f.seq == seq
    return f.payload[0], f.payload[1:]


def test_hello_reports_identity_and_limits():
    node, nl = setup()
    status, data = ask(nl, link.T_HELLO, 1, bytes([link.PROTOCOL_VERSION]))
    assert status == link.OK and data[0] == link.PROTOCOL_VERSION
    info = json.loads(data[1:])
    assert info["node"] == "stage-left" and info["board"] == "emulator"
    assert info["chunk"] == 256 and info["window"] == 4 and info["max_show"] == 8192
    assert info["caps"] & link.CAP_RESUME


def test_go_retransmission_is_not_a_second_go():
    node, nl = setup()
    assert ask(nl, link.T_GO, 10) == (link.OK, b'{"cue": 1}')
    assert ask(nl, link.T_GO, 10) == (link.OK, b'{"cue": 1}')  # same seq: lost response
    assert ask(nl, link.T_GO, 11)[0] == link.OK
    assert [c[0] for c in node.calls] == ["go", "go"]
    assert nl.duplicates == 1


def test_hello_starts_a_new_session_so_old_seq_runs_again():
    node, nl = setup()
    ask(nl, link.T_GO, 5)
    ask(nl, link.T_HELLO, 6)
    ask(nl, link.T_GO, 5)
    assert len(node.calls) == 2


def test_goto_and_refusal_message():
    node, nl = setup()
    assert ask(nl, link.T_GOTO, 1, struct.pack("<i", 12250))[0] == link.OK
    status, msg = ask(nl, link.T_GOTO, 2, struct.pack("<i", -5))
    assert status == link.E_ENGINE and msg == b"no cue -5"
    status, _ = ask(nl, link.T_GOTO, 3, b"\x01")
    assert status == link.E_ENGINE
    assert node.calls == [("goto", 12250)]


def test_unknown_type_answered_not_raised():
    node, nl = setup()
    status, msg = ask(nl, 0x7E, 1)
    assert status == link.E_UNKNOWN_TYPE and b"0x7e" in msg


def test_status_includes_link_counters():
    node, nl = setup()
    nl.feed(b"garbage\xc0", 0)
    status, data = ask(nl, link.T_STATUS, 1, now=4242)
    st = json.loads(data)
    assert st["uptime_ms"] == 4242 and st["link"]["crc"] == 1


def test_log_paged_and_fits_a_frame():
    node, nl = setup()
    status, data = ask(nl, link.T_LOG, 1, struct.pack("<IH", 5, 3))
    got = json.loads(data)
    assert got["events"] == [[50, "event 5"], [60, "event 6"], [70, "event 7"]]
    assert got["next"] == 8
    status, data = ask(nl, link.T_LOG, 2, struct.pack("<IH", 0, 1000))
    assert status == link.OK and len(json.loads(data)["events"]) == 64


def _push(nl, blob, node_id, flags=0, chunk=256, seq=100, commit_flags=0):
    sha = blob[-32:]
    status, data = ask(nl, link.T_PUSH_BEGIN, seq, link.pack_begin(len(blob), sha, node_id, flags))
    if status != link.OK:
        return status, data
    off = struct.unpack_from("<I", data)[0]
    while off < len(blob):
        seq += 1
        status, data = ask(
            nl, link.T_PUSH_CHUNK, seq, struct.pack("<I", off) + blob[off : off + chunk]
        )
        assert status == link.OK
        off = struct.unpack("<I", data)[0]
    return ask(nl, link.T_PUSH_COMMIT, seq + 1, bytes([commit_flags]))


def test_push_commits_and_hands_show_to_engine():
    node, nl = setup()
    blob = make_show("stage-left")
    status, data = _push(nl, blob, "stage-left")
    assert status == link.OK and json.loads(data) == {"switched": True}
    path = node.shows[0][0]
    with open(path, "rb") as f:
        assert f.read() == blob


def test_engine_mid_fade_switch_is_deferred_unless_forced():
    node, nl = setup()
    node.fading = True
    status, data = _push(nl, _NEW, "stage-left", seq=300, commit_flags=link.F_FORCE_SWITCH)
    assert json.loads(data) == {"switched": True}
    assert json.loads(_push(nl, _OLD, "stage-left")[1]) == {"switched": False}
    assert [s[1] for s in node.shows] == [True, False]


def test_wrong_node_refused_naming_both_unless_forced():
    node, nl = setup("stage-right")
    blob = make_show("stage-left")
    status, data = _push(nl, blob, "stage-left")
    assert status == link.E_IDENTITY
    assert json.loads(data) == {"show_node": "stage-left", "node": "stage-right"}
    assert node.shows == []
    status, _ = _push(nl, blob, "stage-left", flags=link.F_FORCE_IDENTITY, seq=200)
    assert status == link.OK and len(node.shows) == 1


def test_too_large_show_refused():
    node, nl = setup()
    status, msg = ask(nl, link.T_PUSH_BEGIN, 1, link.pack_begin(9000, bytes(32), "stage-left", 0))
    assert status == link.E_TOO_LARGE and b"8192" in msg


def test_chunk_gap_answered_with_expected_offset():
    node, nl = setup()
    blob = make_show("stage-left")
    ask(nl, link.T_PUSH_BEGIN, 1, link.pack_begin(len(blob), blob[-32:], "stage-left", 0))
    ask(nl, link.T_PUSH_CHUNK, 2, struct.pack("<I", 0) + blob[:256])
    status, data = ask(nl, link.T_PUSH_CHUNK, 3, struct.pack("<I", 512) + blob[512:768])
    assert status == link.E_OFFSET and struct.unpack_from("<I", data)[0] == 256


def test_commit_without_transfer_refused():
    node, nl = setup()
    assert ask(nl, link.T_PUSH_COMMIT, 1, b"\x00")[0] == link.E_NO_TRANSFER


def test_repl_request_answered_then_flagged():
    node, nl = setup()
    assert ask(nl, link.T_REPL, 1) == (link.OK, b"")
    assert node.want_repl


def test_responses_are_not_answered():
    node, nl = setup()
    assert nl.feed(link.response(link.T_GO, 1, link.OK), 0) == b""
    assert node.calls == []


def _cut_after(k):
    """The node loses power after k chunks of a new show. At boot it runs the old show; the
    next push resumes from what reached the flash and ends with the new one."""
    old, new = _OLD, _NEW
    root = fresh_dir("nodelink")
    node = RecordingNode()
    nl = NodeLink(node, Store(root, hashlib.sha256), 256, 4)
    assert _push(nl, old, "stage-left")[0] == link.OK
    begin = link.pack_begin(len(new), new[-32:], "stage-left", 0)
    ask(nl, link.T_PUSH_BEGIN, 1, begin)
    for i in range(k):
        chunk = struct.pack("<I", i * 256) + new[i * 256 : (i + 1) * 256]
        assert ask(nl, link.T_PUSH_CHUNK, 2 + i, chunk)[0] == link.OK
    nl.store.f.close()  # the power goes: only what reached the flash stays
    store = Store(root, hashlib.sha256)
    with open(store.boot(), "rb") as f:
        assert f.read() == old, k
    nl = NodeLink(node, store, 256, 4)
    status, data = ask(nl, link.T_PUSH_BEGIN, 1, begin)
    off = struct.unpack_from("<I", data)[0]
    assert status == link.OK and off == min(k * 256, len(new))
    seq = 10
    while off < len(new):
        seq += 1
        _, data = ask(nl, link.T_PUSH_CHUNK, seq, struct.pack("<I", off) + new[off : off + 256])
        off = struct.unpack("<I", data)[0]
    assert ask(nl, link.T_PUSH_COMMIT, seq + 1, b"\x00")[0] == link.OK
    with open(Store(root, hashlib.sha256).boot(), "rb") as f:
        assert f.read() == new


# One test per k (each MicroPython test call must fit the 192 KB heap with its garbage).
def test_power_cut_after_0_chunks():
    _cut_after(0)


def test_power_cut_after_1_chunk():
    _cut_after(1)


def test_power_cut_mid_transfer():
    _cut_after(_N_CHUNKS // 2)


def test_power_cut_before_last_chunk():
    _cut_after(_N_CHUNKS - 1)


def test_power_cut_after_all_chunks_before_commit():
    _cut_after(_N_CHUNKS)


def test_second_push_waits_until_the_engine_has_switched():
    node, nl = setup()
    node.fading = True
    assert json.loads(_push(nl, _OLD, "stage-left")[1]) == {"switched": False}
    status, msg = _push(nl, _NEW, "stage-left", seq=300)
    assert status == link.E_BUSY and b"waits for the running fade" in msg
    node.info = ("demo", _OLD[-32:])  # the fade ended and the engine took the waiting show
    status, data = _push(nl, _NEW, "stage-left", seq=400)
    assert status == link.OK and json.loads(data) == {"switched": False}
