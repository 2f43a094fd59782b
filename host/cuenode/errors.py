"""The one user-facing error type of the library: what went wrong and what to do.

The library raises `CuenodeError` (or a subclass that carries more about the problem); it never
prints and never imports click. The CLI (cuenode.cli) turns it into one `Error:` line and
exit status 1.
"""

from __future__ import annotations


class CuenodeError(Exception):
    """A runtime failure the user can act on: says what went wrong and what to do."""

    def __init__(self, message: str, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def format_message(self) -> str:
        """The one line users see: `what went wrong — what to do`."""
        return f"{self.message} — {self.remedy}" if self.remedy else self.message

    def __str__(self) -> str:
        return self.format_message()


class NodeRefused(CuenodeError):
    """The node answered a link request with an error status (cuefw.link E_*)."""

    def __init__(self, message: str, remedy: str | None, status: int) -> None:
        super().__init__(message, remedy)
        self.status = status
