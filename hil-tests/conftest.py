"""Hardware-in-the-loop suite: one set of checks, three targets.

- `--node PORT [--jig PORT]`: a real node; its physical world is the HIL jig (a second Pico
  wired as the board's `HIL_JIG` says, running firmware/jig/). Without `--jig` only the link
  checks run; the others skip with the reason.
- `--target pico`: an emulated Pico (MicroPython's RPI_PICO image on rp2040js) running the
  cuenode firmware; the line is GPIO0's edges on the simulated clock (`cuenode hil`'s default).
- `--target emulator` (the default here, fast): the CPython emulator with the real firmware
  files in virtual time; its world socket stands in for the jig (see docs/hil.md for why).

Every check judges a measured figure against a threshold named in cuenode.hil.thresholds; the
figure goes into the failure message, the JUnit XML (`record_property`) and, with
`--hil-report DIR`, an HTML report with plots (`cuenode hil --report DIR` runs all of this).
"""

from __future__ import annotations

import datetime
import platform
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cuenode.hil.results import Figure, Results
from cuenode.hil.rig import EmulatorRig, HardwareRig, PicoRig, Rig

sys.path.insert(0, str(Path(__file__).parent))
import hil_show  # noqa: E402

Judge = Callable[..., Figure]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cuenode HIL")
    group.addoption("--node", default=None, metavar="PORT", help="a real node's serial port")
    group.addoption("--jig", default=None, metavar="PORT", help="the HIL jig's serial port")
    group.addoption(
        "--jig-power",
        action="store_true",
        help="the jig's power relay is wired to the node's supply (enables destructive checks)",
    )
    group.addoption(
        "--target",
        default="emulator",
        choices=["emulator", "pico"],
        help="emulated target when --node is not given: emulator (CPython, fast; the default "
        "here) or pico (the real firmware image on an emulated RP2040)",
    )
    group.addoption("--hil-report", default=None, metavar="DIR", help="write report.html here")
    group.addoption(
        "--inject-fault",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="emulated node only, proves a check can fail: break_us=N, frame_stall_us=N, "
        "late_pins=R1:US",
    )


def parse_faults(items: list[str]) -> dict[str, object]:
    faults: dict[str, object] = {}
    for item in items:
        key, _, value = item.partition("=")
        if key == "late_pins":
            label, _, us = value.partition(":")
            faults.setdefault("late_pins", {})[label] = int(us)  # type: ignore[index]
        else:
            faults[key] = int(value)
    return faults


def pytest_configure(config: pytest.Config) -> None:
    for name, text in (
        ("needs_jig", "needs the node's physical world (a jig, or an emulator's)"),
        ("destructive", "cuts power or resets the node"),
        ("emulated_only", "needs fault injection, which only an emulated node has"),
    ):
        config.addinivalue_line("markers", f"{name}: {text}")


@pytest.fixture(scope="session")
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    port = request.config.getoption("--node")
    made: Rig
    if port:
        made = HardwareRig(
            port, request.config.getoption("--jig"), request.config.getoption("--jig_power")
        )
    else:
        faults = parse_faults(request.config.getoption("--inject-fault"))
        target = PicoRig if request.config.getoption("--target") == "pico" else EmulatorRig
        made = target(tmp_path_factory.mktemp("hil"), faults)
    try:
        made.load_show(hil_show.show_yaml)
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def results(rig: Rig, request: pytest.FixtureRequest) -> Iterator[Results]:
    collected = Results(rig.thresholds, rig.native_usb)
    collected.identity.update(rig.identity())
    collected.identity["date"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    collected.identity["host"] = f"{platform.node()} ({platform.machine()})"
    yield collected
    folder = request.config.getoption("--hil-report")
    if folder:
        from cuenode.hil.report import write_report

        write_report(collected, Path(folder))


@pytest.fixture(autouse=True)
def _capabilities(request: pytest.FixtureRequest) -> None:
    """Skip, with the reason, a check that needs what this target lacks."""
    if "rig" not in request.fixturenames:
        return
    target: Rig = request.getfixturevalue("rig")
    target.before_test()
    for marker, capability in (
        ("needs_jig", "world"),
        ("destructive", "power"),
        ("emulated_only", "faults"),
    ):
        if request.node.get_closest_marker(marker) and not target.can(capability):
            pytest.skip(target.lacks(capability))


@pytest.fixture
def judge(results: Results, record_property: Callable, request: pytest.FixtureRequest) -> Judge:
    """judge(check, threshold_name, measured, samples=..., plot=...) -> Figure; asserts it."""

    def _judge(check: str, name: str, measured: float, **extra: object) -> Figure:
        figure = results.judge(check, name, measured, test=request.node.nodeid, **extra)
        record_property(name, f"{figure.measured:g}")
        record_property(f"{name}.threshold", figure.threshold.describe())
        record_property(f"{name}.verdict", figure.verdict())
        if figure.judged and not figure.passed:
            pytest.fail(figure.line(), pytrace=False)
        return figure

    return _judge
