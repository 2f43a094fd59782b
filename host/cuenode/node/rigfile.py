"""The rig file: which nodes make up the rig, where each is plugged in, the show, the baud.

`cuenode-rig.toml` (or `.yaml`/`.yml`) in the working directory, or `--rig FILE`; read by
`console`, `push`, `status`, `go`... (docs/fleet.md, "The rig file"). Command-line options win
over it; it wins over CUENODE_NODES_DIR. A bad file is one line naming the file, the line
and what to write instead.

    show = "show.yaml"          # relative paths are relative to the rig file
    baud = 115200
    [nodes.stage-left]
    port = "/dev/serial/by-id/usb-MicroPython_Board_in_FS_mode_e6614c311b2a4a35-if00"
    [nodes.stage-right]
    serial = "E6614C311B2A4A35"  # the USB serial number: found whatever its device name
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cuenode.errors import CuenodeError
from cuenode.node.transport import usb_ports

RIG_NAMES = ("cuenode-rig.toml", "cuenode-rig.yaml", "cuenode-rig.yml")
TOP_KEYS = {"show", "baud", "nodes"}
NODE_KEYS = {"port", "serial"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


class RigError(CuenodeError):
    """A rig file that cannot be read (exit status 2: the input is wrong)."""

    exit_code = 2


@dataclass(frozen=True)
class RigNode:
    name: str
    port: str = ""  # a device path or URL
    serial: str = ""  # or a USB serial number, looked up when used

    def resolve(self) -> str:
        """The port to open: the given one, or the USB device with this serial number."""
        if self.port:
            return self.port
        for p in usb_ports(serial_number=self.serial):
            return p.device
        return f"usb:{self.serial}"  # not attached: opening it says "no such port"


@dataclass(frozen=True)
class Rig:
    path: Path
    nodes: tuple[RigNode, ...]
    show: Path | None = None
    baud: int | None = None

    def node(self, name: str) -> RigNode | None:
        return next((n for n in self.nodes if n.name == name), None)


def find(explicit: Path | None = None, workdir: Path | None = None) -> Rig | None:
    """The rig: `--rig FILE` (must exist), else a rig file in the working directory."""
    if explicit is not None:
        if not explicit.is_file():
            raise RigError(f"{explicit}: no such rig file", "check the path given to --rig")
        return load(explicit)
    for name in RIG_NAMES:
        path = (workdir or Path.cwd()) / name
        if path.is_file():
            return load(path)
    return None


def load(path: Path) -> Rig:
    text = path.read_text(encoding="utf-8", errors="replace")
    data = _parse(path, text)
    where = _Where(path, text)
    if not isinstance(data, dict):
        raise where.error(1, "the rig file is not a table of settings", "see docs/fleet.md")
    for key in data:
        if key not in TOP_KEYS:
            raise where.error(where.key(key), f"unknown setting '{key}'", _known(TOP_KEYS))
    nodes = data.get("nodes")
    if not isinstance(nodes, dict) or not nodes:
        raise where.error(
            where.key("nodes"), "no nodes", "add a [nodes.NAME] table with port = ... per node"
        )
    show = data.get("show")
    if show is not None and not isinstance(show, str):
        raise where.error(where.key("show"), "show must be a file name in quotes", None)
    baud = data.get("baud")
    if baud is not None and (not isinstance(baud, int) or isinstance(baud, bool) or baud <= 0):
        raise where.error(where.key("baud"), f"baud {baud!r} is not a speed", "like 115200")
    return Rig(
        path,
        tuple(_node(where, name, value) for name, value in nodes.items()),
        path.parent / show if show else None,
        baud,
    )


def _node(where: _Where, name: Any, value: Any) -> RigNode:
    line = where.key(str(name))
    if not NAME.match(str(name)):
        raise where.error(
            line, f"node name '{name}' is not a node identity", "letters, digits, - _ ."
        )
    if not isinstance(value, dict):
        raise where.error(line, f"node '{name}' needs port = ... or serial = ...", None)
    for key in value:
        if key not in NODE_KEYS:
            raise where.error(
                where.key(key, line), f"node '{name}': unknown setting '{key}'", _known(NODE_KEYS)
            )
    port, serial = value.get("port"), value.get("serial")
    if (port is None) == (serial is None):
        raise where.error(
            line,
            f"node '{name}' needs exactly one of port = ... or serial = ...",
            "see docs/fleet.md",
        )
    text = str(port if port is not None else serial)
    if port is not None and "://" not in text and not Path(text).is_absolute():
        text = str(where.path.parent / text)  # relative to the rig file, like the show
    return RigNode(str(name), text if port is not None else "", "" if port is not None else text)


def _known(keys: set[str]) -> str:
    return "known settings: " + ", ".join(sorted(keys))


def _parse(path: Path, text: str) -> Any:
    if path.suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            line = int(found.group(1)) if found else 1
            why = re.sub(r"\s*\(at line.*\)$", "", str(exc))
            raise _Where(path, text).error(line, why, "check the TOML syntax") from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    try:
        return YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise _Where(path, text).error(line, str(exc.problem), "check the YAML syntax") from None


class _Where:
    """Line numbers for settings (tomllib and a plain YAML load keep none)."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()

    def key(self, key: str, after: int = 0) -> int:
        """The first line from `after` on that sets `key` (a key, a [table] or a YAML key)."""
        rx = re.compile(rf"^\s*(\[\s*nodes\.)?[\"']?{re.escape(key)}[\"']?\s*(=|:|\])")
        for i, line in enumerate(self.lines[after:], start=after + 1):
            if rx.search(line):
                return i
        return max(after, 1)

    def error(self, line: int, message: str, remedy: str | None) -> RigError:
        return RigError(f"{self.path}:{line}: {message}", remedy)
