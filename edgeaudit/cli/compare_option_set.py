"""The options of how two bundles are compared, shared by ``compare`` and ``sensitivity`` (one list, one meaning).

Generated from ``CompareOptions``' fields (``edgeaudit.option_fields``), like the audit's options; the gates
(``--fail-on``, ``--gates``) are collected into ``Gate`` objects by the commands and added here by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from edgeaudit.cli.field_options import cli_fields, field_option
from edgeaudit.compare.options import CompareOptions
from edgeaudit.gates import METRICS

NAMES = cli_fields(CompareOptions)
OPTIONS: tuple[Callable, ...] = (
    *(field_option(CompareOptions, name) for name in NAMES),
    click.option("--fail-on", "fail_on", multiple=True, metavar="EXPR",
                 help="Gate 'METRIC OP NUMBER' (repeatable); exit 1 when it is true. Metrics: " + ", ".join(METRICS)
                      + "."),
    click.option("--gates", "gates_file", type=click.Path(path_type=str),
                 help='TOML file with fail_on = ["flips>0", ...].'),
)


def compare_option_set(command: Callable) -> Callable:
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def compare_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The ``CompareOptions`` fields among a command's parsed parameters (gates are collected separately)."""
    return {name: params[name] for name in NAMES}
