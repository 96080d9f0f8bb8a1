"""User-facing errors and the exit codes the CLI maps them to.

Anything a user can fix (a missing file, a malformed field, an unsupported model) is raised as an
``EdgeAuditError`` whose message is one line naming the file/line/field and what to do. The CLI prints
that line and exits 2. Operating-system errors get one line naming the file too; anything else is a bug,
reported as a one-line internal error (exit 2) whose traceback ``--debug`` prints.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE_TRIPPED = 1
EXIT_BAD_INPUT = 2


class EdgeAuditError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = self.message if self.hint is None else f"{self.message} — {self.hint}"
        return " ".join(text.split())


class BundleError(EdgeAuditError):
    """A bundle directory or its manifest is missing, malformed or inconsistent."""


class ExportError(EdgeAuditError):
    """A checkpoint cannot be exported (missing files, unsupported family, failed verification)."""


class DataError(EdgeAuditError):
    """A dataset file is malformed; the message names the file and line."""


class MissingExtraError(EdgeAuditError):
    """An optional dependency is needed for this command and is not installed."""
