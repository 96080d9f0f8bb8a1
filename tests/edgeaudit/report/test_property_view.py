"""The property view: conventions listed, rival controls told apart from evidence, uninformative bars left out."""

from __future__ import annotations

from edgeaudit.report import property_views
from tests.edgeaudit.results.factories import audit_result


def scores(mean: float, **extra) -> dict:
    return {"means": {"neighbour@1": mean, "spearman": mean / 2}, **extra}


SECTION = {"property": {
    "norms": {"name": "mcrae", "concepts": 539, "features": 274},
    "conventions": {"targets": "binary", "min_feature_concepts": 5, "features_kept": 274, "ambiguous_words": 9,
                    "categories": {"with_category": 519, "without": 20}, "template": "This is a {word}."},
    "left_out": [{"concept": "x", "reason": "r"}],
    "layers": {"6": {"probe": {
        "real": scores(0.3),
        "chance": {"neighbour@1": 0.02},
        "controls": {
            "nearest_neighbour_copy": scores(0.25),
            "rotated_norms": scores(0.3, cannot_tell_sense_from_nonsense={"spearman": True},
                                    uninformative={"neighbour@1": "by construction"}),
            "category_held_out": scores(0.9, splits="category-held-out-8"),
        }}}}}}
DOCUMENT = audit_result([], probes=SECTION)


def test_conventions_are_listed_for_the_reader():
    rows = dict(property_views.property_conventions(DOCUMENT))
    assert rows["norms"] == "mcrae: 539 concepts × 274 features, binary targets"
    assert "20 without" in rows["categories"] and rows["concept input"] == "This is a {word}."
    assert rows["left out"].startswith("1 concept (")


def test_uninformative_bars_are_dropped_and_evidence_is_not_a_rival():
    layer = property_views.property_layers(DOCUMENT)[0]
    by_metric = {m.metric: {b.name: b for b in m.bars} for m in layer.metrics}
    assert "rotated_norms" not in by_metric["neighbour@1"]  # equal by construction: no bar
    assert by_metric["spearman"]["rotated_norms"].evidence
    assert by_metric["neighbour@1"]["category_held_out"].evidence
    assert not by_metric["neighbour@1"]["nearest_neighbour_copy"].evidence
