"""``edgeaudit list KIND``: the names every option accepts, read from the registries themselves."""

from __future__ import annotations

import json

import click

from edgeaudit.catalogue import KINDS, USED_BY, Row

_EXTRA_KEYS = ("role", "requires", "unit", "kind", "licence")


def describe(rows: list[Row]) -> str:
    """One block per entry: the name (with its qualifiers), then its description indented."""
    width = max((len(row["name"]) for row in rows), default=0)
    lines = []
    for row in rows:
        extras = []
        for key in _EXTRA_KEYS:
            value = row.get(key)
            if value:
                extras.append(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
        if row.get("binary_only"):
            extras.append("binary norms only")
        if row.get("needs_calibration"):
            extras.append("needs --calibration")
        suffix = f"  [{'; '.join(extras)}]" if extras else ""
        lines.append(f"{row['name']:<{width}}  {row['description']}{suffix}")
    return "\n".join(lines)


@click.command("list")
@click.argument("kind", type=click.Choice(list(KINDS)), required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def list_command(kind: str | None, as_json: bool) -> None:
    """List what a name can refer to: KIND is one of probe-groups (audit --probes), probes, controls,
    mappers (audit --mapper), metrics, presets (compress --preset), datasets (builtin:NAME) or gates
    (compare --fail-on). Without KIND, every kind.

    \b
    Examples:
      edgeaudit list presets
      edgeaudit list controls --json | jq '.[] | select(.permutation) | .name'
      edgeaudit list
    """
    kinds = [kind] if kind else list(KINDS)
    if as_json:
        rows = {name: KINDS[name]() for name in kinds}
        click.echo(json.dumps(rows[kind] if kind else rows, indent=2))
        return
    blocks = []
    for name in kinds:
        body = "\n".join("  " + line for line in describe(KINDS[name]()).splitlines())
        blocks.append(f"{name} — {USED_BY[name]}:\n{body}")
    click.echo("\n\n".join(blocks))
