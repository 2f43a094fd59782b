# What hands the serial port to the REPL while a show runs (cuefw.handover): mpremote's
# CR Ctrl-C CR after quiet, a person's Ctrl-C twice; never random bytes or link frames.
# Runs under CPython (pytest) and MicroPython.
from cuefw import link
from cuefw.compat import ticks_add
from cuefw.handover import PAIR_MAX_MS, QUIET_MS, Handover


def feed_all(h, data, now):
    """Feed bytes one by one at tick `now`; index of the handover byte or -1."""
    for i in range(len(data)):
        if h.feed(data[i], now):
            return i
    return -1


class Lcg:
    """A small seeded generator (the same numbers on both runtimes)."""

    def __init__(self, seed):
        self.x = seed & 0xFFFFFFFF

    def next(self, n):
        self.x = (self.x * 1664525 + 1013904223) & 0xFFFFFFFF
        return (self.x >> 8) % n


def test_mpremote_enter_raw_repl_hands_over_before_its_ctrl_a():
    h = Handover(0)
    data = b"\r\x03\r\x01"  # what mpremote sends: "\r\x03", then "\r\x01"
    assert feed_all(h, data, 1000) == 2  # the byte after (Ctrl-A) is left for the REPL
    assert h.requests == 1


def test_mpremote_bytes_split_over_two_reads_still_hand_over():
    h = Handover(0)
    assert feed_all(h, b"\r\x03", 1000) == -1
    assert feed_all(h, b"\r\x01", 1003) == 0


def test_mpremote_sequence_inside_a_burst_is_noise():
    h = Handover(0)
    assert feed_all(h, b"xyz\r\x03\r\x01", 1000) == -1
    assert h.requests == 0


def test_the_sequence_needs_quiet_before_it():
    h = Handover(0)
    assert feed_all(h, b"a", 1000) == -1
    assert feed_all(h, b"\r\x03\r", 1000 + QUIET_MS - 1) == -1
    assert feed_all(h, b"\r\x03\r", 1000 + 3 * QUIET_MS) == 2


def test_a_lone_ctrl_c_does_nothing_twice_within_a_second_hands_over():
    h = Handover(0)
    assert not h.feed(3, 1000)
    assert h.feed(3, 1300)
    h = Handover(0)
    assert not h.feed(3, 1000)  # a lone Ctrl-C: the show goes on


def test_two_ctrl_c_too_fast_or_too_slow_or_with_bytes_between_are_not_a_pair():
    h = Handover(0)
    assert not h.feed(3, 1000) and not h.feed(3, 1001)  # a burst, not two key presses
    h = Handover(0)
    assert not h.feed(3, 1000) and not h.feed(3, 1000 + PAIR_MAX_MS + 1)
    assert h.feed(3, 1000 + PAIR_MAX_MS + 200)  # ...but the late one counts as a first press
    h = Handover(0)
    assert not h.feed(3, 1000) and not h.feed(ord("x"), 1100) and not h.feed(3, 1200)


def test_ticks_wrap_does_not_confuse_it():
    start = ticks_add(0, -20)
    h = Handover(start)
    assert not h.feed(3, ticks_add(start, 200))
    assert h.feed(3, ticks_add(start, 500))


def test_link_frames_never_hand_over_whatever_their_payload():
    h = Handover(0)
    rng = Lcg(7)
    now = 0
    for seq in range(300):
        payload = bytes(rng.next(256) for _ in range(rng.next(64)))
        frame = link.encode(link.T_STATUS, seq, payload)
        now += 60  # every frame after quiet: the strictest case
        assert h.feed_chunk(frame, len(frame), now) == -1
    assert h.requests == 0


def test_ten_thousand_random_bytes_at_line_rate_never_hand_over():
    """10,000 random bytes arriving as a serial line delivers them (chunks of 1-64 bytes,
    about 11 bytes a millisecond at 115200 baud), 50 runs."""
    rng = Lcg(11)
    for _ in range(50):
        h = Handover(0)
        now, sent = 1000, 0
        while sent < 10_000:
            n = 1 + rng.next(64)
            chunk = bytes(rng.next(256) for _ in range(n))
            now += n // 11
            assert h.feed_chunk(chunk, n, now) == -1
            sent += n
        assert h.requests == 0


def test_feed_chunk_finds_the_handover_byte():
    h = Handover(0)
    buf = bytearray(b"\r\x03\r\x01zz")
    assert h.careful(1000)
    assert h.feed_chunk(buf, len(buf), 1000) == 2
