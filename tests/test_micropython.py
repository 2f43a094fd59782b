"""The firmware unit tests (tests/firmware/test_*.py), run a second time under real MicroPython.

runner.mjs runs them all in one Node.js process (MicroPython 1.27 WebAssembly build, 192 KB
GC heap like a Pico); here each MicroPython test becomes one pytest test with a stable id, so a
failure shows the MicroPython traceback under the same name as the CPython test.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest
from mp_runner import PICO_HEAP, ROOT, MicroPythonUnavailable, RunnerResult, run_runner

pytestmark = pytest.mark.micropython

FIRMWARE_TESTS = ROOT / "tests" / "firmware"


def _test_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    ]


def firmware_test_ids() -> list[str]:
    """module::function for every firmware test, from the source (not from the runner), so a
    test the runner never ran still gets a pytest test that fails."""
    return [
        f"{path.stem}::{name}"
        for path in sorted(FIRMWARE_TESTS.glob("test_*.py"))
        for name in _test_functions(path)
    ]


@pytest.fixture(scope="session")
def mp_run() -> RunnerResult:
    try:
        run = run_runner(timeout=300)
    except MicroPythonUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    _warn_heap_growth(run)
    return run


def _warn_heap_growth(run: RunnerResult) -> None:
    """Report tests that made the 192 KB heap grow. Not a failure: this build collects garbage
    only between top-level calls, so one test's garbage (e.g. float maths in its checks) adds
    up as if no GC ran; a Pico would collect it. The heap budget of the firmware itself is
    proven by tests/test_mp_heap.py, whose scenarios yield to the GC every frame."""
    grew = [r for r in run.of_kind("test") if r.get("heap_grew")]
    if grew:
        lines = [f"  {r['module']}::{r['name']}: allocated {r['allocated']} bytes" for r in grew]
        warnings.warn(
            "firmware tests that made the 192 KB MicroPython heap grow: live data plus the "
            "garbage of one call did not fit (no GC runs inside a call in the WebAssembly "
            "build):\n" + "\n".join(lines),
            stacklevel=1,
        )


def _results(run: RunnerResult) -> dict[str, dict]:
    return {f"{r['module']}::{r['name']}": r for r in run.of_kind("test")}


def _import_errors(run: RunnerResult) -> dict[str, str]:
    return {r["module"]: r["error"] for r in run.of_kind("module") if not r["passed"]}


@pytest.mark.parametrize("test_id", firmware_test_ids())
def test_firmware_test_under_micropython(mp_run: RunnerResult, test_id: str) -> None:
    module = test_id.split("::")[0]
    import_error = _import_errors(mp_run).get(module)
    if import_error:
        pytest.fail(f"{module} does not import under MicroPython:\n{import_error}", pytrace=False)
    record = _results(mp_run).get(test_id)
    if record is None:
        pytest.fail(
            f"{test_id} was not run under MicroPython (runner stderr: {mp_run.stderr.strip()!r})",
            pytrace=False,
        )
    if not record["passed"]:
        output = record.get("output")
        printed = f"\n--- printed ---\n{output}" if output else ""
        pytest.fail(f"under MicroPython:\n{record['error']}{printed}", pytrace=False)


def test_every_firmware_test_ran_under_micropython(mp_run: RunnerResult) -> None:
    expected = set(firmware_test_ids())
    ran = set(_results(mp_run))
    assert expected, "no firmware tests found in tests/firmware"
    assert not _import_errors(mp_run), f"modules failed to import: {_import_errors(mp_run)}"
    assert expected - ran == set(), "firmware tests never run under MicroPython"
    # A test the AST scan cannot see (e.g. made by assignment) would run with no pytest item.
    assert ran - expected == set(), "tests run under MicroPython but invisible to pytest"
    assert mp_run.of_kind("done"), f"the runner did not finish: {mp_run.stderr.strip()!r}"


def test_runtime_is_micropython_127_with_pico_heap(mp_run: RunnerResult) -> None:
    runtimes = mp_run.of_kind("runtime")
    assert runtimes, f"no runtime record: {mp_run.stderr.strip()!r}"
    for runtime in runtimes:
        assert runtime["implementation"][0] == "micropython"
        assert runtime["implementation"][1][:2] == [1, 27]
        # The GC heap starts at the Pico's 192 KB (less the GC's block table, ~4.5 KB); a
        # test that needed more made it grow and failed itself with HeapGrew.
        assert PICO_HEAP - 8 * 1024 < runtime["heap_initial_total"] <= PICO_HEAP


def _run_temp_tests(tmp_path: Path, source: str) -> dict[str, dict]:
    tests = tmp_path / "tests" / "firmware"
    tests.mkdir(parents=True)
    (tests / "test_tmp.py").write_text(source)
    return _results(run_runner(root=tmp_path, timeout=60))


def test_runner_reports_heap_growth_and_collects_between_tests(tmp_path: Path) -> None:
    """The 192 KB heap is real: a test holding 300 KB makes it grow (reported); garbage is
    collected between tests and added heap areas are given back, so the next tests start from
    192 KB again (two tests that each allocate 150 KB of garbage both fit)."""
    results = _run_temp_tests(
        tmp_path,
        "def test_a_grows():\n    keep = [bytearray(1000) for i in range(300)]\n"
        "    assert len(keep) == 300\n"
        "def test_b_garbage():\n    for i in range(150):\n        bytearray(1000)\n"
        "def test_c_garbage():\n    for i in range(150):\n        bytearray(1000)\n"
        "def test_d_fails():\n    assert 1 + 1 == 3, 'arithmetic'\n",
    )
    grows = results["test_tmp::test_a_grows"]
    assert grows["heap_grew"] and grows["heap_total_after"] > PICO_HEAP
    for name in ("test_b_garbage", "test_c_garbage"):
        record = results[f"test_tmp::{name}"]
        assert record["passed"] and record["allocated"] >= 150 * 1000
        assert not record["heap_grew"] and record["heap_total_before"] <= PICO_HEAP, record
    assert "AssertionError: arithmetic" in results["test_tmp::test_d_fails"]["error"]
