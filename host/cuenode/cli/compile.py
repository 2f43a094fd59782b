"""`cuenode compile` and `cuenode demo`: thin click wrappers around cuenode.build.compiler."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import click

from cuenode.build import compiler
from cuenode.cli.show import problem_json, problem_lines
from cuenode.errors import CuenodeError
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.load import load_show
from cuenode.show.model import Show

DEMO_SHOWS = ("theatre.yaml", "demo.yaml")
SUFFIX = ".cnshow"
BIG_SHOW_BYTES = 256 * 1024
COLUMNS = ("node", "board", "cues", "params", "slots", "relays", "buttons", "bytes", "sha256")


@dataclass(frozen=True)
class CompiledShow:
    show: Show
    source: Path
    blobs: dict[str, bytes]
    summaries: list[compiler.NodeSummary]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def load_valid_show(path: Path, as_json: bool = False) -> Show:
    """The validated show, or CuenodeError after printing every problem as `validate` does."""
    show, problems = load_show(path)
    if problems or show is None:
        if as_json:
            doc = {"file": str(path), "ok": False, "problems": [problem_json(p) for p in problems]}
            click.echo(json.dumps(doc, indent=2))
        for line in [] if as_json else problem_lines(problems):
            click.echo(line)
        raise CuenodeError(
            f"{path}: {plural(len(problems), 'problem')}, nothing compiled",
            "fix them and compile again",
        )
    return show


def compile_file(path: Path, node: str | None = None, as_json: bool = False) -> CompiledShow:
    big = path.stat().st_size > BIG_SHOW_BYTES
    if big:  # ~1 s per MB of YAML: say what is happening (stderr keeps --json clean)
        click.echo(f"validating {path} ({path.stat().st_size // 1024} KB)...", err=True)
    show = load_valid_show(path, as_json)
    if big:
        click.echo(
            f"compiling {plural(len(show.nodes) if node is None else 1, 'node')}...", err=True
        )
    blobs = compiler.compile_show(show, node)
    summaries = [compiler.summarize(show, node_id, blob) for node_id, blob in blobs.items()]
    return CompiledShow(show, path, blobs, summaries)


def write_blobs(blobs: dict[str, bytes], out_dir: Path) -> dict[str, Path]:
    """Write DIR/<node>.cnshow for each node (via a temporary file, so never half-written)."""
    paths = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for node_id, blob in blobs.items():
            path = out_dir / f"{node_id}{SUFFIX}"
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(blob)
            os.replace(tmp, path)
            paths[node_id] = path
    except OSError as exc:
        raise CuenodeError(
            f"cannot write compiled shows to {out_dir}: {exc.strerror}",
            "choose another directory with -o DIR",
        ) from None
    return paths


def summary_table(summaries: list[compiler.NodeSummary]) -> str:
    rows = [COLUMNS] + [
        tuple(str(v) for v in (*list(s.as_dict().values())[:-1], s.sha256[:12])) for s in summaries
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(w) if i in (0, 1, len(COLUMNS) - 1) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def show_overview(show: Show) -> str:
    autos = sum(1 for c in show.cues if c.follow_ms is not None or c.hang_ms is not None)
    actions = sum(len(c.relays) for c in show.cues)
    return (
        f"{plural(len(show.fixtures), 'fixture')} on {plural(len(show.nodes), 'node')}, "
        f"{plural(len(show.cues), 'cue')} ({autos} auto-continue, "
        f"{plural(actions, 'relay action')}), {plural(len(show.relays), 'relay')}, "
        f"{plural(len(show.buttons), 'button')}"
    )


@click.command("compile")
@click.argument("show_path", metavar="SHOW.yaml", type=click.Path(exists=True, dir_okay=False))
@click.option("--node", "node", metavar="ID", help="Compile only this node.")
@click.option(
    "-o",
    "--out",
    "out_dir",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory for the <node>.cnshow files.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def compile_cmd(show_path: str, node: str | None, out_dir: str, as_json: bool) -> None:
    """Validate SHOW.yaml and compile one show file per node (DIR/<node>.cnshow)."""
    result = compile_file(Path(show_path), node, as_json)
    paths = write_blobs(result.blobs, Path(out_dir))
    if as_json:
        nodes = [dict(s.as_dict(), path=str(paths[s.node])) for s in result.summaries]
        doc = {"show": result.show.name, "source": show_path, "out_dir": out_dir, "nodes": nodes}
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{show_path}: show '{result.show.name}': {show_overview(result.show)}")
    click.echo(summary_table(result.summaries))
    click.echo(f"wrote {plural(len(paths), 'compiled show')} to {out_dir}/ (sha256: content hash)")


@click.command("demo")
def demo_cmd() -> None:
    """Validate and compile the bundled example shows and summarise them."""
    paths = [EXAMPLES_DIR / name for name in DEMO_SHOWS if (EXAMPLES_DIR / name).is_file()]
    if not paths:
        raise CuenodeError(f"no example shows in {EXAMPLES_DIR}", "restore them from git")
    for path in paths:
        name = path.name
        result = compile_file(path)
        click.echo(f"== {name}: '{result.show.name}' is valid")
        click.echo(f"   {show_overview(result.show)}")
        click.echo("   compiled per node (the exact bytes each node will receive):")
        for line in summary_table(result.summaries).splitlines():
            click.echo(f"   {line}")
        click.echo("")
    click.echo("Compile your own: cuenode compile SHOW.yaml -o out/")


COMMANDS = [compile_cmd, demo_cmd]
