"""The science of edgeaudit: probes, controls and statistics as pure functions and estimators on numpy arrays.

Everything public is re-exported here; modules starting with ``_`` are private. ``PROBES`` is the registry
the audit looks probes up in by name (``get_probe("distance_probe")``); adding a probe means one module, one
export line and one registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._names import unknown_name_message
from .attention_heads import (
    HeadRelationAccuracy,
    HeadRelationResult,
    OffsetBaseline,
    most_attended_other_word,
)
from .attention_trees import (
    AttentionTreeResult,
    AttentionTreeUUAS,
    attention_tree_edges,
    symmetrise,
)
from .bootstrap import ConfidenceInterval, bootstrap_margin_ci, bootstrap_mean_ci
from .correspondence import (
    CorrespondenceCurve,
    IdentifiabilityResult,
    RolloutResult,
    RolloutSelfShare,
    attention_rollout,
    correspondence_curve,
    identified_words,
    linear_token_identifiability,
    rollout_self_share,
    token_identifiability,
)
from .property import CONTROLS as PROPERTY_CONTROLS
from .property import (
    MAPPERS,
    PropertyProbeResult,
    mdl_probe,
    online_codelength,
    run_property_probe,
)
from .ratio_bootstrap import RatioInterval, paired_ratio_margin, ratio_interval
from .structural import (
    DepthProbe,
    DistanceProbe,
    split_sentences,
    tree_depths,
    tree_distances,
)
from .structural_metrics import (
    DepthMetrics,
    DistanceMetrics,
    StructuralBaseline,
    depth_metrics,
    distance_metrics,
    linear_chain_baseline,
)
from .tree_baselines import chain_uuas, random_tree_uuas

__all__ = [
    "MAPPERS",
    "PROBES",
    "PROPERTY_CONTROLS",
    "ConfidenceInterval",
    "PropertyProbeResult",
    "RatioInterval",
    "bootstrap_margin_ci",
    "bootstrap_mean_ci",
    "mdl_probe",
    "online_codelength",
    "paired_ratio_margin",
    "ratio_interval",
    "run_property_probe",
    "AttentionTreeResult",
    "AttentionTreeUUAS",
    "CorrespondenceCurve",
    "DepthMetrics",
    "DepthProbe",
    "DistanceMetrics",
    "DistanceProbe",
    "HeadRelationAccuracy",
    "HeadRelationResult",
    "IdentifiabilityResult",
    "OffsetBaseline",
    "ProbeEntry",
    "RolloutResult",
    "RolloutSelfShare",
    "StructuralBaseline",
    "UnknownProbeError",
    "attention_rollout",
    "attention_tree_edges",
    "chain_uuas",
    "correspondence_curve",
    "depth_metrics",
    "distance_metrics",
    "get_probe",
    "identified_words",
    "linear_chain_baseline",
    "linear_token_identifiability",
    "most_attended_other_word",
    "random_tree_uuas",
    "rollout_self_share",
    "split_sentences",
    "symmetrise",
    "token_identifiability",
    "tree_depths",
    "tree_distances",
]


@dataclass(frozen=True)
class ProbeEntry:
    """One registry row: the class or function, what it measures, and whether it is a control."""

    target: Any
    description: str
    kind: str  # "probe" (measures the model) or "control" (what a model-free explanation would score)


PROBES: dict[str, ProbeEntry] = {
    "head_relation_accuracy": ProbeEntry(
        HeadRelationAccuracy,
        "per-head dependency accuracy in both directions + fixed-offset baseline (Clark 2019)",
        "probe",
    ),
    "attention_tree_uuas": ProbeEntry(
        AttentionTreeUUAS, "UUAS of maximum spanning trees of per-head and layer-mean attention", "probe"
    ),
    "distance_probe": ProbeEntry(
        DistanceProbe,
        "structural distance probe, squared L2 ≈ tree distance (Hewitt & Manning 2019)",
        "probe",
    ),
    "depth_probe": ProbeEntry(
        DepthProbe, "structural depth probe, squared norm ≈ tree depth (Hewitt & Manning 2019)", "probe"
    ),
    "token_identifiability": ProbeEntry(
        token_identifiability,
        "rate at which a layer vector's nearest input embedding is its own (Brunner 2020)",
        "probe",
    ),
    "linear_token_identifiability": ProbeEntry(
        linear_token_identifiability,
        "identifiability after a held-out linear map back to inputs (Brunner 2020)",
        "probe",
    ),
    "rollout_self_share": ProbeEntry(
        RolloutSelfShare,
        "residual-corrected attention rollout, mean self-share per layer (Abnar & Zuidema 2020)",
        "probe",
    ),
    "correspondence_curve": ProbeEntry(
        correspondence_curve, "per-layer identifiability and rollout self-share, side by side", "probe"
    ),
    "linear_chain_baseline": ProbeEntry(
        linear_chain_baseline, "structural-probe metrics of distance |i-j| and depth i", "control"
    ),
    "chain_tree_baseline": ProbeEntry(chain_uuas, "UUAS of the right-branching chain i—i+1", "control"),
    "random_tree_baseline": ProbeEntry(
        random_tree_uuas, "UUAS of seeded uniformly random spanning trees", "control"
    ),
    "property_inference": ProbeEntry(
        run_property_probe,
        "embeddings -> feature norms (PLSR/ridge/MLP), neighbour@k, precision@k, Spearman, F1, with controls",
        "probe",
    ),
    "mdl_probe": ProbeEntry(
        mdl_probe, "online codelength with a type-level control task (Voita & Titov 2020)", "probe"
    ),
}


class UnknownProbeError(LookupError):
    """Raised for a name not in ``PROBES``; the message suggests the closest registered names."""


def get_probe(name: str) -> Any:
    """Look a probe or control up by registry name."""
    try:
        return PROBES[name].target
    except KeyError:
        raise UnknownProbeError(unknown_name_message("probe", name, PROBES)) from None
