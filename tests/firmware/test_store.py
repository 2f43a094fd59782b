# Crash-safe show storage (cuefw.store) with real file operations in a scratch directory.
# Runs under CPython and MicroPython (firmware test convention).
import hashlib
import os

from cuefw import link
from cuefw import store as store_module
from cuefw.store import LIVE, META, NEW, PREV, TMP, Store, StoreError
from fwtest import fresh_dir, minimal_show


def make_show(tag, filler=300):
    return minimal_show(tag, filler)


def files(root):
    return sorted(os.listdir(root))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def push(store, blob, chunk=64):
    off = store.begin(len(blob), blob[-32:])
    while off < len(blob):
        off = store.write(off, blob[off : off + chunk])
    return store.commit()


def test_push_then_boot_loads_it_and_keeps_previous():
    root = fresh_dir("store")
    a, b = make_show(1), make_show(2, 500)
    store = Store(root, hashlib.sha256)
    assert store.boot() is None
    push(store, a)
    push(store, b)
    assert files(root) == [LIVE, PREV]
    assert read(root + "/" + LIVE) == b and read(root + "/" + PREV) == a
    assert Store(root, hashlib.sha256).boot() == root + "/" + LIVE


def test_corrupt_live_falls_back_to_previous():
    root = fresh_dir("store")
    store = Store(root, hashlib.sha256)
    push(store, make_show(1))
    push(store, make_show(2))
    with open(root + "/" + LIVE, "r+b") as f:
        f.seek(100)
        f.write(b"\xff\xfe")
    assert Store(root, hashlib.sha256).boot() == root + "/" + PREV


def test_hash_mismatch_refused_and_live_untouched():
    root = fresh_dir("store")
    store = Store(root, hashlib.sha256)
    a = make_show(1)
    push(store, a)
    b = bytearray(make_show(2))
    b[90] ^= 1  # corrupted in transit: content no longer matches its trailing hash
    store.begin(len(b), bytes(b[-32:]))
    store.write(0, bytes(b))
    try:
        store.commit()
        raise AssertionError("corrupt show committed")
    except StoreError as e:
        assert e.code == link.E_HASH
    assert read(root + "/" + LIVE) == a
    assert TMP not in files(root)


def test_gap_refused_with_expected_offset_and_retransmission_accepted():
    root = fresh_dir("store")
    store = Store(root, hashlib.sha256)
    blob = make_show(3)
    store.begin(len(blob), blob[-32:])
    assert store.write(0, blob[:100]) == 100
    try:
        store.write(200, blob[200:300])
        raise AssertionError("gap accepted")
    except StoreError as e:
        assert e.code == link.E_OFFSET and e.expected == 100
    assert store.write(50, blob[50:150]) == 150  # overlaps: only the new part is written
    assert store.write(0, blob[:100]) == 150  # a duplicate changes nothing
    store.write(150, blob[150:])
    store.commit()
    assert read(root + "/" + LIVE) == blob


def test_too_large_refused():
    store = Store(fresh_dir("store"), hashlib.sha256, max_size=1000)
    try:
        store.begin(1001, bytes(32))
        raise AssertionError("no error raised")
    except StoreError as e:
        assert e.code == link.E_TOO_LARGE


def test_resume_after_power_cut_continues_from_what_is_on_disk():
    root = fresh_dir("store")
    blob = make_show(4, 2000)
    store = Store(root, hashlib.sha256)
    store.begin(len(blob), blob[-32:])
    store.write(0, blob[:1000])
    store.f.flush()
    # power cut: the Store object is gone, the files stay
    again = Store(root, hashlib.sha256)
    assert again.begin(len(blob), blob[-32:]) == 1000
    again.write(1000, blob[1000:])
    again.commit()
    assert read(root + "/" + LIVE) == blob
    assert files(root) == [LIVE]


def test_resume_within_same_session_and_restart_for_other_show():
    root = fresh_dir("store")
    a, b = make_show(5, 1000), make_show(6, 1000)
    store = Store(root, hashlib.sha256)
    store.begin(len(a), a[-32:])
    store.write(0, a[:400])
    assert store.begin(len(a), a[-32:]) == 400
    assert store.begin(len(b), b[-32:]) == 0  # another show: start over
    assert Store(root, hashlib.sha256).begin(len(a), a[-32:]) == 0


