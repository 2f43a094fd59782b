# Runs inside the MicroPython WebAssembly build (loaded by runner.mjs), never under CPython.
# It imports each firmware test module, runs its test_* functions and reports each result as
# one "@@RESULT {json}" line that runner.mjs turns into the runner's JSON output. Exceptions are
# caught here, in Python: one escaping to JavaScript makes node print its minified source.
import gc
import io
import json
import sys

import micropython
import mpharness_js  # registered by runner.mjs: heap figures parsed from mem_info, a clock


def heap_total():
    """Size of the GC heap now. The pyscript build adds heap areas on demand, so a total above
    the initial one means the code needed more than the heap it was given."""
    print("@@MEMINFO")
    micropython.mem_info()
    print("@@MEMINFO-END")
    return mpharness_js.gc_total()


def now_ms():
    """A sub-millisecond clock (JavaScript performance.now): ticks_us has 1 ms resolution here."""
    return mpharness_js.now_ms()


def format_exception(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def emit(record):
    print("@@RESULT " + json.dumps(record))


def test_names(module):
    names = []
    for name in dir(module):
        if name.startswith("test_") and callable(getattr(module, name)):
            names.append(name)
    names.sort()
    return names


def run_one(module_name, module, name, initial_total):
    """Run one test; returns False when the heap had to grow (the interpreter is then spent)."""
    gc.collect()
    before = heap_total()
    start = now_ms()
    error = None
    try:
        getattr(module, name)()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes
        error = format_exception(exc)
    duration = now_ms() - start
    after = heap_total()
    grew = after > initial_total
    if error is None and grew:
        error = (
            f"HeapGrew: the GC heap grew from {before} to {after} bytes during this test: "
            f"it needs more than the {initial_total}-byte heap a Pico gives it"
        )
    emit(
        {
            "kind": "test",
            "module": module_name,
            "name": name,
            "passed": error is None,
            "error": error,
            "duration_ms": duration,
            "heap_total_before": before,
            "heap_total_after": after,
        }
    )
    return not grew


def run_module(module_name, initial_total, only, done):
    """Run a module's tests not in `done`; False when the heap grew and a restart is needed."""
    if module_name in done:
        return True
    try:
        module = __import__(module_name)
    except Exception as exc:  # noqa: BLE001
        emit(
            {
                "kind": "module",
                "module": module_name,
                "passed": False,
                "error": format_exception(exc),
            }
        )
        return True
    for name in test_names(module):
        test_id = module_name + "::" + name
        if (only and test_id not in only) or test_id in done:
            continue
        if not run_one(module_name, module, name, initial_total):
            return False
    return True


def run_tests(module_names, only, done):
    """Run the tests; stops with a "restart" record when a test made the heap grow, so that
    runner.mjs continues in a fresh interpreter and no later test is blamed or excused."""
    initial_total = heap_total()
    emit(
        {
            "kind": "runtime",
            "version": sys.version,
            "implementation": list(sys.implementation),
            "heap_initial_total": initial_total,
        }
    )
    for module_name in module_names:
        if not run_module(module_name, initial_total, only, done):
            emit({"kind": "restart"})
            return
    emit({"kind": "done", "heap_total_end": heap_total()})


def run_script(path):
    """Run one file as __main__ (benchmarks, heap measurements); its output passes through."""
    initial_total = heap_total()
    error = None
    try:
        with open(path) as f:
            source = f.read()
        exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})
    except Exception as exc:  # noqa: BLE001
        error = format_exception(exc)
    after = heap_total()
    emit(
        {
            "kind": "script",
            "path": path,
            "passed": error is None,
            "error": error,
            "heap_initial_total": initial_total,
            "heap_total_after": after,
            "heap_grew": after > initial_total,
        }
    )
