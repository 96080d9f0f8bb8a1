"""run_property_probe end to end on data with known structure."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeaudit.probes.property import run_property_probe

from tests.probes.property.synthetic_norms import binary_norms, planted_linear

# controls that a planted linear map must beat; the other two are not "chance" baselines:
# rotated norms are linear in X too (they test the metric), and random categories make held-out = random split
MUST_BEAT = [
    "control_task",
    "shuffled_pairing",
    "frequency_matched_norms",
    "gaussian_embeddings",
    "random_init_twin",
    "nearest_neighbour_copy",
    "category_mean",
]


@pytest.mark.parametrize("control", MUST_BEAT)
@pytest.mark.parametrize("metric", ["neighbour@1", "neighbour@5", "spearman"])
def test_planted_map_beats_every_control(planted_run, control, metric):
    _, result = planted_run
    margin = result.margin(control, metric)
    assert margin.low > 0, f"{control} explains {metric}: {margin}"
    assert result.controls[control].real_above_control[metric]


def test_rotated_norms_are_not_a_test_of_cosine_metrics_under_an_equivariant_mapper(planted_run):
    """PLS without scaling predicts rotated norms as rotated predictions, so neighbour@k (cosines only) scores
    rotated and real norms identically: the control gets no margin there, only the reason."""
    _, result = planted_run
    rotated = result.controls["rotated_norms"]
    assert rotated.run.means["neighbour@1"] == pytest.approx(result.real.means["neighbour@1"])
    assert {"neighbour@1", "neighbour@5", "neighbour@10"} <= set(rotated.uninformative)
    assert "neighbour@1" not in rotated.margins and "neighbour@1" not in rotated.cannot_tell_sense_from_nonsense
    assert "spearman" in rotated.margins and "spearman" not in rotated.uninformative
    assert "rotation-equivariant" in rotated.to_dict()["uninformative"]["neighbour@1"]


def test_rotated_norms_inform_every_metric_under_a_nonlinear_mapper():
    data = planted_linear(n=60, dim=8, features=10, seed=1)
    result = run_property_probe(data.X, data.Y, concepts=data.concepts, mapper="mlp",
                                mapper_params={"hidden_layer_sizes": (8,), "max_iter": 400},
                                controls=["rotated_norms"], folds=3, n_resamples=50, seed=0)
    assert result.controls["rotated_norms"].uninformative == {}
    assert "neighbour@1" in result.controls["rotated_norms"].margins


def test_shuffled_p_value_is_the_smallest_possible(planted_run):
    _, result = planted_run
    shuffled = result.controls["shuffled_pairing"]
    assert shuffled.n_runs == 20
    assert shuffled.p_values["neighbour@1"] == pytest.approx(1 / 21)
    assert shuffled.p_value_floor == pytest.approx(1 / 21)
    assert result.to_dict()["controls"]["shuffled_pairing"]["p_value_floor"] == pytest.approx(1 / 21)


def test_concepts_of_one_word_share_a_fold():
    data = planted_linear(n=40, dim=5, features=6, seed=2)
    words = [f"w{i // 2}" for i in range(40)]  # pairs of senses
    result = run_property_probe(data.X, data.Y, concepts=data.concepts, words=words, controls=[], folds=5,
                                n_resamples=50)
    assert result.settings["splits"]["name"] == "concept-kfold-5-by-word"


def test_control_task_margin_is_called_selectivity(planted_run):
    _, result = planted_run
    summary = result.to_dict()["controls"]["control_task"]
    assert summary["margin_name"] == "selectivity"
    assert summary["margins"]["spearman"]["low"] > 0


@pytest.mark.parametrize("control", ["category_mean", "nearest_neighbour_copy"])
@pytest.mark.parametrize("metric", ["neighbour@1", "neighbour@5"])
def test_category_structure_alone_reaches_the_real_score(clustered_run, control, metric):
    _, result = clustered_run
    assert result.margin(control, metric).low <= 0
    assert result.margin("shuffled_pairing", metric).low > 0  # while the real score is far above chance


@pytest.mark.parametrize("metric", ["spearman", "feature_precision"])
def test_category_mean_reaches_the_real_score_on_feature_metrics(clustered_run, metric):
    _, result = clustered_run
    assert result.margin("category_mean", metric).low <= 0


def test_same_seed_gives_identical_results():
    data = planted_linear(seed=1, n=60, dim=10, features=12)
    kwargs = dict(concepts=data.concepts, categories=data.categories, folds=4, n_shuffles=5, n_resamples=200)
    first = run_property_probe(data.X, data.Y, seed=3, **kwargs)
    second = run_property_probe(data.X, data.Y, seed=3, **kwargs)
    assert first.to_dict() == second.to_dict()
    for name, control in first.controls.items():
        for metric, values in control.run.scores.per_unit.items():
            np.testing.assert_array_equal(values, second.controls[name].run.scores.per_unit[metric])
    assert run_property_probe(data.X, data.Y, seed=4, **kwargs).to_dict() != first.to_dict()


def test_worker_processes_give_the_result_of_one_process():
    # The runs go to worker processes in any order; every score, margin and p-value must be those of one process.
    data = planted_linear(seed=2, n=60, dim=10, features=12)
    kwargs = dict(concepts=data.concepts, categories=data.categories, X_twin=data.X[::-1], folds=4, n_shuffles=7,
                  n_resamples=200, seed=5)
    alone = run_property_probe(data.X, data.Y, n_jobs=1, **kwargs)
    shared = run_property_probe(data.X, data.Y, n_jobs=2, **kwargs)
    assert json.dumps(alone.to_dict(), sort_keys=True) == json.dumps(shared.to_dict(), sort_keys=True)
    assert shared.controls["shuffled_pairing"].n_runs == 7
    for name, control in alone.controls.items():
        for metric, values in control.run.scores.per_unit.items():
            np.testing.assert_array_equal(values, shared.controls[name].run.scores.per_unit[metric])


def test_summary_is_strict_json_with_settings_and_skips(planted_run):
    _, result = planted_run
    summary = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert summary["settings"]["mapper"] == "plsr"
    assert summary["settings"]["candidates"] == "fold"
    assert summary["chance"]["neighbour@1"] == pytest.approx(1 / 24)
    assert summary["real"]["skipped"] == {"feature_f1": "needs binary (0/1) norms"}
    ci = summary["real"]["intervals"]["neighbour@1"]
    assert ci["low"] <= ci["estimate"] <= ci["high"]


def test_binary_norms_get_f1_and_missing_inputs_are_reported():
    data = planted_linear(n=60, dim=10, features=12)
    Y = binary_norms(seed=0, n=60, features=12)
    result = run_property_probe(
        data.X, Y, concepts=data.concepts, mapper="ridge", folds=4, n_shuffles=3, n_resamples=100
    )
    assert "feature_f1" in result.real.scores.per_unit
    assert result.real.scores.units["feature_f1"] == "feature"
    assert "feature_f1" not in result.controls["rotated_norms"].margins  # rotated norms are not binary
    assert set(result.skipped_controls) == {"random_init_twin", "category_mean", "category_held_out"}
    with pytest.raises(ValueError, match="needs categories"):
        run_property_probe(data.X, Y, concepts=data.concepts, controls=["category_mean"])


def test_all_candidates_protocol_has_lower_chance():
    data = planted_linear(n=60, dim=10, features=12)
    result = run_property_probe(
        data.X,
        data.Y,
        concepts=data.concepts,
        folds=4,
        candidates="all",
        controls=["shuffled_pairing"],
        n_shuffles=3,
        n_resamples=100,
    )
    assert result.chance["neighbour@1"] == pytest.approx(1 / 60)


def test_bad_inputs_raise_clear_errors():
    data = planted_linear(n=30, dim=5, features=4)
    with pytest.raises(ValueError, match="29 entries for 30 concepts"):
        run_property_probe(data.X, data.Y, concepts=data.concepts[:-1])
    with pytest.raises(ValueError, match="Y has 29 rows"):
        run_property_probe(data.X, data.Y[:-1], concepts=data.concepts)
    with pytest.raises(ValueError, match="candidates"):
        run_property_probe(data.X, data.Y, concepts=data.concepts, candidates="train")
