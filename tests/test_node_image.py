"""The node image (cuenode.build.image): one board-family table, read by the image builder,
`cuenode flash`, the emulator's flash and — through board.py — the firmware."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from cuenode.boards import FAMILIES, board_names, family_for_probe, load_board
from cuenode.build.image import stage_image
from cuenode.emulator.fleet import flash_node
from cuenode.errors import CuenodeError
from cuenode.node import flash

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("board_name", board_names())
def test_every_board_belongs_to_a_family_of_the_table(board_name: str) -> None:
    board = load_board(board_name)
    assert board is not None and board.family in FAMILIES
    assert (REPO / "firmware" / f"{board.chip.driver}.py").is_file()


@pytest.mark.parametrize("board_name", board_names())
def test_board_py_carries_its_family_entries_for_the_firmware(tmp_path, board_name) -> None:
    stage_image(tmp_path, board_name, "n1", compile_mpy=False)
    data = runpy.run_path(str(tmp_path / "board.py"))
    family = FAMILIES[data["FAMILY"]]
    assert (data["DRIVER"], data["TIMER_ID"]) == (family.driver, family.timer_id)
    assert data["RELAYS"] == runpy.run_path(str(REPO / "boards" / f"{board_name}.py"))["RELAYS"]


def test_the_emulator_flash_is_the_emulator_family_image(tmp_path) -> None:
    flash_node(tmp_path / "flash", "stage", b"show")
    files = stage_image(tmp_path / "image", "emulator", "stage")
    on_flash = sorted(
        str(p.relative_to(tmp_path / "flash"))
        for p in (tmp_path / "flash").rglob("*")
        if p.is_file()
    )
    assert on_flash == sorted([*files, "show.bin"])
    for f in files:
        assert (tmp_path / "flash" / f).read_bytes() == (tmp_path / "image" / f).read_bytes()
    assert not any(f.endswith(".mpy") for f in files)  # the emulator runs source


def test_flash_stages_the_same_image(tmp_path) -> None:
    assert flash.stage_firmware(tmp_path / "a", "emulator", "x") == stage_image(
        tmp_path / "b", "emulator", "x"
    )


def test_family_detection_comes_from_the_table() -> None:
    assert family_for_probe("cuenode emulator with virtual RP2040\nrp2\n") is FAMILIES["emulator"]
    assert family_for_probe("Raspberry Pi Pico with RP2040\nrp2\n") is FAMILIES["rp2"]
    assert family_for_probe("Generic ESP32 module with ESP32\nesp32\n") is FAMILIES["esp32"]
    assert family_for_probe("PYBv1.1 with STM32F405RG\npyboard\n") is None


def test_an_unknown_board_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(CuenodeError, match="no board 'nope'.*use one of: .*pico"):
        stage_image(tmp_path, "nope")
