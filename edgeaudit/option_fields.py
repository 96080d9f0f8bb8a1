"""How an options dataclass field appears on the command line, declared on the field itself.

The option dataclasses (``AuditOptions``, ``VerdictThresholds``) are the API; the CLI's options are generated
from their fields (``edgeaudit.cli.field_options``): name, type, default and help come from one place, so a new
field reaches ``audit``, ``compare`` and ``sensitivity`` at once and a default cannot differ between API and CLI.
Plain data only — importing this module does not import click.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CliSpec:
    help: str | None = None
    minimum: int | None = None  # integers below it are refused by the parser
    choices: Sequence[str] | None = None
    path: bool = False  # a file or directory (shell completion, no existence check here)
    short: str | None = None  # e.g. "-j"
    aliases: tuple[str, ...] = ()  # former names still accepted, e.g. "--refit/--no-refit" for a flag
    parse: Callable[[str], Any] | None = None  # command-line text -> the field's value (lists, layer ranges)
    shown_default: str | None = None  # the default as it is typed on the command line (tuple defaults)


def cli(help: str | None = None, **spec: Any) -> dict[str, CliSpec]:
    """Field metadata: ``field(default=..., metadata=cli("what it does", minimum=1))``."""
    return {"cli": CliSpec(help, **spec)}


def cli_spec(field: Any) -> CliSpec | None:
    """The command-line spec of a dataclass field (None: not a command-line option)."""
    return field.metadata.get("cli")
