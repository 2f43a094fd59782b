# Runs firmware test modules (tests/firmware/test_*.py, installed as armv6m .mpy under
# /tests/firmware on the drive of an emulated Pico) on the chip itself. The host calls, through
# mpremote's raw REPL (a soft reset first: each module gets a fresh heap):
#     import fwharness; fwharness.run("test_engine", ("test_to_skip", ...))
# One JSON line per test on stdout ("@@RESULT {...}": module, name, passed, error, duration_us
# on the chip's own clock, mem_free after the test), a "module" line when the module imported
# (or did not) and a "runtime" line first (machine, whether the native viper loops are in use).
# Skipped tests are named by the host with their reason; this runs every other test in order.
import gc
import io
import json
import sys
import time

TESTS_DIR = "/tests/firmware"


def emit(record):
    print("@@RESULT " + json.dumps(record))


def format_exception(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def runtime():
    from cuefw import loops

    native = loops.native_module() is not None
    machine = sys.implementation._machine
    emit({"kind": "runtime", "machine": machine, "native_emitter": native})


def run_test(name, module, test):
    gc.collect()
    error = None
    start = time.ticks_us()
    try:
        getattr(module, test)()
    except Exception as exc:  # noqa: BLE001 - every failure is reported
        error = format_exception(exc)
    took = time.ticks_diff(time.ticks_us(), start)
    gc.collect()
    record = {"kind": "test", "module": name, "name": test, "passed": error is None}
    record.update({"error": error, "duration_us": took, "mem_free": gc.mem_free()})
    emit(record)


def run(name, skip=()):
    if TESTS_DIR not in sys.path:
        sys.path.insert(0, TESTS_DIR)
    runtime()
    gc.collect()
    try:
        module = __import__(name)
    except Exception as exc:  # noqa: BLE001
        emit({"kind": "module", "module": name, "passed": False, "error": format_exception(exc)})
        return
    emit({"kind": "module", "module": name, "passed": True, "error": None})
    tests = [t for t in dir(module) if t.startswith("test_") and t not in skip]
    tests.sort()
    for test in tests:
        run_test(name, module, test)
    emit({"kind": "done", "module": name})
