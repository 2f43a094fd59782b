"""The firmware tests that matter on the chip, run on the emulated Pico (issue 8, item 6).

One emulated Pico boots once for the module from a prepared drive image (tests/pico_fwrun.py:
cuefw and the test modules as armv6m .mpy, a main.py that starts nothing); each firmware test
module then runs on the chip in one mpremote exec (tools/pico-chip/harness.py), and each
firmware test becomes one pytest test here, under the same name as on CPython, the WebAssembly
build and the unix port. Tests that cannot run on the chip are skipped here, with their reason,
on this runtime only (CHIP_SKIPS). Figures (simulated and wall seconds per module): docs/testing.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from cuenode.emulator.pico import missing_parts
from cuenode.emulator.pico.api import EmulatedPico
from pico_fwrun import FIRMWARE_TESTS, ModuleRun, chip_image, run_module
from test_micropython import _test_functions

pytestmark = [pytest.mark.pico, pytest.mark.slow, pytest.mark.timeout(1800)]

# The subset chosen by what it proves on the chip and what it costs (docs/testing.md).
MODULES = tuple(
    os.environ.get("CUENODE_CHIP_MODULES", "").split()
    or (
        "test_engine",
        "test_showfile_read",
        "test_governor",
        "test_buttons",
        "test_link_framing",
        "test_loops",
        "test_core_parts",
        "test_pacing",
        "test_effects",
        "test_link_engine",
        "test_link_events",
        "test_link_node",
        "test_wdtfeed",
    )
)
# Single tests of a chosen module not run on the chip, with the reason (docs/testing.md).
CHIP_SKIPS = {
    "test_engine::test_ten_minute_fade_exact_and_ends_within_one_frame": "too slow for CI: "
    "~26,900 engine ticks take 18.8 s simulated, ~75 s wall (three quarters of test_engine); "
    "the long-fade arithmetic runs here in test_ten_minute_fade_across_the_wrap",
}
# Modules not run on the chip, with the reason (measured 2026-11-30, docs/testing.md).
LEFT_OUT = {
    "test_leds": "over 6 min wall on the chip (not finished): sweeps 2,048 ms patterns 1 ms at a "
    "time, pure logic with no chip-specific path",
    "test_store": "over 4 min wall on the chip (not finished): many flash writes and renames on "
    "the emulated LittleFS; the chip's own power-cut test is in test_pico_chip.py",
    "test_handover": "over 2 min wall on the chip (not finished): seeded random-byte sweeps with "
    "32-bit LCG arithmetic (long ints on the chip), pure logic",
    "test_jig_parts": "the HIL jig's firmware, not the node's (not measured)",
    "test_fwtest": "tests the test helper fwtest itself",
}


def test_every_firmware_test_module_runs_on_the_chip_or_says_why_not() -> None:
    modules = {p.stem for p in FIRMWARE_TESTS.glob("test_*.py")}
    assert modules == set(MODULES) | set(LEFT_OUT) and not set(MODULES) & set(LEFT_OUT)


def chip_test_ids() -> list[str]:
    return [f"{m}::{t}" for m in MODULES for t in _test_functions(FIRMWARE_TESTS / f"{m}.py")]


def _skips(module: str) -> tuple[str, ...]:
    return tuple(k.split("::")[1] for k in CHIP_SKIPS if k.startswith(module + "::"))


def _run_and_say(chip: EmulatedPico, module: str) -> ModuleRun:
    """Run one module on the chip; print the figures docs/testing.md records (pytest -s)."""
    run = run_module(chip, module, _skips(module))
    ran = sum(r["kind"] == "test" for r in run.records)
    print(
        f"\n{module}: {ran} tests, {run.busy_s:.2f} s simulated in tests, {run.wall_s:.1f} s wall"
    )
    print(f"  slowest on the chip: {run.slowest()}", flush=True)
    return run


@pytest.fixture(scope="module")
def chip_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleRun]]:
    assert not missing_parts(), f"run `python3 dev.py test -k x` first: {missing_parts()}"
    image = chip_image(MODULES)
    with EmulatedPico(tmp_path_factory.mktemp("pico-fw"), "fwtests", image=image) as chip:
        runs = {m: _run_and_say(chip, m) for m in MODULES}
    yield runs


@pytest.mark.parametrize("test_id", chip_test_ids())
def test_firmware_test_on_the_emulated_pico(chip_runs, test_id: str) -> None:
    if test_id in CHIP_SKIPS:
        pytest.skip(f"not on the chip: {CHIP_SKIPS[test_id]}")
    module, name = test_id.split("::")
    run = chip_runs[module]
    for r in run.records:
        if r["kind"] == "module" and not r["passed"]:
            pytest.fail(f"{module} does not import on the chip:\n{r['error']}", pytrace=False)
    found = [r for r in run.records if r["kind"] == "test" and r["name"] == name]
    if not found:
        pytest.fail(f"{test_id} did not run on the chip:\n{run.output[-2000:]}", pytrace=False)
    if not found[0]["passed"]:
        pytest.fail(f"on the emulated Pico:\n{found[0]['error']}", pytrace=False)


def test_every_chosen_test_ran_on_the_rp2040_with_the_native_loops(chip_runs) -> None:
    ran, skipped = set(), {k for k in CHIP_SKIPS if k.split("::")[0] in MODULES}
    for module, run in chip_runs.items():
        runtime = [r for r in run.records if r["kind"] == "runtime"]
        assert runtime and "RP2040" in runtime[0]["machine"], run.output[-2000:]
        assert runtime[0]["native_emitter"], "viper did not run: the native loops were not used"
        assert [r for r in run.records if r["kind"] == "done"], run.output[-2000:]
        ran |= {f"{module}::{r['name']}" for r in run.records if r["kind"] == "test"}
    assert not ran & skipped
    assert ran | skipped == set(chip_test_ids())