class FlakyOs:
    """The os module as cuefw.store sees it, with the power going at the k-th rename. (The
    store's own `os` name is replaced: a built-in module's attributes are read-only on the
    MicroPython unix port.)"""

    def __init__(self, fail_at):
        self.fail_at = fail_at
        self.calls = 0
        for name in ("stat", "remove", "listdir"):
            setattr(self, name, getattr(os, name))

    def rename(self, src, dst):
        if self.calls == self.fail_at:
            raise OSError(5)  # the power goes here
        self.calls += 1
        os.rename(src, dst)


def test_interrupted_at_every_rename_leaves_a_verifiable_show():
    a, b = make_show(7), make_show(8)
    for fail_at in range(4):
        root = fresh_dir("store")
        store = Store(root, hashlib.sha256)
        push(store, a)
        store.begin(len(b), b[-32:])
        store.write(0, b)
        store_module.os = FlakyOs(fail_at)
        try:
            store.commit()
            crashed = False
        except OSError:
            crashed = True
        finally:
            store_module.os = os
        booted = Store(root, hashlib.sha256).boot()
        assert booted is not None
        got = read(booted)
        assert got == (a if fail_at == 0 else b), fail_at
        assert crashed == (fail_at < 3)


def test_stray_unverifiable_new_is_discarded_at_boot():
    root = fresh_dir("store")
    store = Store(root, hashlib.sha256)
    a = make_show(9)
    push(store, a)
    with open(root + "/" + NEW, "wb") as f:
        f.write(b"CNSH half written")
    assert Store(root, hashlib.sha256).boot() == root + "/" + LIVE
    assert NEW not in files(root)


def test_abort_removes_transfer_state():
    root = fresh_dir("store")
    store = Store(root, hashlib.sha256)
    blob = make_show(10)
    store.begin(len(blob), blob[-32:])
    store.write(0, blob[:10])
    store.abort()
    assert TMP not in files(root) and META not in files(root)
    try:
        store.write(10, blob[10:20])
        raise AssertionError("no error raised")
    except StoreError as e:
        assert e.code == link.E_NO_TRANSFER


# Raw deflate (window 2**10, as the host sends) of b"cuenode link " * 200 + bytes(range(256)).
DEFLATED_HEX = (
    "4b2e4dcdcb4f4955c8c9cccb56481ee58c724639a39c51ce28679433ca19e58c72201c064626661656"
    "36760e4e2e6e1e5e3e7e0141216111513171094929691959397905452565155535750d4d2d6d1d5d3d7"
    "d03432363135333730b4b2b6b1b5b3b7b07472767175737770f4f2f6f1f5f3fff80c0a0e090d0b0f08"
    "8c8a8e898d8b8f884c4a4e494d4b4f48cccacec9cdcbcfc82c2a2e292d2b2f28acaaaea9adabafa86c6a"
    "6e696d6b6f68eceaeee9edebefe0913274d9e3275daf4193367cd9e3377defc050b172d5eb274d9f2152"
    "b57ad5eb376ddfa0d1b376ddeb275dbf61d3b77eddeb377dffe03070f1d3e72f4d8f113274f9d3e73f6"
    "dcf90b172f5dbe72f5daf51b376fddbe73f7defd070f1f3d7ef2f4d9f3172f5fbd7ef3f6ddfb0f1f3f7d"
    "fef2f5dbf71f3f7ffdfef3f7df7f00"
)


def test_inflater_of_this_runtime_reads_the_hosts_raw_deflate():
    from binascii import unhexlify

    from cuefw.store import make_inflater

    inflate = make_inflater()
    assert inflate is not None  # MicroPython's deflate module, or CPython's zlib
    root = fresh_dir("store")
    with open(root + "/in", "wb") as f:
        f.write(unhexlify(DEFLATED_HEX))
    with open(root + "/in", "rb") as fin, open(root + "/out", "wb") as fout:
        steps = 0
        for _ in inflate(fin, fout, bytearray(64)):  # a generator: one step per block
            steps += 1
    assert steps > 1
    assert read(root + "/out") == b"cuenode link " * 200 + bytes(range(256))
