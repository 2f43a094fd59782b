"""A show that must be valid: the validated `Show`, or `ShowInvalid` carrying every problem."""

from __future__ import annotations

from pathlib import Path

from cuenode.errors import CuenodeError
from cuenode.show.load import load_show
from cuenode.show.model import Problem, Show


class ShowInvalid(CuenodeError):
    """A show file with problems, so nothing was compiled. Carries every problem: the CLI
    prints them one a line (or as JSON) before its one `Error:` line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        count = f"{len(problems)} problem{'' if len(problems) == 1 else 's'}"
        super().__init__(f"{path}: {count}, nothing compiled", "fix them and compile again")
        self.path = path
        self.problems = problems


def load_valid_show(path: Path) -> Show:
    """The validated show; ShowInvalid if it has problems, CuenodeError if it cannot be read."""
    show, problems = load_show(path)
    if problems or show is None:
        raise ShowInvalid(path, problems)
    return show
