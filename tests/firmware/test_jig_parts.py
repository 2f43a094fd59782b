# The HIL jig's pure parts (firmware/jig/: dmxwords, edgering, jigproto) on CPython and both
# MicroPython runtimes: the decoder against a capture from an emulated Pico and against lines
# run through a cycle-by-cycle model of the PIO program (jig_model.py).
import sys

import fwtest
import jig_model

sys.path.insert(0, fwtest.repo_path("firmware", "jig"))
import dmxwords  # noqa: E402
import jigproto  # noqa: E402
from edgering import EdgeRing  # noqa: E402

US = dmxwords.CYCLES_PER_US
SLOTS = [0, 255, 0x55, 0xAA, 1, 128, 0, 7]


def decode(edges, end_us, start_us=0.0):
    dec = dmxwords.Decoder()
    dec.feed(jig_model.to_bytes(jig_model.run(edges, end_us, start_us)))
    return dec


def close(a, b, tol=0.25):
    assert abs(a - b) <= tol, str(a) + " != " + str(b)


def intervals(starts):
    return [starts[i + 1] - starts[i] for i in range(len(starts) - 1)]


def test_the_emulated_capture_decodes_to_what_dmxout_sent():
    with open(fwtest.repo_path("tests", "firmware", "data", "jig_3_packets.words"), "rb") as f:
        data = f.read()
    dec = dmxwords.Decoder()
    dec.feed(data)
    packets = dec.packets + [dec.current]
    assert len(packets) == 3 and dec.stray == 0
    for n, p in enumerate(packets):
        close(p.brk / US, 176, 0.125)
        close(p.mab / US, 12, 0.125)
        assert len(p.data) == 513 and p.errors == 0
        assert p.data[1] == (7 if n == 0 else n)
        assert all(p.data[i] == (7 * i) & 0xFF for i in range(2, 513))
        gaps = intervals(p.starts)
        assert min(gaps) >= 44 * US - 1 and max(gaps) <= 44 * US + 1


def test_feeding_in_odd_pieces_changes_nothing():
    edges, end = jig_model.line([(176, 12, SLOTS, 0)] * 3)
    data = jig_model.to_bytes(jig_model.run(edges, end))
    dec = dmxwords.Decoder()
    for i in range(0, len(data), 7):
        dec.feed(data[i : i + 7])
    assert dec.words == len(data) // 4 and len(dec.packets) == 2
    assert [bytes(p.data) for p in dec.packets] == [bytes(SLOTS)] * 2


def test_break_mab_and_slot_starts_come_out_to_a_cycle():
    edges, end = jig_model.line([(176, 12, SLOTS, 0), (100, 20, SLOTS, 6), (92, 8, SLOTS, 0)])
    dec = decode(edges, end, start_us=0.3)
    want = [(176, 12, 44), (100, 20, 50), (92, 8, 44)]
    got = dec.packets + [dec.current]
    assert len(got) == 3
    for i in range(3):
        p, (brk, mab, slot) = got[i], want[i]
        close(p.brk / US, brk)
        close(p.mab / US, mab)
        for gap in intervals(p.starts):
            close(gap / US, slot)
        assert bytes(p.data) == bytes(SLOTS) and p.errors == 0
    close(got[0].t / US + 0.3, edges[0][0])  # the first break's fall, on the line's clock


def test_a_short_break_is_still_a_break_and_its_length_is_measured():
    edges, end = jig_model.line([(176, 12, SLOTS, 0), (60, 12, SLOTS, 0), (176, 12, [0], 0)])
    dec = decode(edges, end)
    assert [round(p.brk / US) for p in dec.packets] == [176, 60]


def test_a_low_stop_bit_inside_a_packet_is_a_framing_error():
    slots = [0, 1, (0x81, 0), 2]
    edges, end = jig_model.line([(176, 12, slots, 0), (176, 12, [0], 0)])
    p = decode(edges, end).packets[0]
    assert p.errors == 1 and bytes(p.data) == bytes([0, 1, 0x81, 2])
    for gap in intervals(p.starts):
        close(gap / US, 44)


def test_slots_before_the_first_break_are_left_out():
    edges, end = jig_model.line([(176, 12, SLOTS, 0)] * 2)
    dec = decode(edges, end, start_us=edges[20][0] - 1)  # starts in the first packet
    assert dec.stray > 0 and dec.current is not None and len(dec.packets) == 0


def test_edge_ring_keeps_order_counts_losses_and_wraps():
    ring = EdgeRing(8)
    got = []
    for i in range(1000):  # counters wrap many times
        ring.put(i * 3, i % 5, i & 1)
        assert ring.take(lambda t, idx, lv: got.append((t, idx, lv))) == 1
    assert got[-1] == (2997, 999 % 5, 1) and len(got) == 1000
    for i in range(10):
        ring.put(i, 1, 0)
    assert len(ring) == 8 and ring.lost == 2
    seen = []
    ring.take(lambda t, idx, lv: seen.append(t))
    assert seen == list(range(8))


def test_edge_ring_put_allocates_nothing():
    if not fwtest.IS_MICROPYTHON:
        return
    import micropython

    ring = EdgeRing(64)
    micropython.heap_lock()
    try:
        for i in range(200):
            ring.put(i, 3, 1)
    finally:
        micropython.heap_unlock()
    assert len(ring) == 64 and ring.lost == 136


def test_protocol_commands_fields_and_the_stream():
    assert jigproto.command("  drive B1 1\r\n") == ("drive", ["B1", "1"])
    assert jigproto.command("") == ("", [])
    assert jigproto.fields("end t1=5 words=3 stall=0") == {"t1": "5", "words": "3", "stall": "0"}
    s = jigproto.Stream()
    block = bytes([10, 13, 100, 32, 10, 0, 255, 10])  # raw words may hold "\n" and "d "
    data = b"ok t0=1\nd 8\n" + block + b"e R1 5 0\nend t1=9\n"
    out = []
    for i in range(len(data)):
        out += s.feed(data[i : i + 1])
    assert out == [
        ("line", "ok t0=1"),
        ("dmx", block),
        ("line", "e R1 5 0"),
        ("line", "end t1=9"),
    ]
