"""Click options generated from an options dataclass's fields (``edgeaudit.option_fields``).

Name (``--field-name``), type, default and help all come from the field, so the command line cannot drift from
the API: a field without a command-line spec is simply not an option, and a default is written once.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from typing import Any

import click

from edgeaudit.option_fields import CliSpec, cli_spec


def _plain_type(hint: Any) -> Any:
    """``int | None`` -> int; tuples (parsed from text) -> str."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    return str if typing.get_origin(hint) is tuple else hint


def _click_type(spec: CliSpec, hint: Any) -> Any:
    if spec.choices is not None:
        return click.Choice(list(spec.choices))
    if spec.path:
        return click.Path(path_type=str)
    plain = _plain_type(hint)
    if plain is int and spec.minimum is not None:
        return click.IntRange(min=spec.minimum)
    return plain


def field_option(cls: type, name: str) -> Callable:
    """The click option of one field of the dataclass ``cls``."""
    field = next(f for f in dataclasses.fields(cls) if f.name == name)
    spec = cli_spec(field)
    if spec is None:
        raise ValueError(f"{cls.__name__}.{name} has no command-line spec")
    hint = typing.get_type_hints(cls)[name]
    flag = f"--{name.replace('_', '-')}"
    if hint is bool:  # --name/--no-name
        return click.option(f"{flag}/--no-{flag[2:]}", *spec.aliases, name, default=field.default, show_default=True,
                            help=spec.help)
    declarations = [flag, *([spec.short] if spec.short else []), *spec.aliases]
    default = spec.shown_default if spec.shown_default is not None else field.default
    if default is dataclasses.MISSING or default is None:
        return click.option(*declarations, name, type=_click_type(spec, hint), help=spec.help)
    return click.option(*declarations, name, type=_click_type(spec, hint), default=default, show_default=True,
                        help=spec.help)


def cli_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of ``cls`` that are command-line options, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(cls) if cli_spec(f) is not None)


def field_value(cls: type, name: str, given: Any) -> Any:
    """A parsed command-line value as the field's value (comma lists and layer ranges through the spec's parser)."""
    spec = cli_spec(next(f for f in dataclasses.fields(cls) if f.name == name))
    return spec.parse(given) if spec.parse is not None and isinstance(given, str) else given


def option_owners(cls: type) -> tuple[tuple[type, str], ...]:
    """(dataclass, field name) of every command-line option of ``cls``, a nested options dataclass (the verdict
    thresholds) expanded in its place."""
    hints = typing.get_type_hints(cls)
    out: list[tuple[type, str]] = []
    for field in dataclasses.fields(cls):
        if cli_spec(field) is not None:
            out.append((cls, field.name))
        elif dataclasses.is_dataclass(hints[field.name]):
            out += [(hints[field.name], name) for name in cli_fields(hints[field.name])]
    return tuple(out)
