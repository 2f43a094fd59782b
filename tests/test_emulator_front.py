"""The emulator's front door (issue 11): the live view's keys, one emulator per --workdir,
the show's nodes started by default, names kept with --keep-flash, nodes discoverable."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, plan_nodes
from cuenode.paths import EXAMPLES_DIR

BIN = Path(sys.executable).parent
CUENODE = str(BIN / "cuenode")
pytestmark = pytest.mark.timeout(120)


def test_live_view_tab_selects_the_node_that_space_goes(tmp_path: Path) -> None:
    from cuenode.emulator.liveview import LiveView

    shows = compile_file(EXAMPLES_DIR / "demo.yaml")
    fleet = Fleet(tmp_path)
    for plan in plan_nodes(2, shows):  # stage, stage-2
        fleet.add(plan)
    fleet.start()

    async def drive() -> tuple[str, str, str]:
        app = LiveView(fleet.nodes, {n.node_id: fleet.show_blob(n.node_id) for n in fleet.nodes})
        async with app.run_test(size=(140, 60)) as pilot:
            await until(pilot, lambda: "standby" in text(app, 1))
            await pilot.press("tab")
            await pilot.press("space")
            await until(pilot, lambda: "cue 1  next 2" in text(app, 1))
            await pilot.pause(0.3)
            return text(app, 0), text(app, 1), app.export_screenshot()

    try:
        first, second, screen = asyncio.run(drive())
    finally:
        fleet.stop()
    assert "cue 1  next 2" in second
    assert "cue -  next 1" in first  # the first node was not the one GOne
    assert "[space]=B1" in first and "[b]=B2" in first  # the key hints, not eaten as markup
    assert "space]=B1" in screen


def text(app, i: int) -> str:  # noqa: ANN001
    return str(app.panels()[i].render())


async def until(pilot, cond, timeout: float = 10.0) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("the view never showed what was expected")
