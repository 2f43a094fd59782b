# Tiny helpers for firmware tests. Plain Python that runs unchanged under CPython (pytest) and
# MicroPython 1.27 (tools/mp-wasm/runner.mjs): no pytest, no os.path, no typing (f-strings
# are fine: MicroPython has them).
import sys

IS_MICROPYTHON = sys.implementation.name == "micropython"

# tests/firmware/ and the repository root, from this file's own location (both runtimes set
# __file__; the MicroPython runner mirrors the repository layout under /repo).
FIRMWARE_TESTS_DIR = __file__.replace("\\", "/").rsplit("/", 1)[0]
REPO_ROOT = FIRMWARE_TESTS_DIR.rsplit("/", 2)[0]


# Where ticks_ms/ticks_us wrap: 2**30 on the chips, the WebAssembly build and CPython (compat);
# the MicroPython unix port on a 64-bit PC wraps at 2**62 (its small-int range).
def _ticks_period():
    from cuefw.compat import ticks_add

    return ticks_add(0, -1) + 1


TICKS_PERIOD = _ticks_period()
TICKS_MAX = TICKS_PERIOD - 1


def repo_path(*parts):
    """Path of a file in the repository, e.g. repo_path("examples", "theatre.yaml")."""
    return "/".join((REPO_ROOT,) + parts)


def data_path(*parts):
    """Path of a test data file kept in tests/firmware/data/."""
    return "/".join((FIRMWARE_TESTS_DIR, "data") + parts)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


_dirs = [0]


def fresh_dir(prefix):
    """An empty directory of its own for a test that writes files (a node's flash)."""
    import os

    _dirs[0] += 1
    pid = os.getpid() if hasattr(os, "getpid") else 0
    path = f"/tmp/cuefw-{prefix}-{pid}-{_dirs[0]}"
    try:
        os.mkdir(path)
    except OSError:
        for name in os.listdir(path):
            os.remove(path + "/" + name)
    return path


def minimal_show(seed, filler):
    """The smallest file showfile.verify accepts: a header, `filler` bytes that depend on
    `seed`, the SHA-256 trailer. For storage and transfer tests (it has no cues)."""
    import hashlib
    import struct

    from cuefw import showfile

    file_len = showfile.HEADER_LEN + filler + showfile.HASH_LEN
    head = showfile.MAGIC + struct.pack(
        "<HHI", showfile.FORMAT_VERSION, showfile.HEADER_LEN, file_len
    )
    head += bytes(showfile.HEADER_LEN - len(head))
    body = head + bytes((seed * 31 + i * 7) & 0xFF for i in range(filler))
    return body + hashlib.sha256(body).digest()


def ticks_before_wrap(ms):
    """A tick value `ms` before the ticks counter wraps to 0 (for wraparound tests)."""
    return TICKS_PERIOD - ms


def close_to(actual, expected, tolerance):
    return abs(actual - expected) <= tolerance


def assert_close(actual, expected, tolerance, what="value"):
    """assert |actual - expected| <= tolerance, with a message naming both values."""
    assert close_to(actual, expected, tolerance), (
        f"{what} is {actual!r}, expected {expected!r} +/- {tolerance!r}"
    )


def assert_all_close(actual, expected, tolerance, what="values"):
    """Element-wise assert_close for two sequences of the same length; names the first miss."""
    assert len(actual) == len(expected), f"{what}: {len(actual)} items, expected {len(expected)}"
    for i in range(len(expected)):
        assert_close(actual[i], expected[i], tolerance, f"{what}[{i}]")


def raises(exc_type, func, *args):
    """Call func(*args), assert it raises exc_type, return the exception (pytest.raises-like)."""
    try:
        func(*args)
    except exc_type as exc:
        return exc
    raise AssertionError(
        "{}(...) did not raise {}".format(getattr(func, "__name__", "call"), exc_type.__name__)
    )
