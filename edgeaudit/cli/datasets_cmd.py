"""``edgeaudit datasets``: list the built-in datasets and their sizes."""

from __future__ import annotations

import json
from typing import Any

import click

from edgeaudit.data import builtin_datasets

_COUNT_KEYS = ("sentences", "words", "relations", "relation_labels", "concepts", "categories", "properties")


def describe_datasets(rows: list[dict[str, Any]]) -> str:
    """One block per dataset: name and kind, counts, description, licence."""
    blocks = []
    for row in rows:
        counts = ", ".join(f"{row[key]:,} {key.replace('_', ' ')}" for key in _COUNT_KEYS if key in row)
        blocks.append(f"{row['name']}  ({row['kind']}: {counts})\n    {row['description']}\n"
                      f"    licence: {row['licence']}")
    return "\n".join(blocks)


@click.command("datasets")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def datasets_command(as_json: bool) -> None:
    """List the built-in datasets that any dataset option accepts as builtin:NAME.

    Files work too: a CoNLL-U treebank, a norms CSV/TSV (long or wide) or a word -> category table.

    \b
    Examples:
      edgeaudit datasets
      edgeaudit datasets --json | jq '.[] | select(.kind == "treebank") | .name'
    """
    rows = builtin_datasets()
    click.echo(json.dumps(rows, indent=2) if as_json else describe_datasets(rows))
