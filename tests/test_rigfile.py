"""The rig file (node names, ports or USB serial numbers, show, baud): reading it, one-line
errors with line numbers, and its place between the command line and CUENODE_NODES_DIR."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cuenode.node import rigfile, select
from cuenode.node.rigfile import RigError

CUENODE = str(Path(sys.executable).parent / "cuenode")

GOOD_TOML = """\
show = "show.yaml"
baud = 57600

[nodes.stage-left]
port = "/dev/serial/by-id/usb-left"

[nodes.stage-right]
serial = "E6614C311B2A4A35"
"""

GOOD_YAML = """\
show: show.yaml
nodes:
  stage-left:
    port: nodes/left.tty
  stage-right:
    serial: E6614C311B2A4A35
"""


def write(tmp_path: Path, text: str, name: str = "cuenode-rig.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_toml_rig_names_nodes_show_and_baud(tmp_path):
    rig = rigfile.find(workdir=write(tmp_path, GOOD_TOML).parent)
    assert rig is not None
    assert [n.name for n in rig.nodes] == ["stage-left", "stage-right"]
    assert rig.node("stage-left").port == "/dev/serial/by-id/usb-left"
    assert rig.node("stage-right").serial == "E6614C311B2A4A35"
    assert rig.show == tmp_path / "show.yaml" and rig.baud == 57600
    # a serial number that is not attached becomes a port that says so when opened
    assert rig.node("stage-right").resolve() == "usb:E6614C311B2A4A35"


def test_a_yaml_rig_resolves_relative_ports_beside_the_file(tmp_path):
    rig = rigfile.find(workdir=write(tmp_path, GOOD_YAML, "cuenode-rig.yaml").parent)
    assert rig.node("stage-left").port == str(tmp_path / "nodes" / "left.tty")
    assert rig.baud is None


@pytest.mark.parametrize(
    "text, where",
    [
        ('show = "a.yaml"\nbaud = \n', ":2: "),  # TOML syntax: tomllib's own line
        ('show = "a.yaml"\n\n[nodes.left]\nport = "x"\nspeed = 3\n', ":5: node 'left': unknown"),
        ('show = "a.yaml"\ncolour = "red"\n[nodes.a]\nport = "x"\n', ":2: unknown setting"),
        ('[nodes.left]\nport = "x"\n[nodes.right]\n', ":3: node 'right' needs"),
        ('[nodes.left]\nport = "x"\nserial = "y"\n', ":1: node 'left' needs exactly one"),
        ('baud = "fast"\n[nodes.a]\nport = "x"\n', ":1: baud 'fast' is not a speed"),
        ('show = "a.yaml"\n', ":1: no nodes"),
    ],
)
def test_a_bad_rig_file_is_one_line_with_its_line_number(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(RigError) as caught:
        rigfile.load(path)
    line = caught.value.format_message()
    assert line.startswith(str(path)) and where in line and "\n" not in line, line


def test_a_yaml_syntax_error_names_its_line(tmp_path):
    path = write(tmp_path, "nodes:\n  a:\n    port: [x\n", "cuenode-rig.yaml")
    with pytest.raises(RigError, match=r"cuenode-rig.yaml:\d+: "):
        rigfile.load(path)


def test_the_command_line_wins_over_the_rig_and_the_rig_over_the_nodes_dir(tmp_path, monkeypatch):
    rig = rigfile.load(write(tmp_path, GOOD_TOML))
    nodes_dir = tmp_path / "emu"
    nodes_dir.mkdir()
    os.symlink("/dev/null", nodes_dir / "other.tty")
    monkeypatch.setenv("CUENODE_NODES_DIR", str(nodes_dir))
    # no options: every node of the rig (not the emulated node in CUENODE_NODES_DIR)
    chosen = select.choose((), None, False, rig)
    assert [t.name for t in chosen] == ["stage-left", "stage-right"]
    # --node NAME: its port from the rig; --port wins over the rig
    assert select.choose((), "stage-left", False, rig) == [
        select.Target("/dev/serial/by-id/usb-left", "stage-left")
    ]
    assert select.choose(("/dev/ttyACM3",), None, False, rig) == [select.Target("/dev/ttyACM3")]
    # a name the rig does not have: looked for among the attached nodes, as without a rig
    assert [t.port for t in select.choose((), "other", False, rig)] == [
        str(nodes_dir / "other.tty")
    ]


def test_the_cli_reports_a_bad_rig_file_with_exit_status_2(tmp_path):
    write(tmp_path, '[nodes.left]\nport = "x"\nbogus = 1\n')
    run = subprocess.run(
        [CUENODE, "status"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'cuenode-rig.toml'}:3: node 'left': unknown setting 'bogus' — "
        "known settings: port, serial"
    ]
    missing = subprocess.run(
        [CUENODE, "status", "--rig", "nope.toml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "nope.toml: no such rig file" in missing.stderr
