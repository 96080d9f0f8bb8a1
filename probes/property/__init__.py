"""Property inference: embeddings -> human feature norms, always next to its controls.

Public surface (everything else in the submodules is an implementation detail):

- mappers: ``MAPPERS``, ``make_mapper``, ``CappedPLSRegression``
- metrics: ``METRICS``, ``get_metric``, ``neighbour_score``, ``feature_precision``, ``concept_spearman``,
  ``feature_f1``
- cross-validation: ``Splits``, ``concept_kfold``, ``category_held_out``, ``cross_validated_predictions``,
  ``cross_validated_scores``, and in two steps ``fit_folds`` -> ``FoldFits`` -> ``fold_predictions``
- saving a fit: ``mapper_state`` (a fitted mapper as arrays), ``predict_from_state``
- controls: ``CONTROLS``, ``get_control`` and the control data (``control_task_norms``, ``rotated_norms``, ...)
- the probe: ``run_property_probe`` -> ``PropertyProbeResult``
- MDL: ``online_codelength``, ``mdl_probe``, ``feature_mdl``
"""

from __future__ import annotations

from .control_data import (
    control_task_norms,
    frequency_matched_norms,
    gaussian_embeddings,
    random_orthogonal,
    rotated_norms,
    shuffled_norms,
    type_level_labels,
)
from .controls import (
    CONTROLS,
    ControlEntry,
    ControlRun,
    ProbeSetup,
    UnknownControlError,
    get_control,
)
from .crossval import (
    CrossValScores,
    FoldFits,
    Splits,
    category_held_out,
    concept_kfold,
    cross_validated_predictions,
    cross_validated_scores,
    fit_folds,
    fold_predictions,
)
from .fitted import MapperState, mapper_state, predict_from_state
from .mappers import MAPPERS, CappedPLSRegression, UnknownMapperError, make_mapper
from .mdl import (
    MDLProbeResult,
    OnlineCodelength,
    feature_mdl,
    mdl_probe,
    online_codelength,
)
from .metrics import (
    DEFAULT_METRICS,
    METRICS,
    MetricSpec,
    UnknownMetricError,
    concept_spearman,
    feature_f1,
    feature_precision,
    get_metric,
    neighbour_score,
)
from .predictors import CategoryMean, NearestNeighbourCopy
from .probe import PROBE_METRICS, run_property_probe
from .results import ControlResult, PropertyProbeResult, ScoredRun

__all__ = [
    "CONTROLS",
    "DEFAULT_METRICS",
    "MAPPERS",
    "MapperState",
    "METRICS",
    "PROBE_METRICS",
    "CappedPLSRegression",
    "CategoryMean",
    "ControlEntry",
    "ControlResult",
    "ControlRun",
    "CrossValScores",
    "FoldFits",
    "MDLProbeResult",
    "MetricSpec",
    "NearestNeighbourCopy",
    "OnlineCodelength",
    "ProbeSetup",
    "PropertyProbeResult",
    "ScoredRun",
    "Splits",
    "UnknownControlError",
    "UnknownMapperError",
    "UnknownMetricError",
    "category_held_out",
    "concept_kfold",
    "concept_spearman",
    "control_task_norms",
    "cross_validated_predictions",
    "cross_validated_scores",
    "fit_folds",
    "fold_predictions",
    "feature_f1",
    "feature_mdl",
    "feature_precision",
    "frequency_matched_norms",
    "gaussian_embeddings",
    "get_control",
    "get_metric",
    "make_mapper",
    "mapper_state",
    "mdl_probe",
    "neighbour_score",
    "online_codelength",
    "predict_from_state",
    "random_orthogonal",
    "rotated_norms",
    "run_property_probe",
    "shuffled_norms",
    "type_level_labels",
]
