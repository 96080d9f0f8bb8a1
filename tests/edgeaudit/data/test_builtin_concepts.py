"""The built-in concept/property table: size, sanity of values, and properties that are not category labels."""

from __future__ import annotations

import numpy as np
import pytest

from edgeaudit.data import load_norms


@pytest.fixture(scope="module")
def concepts():
    return load_norms("builtin:concepts")


def test_size_requirements(concepts):
    assert len(concepts) >= 150 and len(set(concepts.categories)) >= 8 and len(concepts.features) >= 25
    assert concepts.skipped == [] and concepts.ambiguous_words() == {}
    assert set(np.unique(concepts.matrix)) == {0.0, 1.0}


def test_names_are_plain_unique_words(concepts):
    assert len(set(concepts.concepts)) == len(concepts)
    assert all(c.isalpha() and c.islower() for c in concepts.concepts)
    assert all(sense is None for sense in concepts.senses)


def test_every_concept_and_property_is_used(concepts):
    assert (concepts.matrix.sum(axis=1) >= 1).all()
    assert (concepts.matrix.sum(axis=0) >= 2).all()
    assert len({tuple(column) for column in concepts.matrix.T}) == len(concepts.features)  # no duplicate columns


def test_properties_are_not_just_category_indicators(concepts):
    categories = np.array(concepts.categories)
    indicators = {c: categories == c for c in set(concepts.categories)}
    matches = [
        f for j, f in enumerate(concepts.features)
        if any(np.array_equal(concepts.matrix[:, j] == 1, mask) for mask in indicators.values())
    ]  # fmt: skip
    assert len(matches) <= 1, matches
    for category, mask in indicators.items():
        varying = (concepts.matrix[mask].min(axis=0) != concepts.matrix[mask].max(axis=0)).sum()
        assert varying >= 3, category
    assert len({tuple(row) for row in concepts.matrix}) >= 0.8 * len(concepts)


@pytest.mark.parametrize(
    "concept, true, false",
    [("dog", ["is_animal", "has_four_legs", "is_pet"], ["can_fly", "is_edible"]),
     ("eagle", ["can_fly", "has_feathers", "is_predator"], ["is_pet", "has_fur"]),
     ("penguin", ["can_swim", "has_wings"], ["can_fly"]),
     ("whale", ["is_mammal", "lives_in_water"], ["has_legs", "lays_eggs"]),
     ("apple", ["is_edible", "grows_on_trees", "is_sweet"], ["is_alive", "grows_underground"]),
     ("carrot", ["grows_underground", "is_edible"], ["grows_on_trees"]),
     ("hammer", ["made_of_metal", "has_handle"], ["is_sharp", "has_wheels"]),
     ("axe", ["is_sharp", "is_dangerous"], ["uses_electricity"]),
     ("car", ["has_wheels", "has_engine", "used_for_transport"], ["can_fly"]),
     ("boat", ["travels_on_water"], ["has_wheels"]),
     ("bicycle", ["has_wheels"], ["has_engine"]),
     ("chair", ["has_legs", "used_for_sitting"], ["is_alive"]),
     ("sock", ["worn_on_feet", "made_of_fabric"], ["made_of_metal"]),
     ("violin", ["has_strings", "made_of_wood"], ["played_by_blowing"]),
     ("knife", ["is_sharp", "made_of_metal"], ["uses_electricity"])],
)  # fmt: skip
def test_sensible_values(concepts, concept, true, false):
    row = concepts.matrix[concepts.index(concept)]
    assert all(row[concepts.features.index(p)] == 1 for p in true), concept
    assert all(row[concepts.features.index(p)] == 0 for p in false), concept


def test_each_call_returns_an_independent_copy(concepts):
    first = load_norms("builtin:concepts")
    first.matrix[:] = 0
    first.concepts.clear()
    assert load_norms("builtin:concepts").matrix.sum() == concepts.matrix.sum() > 0
