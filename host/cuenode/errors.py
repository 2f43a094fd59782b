"""The one user-facing error type: one clear line, exit status 1, never a traceback."""

from __future__ import annotations

import click


class CuenodeError(click.ClickException):
    """A runtime failure the user can act on: says what went wrong and what to do."""

    exit_code = 1

    def __init__(self, message: str, remedy: str | None = None) -> None:
        super().__init__(f"{message} — {remedy}" if remedy else message)
        self.remedy = remedy

    def format_message(self) -> str:
        return self.message
