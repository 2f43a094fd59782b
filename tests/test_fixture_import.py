"""`cuenode fixtures import|list`: Open Fixture Library JSON and QLC+ .qxf definitions (written
for these tests in the published formats) become fixture types that drive real DMX slots."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from cuefw.engine import Engine
from cuefw.eventlog import EventLog
from cuefw.governor import RelayGovernor
from cuefw.showfile import ShowReader
from cuefw.universe import Universe
from cuenode.build.compiler import compile_show
from cuenode.cli import cli
from cuenode.errors import CuenodeError
from cuenode.paths import EXAMPLES_DIR
from cuenode.show import fixturelib
from cuenode.show.load import load_show

DEFS = EXAMPLES_DIR / "fixtures" / "definitions"
OFL = DEFS / "cuenode-demo-spot.json"
QXF = DEFS / "cuenode-demo-par.qxf"


def test_ofl_every_mode_becomes_a_type() -> None:
    eight, sixteen = fixturelib.import_definition(OFL)
    assert eight.name == "demo_spot_8ch"
    assert eight.channels == {
        "pan": (1,),
        "tilt": (2,),
        "dimmer": (3,),
        "shutter": (4,),
        "color_wheel": (5,),
        "gobo_wheel": (6,),
    }
    assert eight.defaults == {"pan": 128, "tilt": 128, "shutter": 255}
    assert sixteen.name == "demo_spot_11ch"
    assert sixteen.channels["pan"] == (1, 2)
    assert sixteen.channels["tilt"] == (3, 4)
    assert sixteen.footprint == 11  # three unused (null) slots at the end
    assert sixteen.defaults == {"pan": 32768, "tilt": 32768, "shutter": 255}


def test_qxf_mode_with_fine_channels() -> None:
    (par,) = fixturelib.import_definition(QXF, mode="9 channel")
    assert par.name == "demo_par_rgbw_8"
    assert par.channels == {
        "dimmer": (1, 2),  # Preset ...Fine pairs with the preset without it
        "red": (3,),
        "green": (4,),
        "blue": (5,),
        "white": (6,),
        "strobe": (7,),
        "zoom": (8, 9),  # Group Byte="1" named 'Zoom LSB' pairs with 'Zoom'
    }
    assert par.defaults == {"zoom": 128 << 8}
    (small,) = fixturelib.import_definition(QXF, mode="4 Channel", name="Par 4")
    assert small.name == "par_4"
    assert small.channels == {"red": (1,), "green": (2,), "blue": (3,), "white": (4,)}


def test_cli_builds_a_library_that_drives_dmx(tmp_path: Path) -> None:
    runner = CliRunner()
    lib = tmp_path / "lib.yaml"
    first = runner.invoke(
        cli, ["fixtures", "import", str(OFL), "--mode", "16-bit", "--into", str(lib)]
    )
    assert first.exit_code == 0, first.output
    assert "added demo_spot" in first.output
    second = runner.invoke(
        cli, ["fixtures", "import", str(QXF), "--mode", "9 Channel", "--into", str(lib)]
    )
    assert second.exit_code == 0, second.output
    listed = runner.invoke(cli, ["fixtures", "list", str(lib), "--json"])
    assert [(r["type"], r["params"], r["footprint"]) for r in json.loads(listed.output)] == [
        ("demo_par_rgbw_8", 7, 9),
        ("demo_spot", 6, 11),
    ]
    again = runner.invoke(
        cli, ["fixtures", "import", str(OFL), "--mode", "16-bit", "--into", str(lib)]
    )
    assert again.exit_code == 1
    assert "already has a fixture type 'demo_spot'" in again.output

    show = tmp_path / "show.yaml"
    show.write_text(
        "show: {name: Imported, version: 1}\n"
        "include: [lib.yaml]\n"
        "fixtures:\n"
        "  spot: {type: demo_spot, address: 1}\n"
        "  par: {type: demo_par_rgbw_8, address: 20}\n"
        "nodes:\n  n1: {board: emulator, fixtures: [spot, par]}\n"
        "cues:\n"
        "  - {cue: 1, time: 1s, levels: {spot.pan: 25%, spot.dimmer: 255, par.dimmer: 100%,"
        " par.red: 200, par.zoom: 258}}\n"
    )
    loaded, problems = load_show(show)
    assert problems == []
    assert loaded is not None
    frame = run_cue(compile_show(loaded)["n1"], 2000)
    assert frame[1:3] == bytes([64, 0])  # pan 25% of 65535 = 16384: coarse 64, fine 0
    assert frame[3:5] == bytes([128, 0])  # tilt: the imported default, 50%
    assert frame[5] == 255 and frame[6] == 255  # dimmer; shutter's default (open)
    assert frame[20:22] == bytes([255, 255])  # par dimmer, 16-bit, 100%
    assert frame[22] == 200  # red
    assert frame[27:29] == bytes([1, 2])  # zoom 258 = 0x0102 over [coarse, fine]


def run_cue(blob: bytes, ms: int) -> bytes:
    """GO on the firmware's own engine with virtual time; the universe after `ms`."""
    log = EventLog(16)
    universe = Universe()
    engine = Engine(universe, RelayGovernor(4, log), log)
    engine.load(ShowReader(io.BytesIO(blob)), 0)
    engine.go(0)
    engine.tick(ms)
    return bytes(universe.frame)


@pytest.mark.parametrize(
    ("text", "suffix", "problem"),
    [
        ("{", ".json", "not JSON"),
        ('{"name": "x"}', ".json", "no availableChannels"),
        (
            '{"availableChannels": {"R": {}}, "modes": [{"name": "m", "channels": ["G"]}]}',
            ".json",
            "uses unknown channel 'G'",
        ),
        (
            '{"availableChannels": {}, "modes": [{"name": "px", "channels": '
            '[{"insert": "matrixChannels"}]}]}',
            ".json",
            "matrix or template channels",
        ),
        ("<FixtureDefinition", ".qxf", "not XML"),
        ("<Other/>", ".qxf", "not a QLC+ fixture definition"),
        ('{"availableChannels": {"R": {}}, "modes": []}', ".json", "has no modes"),
    ],
)
def test_bad_definitions(tmp_path: Path, text: str, suffix: str, problem: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(text)
    with pytest.raises(CuenodeError, match=re.escape(problem)):
        fixturelib.import_definition(path)


def test_unknown_mode_lists_the_modes() -> None:
    with pytest.raises(CuenodeError, match="no mode 'x'.*'8-bit', '16-bit'"):
        fixturelib.import_definition(OFL, mode="x")


def test_list_defaults_to_the_bundled_libraries() -> None:
    result = CliRunner().invoke(cli, ["fixtures", "list"])
    assert result.exit_code == 0
    assert "spot_16bit" in result.output and "rgbw_par" in result.output
