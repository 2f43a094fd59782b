"""YAML show file -> the compiled show of each node: the one way every caller (the CLI's
`compile`, `push` and `emulate`, the emulator, tests, benchmarks) gets there.

    blobs = compile_file(Path("show.yaml"))       # {node id: compiled show bytes}

A show with problems raises `ShowInvalid` (every problem attached), an unreadable file
`CuenodeError`; nothing is printed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cuenode.build import compiler
from cuenode.show.model import Show
from cuenode.show.valid import load_valid_show

BIG_SHOW_BYTES = 256 * 1024  # above this, validating takes long enough to say so

Progress = Callable[[str], None]  # a short note of what is happening now


@dataclass(frozen=True)
class CompiledShow:
    source: Path
    show: Show
    blobs: dict[str, bytes]  # node id -> compiled show

    def summaries(self) -> list[compiler.NodeSummary]:
        return [compiler.summarize(self.show, node, blob) for node, blob in self.blobs.items()]


def compile_file(path: Path) -> dict[str, bytes]:
    """Every node's compiled show from a YAML show file."""
    return build_show(path).blobs


def build_show(
    path: Path, node: str | None = None, progress: Progress | None = None
) -> CompiledShow:
    """Validate and compile `path` (only `node`'s part if given), keeping the model too.
    `progress` hears about the slow steps of a big show (~1 s per MB of YAML)."""
    note = progress if progress is not None and _is_big(path) else None
    if note:
        note(f"validating {path} ({path.stat().st_size // 1024} KB)...")
    show = load_valid_show(path)
    if note:
        count = len(show.nodes) if node is None else 1
        note(f"compiling {count} node{'' if count == 1 else 's'}...")
    return CompiledShow(path, show, compiler.compile_show(show, node))


def _is_big(path: Path) -> bool:
    try:
        return path.stat().st_size > BIG_SHOW_BYTES
    except OSError:
        return False  # load_valid_show says what is wrong with the path
