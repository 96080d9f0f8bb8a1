"""``edgeaudit datasets``: the listing in text and JSON, through the real CLI entry point."""

from __future__ import annotations

import json

from edgeaudit.cli import COMMANDS, main


def test_command_is_registered():
    assert COMMANDS["datasets"][0] == "edgeaudit.cli.datasets_cmd:datasets_command"


def test_text_listing(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "builtin:treebank  (treebank: 300 sentences" in out
    assert "builtin:treebank-nonce" in out and "builtin:concepts  (norms: " in out


def test_json_listing(capsys):
    assert main(["datasets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in rows] == ["builtin:treebank", "builtin:treebank-nonce", "builtin:ewt",
                                                "builtin:concepts"]
    assert rows[3]["concepts"] >= 150 and rows[3]["categories"] >= 8 and rows[3]["properties"] >= 25
    assert rows[2]["sentences"] == 2077 and "CC BY-SA" in rows[2]["licence"]


def test_help_has_examples(capsys):
    assert main(["datasets", "--help"]) == 0
    assert "edgeaudit datasets --json" in capsys.readouterr().out
