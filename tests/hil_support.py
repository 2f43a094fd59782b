"""Shared by the HIL suite's own tests: run hil-tests in a subprocess, read what it wrote."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from cuenode.paths import REPO_ROOT


def run_hil(tmp_path: Path, *args: str, timeout: float = 540) -> tuple[int, str, Path]:
    report = tmp_path / "report"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(REPO_ROOT / "hil-tests"),
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    cmd += ["--hil-report", str(report), "--junitxml", str(report / "junit.xml"), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr, report


def junit_properties(report: Path) -> dict[str, str]:
    root = ET.parse(report / "junit.xml").getroot()
    return {p.get("name", ""): p.get("value", "") for p in root.iter("property")}


def report_rows(html: str) -> dict[str, tuple[float, str]]:
    """threshold name -> (measured figure, verdict) from the HTML summary table."""
    rows = re.findall(
        r"<tr class='(\w+)'><td>[^<]*</td><td>(\w+)</td><td>[^<]*</td><td>([-0-9.e+]+) ", html
    )
    return {name: (float(measured), verdict) for verdict, name, measured in rows}


def plot_names(html: str) -> set[str]:
    plots = re.findall(r"<img alt='(plot|timeline) ([^']+)' src='data:image/png;base64,", html)
    return {name for _, name in plots}
