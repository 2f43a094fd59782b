"""`cuenode emulate` as a user runs it, and the live view driven headless by textual's pilot."""

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
from cuenode.emulator.fleet import Fleet, fixture_labels, plan_nodes
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.valid import load_valid_show

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.timeout(120)


def test_emulate_headless_prints_ttys_and_symlinks(tmp_path: Path) -> None:
    work = tmp_path / ".cuenode"
    proc = subprocess.Popen(
        [
            str(BIN / "cuenode"),
            "emulate",
            "--nodes",
            "3",
            "--show",
            str(EXAMPLES_DIR / "demo.yaml"),
            "--headless",
            "--json",
            "--workdir",
            str(work),
            "--duration",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        table = json.loads(proc.stdout.readline())
        nodes = {row["node"]: row for row in table["nodes"]}
        assert sorted(nodes) == ["stage", "stage-2", "stage-3"]
        for node_id, row in nodes.items():
            assert row["tty"].startswith("/dev/pts/")
            link = tmp_path / row["link"]
            assert link == work / "nodes" / f"{node_id}.tty"
            assert os.path.realpath(link) == row["tty"]
        out = subprocess.run(
            [
                str(BIN / "mpremote"),
                "connect",
                str(work / "nodes" / "stage-2.tty"),
                "cat",
                ":node.id",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert out.stdout.strip() == "stage-2"
        pids = [row["pid"] for row in nodes.values()]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_emulate_bad_input_is_one_clear_line(tmp_path: Path) -> None:
    missing = subprocess.run(
        [
            str(BIN / "cuenode"),
            "emulate",
            "--show",
            "nope.yaml",
            "--headless",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("Error: nope.yaml: no such file")
    assert "Traceback" not in missing.stderr
    zero = subprocess.run(
        [str(BIN / "cuenode"), "emulate", "--nodes", "0", "--headless"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert zero.returncode == 2 and "Traceback" not in zero.stderr


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_live_view_go_key_changes_the_shown_cue(tmp_path: Path, runtime: str) -> None:
    from cuenode.emulator.liveview import LiveView

    shows = compile_file(EXAMPLES_DIR / "demo.yaml")
    fleet = Fleet(tmp_path, runtime=runtime)
    for plan in plan_nodes(1, shows):
        fleet.add(plan)  # real time: the view polls like a person watching
    fleet.start()

    async def drive() -> tuple[str, str, str]:
        app = LiveView(
            fleet.nodes,
            {"stage": fleet.show_blob("stage")},
            refresh_s=0.1,
            labels=fixture_labels(load_valid_show(EXAMPLES_DIR / "demo.yaml")),
        )
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for_text(pilot, app, "standby")
            before = str(app.panels()[0].render())
            await pilot.press("space")
            await wait_for_text(pilot, app, "cue 1  next 2")
            after = str(app.panels()[0].render())
            return before, after, app.export_screenshot()

    try:
        before, after, screen = asyncio.run(drive())
    finally:
        fleet.stop()
    assert "cue -  next 1" in before and "standby" in before
    assert "cue 1  next 2" in after and "running" in after
    assert "fog (R1): off" in after and "front_l" in after
    assert "stage" in screen


async def wait_for_text(pilot, app, text: str, timeout: float = 5.0) -> None:  # noqa: ANN001
    for _ in range(int(timeout / 0.05)):
        if text in str(app.panels()[0].render()):
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{text!r} never shown: {app.panels()[0].render()}")


def test_emulate_capture_and_capture_command(tmp_path: Path) -> None:
    work = tmp_path / ".cuenode"
    proc = subprocess.Popen(
        [
            str(BIN / "cuenode"),
            "emulate",
            "--show",
            str(EXAMPLES_DIR / "demo.yaml"),
            "--headless",
            "--virtual-time",
            "--json",
            "--workdir",
            str(work),
            "--capture",
            str(tmp_path / "cap"),
            "--capture-frames",
            "5",
            "--duration",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())
        assert "captured 5 frames of stage" in proc.stdout.readline()
        later = subprocess.run(
            [
                str(BIN / "cuenode"),
                "capture",
                "stage",
                "--workdir",
                str(work),
                "--frames",
                "3",
                "--out",
                str(tmp_path / "later"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert later.returncode == 0, later.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    first = json.loads((tmp_path / "cap" / "stage.json").read_text())
    second = json.loads((tmp_path / "later" / "stage.json").read_text())
    assert len(first["frames"]) == 5 and len(second["frames"]) == 3
    assert second["frames"][0]["seq"] > first["frames"][-1]["seq"]  # later on the same line
    assert all(f["break_us"] == 176 and f["slots"] == 512 for f in first["frames"])
    assert (tmp_path / "cap" / "stage.bin").stat().st_size > 5 * 22_760
    missing = subprocess.run(
        [str(BIN / "cuenode"), "capture", "nobody", "--workdir", str(work)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode == 1 and "no running emulated node 'nobody'" in missing.stderr
