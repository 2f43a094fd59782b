"""Board data files (boards/*.py) read as plain data on the host."""

from __future__ import annotations

import runpy
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cuenode.paths import BOARDS_DIR


@dataclass(frozen=True)
class Board:
    name: str
    family: str
    description: str
    relays: dict[str, tuple[int, int]]
    buttons: dict[str, tuple[int, str]]


@cache
def load_board(name: str) -> Board | None:
    path = BOARDS_DIR / f"{name}.py"
    if not path.is_file():
        return None
    data = runpy.run_path(str(path))
    return Board(
        name=data["BOARD"],
        family=data["FAMILY"],
        description=data["DESCRIPTION"],
        relays=dict(data["RELAYS"]),
        buttons=dict(data["BUTTONS"]),
    )


def board_names() -> list[str]:
    return sorted(p.stem for p in Path(BOARDS_DIR).glob("*.py") if not p.stem.startswith("_"))
