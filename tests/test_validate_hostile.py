"""Hostile and mistaken show files (issue 11, "The show file"): refused fast, one clear line
each, never a traceback; what `validate` accepts `compile` accepts; memory linear in size.

The bad-file corpus (tests/corpus/bad/, checked line for line by test_validate.py) holds the
cases with an exact expected line; this file holds those that need a folder of their own,
a subprocess, a boundary of the compiled format, or a measurement."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from cuenode.build import compiler
from cuenode.errors import CuenodeError
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.cues import MAX_CUES
from cuenode.show.load import load_show
from cuenode.show.types import MAX_LIBRARY_BYTES

CORPUS = Path(__file__).parent / "corpus"
SHOW = """\
show: {name: T, version: 1}
include: [LIB]
fixtures:
  par1: {type: dimmer, address: 1}
  par2: {type: dimmer, address: 2}
nodes:
  n1: {board: pico, fixtures: [par1, par2]}
cues:
  - {cue: 1, levels: {par1.dimmer: 10}}
  - {cue: 2, levels: {par2.dimmer: 10}}
"""


def problems_of(path: Path) -> list[str]:
    return [str(p).removeprefix(f"{path}:") for p in load_show(path)[1]]


def show_with(tmp_path: Path, lib: str, text: str = SHOW) -> Path:
    path = tmp_path / "show.yaml"
    path.write_text(text.replace("LIB", lib))
    return path


# --- includes -------------------------------------------------------------------------------


def test_a_bundled_library_is_found_by_its_name(tmp_path: Path) -> None:
    assert problems_of(show_with(tmp_path, "generic.yaml")) == []


def test_the_library_path_is_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib, here = tmp_path / "mylib", tmp_path / "show"
    lib.mkdir()
    here.mkdir()
    (lib / "dims.yaml").write_text("fixture_types:\n  dimmer: {channels: {dimmer: 1}}\n")
    show = show_with(here, "dims.yaml")
    assert problems_of(show) == [
        "2:11: include[0]: no such file: 'dims.yaml'; expected a fixture library file "
        "in the show's folder or on the library path (CUENODE_LIBRARY_PATH)"
    ]
    monkeypatch.setenv("CUENODE_LIBRARY_PATH", str(lib))
    assert problems_of(show) == []


def test_a_pipe_is_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "lib.yaml")  # opening it would wait for a writer for ever
    assert problems_of(show_with(tmp_path, "lib.yaml")) == [
        f"2:11: include[0]: '{tmp_path}/lib.yaml' is not a regular file; expected a fixture "
        "library file in the show's folder or on the library path (CUENODE_LIBRARY_PATH)"
    ]


def test_a_link_to_a_device_is_outside(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").symlink_to("/dev/zero")
    [line] = problems_of(show_with(tmp_path, "lib.yaml"))
    assert "is outside the show's folder and the library path" in line


def test_a_huge_library_is_not_read(tmp_path: Path) -> None:
    with open(tmp_path / "lib.yaml", "wb") as f:
        f.truncate(MAX_LIBRARY_BYTES + 1)  # sparse: nothing is written
    [line] = problems_of(show_with(tmp_path, "lib.yaml"))
    assert f"is larger than {MAX_LIBRARY_BYTES:,} bytes" in line


@pytest.mark.parametrize("name", ["/dev/zero", "pipe"])
def test_a_show_that_is_not_a_regular_file(tmp_path: Path, name: str) -> None:
    path = Path(name) if name.startswith("/") else tmp_path / name
    if not name.startswith("/"):
        os.mkfifo(path)
    with pytest.raises(CuenodeError, match="not a regular file"):
        load_show(path)


def test_a_show_past_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "show.yaml"
    with open(path, "wb") as f:
        f.truncate(40_000_000)
    with pytest.raises(CuenodeError, match="larger than 32 MB"):
        load_show(path)


# --- validate refuses what compile refuses ----------------------------------------------------


def many_cues(tmp_path: Path, n: int) -> Path:
    path = tmp_path / f"cues{n}.yaml"
    head = SHOW.split("cues:\n")[0].replace("LIB", "generic.yaml")
    path.write_text(head + "cues:\n" + "".join(f"  - {{cue: {i}}}\n" for i in range(1, n + 1)))
    return path


def test_one_cue_too_many_is_one_line_at_that_cue(tmp_path: Path) -> None:
    assert MAX_CUES == 65_534
    path = many_cues(tmp_path, MAX_CUES + 1)
    assert problems_of(path) == [
        f"{9 + MAX_CUES}:5: cues[{MAX_CUES}]: cue 65,535 of 65,535: a show holds at most "
        "65,534 cues (the compiled show's cue index is 16-bit); expected at most 65,534 cues"
    ]


def test_the_most_cues_validate_and_compile(tmp_path: Path) -> None:
    show, problems = load_show(many_cues(tmp_path, MAX_CUES))
    assert problems == [] and show is not None
    blob = compiler.compile_show(show)["n1"]
    assert int.from_bytes(blob[14:16], "little") == MAX_CUES  # n_cues in the header


# --- one mistake, one line; the same lines on every run ---------------------------------------


def test_problem_order_is_the_same_whatever_the_hash_seed() -> None:
    path = CORPUS / "bad" / "merge_order.yaml"
    outputs = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, CUENODE_LIBRARY_PATH=str(CORPUS / "lib"))
        run = subprocess.run(
            [sys.executable, "-m", "cuenode.cli", "validate", "--json", str(path)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert run.returncode == 1, run.stderr
        outputs.add(run.stdout)
    assert len(outputs) == 1


BASE = (EXAMPLES_DIR / "demo.yaml").read_text()

HOSTILE = {
    "nested_flow_deep": "show: " + "[" * 5000 + "]" * 5000,
    "nested_block_deep": "".join(" " * i + f"k{i}:\n" for i in range(300)),
    "huge_integer": BASE.replace("version: 1", "version: " + "9" * 5000),
    "huge_float": BASE.replace("version: 1", "version: 1e999999"),
    "nan_version": BASE.replace("version: 1", "version: .nan"),
    "negative_zero": BASE.replace("version: 1", "version: -0.0"),
    "python_tag": BASE.replace("version: 1", "version: !!python/object/apply:os.system [ls]"),
    "binary_tag": BASE.replace("version: 1", "version: !!binary aGVsbG8="),
    "omap_tag": BASE.replace("\nnodes:", "\nnodes: !!omap"),
    "merge_of_list": BASE.replace("\nnodes:\n", "\nnodes:\n  <<: [1, 2]\n"),
    "merge_of_alias_scalar": BASE.replace("version: 1", "version: &v 1\n  <<: *v"),
    "duplicate_top_key": BASE + "show: {name: again, version: 1}\n",
    "long_string": BASE.replace("version: 1", "version: '" + "x" * 200_000 + "'"),
    "long_key": BASE.replace("\nnodes:", "\n'" + "k" * 5000 + "': 1\nnodes:"),
    "control_in_key": BASE.replace("\nnodes:", '\n"a\\u001bb": 1\nnodes:'),
    "bidi_in_name": BASE.replace("\nnodes:\n  stage", "\nnodes:\n  st\u202eage"),
    "emoji_key": BASE.replace("\nnodes:", "\n\U0001f4a5: 1\nnodes:"),
    "surrogate_escape": BASE.replace("version: 1", 'version: "\\ud800"'),
    "undefined_alias": BASE.replace("version: 1", "version: *nothing"),
    "complex_key": BASE.replace("\nnodes:", "\n? [a, b]\n: 1\nnodes:"),
    "null_key": BASE.replace("\nnodes:", "\n~: 1\nnodes:"),
    "second_document": BASE + "---\nshow: 2\n",
    "only_a_tag": "!!map\n",
    "bom_and_crlf": "\ufeff" + BASE.replace("\n", "\r\n"),
    "timestamps": BASE.replace("version: 1", "version: 2001-12-14t21:59:43.10-05:00"),
    "octal_and_hex": BASE.replace("version: 1", "version: 0o1").replace("name:", "name: 0x1F #"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_gives_a_few_clear_lines(tmp_path: Path, name: str) -> None:
    (tmp_path / "fixtures").symlink_to(EXAMPLES_DIR / "fixtures")
    path = tmp_path / "show.yaml"
    path.write_text(HOSTILE[name], encoding="utf-8", errors="surrogatepass")
    show, problems = load_show(path)
    lines = [str(p) for p in problems]
    assert show is None or name in ("bom_and_crlf", "octal_and_hex", "negative_zero")
    assert len(lines) <= 3, lines
    for line in lines:
        assert line.startswith(f"{path}:") and "\n" not in line and len(line) < 600, line
        assert "\x1b" not in line and "Traceback" not in line


# --- memory: linear in the size of the show ---------------------------------------------------


def long_show(tmp_path: Path, cues: int) -> Path:
    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from bench_validate import long_show as make

    folder = tmp_path / str(cues)
    folder.mkdir()
    return make(cues, folder)


def test_memory_is_linear_and_small(tmp_path: Path) -> None:
    """Peak Python heap per byte of YAML, at two sizes: the same (linear), and at most 30x
    (the 10 MB show's 660 MB was 66x). Counted bytes, not time: no wall clock here."""
    per_byte = []
    for cues in (300, 1200):
        path = long_show(tmp_path, cues)
        load_show(path)  # warm the caches, so both runs count the same things
        tracemalloc.start()
        show, problems = load_show(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert problems == [] and show is not None
        per_byte.append(peak / path.stat().st_size)
    assert all(ratio < 30 for ratio in per_byte), per_byte
    assert 0.8 < per_byte[1] / per_byte[0] < 1.25, per_byte


def test_a_library_that_is_one_long_text_is_quoted_short(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text("word " * 2000)
    [line] = [str(p) for p in load_show(show_with(tmp_path, "lib.yaml"))[1]]
    assert line == (
        f"{tmp_path}/lib.yaml:1:1: (top level): is the text 'word word word word word word "
        "word wo'... (9,999 characters); expected a mapping with keys: fixture_types"
    )


def test_the_cli_lists_at_most_a_thousand_problems(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from cuenode.cli import cli

    text = SHOW.replace("LIB", "generic.yaml")
    text = text.replace(
        "fixtures:\n", "fixtures:\n" + "  par1: {type: dimmer, address: 1}\n" * 1500
    )
    path = tmp_path / "show.yaml"
    path.write_text(text)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    lines = result.stdout.splitlines()
    assert result.exit_code == 1 and len(lines) == 1001
    assert lines[-1] == "... 500 more not listed (--json lists all)"
    assert result.stderr.strip() == f"{path}: 1500 problems"
    result = CliRunner().invoke(cli, ["validate", "--json", str(path)])
    assert result.stdout.count('"key_path"') == 1500
