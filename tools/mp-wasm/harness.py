# Runs inside the MicroPython WebAssembly build (loaded by runner.mjs), never under CPython.
#
# runner.mjs calls load_module() per test module, then run_test() once per test, each as its
# own top-level call: this build's garbage collector only runs when control is back in
# JavaScript (it cannot scan the WebAssembly stack), so gc.collect() inside a call merely
# schedules a collection for when the call returns. Separate calls give every test a collected
# heap to start from; async scripts (run_script) let the GC run whenever they
# `await yield_to_gc()`.
#
# Results go out as "@@RESULT {json}" lines that runner.mjs forwards. Exceptions are caught
# here, in Python: one escaping to JavaScript makes node print its minified source.
import gc
import io
import json
import sys

import micropython
import mpharness_js  # registered by runner.mjs: heap total parsed from mem_info, clock, yield


def heap_total():
    """Size of the GC heap now. The build adds heap areas when an allocation does not fit, so
    a total above the initial one means the code needed more than the heap it was given."""
    print("@@MEMINFO")
    micropython.mem_info()
    print("@@MEMINFO-END")
    return mpharness_js.gc_total()


def now_ms():
    """A sub-millisecond clock (JavaScript performance.now): ticks_us has 1 ms resolution here."""
    return mpharness_js.now_ms()


async def yield_to_gc():
    """Return to the JavaScript event loop once, so a scheduled garbage collection can run."""
    gc.collect()  # schedules it (collection itself happens at the top level)
    await mpharness_js.yield_now()


def format_exception(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def emit(record):
    print("@@RESULT " + json.dumps(record))


def _test_names(module):
    names = [n for n in dir(module) if n.startswith("test_") and callable(getattr(module, n))]
    names.sort()
    return names


def load_module(module_name, only):
    """Import one test module (its own call: compiling its source makes garbage that is
    collected when the call returns) and hand its test ids to runner.mjs. A module that does
    not import is reported as a "module" failure."""
    before = gc.mem_alloc()
    try:
        module = __import__(module_name)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes
        emit(
            {
                "kind": "module",
                "module": module_name,
                "passed": False,
                "error": format_exception(exc),
            }
        )
        mpharness_js.tests("[]")
        return
    ids = [module_name + "::" + name for name in _test_names(module)]
    mpharness_js.tests(json.dumps([i for i in ids if not only or i in only]))
    emit(
        {
            "kind": "module",
            "module": module_name,
            "passed": True,
            "error": None,
            "import_allocated": gc.mem_alloc() - before,
        }
    )
    gc.collect()


def unload_module(module_name):
    """Forget a module once its tests ran, so the next module's tests have its heap space."""
    sys.modules.pop(module_name, None)
    gc.collect()


def runtime_info():
    emit(
        {
            "kind": "runtime",
            "version": sys.version,
            "implementation": list(sys.implementation),
            "heap_initial_total": heap_total(),
        }
    )


def run_test(test_id, initial_total):
    """Run one test of a loaded module. Reports how much it allocated and whether the heap
    grew past its initial size during the test; schedules a collection for after the call
    (which gives added heap areas back if nothing lives in them any more)."""
    module_name, name = test_id.split("::")
    before_total = heap_total()
    before_alloc = gc.mem_alloc()
    start = now_ms()
    error = None
    try:
        getattr(sys.modules[module_name], name)()
    except Exception as exc:  # noqa: BLE001
        error = format_exception(exc)
    duration = now_ms() - start
    allocated = gc.mem_alloc() - before_alloc
    after_total = heap_total()
    emit(
        {
            "kind": "test",
            "module": module_name,
            "name": name,
            "passed": error is None,
            "error": error,
            "duration_ms": duration,
            "allocated": allocated,
            "heap_total_before": before_total,
            "heap_total_after": after_total,
            "heap_grew": after_total > before_total or before_total > initial_total,
        }
    )
    gc.collect()


async def run_script(path):
    """Run one file as __main__ (benchmarks, heap measurements); its output passes through.
    A script may define `async def main()`, awaited here, to yield to the GC as it runs."""
    initial_total = heap_total()
    error = None
    try:
        with open(path) as f:
            source = f.read()
        namespace = {"__name__": "__main__", "__file__": path}
        exec(compile(source, path, "exec"), namespace)
        if "main" in namespace:
            await namespace["main"]()
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
