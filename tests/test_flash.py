"""`cuenode flash` against emulated nodes (whose raw REPL the real mpremote drives), and the
staging of firmware files for real chips (mpy-cross per architecture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.build.compile import compile_file
from cuenode.emulator.fleet import Fleet, NodePlan
from cuenode.node import flash, ops

REPO = Path(__file__).resolve().parent.parent
CUENODE = str(Path(sys.executable).parent / "cuenode")


def cuenode(*args: str, nodes_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if nodes_dir is not None:
        env["CUENODE_NODES_DIR"] = str(nodes_dir)
    return subprocess.run(
        [CUENODE, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO
    )


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    assert "Traceback" not in result.stderr
    return [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]


@pytest.fixture(scope="module")
def demo() -> bytes:
    return compile_file(REPO / "examples" / "demo.yaml")["stage"]


@pytest.fixture
def fleet(tmp_path):
    with Fleet(tmp_path / "emu") as f:
        yield f


def hello_name(port: str) -> tuple[str, str]:
    with ops.connect(port) as s:
        return s.info.node_id, s.info.show_hash


@pytest.mark.slow
def test_flash_renames_a_node_and_keeps_its_show(fleet, demo):
    node = fleet.add(NodePlan("stage", demo))
    fleet.start()
    (node.flash_dir / "main.py").write_text("print('old firmware')\n")  # replaced by flash
    done = cuenode("flash", "--port", node.tty, "--name", "front-of-house")
    assert done.returncode == 0, done.stderr
    assert "front-of-house" in done.stdout and " ok" in done.stdout
    assert (node.flash_dir / "node.id").read_text() == "front-of-house\n"
    assert (node.flash_dir / "show.bin").read_bytes() == demo
    assert (node.flash_dir / "main.py").read_bytes() == (REPO / "firmware" / "main.py").read_bytes()
    assert hello_name(node.tty) == ("front-of-house", demo[-32:].hex())
    again = cuenode("flash", "--port", node.tty)  # no --name: keeps the current one
    assert again.returncode == 0, again.stderr
    assert hello_name(node.tty) == ("front-of-house", demo[-32:].hex())


@pytest.mark.slow
def test_flash_three_nodes_in_parallel_with_summary(fleet):
    nodes = [fleet.add(NodePlan(f"node-{k}", None)) for k in range(3)]
    fleet.start()
    args = ["flash", "--board", "emulator"]
    for k, node in enumerate(nodes):
        args += ["--port", node.tty, "--name", f"truss-{k}"]
    done = cuenode(*args)
    assert done.returncode == 0, done.stderr
    table = done.stdout.splitlines()[-3:]
    assert [ln.split()[0] for ln in table] == ["truss-0", "truss-1", "truss-2"]
    assert all(ln.endswith("ok") for ln in table)
    assert [hello_name(n.tty)[0] for n in nodes] == ["truss-0", "truss-1", "truss-2"]
    by_all = cuenode("flash", "--all", nodes_dir=fleet.sup.workdir / "nodes")
    assert by_all.returncode == 0, by_all.stderr
    assert [hello_name(n.tty)[0] for n in nodes] == ["truss-0", "truss-1", "truss-2"]


@pytest.mark.slow
def test_one_bad_port_among_good_ones_fails_that_one(fleet, tmp_path):
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    bad = str(tmp_path / "ttyNOPE")
    done = cuenode("flash", "--port", node.tty, "--name", "a", "--port", bad, "--name", "b")
    assert done.returncode == 1
    errors = error_lines(done)
    assert len(errors) == 1 and f"node 'b' on {bad}: no such port" in errors[0]
    assert hello_name(node.tty)[0] == "a"


def test_bad_port_is_one_line_exit_1(tmp_path):
    done = cuenode("flash", "--port", str(tmp_path / "ttyNOPE"), "--name", "x")
    assert done.returncode == 1
    assert len(error_lines(done)) == 1


def test_names_must_match_ports():
    done = cuenode("flash", "--port", "/dev/a", "--port", "/dev/b", "--name", "x")
    assert done.returncode == 2 and "one --name per --port" in done.stderr


def test_board_detection_from_micropython_strings():
    assert flash.board_for("cuenode emulator with virtual RP2040\nrp2\n") == "emulator"
    assert flash.board_for("Raspberry Pi Pico with RP2040\nrp2\n") == "pico"
    assert flash.board_for("Generic ESP32 module with ESP32\nesp32\n") == "esp32_devkitc"
    with pytest.raises(flash.CuenodeError, match="--board"):
        flash.board_for("PYBv1.1 with STM32F405RG\npyboard\n")


@pytest.mark.parametrize("board", ["pico", "esp32_devkitc"])
def test_chip_boards_get_cuefw_as_mpy_for_their_arch(tmp_path, board):
    files = flash.stage_firmware(tmp_path, board, "stage")
    cuefw = [f for f in files if f.startswith("cuefw/")]
    assert cuefw and all(f.endswith(".mpy") for f in cuefw)
    assert {"main.py", "boot.py", "board.py", "node.id"} <= set(files)
    assert not list((tmp_path / "cuefw").glob("*.py"))
    header = (tmp_path / "cuefw" / "loops_native.mpy").read_bytes()[:4]  # has native code
    assert header[:2] == b"M\x06"
    # byte 2 carries the native code's architecture (armv6m / xtensawin differ)
    other = "esp32_devkitc" if board == "pico" else "pico"
    flash.stage_firmware(tmp_path / "other", other, "stage")
    assert (tmp_path / "other" / "cuefw" / "loops_native.mpy").read_bytes()[2] != header[2] != 0
    assert "board_rp2.py" in files if board == "pico" else "board_esp32.py" in files


def test_cleanup_removes_only_the_other_flavour_of_cuefw_modules():
    script = flash.cleanup_script(["main.py", "cuefw/engine.mpy", "board.py"])
    assert "'cuefw/engine.py'" in script and "main" not in script.split("for f")[1]


@pytest.mark.slow
def test_verify_reads_the_files_back_from_the_node(fleet, tmp_path):
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    stage = tmp_path / "stage"
    files = flash.stage_firmware(stage, "emulator", "stage")
    flash.verify_hashes(node.tty, stage, files)  # what Fleet wrote is what flash would send
    (stage / "main.py").write_text("# not what the node has\n")
    with pytest.raises(flash.CuenodeError, match="main.py on the node does not match"):
        flash.verify_hashes(node.tty, stage, files)


@pytest.mark.slow
def test_wrong_board_is_refused_before_anything_is_written(fleet):
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    main_py = (node.flash_dir / "main.py").read_bytes()
    done = cuenode("flash", "--port", node.tty, "--board", "pico")
    assert done.returncode == 1
    errors = error_lines(done)
    assert len(errors) == 1, done.stderr
    assert f"node 'stage' on {node.tty}: --board pico is for rp2 chips" in errors[0]
    assert "this board is emulator" in errors[0] and "use --board emulator" in errors[0]
    assert "mpremote" not in errors[0]
    assert "copying" not in done.stderr  # refused before the copy
    assert (node.flash_dir / "main.py").read_bytes() == main_py
    assert hello_name(node.tty)[0] == "stage"


@pytest.mark.slow
def test_flash_json_one_entry_per_node_naming_each(fleet, tmp_path):
    node = fleet.add(NodePlan("stage", None))
    fleet.start()
    bad = str(tmp_path / "ttyNOPE")
    done = cuenode(
        "flash", "--json", "--port", node.tty, "--name", "fog-rack", "--port", bad, "--name", "b"
    )
    assert done.returncode == 1
    entries = json.loads(done.stdout)
    assert [e["ok"] for e in entries] == [True, False]
    good, failed = entries
    assert good["node"] == "fog-rack" and good["previous_name"] == "stage"
    assert good["board"] == "emulator" and good["files"] > 0
    assert failed["node"] == "b" and failed["port"] == bad and "no such port" in failed["error"]
    assert len(error_lines(done)) == 1
