"""`cuenode compile` and `cuenode demo`: thin click wrappers around cuenode.build.compiler."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from cuenode.build import compiler
from cuenode.build.compile import CompiledShow, build_show
from cuenode.cli.show import problem_json
from cuenode.errors import CuenodeError
from cuenode.paths import EXAMPLES_DIR
from cuenode.show.model import Show
from cuenode.show.valid import ShowInvalid

DEMO_SHOWS = ("theatre.yaml", "demo.yaml")
SUFFIX = ".cnshow"
COLUMNS = ("node", "board", "cues", "params", "slots", "relays", "buttons", "bytes", "sha256")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def say_progress(text: str) -> None:
    click.echo(text, err=True)  # stderr keeps --json clean


def compile_for_cli(path: Path, node: str | None = None, as_json: bool = False) -> CompiledShow:
    """build_show, with its progress on stderr; with --json a bad show's problems are one JSON
    document on stdout (then the one `Error:` line)."""
    try:
        return build_show(path, node, say_progress)
    except ShowInvalid as exc:
        if not as_json:
            raise
        doc = {"file": str(path), "ok": False, "problems": [problem_json(p) for p in exc.problems]}
        click.echo(json.dumps(doc, indent=2))
        raise click.ClickException(exc.format_message()) from exc


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


HASH_NOTE = (
    "sha256: the show's content hash, as `cuenode status` shows it: the SHA-256 of the file "
    "without its last 32 bytes, which hold it (so `sha256sum` of the file differs)"
)


def file_sha256(path: Path) -> str:
    """What `sha256sum` says of the written file (the content hash plus its trailer)."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@click.command("compile")
@click.argument("show_path", metavar="SHOW.yaml", type=click.Path())
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
    result = compile_for_cli(Path(show_path), node, as_json)
    paths = write_blobs(result.blobs, Path(out_dir))
    summaries = result.summaries()
    if as_json:
        nodes = [
            dict(s.as_dict(), path=str(paths[s.node]), file_sha256=file_sha256(paths[s.node]))
            for s in summaries
        ]
        doc = {"show": result.show.name, "source": show_path, "out_dir": out_dir, "nodes": nodes}
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"{show_path}: show '{result.show.name}': {show_overview(result.show)}")
    click.echo(summary_table(summaries))
    click.echo(f"wrote {plural(len(paths), 'compiled show')} to {out_dir}/")
    click.echo(HASH_NOTE)


@click.command("demo")
def demo_cmd() -> None:
    """Validate and compile the bundled example shows and summarise them."""
    paths = [EXAMPLES_DIR / name for name in DEMO_SHOWS if (EXAMPLES_DIR / name).is_file()]
    if not paths:
        raise CuenodeError(f"no example shows in {EXAMPLES_DIR}", "restore them from git")
    for path in paths:
        name = path.name
        result = compile_for_cli(path)
        click.echo(f"== {name}: '{result.show.name}' is valid")
        click.echo(f"   {show_overview(result.show)}")
        click.echo("   compiled per node (the exact bytes each node will receive):")
        for line in summary_table(result.summaries()).splitlines():
            click.echo(f"   {line}")
        click.echo("")
    click.echo("Compile your own: cuenode compile SHOW.yaml -o out/")


COMMANDS = [compile_cmd, demo_cmd]
