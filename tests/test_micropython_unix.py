"""The firmware unit tests (tests/firmware/test_*.py) under the MicroPython unix port.

Where tests/test_micropython.py runs them in the WebAssembly build (32-bit like the chips: 2**30
ticks, 31-bit small ints, Pico-sized objects, no native emitter), this runs them in the unix
port: the real VM with the native emitter, so the engine and the reader take the viper loops
(cuefw/loops_native.py) after their self-check, and every engine test runs machine code. See
docs/testing.md ("Two MicroPython runtimes") for why both are kept.
"""

from __future__ import annotations

import pytest
from mp_unix import UnixPortUnavailable, run_firmware_tests
from test_micropython import firmware_test_ids

pytestmark = pytest.mark.micropython


@pytest.fixture(scope="session")
def unix_run() -> tuple[dict[str, dict], list[dict], str]:
    try:
        records, other = run_firmware_tests()
    except UnixPortUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    tests = {f"{r['module']}::{r['name']}": r for r in records if r["kind"] == "test"}
    return tests, records, other


@pytest.mark.parametrize("test_id", firmware_test_ids())
def test_firmware_test_under_the_unix_port(unix_run, test_id: str) -> None:
    tests, records, other = unix_run
    module = test_id.split("::")[0]
    for r in records:
        if r["kind"] == "module" and r["module"] == module and not r["passed"]:
            pytest.fail(f"{module} does not import on the unix port:\n{r['error']}", pytrace=False)
    record = tests.get(test_id)
    if record is None:
        pytest.fail(f"{test_id} was not run on the unix port:\n{other[-2000:]}", pytrace=False)
    if not record["passed"]:
        pytest.fail(f"on the MicroPython unix port:\n{record['error']}", pytrace=False)


def test_every_firmware_test_ran_with_the_native_loops(unix_run) -> None:
    tests, records, other = unix_run
    runtime = [r for r in records if r["kind"] == "runtime"]
    assert runtime and "MicroPython" in runtime[0]["version"], other[-2000:]
    assert runtime[0]["native_emitter"], "viper did not compile: the native loops never ran"
    assert set(tests) == set(firmware_test_ids())
    assert [r for r in records if r["kind"] == "done"], other[-2000:]


def test_engine_frames_allocate_nothing_under_heap_lock_with_native_loops() -> None:
    """1,000 frames with every channel fading under micropython.heap_lock() (which raises
    MemoryError on this port), on the native loops; a control that allocates is caught."""
    import json

    from mp_unix import run

    proc = run("tools/mp-unix/noalloc.py")
    assert proc.returncode == 0, proc.stderr
    results = {r["show"]: r for r in map(json.loads, proc.stdout.splitlines())}
    for show in ("wide.cnshow", "wide16.cnshow"):
        assert results[show]["no_alloc"] and results[show]["fading"], results[show]
        assert results[show]["loops"] == {"frame": "native", "go": "native"}
    assert results["control"]["no_alloc"] is False  # the lock does catch an allocation
