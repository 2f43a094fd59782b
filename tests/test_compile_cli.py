"""`cuenode compile` and `cuenode demo` through the real click CLI."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from cuefw import showfile as sf
from cuenode.cli import cli
from cuenode.paths import EXAMPLES_DIR

DEMO = str(EXAMPLES_DIR / "demo.yaml")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_compile_writes_one_verified_file_per_node_and_a_summary(tmp_path: Path) -> None:
    result = run("compile", DEMO, "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "out").iterdir())
    assert [f.name for f in files] == ["stage.cnshow"]
    blob = files[0].read_bytes()
    assert sf.verify(io.BytesIO(blob), hashlib.sha256)
    assert sf.ShowReader(io.BytesIO(blob)).node_id == "stage"
    lines = result.output.splitlines()
    assert lines[1].split() == [
        "node", "board", "cues", "params", "slots", "relays", "buttons", "bytes", "sha256"
    ]  # fmt: skip
    row = lines[2].split()
    assert row[:3] == ["stage", "emulator", "8"]
    assert row[7] == str(len(blob))
    assert row[8] == blob[-32:].hex()[:12]  # the content hash the node will report


def test_compile_json_lists_each_node_with_its_file(tmp_path: Path) -> None:
    result = run("compile", DEMO, "-o", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    (node,) = doc["nodes"]
    blob = Path(node["path"]).read_bytes()
    assert (doc["show"], node["node"], node["bytes"]) == ("Demo", "stage", len(blob))
    assert node["sha256"] == blob[-32:].hex()
    assert node["file_sha256"] == hashlib.sha256(blob).hexdigest()  # what sha256sum says


def test_compile_says_why_its_hash_is_not_sha256sum_of_the_file(tmp_path: Path) -> None:
    result = run("compile", DEMO, "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    note = result.output.splitlines()[-1]
    assert "content hash" in note and "sha256sum" in note and "last 32 bytes" in note


def test_compile_one_node(tmp_path: Path) -> None:
    result = run("compile", DEMO, "--node", "stage", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert [p.name for p in tmp_path.iterdir()] == ["stage.cnshow"]


def test_unknown_node_is_one_line_naming_the_nodes(tmp_path: Path) -> None:
    result = run("compile", DEMO, "--node", "stagee", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert result.output == ("Error: no node 'stagee' in show 'Demo' — nodes in this show: stage\n")
    assert not list(tmp_path.iterdir())


def test_an_invalid_show_prints_its_problems_and_compiles_nothing(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES_DIR / "fixtures", tmp_path / "fixtures")  # its includes
    bad = tmp_path / "bad.yaml"
    text = (
        Path(DEMO).read_text().replace("type: rgbw_par, address: 11", "type: rgbw_par, address: 2")
    )
    bad.write_text(text)
    result = run("compile", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{bad}:")
    assert "overlap" in lines[0]
    assert lines[-1].startswith(f"Error: {bad}: ")
    assert lines[-1].endswith("nothing compiled — fix them and compile again")
    assert not (tmp_path / "out").exists()


def test_unwritable_output_dir_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("compile", DEMO, "-o", str(blocker / "sub"))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot write compiled shows to {blocker / 'sub'}")
    assert "choose another directory with -o DIR" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(
    "command",
    [
        ["validate", "{show}"],
        ["compile", "{show}"],
        ["push", "{show}", "--port", "loop://"],
        ["push", "{compiled}", "--port", "loop://"],
        ["emulate", "--headless", "--workdir", "{tmp}", "--show", "{show}"],
    ],
)
def test_missing_show_file_is_one_error_line_exit_1(command: list[str], tmp_path: Path) -> None:
    """Every command that reads a show says the same for a path that is not there."""
    missing = str(tmp_path / ("nope.cnshow" if "{compiled}" in command else "nope.yaml"))
    result = run(*(arg.format(show=missing, compiled=missing, tmp=tmp_path) for arg in command))
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"Error: {missing}: no such"), result.output


def test_compile_prints_every_problem_then_one_error_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(DEMO).read_text().replace("name:", "nmae:", 1))
    result = run("compile", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    *problems, last = [ln for ln in result.output.splitlines() if ln.strip()]
    assert problems and all(ln.startswith(f"{bad}:") for ln in problems)
    assert last == f"Error: {bad}: {len(problems)} problem{'s' * (len(problems) > 1)}, " + (
        "nothing compiled — fix them and compile again"
    )
    assert not (tmp_path / "out").exists()


def test_demo_validates_and_summarises_every_bundled_example() -> None:
    result = run("demo")
    assert result.exit_code == 0, result.output
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        if path.name in ("demo.yaml", "theatre.yaml"):
            assert f"== {path.name}: " in result.output
    assert "stage  emulator" in result.output


def test_an_invalid_show_with_json_prints_the_problems_as_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("show: {name: x, version: 1}\nnodes: {}\ncues: []\nfixtures: {a: 1}\n")
    result = CliRunner().invoke(cli, ["compile", str(bad), "--json", "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["problems"]
    assert all(p["text"].startswith(f"{bad}:{p['line']}:{p['col']}: ") for p in doc["problems"])
    assert not (tmp_path / "o").exists()
