"""The link CLI commands (cuenode push/go/.../status/log) against in-process nodes on ptys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cuefw.store import LIVE
from cuenode.cli import cli
from link_support import PtyNode, RecordingNode, demo_blob

REPO = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def one_line_error(result, exit_code: int = 1) -> str:
    assert result.exit_code == exit_code, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


@pytest.fixture
def flash(tmp_path):
    d = tmp_path / "flash"
    d.mkdir()
    return d


def test_push_compiled_file(flash, tmp_path):
    blob = demo_blob("stage-left")
    show = tmp_path / "stage-left.cnshow"
    show.write_bytes(blob)
    with PtyNode(flash) as node:
        result = run("push", str(show), "--port", node.port)
    assert result.exit_code == 0, result.output
    assert f"node 'stage-left' on {node.port}: pushed {len(blob)} bytes" in result.output
    assert "verified; switched now" in result.output
    assert (flash / LIVE).read_bytes() == blob


def test_push_yaml_compiles_and_sends_the_nodes_part(flash):
    with PtyNode(flash, RecordingNode("stage")) as node:
        result = run("push", str(REPO / "examples" / "demo.yaml"), "--port", node.port)
        again = run("push", str(REPO / "examples" / "demo.yaml"), "--port", node.port)
    assert result.exit_code == 0, result.output
    assert (flash / LIVE).exists()
    assert "already running this show" in again.output


def test_push_to_wrong_node_refused_then_forced(flash, tmp_path):
    show = tmp_path / "left.cnshow"
    show.write_bytes(demo_blob("stage-left"))
    with PtyNode(flash, RecordingNode("stage-right")) as node:
        line = one_line_error(run("push", str(show), "--port", node.port))
        assert line == (
            f"Error: show is compiled for node 'stage-left' but {node.port} is node "
            "'stage-right' — push to the right node, or use --force to override"
        )
        assert not (flash / LIVE).exists()
        forced = run("push", str(show), "--port", node.port, "--force")
    assert forced.exit_code == 0, forced.output
    assert (flash / LIVE).exists()


def test_push_damaged_file_refused(tmp_path):
    bad = bytearray(demo_blob())
    bad[100] ^= 0xFF
    show = tmp_path / "bad.cnshow"
    show.write_bytes(bytes(bad))
    line = one_line_error(run("push", str(show), "--port", "loop://"))
    assert "compiled show is damaged" in line


def test_push_too_large(flash, tmp_path):
    blob = demo_blob("stage-left")
    show = tmp_path / "s.cnshow"
    show.write_bytes(blob)
    with PtyNode(flash, max_show=1000) as node:
        line = one_line_error(run("push", str(show), "--port", node.port))
    assert f"is {len(blob)} bytes, node 'stage-left' on {node.port} holds at most 1000" in line


def test_go_status_log_json(flash):
    with PtyNode(flash) as node:
        go = run("go", "--port", node.port)
        assert go.output.strip() == f"node 'stage-left' on {node.port}: GO: cue 0"
        status = run("status", "--port", node.port, "--json")
        log = run("log", "--port", node.port, "--json")
        text_log = run("log", "--port", node.port)
    st = json.loads(status.output)
    assert st["cue"] == 0 and st["node"] == "stage-left" and st["link"]["crc"] == 0
    events = json.loads(log.output)
    assert events["node"] == "stage-left" and events["events"][0][1] == "GO cue 0"
    assert text_log.output.split()[-3:] == ["GO", "cue", "0"]


def test_goto_arm_disarm_back_stop(flash):
    with PtyNode(flash) as node:
        for args in (["goto", "12.5"], ["arm"], ["disarm"], ["back"], ["stop"]):
            result = run(*args, "--port", node.port)
            assert result.exit_code == 0, result.output
    assert [c[0] for c in node.node.calls] == ["goto", "arm", "disarm", "back", "stop"]
    assert node.node.calls[0] == ("goto", 12500)


def test_goto_bad_number_is_one_line_before_any_port():
    line = one_line_error(run("goto", "twelve", "--port", "/dev/nonexistent"))
    assert line == "Error: cue number 'twelve' is not a number — write it like 12 or 12.25"


def test_node_not_answering(flash):
    with PtyNode(flash) as node:
        node.silent = True
        line = one_line_error(run("status", "--port", node.port))
    assert line == (
        f"Error: no cuenode firmware answered on {node.port} — check the cable; a board "
        f"with MicroPython only needs `cuenode flash --port {node.port} --name NODE_ID`"
    )


def test_port_and_all_together_is_usage_error():
    result = run("status", "--port", "loop://", "--all")
    assert result.exit_code == 2


def test_find_by_node_id_and_all_among_emulated_nodes(tmp_path):
    links = tmp_path / "nodes"
    links.mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {"CUENODE_NODES_DIR": str(links)}
    with (
        PtyNode(tmp_path / "a", RecordingNode("stage-left")) as left,
        PtyNode(tmp_path / "b", RecordingNode("stage-right")) as right,
    ):
        (links / "stage-left.tty").symlink_to(left.port)
        (links / "stage-right.tty").symlink_to(right.port)
        go = run("go", "--node", "stage-right", env=env)
        everyone = run("status", "--all", "--json", env=env)
        ambiguous = run("status", env=env)
        missing = run("status", "--node", "nobody", env=env)
    assert go.exit_code == 0 and "stage-right" in go.output
    assert right.node.calls and not left.node.calls
    assert sorted(s["node"] for s in json.loads(everyone.output)) == ["stage-left", "stage-right"]
    assert ambiguous.exit_code == 2
    assert one_line_error(missing).startswith("Error: no attached node is 'nobody'")


def test_no_nodes_found(tmp_path):
    env = {"CUENODE_NODES_DIR": str(tmp_path)}
    line = one_line_error(run("status", env=env))
    assert line.startswith("Error: no cuenode nodes found")


def test_all_skips_a_port_without_cuenode(tmp_path):
    links = tmp_path / "nodes"
    links.mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {"CUENODE_NODES_DIR": str(links)}
    with (
        PtyNode(tmp_path / "a", RecordingNode("stage-left")) as left,
        PtyNode(tmp_path / "b", RecordingNode("other")) as mute,
    ):
        mute.silent = True
        (links / "a-left.tty").symlink_to(left.port)
        (links / "b-mute.tty").symlink_to(mute.port)
        result = CliRunner().invoke(cli, ["go", "--all"], env=env)
    # GO still reaches every node that answers; the exit status says one was missed.
    assert "stage-left" in result.stdout and left.node.calls
    mute_label = f"node 'b-mute' on {links / 'b-mute.tty'}"  # named before it has answered
    assert f"GO failed on {mute_label}: no cuenode firmware answered" in result.stderr
    assert result.exit_code == 1, result.output
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"Error: GO failed on 1 of 2 node(s): {mute_label}"


def test_log_since_must_be_a_log_position() -> None:
    result = CliRunner().invoke(cli, ["log", "--port", "loop://", "--since", "-1"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_push_all_in_parallel_reports_each_node(tmp_path):
    links = tmp_path / "nodes"
    links.mkdir()
    show = tmp_path / "left.cnshow"
    blob = demo_blob("stage-left")
    show.write_bytes(blob)
    env = {"CUENODE_NODES_DIR": str(links)}
    dirs = [tmp_path / name for name in ("a", "b", "c")]
    for d in dirs:
        d.mkdir()
    with (
        PtyNode(dirs[0], RecordingNode("stage-left")) as a,
        PtyNode(dirs[1], RecordingNode("stage-left")) as b,
        PtyNode(dirs[2], RecordingNode("stage-right")) as c,
    ):
        for name, n in (("a", a), ("b", b), ("c", c)):
            (links / f"{name}.tty").symlink_to(n.port)
        result = CliRunner().invoke(cli, ["push", str(show), "--all"], env=env)
    assert result.exit_code == 1
    assert result.stdout.count("verified; switched now") == 2
    assert "is node 'stage-right'" in result.stderr
    assert result.stderr.strip().endswith(
        f"push failed on 1 of 3 node(s): node 'stage-right' on {links / 'c.tty'}"
    )
    assert (dirs[0] / LIVE).read_bytes() == blob and (dirs[1] / LIVE).read_bytes() == blob
    assert not (dirs[2] / LIVE).exists()


def test_wrong_protocol_version_is_one_line(flash):
    from cuefw import link

    with PtyNode(flash) as node:
        node.override = lambda f: link.response(f.ftype, f.seq, link.OK, bytes([2]) + b"{}")
        line = one_line_error(run("status", "--port", node.port))
    assert line == (
        f"Error: the node on {node.port} speaks link protocol 2, this cuenode speaks 1 — "
        "update the node with `cuenode flash` (or update cuenode)"
    )
