"""Word -> category tables and the documented rule for words with several categories."""

from __future__ import annotations

import pytest

from edgeaudit.data import load_categories, read_categories
from edgeaudit.data.categories import categories_from_pairs
from edgeaudit.errors import DataError

OEWN_LIKE = """\
lemma\tpos\tsupersense\tsynset_id\tmember_rank
dog\tn\tnoun.animal\t1-n\t0
dog\tn\tnoun.artifact\t2-n\t2
dog\tn\tnoun.person\t3-n\t3
dog\tn\tnoun.person\t4-n\t0
dog\tv\tverb.motion\t5-v\t6
apple\tn\tnoun.food\t6-n\t0
apple\tn\tnoun.plant\t7-n\t0
Fire hydrant\tn\tnoun.artifact\t8-n\t0
"""


def test_majority_rule_with_file_order_ties(write_file):
    categories = read_categories(write_file("oewn.tsv", OEWN_LIKE))
    assert categories["dog"] == "noun.person"  # 2 synsets of 5
    assert categories["apple"] == "noun.food"  # tie: first in the file
    assert categories.alternatives["dog"][0] == ("noun.person", 2)
    assert sorted(categories.alternatives["dog"]) == [
        ("noun.animal", 1), ("noun.artifact", 1), ("noun.person", 2), ("verb.motion", 1),
    ]  # fmt: skip
    assert "fire_hydrant" in categories and categories.get("FIRE HYDRANT") == "noun.artifact"
    assert categories.summary() == {
        "source": categories.source, "words": 3, "categories": 3, "ambiguous_words": 2, "policy": "majority",
    }  # fmt: skip


def test_first_rule_pos_filter_and_preference(write_file):
    path = write_file("oewn.tsv", OEWN_LIKE)
    assert read_categories(path, policy="first")["dog"] == "noun.animal"
    nouns = read_categories(path, pos="n", prefer=["noun.animal", "noun.food", "noun.artifact", "noun.plant"])
    assert nouns["dog"] == "noun.animal" and nouns["apple"] == "noun.food"
    assert "verb.motion" not in nouns.names
    assert nouns.policy == "majority, prefer noun.animal, noun.food, noun.artifact, noun.plant"


def test_two_column_file_and_lookup(write_file):
    categories = read_categories(write_file("c.csv", "word,category\ndog,animal\nhammer,tool\n"))
    found, missing = categories.lookup(["Dog", "hammer", "unicorn"])
    assert found == ["animal", "tool", None] and missing == ["unicorn"]
    assert len(categories) == 2 and categories.names == ["animal", "tool"]


def test_unknown_columns_fall_back_to_the_first_two(write_file):
    categories = read_categories(write_file("c.csv", "thing,kind\ndog,animal\n"))
    assert categories["dog"] == "animal"


def test_errors_name_file_and_line(write_file):
    path = write_file("c.csv", "word,category\ndog,animal\ncat,\n")
    with pytest.raises(DataError, match=rf"^{path}:3: empty category"):
        read_categories(path)
    with pytest.raises(DataError, match=rf"^{path}:1: no part-of-speech column 'pos'"):
        read_categories(path, pos="n")
    with pytest.raises(DataError, match=rf"^{path}:1: no category column 'class'"):
        read_categories(path, category_column="class")
    only_verbs = write_file("v.tsv", OEWN_LIKE)
    with pytest.raises(DataError, match=r"no rows with pos 'adj'"):
        read_categories(only_verbs, pos="adj")


def test_unknown_policy_is_an_error():
    with pytest.raises(DataError, match="unknown category policy 'random'"):
        categories_from_pairs([("dog", "animal")], policy="random")  # type: ignore[arg-type]


def test_builtin_concept_categories():
    categories = load_categories("builtin:concepts")
    assert categories["dog"] == "animal" and categories["hammer"] == "tool"
    assert len(categories.names) >= 8 and not categories.alternatives
