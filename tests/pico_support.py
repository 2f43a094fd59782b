"""Shared by the emulated-Pico tests: the test show and a chip booted from its prepared image."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cuenode.build.compile import compile_file
from cuenode.emulator.pico import missing_parts
from cuenode.emulator.pico.api import EmulatedPico
from cuenode.emulator.pico.image import prepared_image

HERE = Path(__file__).resolve().parent
SHOW = HERE / "pico" / "show.yaml"  # node pico1: slot 1, 200, 512 set by cues 1 and 2
CUE1 = {1: 255, 200: 102, 512: 77}
CUE2 = {1: 10, 200: 0, 512: 200}
BOOTED_S = 1.5  # simulated seconds from reset to main.py answering on the link


@contextmanager
def booted_pico1(workdir: Path) -> Iterator[EmulatedPico]:
    """Node pico1 with SHOW installed, from the image cached by content hash, run until its
    firmware answers."""
    assert not missing_parts(), f"run `python3 dev.py test -k x` first: {missing_parts()}"
    show = compile_file(SHOW)["pico1"]
    cache = HERE.parent / ".cuenode" / "cache"
    image = prepared_image(cache, "pico1", {"show.bin": show})
    with EmulatedPico(workdir, "pico1", image=image) as pico:
        pico.until_sim(BOOTED_S)
        yield pico
