"""The emulator's front door (issue 11): the live view's keys, one emulator per --workdir,
the show's nodes started by default, names kept with --keep-flash, nodes discoverable."""

from __future__ import annotations

import asyncio
import json
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


THREE_NODES = """\
show: {name: Three, version: 1}
fixture_types:
  dim: {label: Dimmer, channels: {dimmer: 1}}
fixtures:
  a: {type: dim, address: 1}
  b: {type: dim, address: 2}
  c: {type: dim, address: 3}
nodes:
  left: {board: emulator, fixtures: [a], buttons: {B1: go}}
  centre: {board: emulator, fixtures: [b], buttons: {B1: go}}
  right: {board: emulator, fixtures: [c], buttons: {B1: go}}
cues:
  - {cue: 1, time: 1s, levels: {a.dimmer: 100%, b.dimmer: 100%, c.dimmer: 100%}}
"""


def start_emulator(work: Path, *args: str, cwd: Path) -> subprocess.Popen:
    cmd = [CUENODE, "emulate", "--headless", "--workdir", str(work), "--duration", "60", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


def stop_emulator(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)


def test_a_show_starts_its_nodes_and_says_how_to_find_them(tmp_path: Path) -> None:
    show = tmp_path / "three.yaml"
    show.write_text(THREE_NODES)
    work = tmp_path / "emu"
    proc = start_emulator(work, "--show", str(show), cwd=tmp_path)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(5)]
    finally:
        stop_emulator(proc)
    names = sorted(line.split()[0] for line in lines[:3])
    assert names == ["centre", "left", "right"], lines
    assert "3 node(s) up" in lines[3]
    assert f"CUENODE_NODES_DIR={work.resolve() / 'nodes'}" in lines[4]


def test_a_second_emulator_on_one_workdir_is_refused(tmp_path: Path) -> None:
    work = tmp_path / "emu"
    first = start_emulator(work, "--show", str(EXAMPLES_DIR / "demo.yaml"), cwd=tmp_path)
    try:
        assert first.stdout is not None
        assert first.stdout.readline().startswith("stage")
        show_bin = work / "flash" / "stage" / "show.bin"
        before = show_bin.read_bytes()
        second = subprocess.run(
            [CUENODE, "emulate", "--headless", "--workdir", str(work), "--duration", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"another emulator (pid {first.pid})" in lines[0]
        assert "--workdir" in lines[0]
        assert show_bin.read_bytes() == before  # the running node's flash is untouched
        assert first.poll() is None
    finally:
        stop_emulator(first)
    again = subprocess.run(  # the lock went with the first emulator
        [CUENODE, "emulate", "--headless", "--workdir", str(work), "--duration", "0.5"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr


def test_keep_flash_keeps_the_name_given_with_flash(tmp_path: Path) -> None:
    from cuenode.node import ops

    with Fleet(tmp_path) as fleet:
        node = fleet.add(plan_nodes(1, None)[0])
        (node.flash_dir / "node.id").write_text("dimmer-rack\n")  # as `cuenode flash --name`
    with Fleet(tmp_path) as fleet:
        node = fleet.add(plan_nodes(1, None)[0], fresh=False)
        fleet.start()
        with ops.connect(node.tty) as s:
            assert s.info.node_id == "dimmer-rack"
    with Fleet(tmp_path) as fleet:
        node = fleet.add(plan_nodes(1, None)[0])  # without --keep-flash: flashed afresh
        fleet.start()
        with ops.connect(node.tty) as s:
            assert s.info.node_id == "node-1"


def test_no_nodes_found_says_how_emulated_nodes_are_found(tmp_path: Path) -> None:
    env = dict(os.environ, CUENODE_NODES_DIR=str(tmp_path))
    done = subprocess.run(
        [CUENODE, "status", "--all"], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 1
    assert "CUENODE_NODES_DIR=DIR/nodes" in done.stderr
    assert f"searched {tmp_path}" in done.stderr


def test_capture_json_names_the_node_in_success_and_failure(tmp_path: Path) -> None:
    work = tmp_path / "emu"
    proc = start_emulator(
        work, "--show", str(EXAMPLES_DIR / "demo.yaml"), "--virtual-time", cwd=tmp_path
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()
        args = ["capture", "--workdir", str(work), "--frames", "3", "--out", str(tmp_path / "c")]
        good = subprocess.run(
            [CUENODE, *args, "--json", "stage"], capture_output=True, text=True, timeout=60
        )
        bad = subprocess.run(
            [CUENODE, *args, "--json", "nobody"], capture_output=True, text=True, timeout=60
        )
    finally:
        stop_emulator(proc)
    assert good.returncode == 0, good.stderr
    entry = json.loads(good.stdout)
    assert entry["node"] == "stage" and entry["ok"] is True and entry["frames"] == 3
    assert all(Path(f).exists() for f in entry["files"])
    assert bad.returncode == 1
    failed = json.loads(bad.stdout)
    assert failed["node"] == "nobody" and failed["ok"] is False
    assert "no running emulated node 'nobody'" in failed["error"]
