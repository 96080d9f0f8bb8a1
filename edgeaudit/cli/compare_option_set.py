"""The options of how two bundles are compared, shared by ``compare`` and ``sensitivity`` (one list, one meaning)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from edgeaudit.compare.claims import DEFAULT_DRIFT_TOLERANCE
from edgeaudit.fidelity import DEFAULT_SENTENCES, DEFAULT_TOLERANCE
from edgeaudit.gates import METRICS

OPTIONS: tuple[Callable, ...] = (
    click.option("--drift-tolerance", type=float, default=DEFAULT_DRIFT_TOLERANCE, show_default=True,
                 help="A claim whose score moves more than this (and whose delta CI excludes 0) drifts."),
    click.option("--drift-sentences", type=int, help="Cap on sentences of the paired numeric-drift run (default: all)."),
    click.option("--fidelity/--no-fidelity", default=True, show_default=True,
                 help="Check each bundle's audited (tapped) graph against its deployed graph."),
    click.option("--fidelity-sentences", type=int, default=DEFAULT_SENTENCES, show_default=True),
    click.option("--fidelity-tolerance", type=float, default=DEFAULT_TOLERANCE, show_default=True,
                 help="Max |diff| of the final output for the audited graph to count as faithful."),
    click.option("--applied/--no-applied", "--refit/--no-refit", "applied", default=True, show_default=True,
                 help="Score the reference audit's saved structural and property probes on the variant's activations "
                      "(--refit is the former name)."),
    click.option("--fail-on", "fail_on", multiple=True, metavar="EXPR",
                 help="Gate 'METRIC OP NUMBER' (repeatable); exit 1 when it is true. Metrics: " + ", ".join(METRICS)
                      + "."),
    click.option("--gates", "gates_file", type=click.Path(path_type=str),
                 help='TOML file with fail_on = ["flips>0", ...].'),
)
NAMES = ("drift_tolerance", "drift_sentences", "fidelity", "fidelity_sentences", "fidelity_tolerance", "applied")


def compare_option_set(command: Callable) -> Callable:
    for option in reversed(OPTIONS):
        command = option(command)
    return command


def compare_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The ``CompareOptions`` fields among a command's parsed parameters (gates are collected separately)."""
    return {name: params[name] for name in NAMES}
