"""Property conventions are options with literature defaults, the same for every norm set (issue 16 item 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgeaudit.audit.concepts import Template
from edgeaudit.audit.options import AuditOptions
from edgeaudit.audit.property_stage import category_labels, load_property_data
from edgeaudit.errors import EdgeAuditError


def long_norms(tmp_path: Path) -> str:
    """McRae's layout: 12 concepts; 'has_legs' listed for 8, 'is_red' for 6, 'rare' for 2; bat in two senses."""
    rows = ["Concept,Feature,Prod_Freq"]
    for i in range(12):
        name = "bat_(animal)" if i == 0 else "bat_(baseball)" if i == 1 else f"thing{i}"
        if i < 8:
            rows.append(f"{name},has_legs,{i + 3}")
        if i >= 6:
            rows.append(f"{name},is_red,{20 - i}")
        if i in (3, 4):
            rows.append(f"{name},rare,7")
    path = tmp_path / "long.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def load(path: str, **options):
    return load_property_data(AuditOptions(norms=path, folds=2, progress=False, **options))


def test_binary_targets_by_default_and_values_on_request(tmp_path):
    path = long_norms(tmp_path)
    binary = load(path)
    assert set(np.unique(binary.norms.matrix)) == {0.0, 1.0}
    assert binary.conventions["targets"] == "binary"
    value = load(path, norm_targets="value")
    assert value.norms.matrix.max() == 14.0  # Prod_Freq itself: is_red of thing6 is 20 - 6


def test_min_feature_concepts_drops_rare_features_and_says_so(tmp_path):
    data = load(long_norms(tmp_path))
    assert data.norms.features == ["has_legs", "is_red"]  # 'rare' is listed for 2 < 5 concepts
    assert data.conventions["min_feature_concepts"] == 5 and data.conventions["features_kept"] == 2
    assert any("kept 2 of 3 features" in note for note in data.norms.notes)
    assert load(long_norms(tmp_path), min_feature_concepts=2).norms.features == ["has_legs", "rare", "is_red"]
    with pytest.raises(EdgeAuditError, match="no feature is listed for 13 or more"):
        load(long_norms(tmp_path), min_feature_concepts=13)


def test_sense_tagged_concepts_are_kept_apart(tmp_path):
    data = load(long_norms(tmp_path))
    assert data.norms.labels[:2] == ["bat (animal)", "bat (baseball)"]
    assert data.conventions["ambiguous_words"] == 1


def test_concepts_without_a_category_stay_in_the_probe(tmp_path):
    path = long_norms(tmp_path)
    categories = tmp_path / "cats.csv"
    categories.write_text("word,category\nthing2,tool\nthing3,tool\nthing4,animal\nthing5,animal\n", encoding="utf-8")
    data = load(path, categories=str(categories))
    assert len(data.norms.concepts) == 12 and data.left_out == []
    assert data.conventions["categories"]["with_category"] == 4 and data.conventions["categories"]["without"] == 8
    labels = category_labels(data.categories)
    assert labels[2] == labels[3] == "tool" and len(set(labels)) == 2 + 8  # each uncategorised concept alone


def test_a_wide_table_of_ratings_is_refused_as_binary_with_the_fix(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("Word,Conc.M\n" + "".join(f"w{i},{1 + i % 4}.5\n" for i in range(12)), encoding="utf-8")
    with pytest.raises(EdgeAuditError) as info:
        load(str(path))
    assert "'Conc.M' holds ratings" in info.value.one_line() and "--norm-targets value" in info.value.one_line()
    with pytest.raises(EdgeAuditError, match="only 1 feature"):  # refused before any extraction
        load(str(path), norm_targets="value")
    path.write_text("Word,Conc.M,Conc.SD\n" + "".join(f"w{i},{1 + i % 4}.5,0.{i % 7 + 1}\n" for i in range(12)),
                    encoding="utf-8")
    assert load(str(path), norm_targets="value").norms.features == ["Conc.M", "Conc.SD"]


def test_norm_columns_choose_the_value_column(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("Concept,Feature,Prod_Freq,Other\n" + "".join(f"c{i},{f},{i + 1},{100 - i}\n" for i in range(12)
                                                                 for f in ("f", "g")), encoding="utf-8")
    assert load(str(path), norm_targets="value", norm_columns=("Other",)).norms.matrix[0, 0] == 100
    assert load(str(path), norm_targets="value").norms.matrix[0, 0] == 1  # Prod_Freq detected
    with pytest.raises(EdgeAuditError, match="one value column"):
        load(str(path), norm_columns=("Prod_Freq", "Other"))


@pytest.mark.parametrize(("template", "words", "spacing", "slot"), [
    (None, ("ball", "bearing"), None, slice(0, 2)),
    ("This is a {word}.", ("This", "is", "a", "dog", "."), (True, True, True, False, False), slice(3, 4)),
    ("'{word}' is a word", ("'", "ice", "cream", "'", "is", "a", "word"),
     (False, True, False, True, True, True, False), slice(1, 3)),
])
def test_template_places_the_concept_with_the_running_text_spacing(template, words, spacing, slot):
    shape = Template.parse(template)
    concept = ["dog"] if "dog" in words else ["ice", "cream"] if "ice" in words else ["ball", "bearing"]
    sentence = shape.sentence("c-0", concept)
    assert sentence.words == words and sentence.space_after == spacing
    assert shape.slot(len(words)) == slot


def test_a_template_without_exactly_one_slot_is_a_user_error():
    with pytest.raises(EdgeAuditError, match="must contain {word} exactly once"):
        AuditOptions(concept_template="This is a word.")
