# Link framing (cuefw.link): runs under CPython and MicroPython (firmware test convention).
from cuefw import link


def _payloads():
    yield b""
    yield b"\x00\x01\x02\x03\x04\x10\xc0\xdb" * 7
    yield bytes(range(256))
    yield b"\x03" * 300
    yield bytes((i * 37 + 11) & 0xFF for i in range(4096))


def test_round_trip_every_byte_value():
    for seq, payload in enumerate(_payloads()):
        wire = link.encode(0x21, seq * 1000, payload)
        frames = link.Deframer().feed(wire)
        assert len(frames) == 1
        assert frames[0].ftype == 0x21
        assert frames[0].seq == seq * 1000
        assert frames[0].payload == payload


def test_wire_never_carries_repl_control_bytes():
    # END only as the terminator; Ctrl-A..Ctrl-D never raw; ESC only before a stuffed byte.
    for payload in _payloads():
        wire = link.encode(0x04, 0x0301, payload)
        assert wire[-1] == link.END
        for b in (1, 2, 3, 4, link.END):
            assert wire.find(bytes([b]), 0, len(wire) - 1) < 0
        for i in range(len(wire) - 1):
            if wire[i] == link.ESC:
                assert (wire[i + 1] ^ link.ESC_XOR) in link.SPECIAL


def test_zeros_are_not_stuffed():
    # Compiled shows are about half zero bytes: they must not double on the wire.
    assert len(link.encode(0x21, 1, bytes(1000))) == 3 + 1000 + 4 + 1 + _stuffed_in_header()


def _stuffed_in_header():
    body = bytes([0x21, 1, 0]) + bytes(1000)
    crc = link.crc32(body) & 0xFFFFFFFF
    tail = bytes([0x21, 1, 0]) + bytes(
        [crc & 0xFF, (crc >> 8) & 0xFF, (crc >> 16) & 0xFF, crc >> 24]
    )
    return sum(1 for b in tail if b in link.SPECIAL)


def test_byte_at_a_time_feeding():
    wire = link.encode(0x02, 7, b"hello\x03world") + link.encode(0x10, 8, b"")
    d = link.Deframer()
    got = []
    for i in range(len(wire)):
        got.extend(d.feed(wire[i : i + 1]))
    assert [(f.ftype, f.seq, f.payload) for f in got] == [(2, 7, b"hello\x03world"), (0x10, 8, b"")]


def test_corrupted_frame_counted_and_next_frame_understood():
    good = link.encode(0x02, 1, b"status please")
    bad = bytearray(good)
    bad[4] ^= 0x20
    d = link.Deframer()
    frames = d.feed(bytes(bad) + good)
    assert len(frames) == 1 and frames[0].payload == b"status please"
    assert d.crc_errors == 1


def test_raw_ctrl_c_inside_frame_is_just_a_bad_frame():
    good = link.encode(0x10, 5, b"")
    spliced = good[:3] + b"\x03" + good[3:]
    d = link.Deframer()
    assert d.feed(spliced) == []
    assert d.errors() == 1
    assert len(d.feed(good)) == 1


def test_oversized_frame_dropped_then_resync():
    d = link.Deframer(max_wire=64)
    d.feed(b"\x55" * 200)
    frames = d.feed(b"\x55" * 10 + b"\xc0" + link.encode(0x01, 2, b"x"))
    assert d.overflows == 1
    assert len(frames) == 1 and frames[0].seq == 2


def test_bad_escape_and_runt_counted():
    d = link.Deframer()
    assert d.feed(b"\xdb\x99abcdefg\xc0") == []
    assert d.bad_escapes == 1
    assert d.feed(b"ab\xc0") == []
    assert d.runts == 1
    assert d.feed(b"abcdefg\xdb\xc0") == []
    assert d.bad_escapes == 2


def test_empty_frames_are_ignored_silently():
    d = link.Deframer()
    assert d.feed(b"\xc0\xc0\xc0") == []
    assert d.errors() == 0


def test_response_carries_status_byte():
    wire = link.response(link.T_GO, 9, link.E_ENGINE, b"no show")
    f = link.Deframer().feed(wire)[0]
    assert f.ftype == link.T_GO | link.RESPONSE
    assert f.payload[0] == link.E_ENGINE and f.payload[1:] == b"no show"


def test_crc32_matches_standard_check_value():
    assert link.crc32(b"123456789") & 0xFFFFFFFF == 0xCBF43926


def test_payload_too_large_refused_by_encoder():
    try:
        link.encode(0x21, 0, bytes(link.MAX_PAYLOAD + 1))
    except ValueError:
        return
    raise AssertionError("oversized payload was encoded")


def test_begin_payload_round_trip():
    sha = bytes(range(32))
    p = link.pack_begin(123456, sha, "stage-left", link.F_FORCE_IDENTITY)
    assert link.unpack_begin(p) == (123456, sha, link.F_FORCE_IDENTITY, "stage-left", 123456)
    p = link.pack_begin(5000, sha, "n", link.F_DEFLATE, 1200)
    assert link.unpack_begin(p) == (5000, sha, link.F_DEFLATE, "n", 1200)
