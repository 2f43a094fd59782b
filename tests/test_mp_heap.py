"""The engine's memory use under real MicroPython 1.27 (WebAssembly build): no allocation per
frame, and the peak heap of the example show (examples/theatre.yaml, compiled per node) is
under half of a Pico's 192 KB. The MicroPython side is in tests/micropython/*.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cuenode.build import compiler
from cuenode.show.load import load_show
from mp_runner import PICO_HEAP, ROOT, MicroPythonUnavailable, RunnerResult, run_script

pytestmark = pytest.mark.micropython

EXAMPLE_SHOW = ROOT / "examples" / "theatre.yaml"
HEAP_BUDGET = 96 * 1024


def _run(script: str, *args: str, heapsize: int = PICO_HEAP) -> RunnerResult:
    try:
        run = run_script(script, *args, heapsize=heapsize)
    except MicroPythonUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    (status,) = run.of_kind("script")
    assert status["passed"], f"{script} under MicroPython:\n{status['error']}"
    return run


def _lines(run: RunnerResult, prefix: str) -> list[dict]:
    return [json.loads(line[len(prefix) :]) for line in run.output if line.startswith(prefix)]


def test_engine_frames_allocate_nothing_with_512_channels_fading() -> None:
    run = _run("tests/micropython/engine_noalloc.py")
    results = {r["show"]: r for r in _lines(run, "@@NOALLOC ")}
    for show in ("wide.cnshow", "wide16.cnshow"):  # 512 8-bit / 256 16-bit parameters
        r = results[show]
        assert r["frames"] == 1000 and r["fading"] and r["slots_changed"] == 512, r
        assert r["wrapped"], "the 1,000 frames were meant to cross the ticks wrap"
        assert r["allocated"] == 0, f"{show}: 1,000 frames allocated {r['allocated']} bytes"
    fx = results["parts.cnshow"]  # two effects running every frame, over the ticks wrap
    assert fx["effects"] == 2 and fx["wrapped"], fx
    assert fx["allocated"] == 0, f"effects: 1,000 frames allocated {fx['allocated']} bytes"
    # The measurement sees allocation: one 2-tuple per frame is 16 bytes x 1,000 frames.
    assert results["control"]["allocated"] >= 16 * 1000


@pytest.fixture(scope="module")
def example_shows(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    show, problems = load_show(EXAMPLE_SHOW)
    assert show is not None and not problems, problems
    out = tmp_path_factory.mktemp("shows")
    paths = []
    for node, blob in compiler.compile_show(show).items():
        path = out / f"{node}.cnshow"
        path.write_bytes(blob)
        paths.append(path)
    return paths


def _heap_run(shows: list[Path], heapsize: int) -> tuple[RunnerResult, list[dict]]:
    puts = [arg for p in shows for arg in ("--put", f"{p}=/shows/{p.name}")]
    run = _run("tests/micropython/engine_heap.py", *puts, heapsize=heapsize)
    return run, _lines(run, "@@HEAP ")


def test_example_show_peak_heap_under_96k(example_shows: list[Path]) -> None:
    run, results = _heap_run(example_shows, PICO_HEAP)
    assert {r["show"] for r in results} == {p.name for p in example_shows}
    for r in results:
        print(
            f"{r['show']}: {r['cues']} cues, peak {r['peak']} B (live after GC "
            f"{r['peak_live']} B, interpreter baseline {r['baseline']} B)"
        )
        assert r["gos"] >= r["cues"] // 2, f"{r['show']}: the scenario ran only {r['gos']} GOs"
        assert r["peak"] < HEAP_BUDGET, f"{r['show']}: peak heap {r['peak']} B >= 96 KB"
    assert not run.of_kind("script")[0]["heap_grew"]


def test_example_show_runs_in_a_96k_heap(example_shows: list[Path]) -> None:
    """The same scenario in a heap of only 96 KB: the heap never has to grow."""
    run, results = _heap_run(example_shows, HEAP_BUDGET)
    assert len(results) == len(example_shows)
    status = run.of_kind("script")[0]
    assert status["heap_initial_total"] <= HEAP_BUDGET
    assert not status["heap_grew"], f"needed more than 96 KB: grew to {status['heap_total_after']}"
