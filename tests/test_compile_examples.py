"""Every bundled example show compiles, round-trips through the firmware reader and is
deterministic (also across processes with different hash seeds)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cuefw import showfile as sf
from cuenode.build import compiler
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.load import load_show
from test_compile_roundtrip import check_node

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))


def load(path: Path):
    show, problems = load_show(path)
    assert not problems, "\n".join(map(str, problems))
    assert show is not None
    return show


def test_the_bundled_examples_exist() -> None:
    assert {p.name for p in EXAMPLES} >= {"demo.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_round_trips_through_the_firmware_reader(path: Path) -> None:
    show = load(path)
    blobs = compiler.compile_show(show)
    assert set(blobs) == set(show.nodes)
    for node_id, blob in blobs.items():
        check_node(show, node_id, blob)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_compiles_to_identical_bytes_twice(path: Path) -> None:
    assert compiler.compile_show(load(path)) == compiler.compile_show(load(path))


def compile_in_subprocess(path: Path, out: Path, hash_seed: str) -> dict[str, bytes]:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    cmd = [sys.executable, "-m", "cuenode.cli", "compile", str(path), "-o", str(out)]
    subprocess.run(cmd, check=True, env=env, capture_output=True)
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_output_is_identical_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    path = EXAMPLES_DIR / "demo.yaml"
    first = compile_in_subprocess(path, tmp_path / "a", "1")
    second = compile_in_subprocess(path, tmp_path / "b", "2")
    assert first and first == second
    for blob in first.values():
        assert sf.verify(io.BytesIO(blob), hashlib.sha256)
