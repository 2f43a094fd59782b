"""`cuenode fixtures import|list`: fixture definitions from Open Fixture Library JSON and
QLC+ .qxf files into the show's fixture-library format (cuenode.show.fixturelib)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cuenode.paths import EXAMPLES_DIR
from cuenode.show import fixturelib


@click.group()
def fixtures() -> None:
    """Import and list fixture types (Open Fixture Library JSON, QLC+ .qxf)."""


@fixtures.command("import")
@click.argument("definition", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--mode", help="Import only this mode (name or short name); default: every mode.")
@click.option("--name", help="Type name to give it (default: from the definition).")
@click.option(
    "--into",
    "library",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Add the types to this library file (created if missing); default: print the YAML.",
)
def import_(definition: Path, mode: str | None, name: str | None, library: Path | None) -> None:
    """Import DEFINITION (.json from the Open Fixture Library, or QLC+ .qxf)."""
    types = fixturelib.import_definition(definition, mode, name)
    if library is None:
        click.echo(fixturelib.library_yaml(types, definition.name), nl=False)
        return
    text = fixturelib.add_to_library(library, types, definition.name)
    library.write_text(text, encoding="utf-8")
    for t in types:
        click.echo(f"{library}: added {t.name} ({len(t.channels)} parameters, {t.footprint} ch)")


@fixtures.command("list")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def list_(files: tuple[Path, ...], as_json: bool) -> None:
    """List the fixture types of library or show FILES (default: the bundled libraries)."""
    paths = list(files) or sorted((EXAMPLES_DIR / "fixtures").glob("*.yaml"))
    rows = [
        {"file": str(p), "type": n, "params": c, "footprint": f, "label": label}
        for p in paths
        for n, (c, f, label) in fixturelib.list_types(p).items()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(str(r["type"])) for r in rows), default=4)
    for r in rows:
        click.echo(
            f"{r['type']:<{width}}  {r['params']:>3} params  {r['footprint']:>3} ch  "
            f"{r['label']}  ({r['file']})"
        )


COMMANDS = [fixtures]
