# Runs the firmware tests (tests/firmware/test_*.py) inside the MicroPython unix port, never
# under CPython:  micropython -X heapsize=192K tools/mp-unix/harness.py ROOT [MODULE::TEST ...]
#
# One JSON line per test on stdout ("@@RESULT {...}": module, name, passed, error,
# duration_us), a "module" line per test module (passed False with the error when it does not
# import) and a "runtime" line first (version, whether the native emitter works). Unlike the
# WebAssembly build, this VM collects garbage inside a call and raises MemoryError under
# micropython.heap_lock(), so every test simply runs in one process, in order.
import gc
import io
import json
import os
import sys
import time


def emit(record):
    print("@@RESULT " + json.dumps(record))


def format_exception(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def test_modules(root):
    names = [n[:-3] for n in os.listdir(root + "/tests/firmware")]
    names = [n for n in names if n.startswith("test_")]
    names.sort()
    return names


def run_module(name, only):
    gc.collect()
    try:
        module = __import__(name)
    except Exception as exc:  # noqa: BLE001 - every failure is reported
        emit({"kind": "module", "module": name, "passed": False, "error": format_exception(exc)})
        return
    emit({"kind": "module", "module": name, "passed": True, "error": None})
    tests = [n for n in dir(module) if n.startswith("test_")]
    tests.sort()
    for test in tests:
        if only and name + "::" + test not in only:
            continue
        gc.collect()
        error = None
        start = time.ticks_us()
        try:
            getattr(module, test)()
        except Exception as exc:  # noqa: BLE001
            error = format_exception(exc)
        took = time.ticks_diff(time.ticks_us(), start)
        emit(
            {
                "kind": "test",
                "module": name,
                "name": test,
                "passed": error is None,
                "error": error,
                "duration_us": took,
            }
        )
    sys.modules.pop(name, None)


def main(argv):
    root = argv[1]
    only = argv[2:]
    sys.path[:0] = [root + "/firmware", root + "/tests/firmware"]
    from cuefw import loops

    native = loops.native_module() is not None
    emit({"kind": "runtime", "version": sys.version, "native_emitter": native})
    for name in test_modules(root):
        run_module(name, only)
    emit({"kind": "done"})


main(sys.argv)
