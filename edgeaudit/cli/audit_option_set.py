"""The audit's options as click options, generated from ``AuditOptions`` for every command that runs an audit.

``compare`` audits both sides of a comparison; when it offered only some of the audit's options, a comparison of
two bundles silently ran with the default mapper, folds and verdict thresholds. ``audit``, ``compare`` and
``sensitivity`` take their audit options from this one list, generated from the dataclass fields (name, type,
default, help: ``edgeaudit.option_fields``), so a new field reaches all three and API and CLI cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgeaudit.audit.options import AuditOptions
from edgeaudit.cli.field_options import cli_fields, field_option, field_value, option_owners
from edgeaudit.verdict import VerdictThresholds

THRESHOLD_PARAMETERS = cli_fields(VerdictThresholds)
#: (parameter name, click option) in the order --help shows them: AuditOptions' fields, thresholds in their place
OPTIONS: tuple[tuple[str, Callable], ...] = tuple((name, field_option(owner, name))
                                                  for owner, name in option_owners(AuditOptions))
NAMES = tuple(name for name, _ in OPTIONS)


def audit_option_set(command: Callable) -> Callable:
    """Add every audit option to a click command (its function receives them as keyword arguments)."""
    for _, option in reversed(OPTIONS):
        command = option(command)
    return command


def audit_options_from(params: dict[str, Any], *, progress: bool) -> AuditOptions:
    """The ``AuditOptions`` of a command's parsed parameters (the audit options among them)."""
    thresholds = VerdictThresholds(**{name: params[name] for name in THRESHOLD_PARAMETERS})
    plain = {name: field_value(AuditOptions, name, params[name]) for name in NAMES if name not in THRESHOLD_PARAMETERS}
    return AuditOptions(**plain, thresholds=thresholds, progress=progress)


def option_fields(names: tuple[str, ...]) -> tuple[str, ...]:
    """``AuditOptions`` fields behind CLI parameter names (the verdict thresholds live in one field)."""
    return tuple(dict.fromkeys("thresholds" if name in THRESHOLD_PARAMETERS else name for name in names))
