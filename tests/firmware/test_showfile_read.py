# ShowReader's fast path (one readinto straight into array("H"), little-endian machines) and
# its portable path (byte-by-byte decode, what a big-endian machine uses) read every fixture
# identically. Runs under CPython (pytest) and MicroPython.
from array import array

from cuefw import showfile as sf
from fwtest import data_path, raises


def same_cue(a, b):
    n, m = a.n_changes, a.n_actions
    assert (a.number, a.up_ms, a.down_ms, a.delay_ms, n, m) == (
        b.number,
        b.up_ms,
        b.down_ms,
        b.delay_ms,
        b.n_changes,
        b.n_actions,
    )
    assert a.changes[: 2 * n] == b.changes[: 2 * n]
    assert a.action_ms[:m] == b.action_ms[:m] and a.action_kind[:m] == b.action_kind[:m]


def compare_decoders(name):
    """Every cue (timing, changes, actions) and every look, read with both decode paths."""
    with open(data_path(name), "rb") as f1, open(data_path(name), "rb") as f2:
        fast = sf.ShowReader(f1)
        portable = sf.ShowReader(f2)
        portable.native = False
        cue_a = sf.Cue(fast.max_changes, fast.max_actions)
        cue_b = sf.Cue(fast.max_changes, fast.max_actions)
        look_a = array("H", bytes(2 * max(1, fast.n_params)))
        look_b = array("H", bytes(2 * max(1, fast.n_params)))
        assert fast.read_look(-1, look_a) == portable.read_look(-1, look_b)
        for i in range(fast.n_cues):
            same_cue(fast.read_cue(i, cue_a), portable.read_cue(i, cue_b))
            assert fast.read_look(i, look_a) == portable.read_look(i, look_b), (name, i)


# One test per fixture: the MicroPython runner collects garbage only between tests.
def test_fast_and_portable_decoders_agree_fade():
    assert sf.NATIVE_LE  # every target (RP2040, ESP32, wasm, x86) is little-endian
    compare_decoders("fade.cnshow")


def test_fast_and_portable_decoders_agree_follow_relays_many():
    for name in ("follow.cnshow", "relays.cnshow", "many.cnshow"):
        compare_decoders(name)


def test_fast_and_portable_decoders_agree_tracking():
    compare_decoders("tracking.cnshow")


def test_fast_and_portable_decoders_agree_wide():
    compare_decoders("wide.cnshow")


def test_fast_and_portable_decoders_agree_wide16():
    compare_decoders("wide16.cnshow")


def test_changes_are_interleaved_param_value_pairs():
    with open(data_path("fade.cnshow"), "rb") as f:
        r = sf.ShowReader(f)
        cue = sf.Cue(r.max_changes, r.max_actions)
        r.read_cue(0, cue)  # make_data.FADE cue 1: (0, 255), (2, 65535)
        assert cue.n_changes == 2
        assert list(cue.changes[:4]) == [0, 255, 2, 65535]
        assert (cue.param(1), cue.value(1)) == (2, 65535)


def test_tracked_look_replays_changes_after_the_keyframe():
    # tracking.cnshow: 8 parameters, cue k sets parameter k % 8 to k + 1; keyframes every 16
    with open(data_path("tracking.cnshow"), "rb") as f:
        r = sf.ShowReader(f)
        assert r.keyframe_every > 1
        cue = sf.Cue(r.max_changes, r.max_actions)
        want = r.read_look(-1, array("H", bytes(2 * r.n_params)))
        got = array("H", bytes(2 * r.n_params))
        for i in range(r.n_cues):
            r.read_cue(i, cue)
            for k in range(cue.n_changes):
                want[cue.param(k)] = cue.value(k)
            assert list(r.read_look(i, got)) == list(want), i


def test_look_array_too_small_is_refused():
    with open(data_path("wide.cnshow"), "rb") as f:
        r = sf.ShowReader(f)
        exc = raises(sf.ShowError, r.read_look, 0, array("H", bytes(2 * 511)))
        assert "511 of 512" in str(exc)


def test_verify_accepts_each_fixture_and_refuses_damage():
    import hashlib
    import io

    for name in ("fade.cnshow", "wide16.cnshow"):  # 526 B; 4.3 KB: a partial last block
        with open(data_path(name), "rb") as f:
            blob = bytearray(f.read())
        assert sf.verify(io.BytesIO(blob), hashlib.sha256), name
        for at in (5, 64, len(blob) // 2, len(blob) - 40, len(blob) - 1):  # header, body, hash
            blob[at] ^= 1
            assert not sf.verify(io.BytesIO(blob), hashlib.sha256), (name, at)
            blob[at] ^= 1
        assert not sf.verify(io.BytesIO(blob[:-1]), hashlib.sha256)
        assert not sf.verify(io.BytesIO(blob + b"\0"), hashlib.sha256)
        assert not sf.verify(io.BytesIO(blob[: len(blob) // 2]), hashlib.sha256)
