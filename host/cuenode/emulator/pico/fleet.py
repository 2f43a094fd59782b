"""Emulated Picos in a Fleet: their flash is a drive image, not a directory."""

from __future__ import annotations

from cuenode.emulator.pico import missing_parts
from cuenode.emulator.pico.image import install_image, prepared_image
from cuenode.emulator.supervisor import VirtualNode
from cuenode.errors import CuenodeError

SHOW_FILE = "show.bin"  # cuefw.store.LIVE


def flash_pico(node: VirtualNode, name: str, show: bytes | None, fresh: bool = True) -> None:
    """As `cuenode flash` + a pushed show would leave it (fresh), or keep the drive as it is."""
    missing = missing_parts()
    if missing:
        raise CuenodeError(
            f"the emulated Pico needs {', '.join(missing)}", "run `python3 dev.py test -k x` once"
        )
    if not fresh and node.flash_image.exists():
        return
    extra = {SHOW_FILE: show} if show is not None else {}
    install_image(prepared_image(node.sup.workdir / "cache", name, extra), node.flash_image)
