"""examples/theatre.yaml, written with groups and palettes, plays exactly the show it replaced
(tests/shows/theatre_flat.yaml: one level line per fixture parameter) in at most half the
lines: every node's look after every cue is the same, and so is every byte."""

from __future__ import annotations

import io
from array import array
from pathlib import Path

import pytest
from cuefw.showfile import ShowReader
from cuenode.build.compiler import compile_show
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.load import load_show

FLAT = Path(__file__).parent / "shows" / "theatre_flat.yaml"
GROUPED = EXAMPLES_DIR / "theatre.yaml"


def compiled(path: Path) -> dict[str, bytes]:
    show, problems = load_show(path)
    assert problems == []
    assert show is not None
    return compile_show(show)


def looks(blob: bytes) -> list[list[int]]:
    """The full tracked look after each cue, read back with the node's own reader."""
    reader = ShowReader(io.BytesIO(blob))
    look = array("H", bytes(2 * reader.n_params))
    found = []
    for i in range(reader.n_cues):
        reader.read_look(i, look)
        found.append(list(look))
    return found


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, bytes], dict[str, bytes]]:
    return compiled(FLAT), compiled(GROUPED)


def test_grouped_show_is_at_most_half_the_lines() -> None:
    flat = FLAT.read_text().count("\n")
    grouped = GROUPED.read_text().count("\n")
    assert grouped * 2 <= flat, (grouped, flat)
    assert "groups:" in GROUPED.read_text() and "palettes:" in GROUPED.read_text()


def test_same_look_after_every_cue(both: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    flat, grouped = both
    assert sorted(flat) == sorted(grouped) == ["sl", "sr"]
    for node in flat:
        before, after = looks(flat[node]), looks(grouped[node])
        assert len(before) == len(after) == 155
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            assert a == b, f"node {node}: cue index {i} differs"


def test_same_bytes(both: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    flat, grouped = both
    assert flat == grouped  # timing, labels, relays and buttons too
