"""What the HIL suite measured: figures judged against named thresholds, with their samples.

A check calls `Results.judge(...)`; the figure goes into the JUnit XML (as a property), into
the HTML report (summary row and, with samples, a plot) and, when it fails, into the
assertion message, so a technician sees the number wherever they look.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from cuenode.hil.thresholds import Threshold


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values),
        "min": min(values),
        "n": float(len(values)),
    }


@dataclass
class Figure:
    check: str  # what was checked, in words
    threshold: Threshold
    measured: float
    judged: bool  # False: recorded for information (e.g. a native-USB figure on an emulator)
    passed: bool
    test: str = ""  # the pytest node id
    samples: list[float] = field(default_factory=list)
    plot: str = ""  # "hist" (distribution of samples), "timeline" (level over time), ""
    note: str = ""

    def verdict(self) -> str:
        if not self.judged:
            return "info"
        return "pass" if self.passed else "FAIL"

    def line(self) -> str:
        return (
            f"{self.check}: measured {self.measured:g} {self.threshold.unit}, "
            f"threshold {self.threshold.name} {self.threshold.describe()} -> {self.verdict()}"
        )


@dataclass
class Timeline:
    """A relay (or LED) pin's level over time, for the relay timeline plot."""

    label: str
    edges: list[tuple[float, int]]  # (t_ms, level)
    test: str = ""


class Results:
    def __init__(self, thresholds: dict[str, Threshold], native_usb: bool) -> None:
        self.thresholds = thresholds
        self.native_usb = native_usb
        self.figures: list[Figure] = []
        self.timelines: list[Timeline] = []
        self.identity: dict[str, str] = {}

    def judge(
        self, check: str, name: str, measured: float, test: str = "", **extra: object
    ) -> Figure:
        threshold = self.thresholds[name]
        judged = self.native_usb or not threshold.native_usb_only
        figure = Figure(check, threshold, float(measured), judged, threshold.passes(measured), test)
        for key, value in extra.items():
            setattr(figure, key, value)
        self.figures.append(figure)
        return figure
