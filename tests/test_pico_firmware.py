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
    )
)
CHIP_SKIPS: dict[str, str] = {}


def chip_test_ids() -> list[str]:
    return [f"{m}::{t}" for m in MODULES for t in _test_functions(FIRMWARE_TESTS / f"{m}.py")]


def _skips(module: str) -> tuple[str, ...]:
    return tuple(k.split("::")[1] for k in CHIP_SKIPS if k.startswith(module + "::"))


@pytest.fixture(scope="module")
def chip_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleRun]]:
    assert not missing_parts(), f"run `python3 dev.py test -k x` first: {missing_parts()}"
    image = chip_image(MODULES)
    with EmulatedPico(tmp_path_factory.mktemp("pico-fw"), "fwtests", image=image) as chip:
        runs = {m: run_module(chip, m, _skips(m)) for m in MODULES}
    for m, run in runs.items():  # the figures docs/testing.md records (pytest -s shows them)
        ran = sum(r["kind"] == "test" for r in run.records)
        busy = sum(r.get("duration_us", 0) for r in run.records) / 1e6
        print(f"\n{m}: {ran} tests, {busy:.2f} s simulated in tests, {run.wall_s:.1f} s wall")
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
