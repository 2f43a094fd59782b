"""`cuenode validate`: check a show file and report every problem, one line each."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cuenode.show.load import load_show
from cuenode.show.model import Problem, Show


def summary(show: Show) -> dict[str, int]:
    return {
        "fixtures": len(show.fixtures),
        "nodes": len(show.nodes),
        "cues": len(show.cues),
        "relays": len(show.relays),
        "buttons": len(show.buttons),
    }


def summary_line(path: str, show: Show) -> str:
    counts = summary(show)
    plural = {k: "" if v == 1 else "s" for k, v in counts.items()}
    return (
        f"{path}: OK: {show.name!r}: {counts['fixtures']} fixture{plural['fixtures']} on "
        f"{counts['nodes']} node{plural['nodes']}, {counts['cues']} cue{plural['cues']}, "
        f"{counts['relays']} relay{plural['relays']}, "
        f"{counts['buttons']} button{plural['buttons']}"
    )


def problem_json(problem: Problem) -> dict[str, object]:
    return {
        "file": problem.mark.path,
        "line": problem.mark.line,
        "col": problem.mark.col,
        "key_path": problem.key_path,
        "message": problem.message,
        "expected": problem.expected,
        "text": str(problem),
    }


MAX_LISTED = 1000  # problem lines printed; --json lists them all


def problem_lines(problems: list[Problem]) -> list[str]:
    """One line per problem, at most MAX_LISTED, then one saying how many more there are (a
    file with 200,000 repeated keys should not print 200,000 lines)."""
    lines = [str(p) for p in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"... {len(problems) - MAX_LISTED:,} more not listed (--json lists all)")
    return lines


@click.command()
@click.argument("show_file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def validate(show_file: Path, as_json: bool) -> None:
    """Check SHOW_FILE and print every problem, one per line (exit 1 if there are any)."""
    show, problems = load_show(show_file)
    if as_json:
        result: dict[str, object] = {
            "file": str(show_file),
            "ok": not problems,
            "problems": [problem_json(p) for p in problems],
        }
        if show is not None:
            result["summary"] = summary(show)
        click.echo(json.dumps(result, indent=2))
    elif show is not None:
        click.echo(summary_line(str(show_file), show))
    else:
        for line in problem_lines(problems):
            click.echo(line)
        click.echo(
            f"{show_file}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", err=True
        )
    if problems:
        raise SystemExit(1)


COMMANDS = [validate]
