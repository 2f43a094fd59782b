"""The HIL suite against the emulated Pico (`--target pico`): the real firmware image on
rp2040js, the DMX line measured off GPIO0's edges and the relays off their pins, all on the
simulated clock. One run of the whole suite per module; each test reads its report.

Where the chip misses a threshold for a real reason, the suite reports the failure with its
figure, and the matching test here is an xfail with the reason (strict: it turns red when
the firmware is fixed, so the mark is removed then).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cuenode.emulator.pico import missing_parts
from cuenode.hil.thresholds import DEFAULTS
from hil_support import junit_properties, plot_names, report_rows, run_hil

pytestmark = [pytest.mark.pico, pytest.mark.slow, pytest.mark.timeout(900)]

# Known misses on the chip today (docs/hil.md, "Figures from a run"):
CHIP_MISSES = {
    "frame_jitter_p99_us": (
        False,  # straddles the limit (1.0-1.2 ms measured): not strict, it would flake
        "one late frame (~39 ms interval) in some 2 s windows on the chip (a GC or a link "
        "request in the frame loop's slot); the pacer recovers on the next frame",
    ),
    "relay_pulse_error_ms": (
        False,  # 2.6-5.6 ms against 2 ms in runs today: not strict
        "the pin now follows the governor at once, but the governor's clock for the pulse is "
        "the command's arrival, 2.6-5.6 ms before the link decode on the chip switches the "
        "pin: a 500 ms pulse is ~494-497 ms on the pin",
    ),
    "go_latency_p99_ms": (
        False,  # 34.5 and 39.6 ms in two runs against 38 ms: the tail is the frame phase
        "p99 of 20 presses is their worst: debounce 10 ms + up to one 22.8 ms packet already "
        "on the line + a 3 ms GO on the M0+ + the next frame's compute; a GC on the chip "
        "(~16 ms) at that moment pushes it past 38 ms",
    ),
    "max_on_cut_late_ms": (
        False,  # -7.6, -4.0 and +14.9 ms in three runs: depends on what the chip is doing
        "the relay task cuts at the deadline, but a garbage collection on the chip (~16 ms) or "
        "a long link request at that moment delays it: a hard-IRQ timer cut is the fix, not "
        "built yet",
    ),
    "stop_cut_ms": (
        False,  # ~2.7 ms against 2 ms
        "STOP to relay off is ~2.7 ms after the command reached the chip's USB FIFO: the link "
        "decode in MicroPython on a 125 MHz M0+ (the relay then switches within the request)",
    ),
}
OFF_THE_PIN = ("break_us_min", "mab_us_min", "slot_us_min", "slot_us_max", "packet_slots")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    assert not missing_parts(), f"run `python3 dev.py test -k x` first: {missing_parts()}"
    tmp = tmp_path_factory.mktemp("hil-pico")
    code, out, report = run_hil(tmp, "--target", "pico", timeout=840)
    assert (report / "report.html").is_file(), out[-3000:]
    html = (report / "report.html").read_text()
    return {"code": code, "out": out, "html": html, "props": junit_properties(report)}


def judged(run: dict) -> set[str]:
    return {n for n in run["props"] if not n.endswith((".threshold", ".verdict"))}


def test_every_check_is_reported_with_its_figure_and_plots(run: dict) -> None:
    expected = set(DEFAULTS) - {"push_speedup_min"}  # judged on a real node's USB only
    assert judged(run) == expected, (expected - judged(run), run["out"][-3000:])
    rows = report_rows(run["html"])
    for name in expected:
        assert name in rows, f"{name} missing from the report"
        assert rows[name][0] == pytest.approx(float(run["props"][name]), rel=1e-3)
    names = plot_names(run["html"])
    for needed in ("break_us_min", "mab_us_min", "frame_jitter_p99_us", "go_latency_p99_ms"):
        assert needed in names, names
    assert {"relay R1", "relay R2"} <= names, names
    assert "PicoRig" in run["html"] and "<td>pico</td>" in run["html"]  # identity: the chip


def test_the_dmx_figures_are_those_of_a_line_read_off_gpio0(run: dict) -> None:
    """Plausible only for a real line: whole packets, bit-exact PIO timing, and never more
    packets than a full universe can physically carry (~44 Hz)."""
    fig = {name: float(run["props"][name]) for name in judged(run)}
    assert fig["packet_slots"] == 513
    assert 92 <= fig["break_us_min"] <= 1000 and 12 <= fig["mab_us_min"] <= 100
    assert 43.12 <= fig["slot_us_min"] <= fig["slot_us_max"] <= 44.88
    assert 30 <= fig["frame_rate_hz_min"] <= 44.1
    assert fig["break_to_break_us_min"] >= 22_680  # 92 + 12 + 513 x 44 us: the physical limit


@pytest.mark.parametrize("name", sorted(set(DEFAULTS) - {"push_speedup_min"} - set(CHIP_MISSES)))
def test_the_chip_meets_the_threshold(run: dict, name: str) -> None:
    assert run["props"][f"{name}.verdict"] in ("pass", "info"), (name, run["props"][name])


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=strict, reason=reason))
        for name, (strict, reason) in sorted(CHIP_MISSES.items())
    ],
)
def test_a_known_chip_miss_meets_the_threshold(run: dict, name: str) -> None:
    figure = run["props"][name]
    assert run["props"][f"{name}.verdict"] == "pass", f"{name} measured {figure}"


def test_a_miss_fails_the_run_with_the_figure_in_the_output(run: dict) -> None:
    failed = [n for n in judged(run) if run["props"][f"{n}.verdict"] == "FAIL"]
    assert (run["code"] == 1) == bool(failed), run["out"][-3000:]
    for name in failed:
        line = next(ln for ln in run["out"].splitlines() if f"threshold {name} " in ln)
        assert "FAIL" in line and "measured" in line, line


def test_fault_injection_is_refused_on_the_chip(tmp_path: Path) -> None:
    code, out, _ = run_hil(
        tmp_path, "--target", "pico", "--inject-fault", "break_us=60", "-k", "max_on"
    )
    assert code != 0 and "no fault hooks" in out, out[-2000:]
