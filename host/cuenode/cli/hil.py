"""`cuenode hil`: run the hardware-in-the-loop suite and write its report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from cuenode.paths import REPO_ROOT


@click.command("hil", context_settings={"ignore_unknown_options": True})
@click.option("--node", "port", metavar="PORT", help="a real node (default: an emulated one)")
@click.option("--jig", metavar="PORT", help="the HIL jig's serial port (with --node)")
@click.option(
    "--target",
    type=click.Choice(["pico", "emulator"]),
    default=None,
    help="without --node: pico (the firmware image on an emulated RP2040, measured at its "
    "pins; the default when its parts are installed) or emulator (CPython, fast)",
)
@click.option(
    "--report",
    "report",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("hil-report"),
    show_default=True,
    help="folder for report.html and junit.xml",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def hil_cmd(
    port: str | None,
    jig: str | None,
    target: str | None,
    report: Path,
    pytest_args: tuple[str, ...],
) -> None:
    """Measure a node against the HIL thresholds (DMX timing, GO latency, relays, link).

    Progress is pytest's, one line per check; the figures, thresholds and plots go to
    REPORT/report.html and REPORT/junit.xml. Extra arguments go to pytest (e.g. -k dmx).
    Exit status 1 when a check fails."""
    if jig and not port:
        raise click.UsageError("--jig needs --node (the jig watches a real node)")
    if target and port:
        raise click.UsageError("--target is for an emulated node; --node names a real one")
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO_ROOT / "hil-tests"),
        "-v",
        "-p",
        "no:cacheprovider",
    ]
    cmd += ["--hil-report", str(report), "--junitxml", str(report / "junit.xml")]
    cmd += ["--node", port] if port else []
    cmd += ["--jig", jig] if jig else []
    cmd += [] if port else ["--target", target or default_target()]
    code = subprocess.call([*cmd, *pytest_args])
    click.echo(f"report: {report / 'report.html'}  (JUnit: {report / 'junit.xml'})")
    if code:
        sys.exit(1)


def default_target() -> str:
    """The emulated Pico when its parts are installed (it measures a real PIO line), else
    the CPython emulator, saying so."""
    from cuenode.emulator.pico import missing_parts

    missing = missing_parts()
    if not missing:
        return "pico"
    click.echo(
        f"emulated Pico not installed ({', '.join(missing)}): using --target emulator",
        err=True,
    )
    return "emulator"


COMMANDS = [hil_cmd]
