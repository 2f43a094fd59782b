"""Fuzz the node's link handler (cuefw.nodelink) with hypothesis: random, truncated, corrupted
and oversized frames. Nothing escapes, nothing changes without a valid frame, and a valid
frame right after the garbage is still understood. CPython only (hypothesis)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cuefw import link  # noqa: E402
from cuefw.nodelink import NodeLink  # noqa: E402
from cuefw.store import LIVE, Store  # noqa: E402
from link_support import RecordingNode, demo_blob  # noqa: E402

FLASH = tempfile.mkdtemp(prefix="cuenode-fuzz-")
TYPES = [
    0x01,
    0x02,
    0x03,
    0x04,
    0x10,
    0x11,
    0x12,
    0x13,
    0x14,
    0x15,
    0x20,
    0x21,
    0x22,
    0x23,
    0x30,
    0x7F,
    0x80,
    0xA1,
    0xFF,
]
thrown = [0]


def valid_frame(draw_type, seq, payload):
    return bytes(link.encode(draw_type, seq, payload))


@st.composite
def bad_frame(draw):
    """One piece of wire garbage that must not be taken for a request, ending with END."""
    kind = draw(st.sampled_from(["random", "truncated", "bitflip", "oversized", "splice"]))
    good = valid_frame(
        draw(st.sampled_from(TYPES)), draw(st.integers(0, 0xFFFF)), draw(st.binary(max_size=64))
    )
    if kind == "random":
        body = draw(st.binary(min_size=1, max_size=200)).replace(b"\xc0", b"\x55")
    elif kind == "truncated":
        body = good[: draw(st.integers(1, len(good) - 2))]
    elif kind == "bitflip":
        buf = bytearray(good[:-1])
        i = draw(st.integers(0, len(buf) - 1))
        buf[i] ^= 1 << draw(st.integers(0, 7))
        body = bytes(buf).replace(b"\xc0", b"\x01")  # a flip to END just splits the frame
    elif kind == "oversized":
        unit = draw(st.binary(min_size=1, max_size=16)).replace(b"\xc0", b"\x55")
        body = unit * (link.MAX_WIRE // len(unit) + 2)
    else:  # a Ctrl-C or other REPL byte spliced into an otherwise good frame
        i = draw(st.integers(0, len(good) - 2))
        body = good[:i] + bytes([draw(st.sampled_from([1, 2, 3, 4]))]) + good[i:-1]
    return body + b"\xc0"


def fresh():
    for name in os.listdir(FLASH):
        os.remove(os.path.join(FLASH, name))
    node = RecordingNode("stage-left")
    return node, NodeLink(node, Store(FLASH, hashlib.sha256, max_size=1 << 16), 256, 4)


def snapshot(node, nl):
    return (
        list(node.calls),
        list(node.shows),
        node.want_repl,
        nl.store.transferring(),
        sorted(os.listdir(FLASH)),
        nl.last_key,
    )


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    garbage=st.lists(bad_frame(), min_size=20, max_size=24),
    seq=st.integers(0, 0xFFFF),
    split=st.integers(1, 8),
)
def _garbage_then_go(garbage, seq, split):
    node, nl = fresh()
    before = snapshot(node, nl)
    wire = b"".join(garbage)
    for i in range(0, len(wire), max(1, len(wire) // split)):  # arbitrary read boundaries
        assert nl.feed(wire[i : i + max(1, len(wire) // split)], 1000) == b""
    thrown[0] += len(garbage)
    assert snapshot(node, nl) == before
    assert nl.deframer.frames == 0 and nl.deframer.errors() == len(garbage)
    out = nl.feed(valid_frame(link.T_GO, seq, b""), 2000)
    frames = link.Deframer().feed(out)
    assert len(frames) == 1 and frames[0].seq == seq
    assert frames[0].payload[0] == link.OK and node.calls == [("go", 2000)]


def test_garbage_never_escapes_changes_nothing_and_next_frame_is_understood():
    thrown[0] = 0
    _garbage_then_go()
    assert thrown[0] >= 10_000


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    requests=st.lists(
        st.tuples(st.sampled_from(TYPES), st.integers(0, 0xFFFF), st.binary(max_size=300)),
        min_size=1,
        max_size=30,
    )
)
def test_any_valid_frame_gets_exactly_one_answer_and_never_breaks_the_show(requests):
    node, nl = fresh()
    show = demo_blob("stage-left", n_cues=3, n_params=4)
    _push(nl, show)
    for ftype, seq, payload in requests:
        out = nl.feed(valid_frame(ftype, seq, payload), 5)
        frames = link.Deframer().feed(out)
        if ftype & link.RESPONSE:
            assert frames == []
            continue
        assert len(frames) == 1 and frames[0].seq == seq
        assert frames[0].ftype == ftype | link.RESPONSE
    assert nl.store.verifies(LIVE)  # whatever was asked, a good show is still live


def _push(nl, blob):
    begin = link.pack_begin(len(blob), blob[-32:], "stage-left", 0)
    nl.feed(link.encode(link.T_PUSH_BEGIN, 1, begin), 0)
    seq = 2
    for off in range(0, len(blob), 256):
        nl.feed(
            link.encode(link.T_PUSH_CHUNK, seq, off.to_bytes(4, "little") + blob[off : off + 256]),
            0,
        )
        seq += 1
    out = nl.feed(link.encode(link.T_PUSH_COMMIT, seq, b"\x00"), 0)
    assert json.loads(bytes(link.Deframer().feed(out)[0].payload[1:])) == {"switched": True}
