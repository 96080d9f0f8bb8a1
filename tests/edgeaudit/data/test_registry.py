"""The single entry point: paths or builtin:NAME specs, helpful errors, and the built-in listing."""

from __future__ import annotations

import pytest

import edgeaudit.data as data
from edgeaudit.errors import DataError

from .samples import GOOD_SENTENCE


def test_load_treebank_from_a_path(write_file):
    assert data.load_treebank(write_file("a.conllu", GOOD_SENTENCE))[0].sent_id == "s1"


def test_load_norms_and_categories_from_paths(write_file):
    assert data.load_norms(write_file("n.csv", "concept,feature,n\ndog,barks,3\n")).concepts == ["dog"]
    assert data.load_categories(write_file("c.csv", "word,category\ndog,animal\n"))["dog"] == "animal"


@pytest.mark.parametrize(
    "loader, spec, expected",
    [(data.load_treebank, "builtin:treebnk", "did you mean 'builtin:treebank'?"),
     (data.load_treebank, "builtin:treebank-nonse", "did you mean 'builtin:treebank-nonce'?"),
     (data.load_treebank, "builtin:xyz", "'builtin:xyz' is not a built-in treebank"),
     (data.load_treebank, "builtin:concepts", "is a norms table, not a treebank"),
     (data.load_norms, "builtin:concept", "did you mean 'builtin:concepts'?"),
     (data.load_norms, "builtin:treebank", "is a treebank, not a norms table"),
     (data.load_categories, "builtin:tree", "is not a built-in norms table")],
)  # fmt: skip
def test_unknown_builtin_lists_what_exists(loader, spec, expected):
    with pytest.raises(DataError) as error:
        loader(spec)
    message = error.value.one_line()
    assert expected in message and "available:" in message and "edgeaudit datasets" in message


def test_options_are_rejected_for_builtins():
    with pytest.raises(DataError, match="apply to files only"):
        data.load_norms("builtin:concepts", delimiter=",")
    with pytest.raises(DataError, match="apply to files only"):
        data.load_categories("builtin:concepts", policy="first")


def test_builtin_datasets_match_what_loads():
    rows = {row["name"]: row for row in data.builtin_datasets()}
    assert set(rows) == {"builtin:treebank", "builtin:treebank-nonce", "builtin:ewt", "builtin:concepts"}
    treebank = data.load_treebank("builtin:treebank")
    assert rows["builtin:treebank"] | {"description": "", "licence": ""} == {
        "name": "builtin:treebank", "kind": "treebank", "sentences": len(treebank), "words": treebank.n_words,
        "relations": len(treebank.relation_counts()), "relation_labels": len(treebank.relation_counts(base=False)),
        "description": "", "licence": "",
    }  # fmt: skip
    concepts = data.load_norms("builtin:concepts")
    assert (rows["builtin:concepts"]["concepts"], rows["builtin:concepts"]["properties"]) == (
        len(concepts), len(concepts.features),
    )  # fmt: skip
    assert all(row["description"] for row in rows.values())
